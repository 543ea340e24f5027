"""What a cross-check found: agreement per revision and layer, the clusters of disagreement
and the whole report (JSON here; Markdown in ``report``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tariffstack.stats.crosscheck.dating import DateChoice
from tariffstack.stats.crosscheck.method import MIN_EXPLAINED, NORMALISATIONS, TOLERANCE_PP
from tariffstack.stats.crosscheck.peer import CALENDAR_SOURCE, PEER_CENSUS
from tariffstack.stats.crosscheck.report import _markdown
from tariffstack.stats.crosscheck.verdicts import Verdict


@dataclass
class LayerAgreement:
    layer: str
    compared: int
    agree: int

    @property
    def share(self) -> float | None:
        return self.agree / self.compared if self.compared else None


@dataclass
class RevisionResult:
    """Agreement for one peer revision on its comparison date."""

    file: Path
    choice: DateChoice
    pairs: int                        # product x origin pairs both sides have
    only_ours: int
    only_theirs: int
    only_ours_chapters: dict[str, int]
    only_theirs_chapters: dict[str, int]
    layers: list[LayerAgreement]
    all_agree: int
    method_only: int = 0              # pairs whose every disagreement is a `method` verdict
    explained: int = 0                # ... a `method` or `theirs_wrong` verdict

    @property
    def all_share(self) -> float | None:
        return self.all_agree / self.pairs if self.pairs else None

    @property
    def normalised_share(self) -> float | None:
        """All layers agree once the method differences with a verdict are normalised."""
        return (self.all_agree + self.method_only) / self.pairs if self.pairs else None

    @property
    def explained_share(self) -> float | None:
        """All layers agree, or differ only where a verdict shows the peer wrong or a method."""
        return (self.all_agree + self.explained) / self.pairs if self.pairs else None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file.name, **self.choice.to_json(), "pairs": self.pairs,
            "only_ours": self.only_ours, "only_theirs": self.only_theirs,
            "only_ours_chapters": self.only_ours_chapters, "only_theirs_chapters": self.only_theirs_chapters,
            "layers": {x.layer: {"compared": x.compared, "agree": x.agree, "share": x.share} for x in self.layers},
            "all_layers": {"pairs": self.pairs, "agree": self.all_agree, "share": self.all_share,
                           "normalised_share": self.normalised_share, "explained_share": self.explained_share},
        }


@dataclass
class Cluster:
    """Disagreeing pairs with the same layer, our heading(s), origins and the two rates."""

    layer: str
    key: str                          # our imposing heading(s) in the layer; exempt:<h>; none:<HTS heading>;
                                      # ' +s232:<its s232 key>' when the pair also disagrees on 232
    origins: tuple[str, ...]
    ours_pct: float
    theirs_pct: float
    pairs: int
    products: int
    revisions: tuple[str, ...]
    sample_hts: tuple[str, ...]
    hts_headings: tuple[str, ...]     # the products' HTS headings, most frequent first
    our_revisions: tuple[str, ...]    # revisions our layer's entries were printed in
    verdict: Verdict | None = None

    @property
    def origin_label(self) -> str:
        return "*" if len(self.origins) == len(PEER_CENSUS) else ",".join(self.origins)

    @property
    def status(self) -> str:
        if self.verdict is not None:
            return self.verdict.verdict
        return "UNEXPLAINED" if self.pairs >= MIN_EXPLAINED else "-"

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer, "key": self.key, "origins": self.origin_label, "ours_pct": self.ours_pct,
            "theirs_pct": self.theirs_pct, "pairs": self.pairs, "products": self.products,
            "revisions": list(self.revisions), "sample_hts": list(self.sample_hts),
            "hts_headings": list(self.hts_headings), "our_revisions": list(self.our_revisions),
            "status": self.status, "verdict": self.verdict.to_json() if self.verdict else None,
        }


@dataclass
class Report:
    peer_dir: Path
    revisions: list[RevisionResult]
    clusters: list[Cluster]
    seconds: float = 0.0
    tolerance_pp: float = TOLERANCE_PP
    normalisations: tuple[tuple[str, str], ...] = NORMALISATIONS
    panel_built: str | None = None    # when the compared panel was built (its meta.json)

    def to_json(self) -> dict[str, Any]:
        return {
            "peer": {"dir": str(self.peer_dir), "calendar": CALENDAR_SOURCE},
            "tolerance_pp": self.tolerance_pp,
            "normalisations": [{"name": n, "why": w} for n, w in self.normalisations],
            "revisions": [r.to_json() for r in self.revisions],
            "clusters": [c.to_json() for c in self.clusters],
            "verdict_totals": self.verdict_totals(),
            "panel_built": self.panel_built,
            "seconds": round(self.seconds, 2),
        }

    def verdict_totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.clusters:
            out[c.status] = out.get(c.status, 0) + c.pairs
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def to_markdown(self, limit: int = 120) -> str:
        return _markdown(self, limit)
