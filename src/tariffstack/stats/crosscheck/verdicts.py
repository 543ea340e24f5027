"""The committed verdicts file (``data/crosscheck_verdicts.csv``): for each cluster of
disagreements, whose side is wrong or that it is a method difference, with a citation."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from tariffstack.errors import BadInput, DataError
from tariffstack.stats.crosscheck.peer import LAYERS, peer_name

VERDICTS = ("ours_wrong", "theirs_wrong", "method")
VERDICT_COLUMNS = ("layer", "key", "origin", "ours_pct", "theirs_pct", "revision", "hts", "verdict", "citation",
                   "explanation")


@dataclass(frozen=True)
class Verdict:
    """One row of the verdicts file: which disagreements it covers, and what they are.

    Every field but the verdict and its text narrows what the row covers; blank (or ``*``) means
    any. The most specific matching row wins for each disagreeing cell, so a general row can be
    refined by a narrower one (a product range, one origin, one revision) further down.
    """

    layer: str                        # a layer, or *
    key: str                          # cluster key or glob pattern (9903.94.05, none:74*, exempt:9903.01.3*)
    origin: tuple[str, ...]           # ISO codes; () = any
    ours_pct: float | None
    theirs_pct: float | None
    revision: tuple[str, ...]         # peer revisions; () = any
    hts: tuple[str, ...]              # HTS digit prefixes; () = any
    verdict: str
    citation: str
    explanation: str
    line: int

    @property
    def specificity(self) -> int:
        """Constrained fields count most; then the literal characters of the key pattern."""
        fields = (bool(self.origin), self.ours_pct is not None, self.theirs_pct is not None, bool(self.revision),
                  bool(self.hts), self.layer != "*")
        return 1000 * sum(fields) + sum(ch not in "*?[]" for ch in self.key)

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "citation": self.citation, "explanation": self.explanation,
                "rule": f"crosscheck_verdicts.csv:{self.line}"}


def _items(text: str) -> list[str]:
    """Items of a ';'-separated field; blank and * mean any (an empty list)."""
    return [x.strip() for x in text.split(";") if x.strip() and x.strip() != "*"]


def default_verdicts_text() -> str:
    return resources.files("tariffstack").joinpath("data/crosscheck_verdicts.csv").read_text("utf-8")


def load_verdicts(path: Path | None = None) -> list[Verdict]:
    """The verdicts file (default the packaged one), checked row by row."""
    name = str(path) if path else "crosscheck_verdicts.csv"
    try:
        text = path.read_text("utf-8") if path else default_verdicts_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read verdicts file {name}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in VERDICT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"verdicts file {name} lacks column(s): {', '.join(missing)}")
    out = []
    for row in reader:
        n = reader.line_num
        get = {k: (row.get(k) or "").strip() for k in VERDICT_COLUMNS}
        if get["layer"] not in (*LAYERS, "*"):
            raise DataError(f"{name}:{n}: unknown layer {get['layer']!r}")
        if get["verdict"] not in VERDICTS:
            raise DataError(f"{name}:{n}: verdict must be one of {', '.join(VERDICTS)}, not {get['verdict']!r}")
        if not get["key"] or not get["citation"] or not get["explanation"]:
            raise DataError(f"{name}:{n}: key, citation and explanation are required")
        pcts: list[float | None] = []
        for col in ("ours_pct", "theirs_pct"):
            try:
                pcts.append(float(get[col]) if get[col] else None)
            except ValueError as exc:
                raise DataError(f"{name}:{n}: {col} must be a number, not {get[col]!r}") from exc
        try:
            revs = tuple(peer_name(r) for r in _items(get["revision"]))
        except BadInput as exc:
            raise DataError(f"{name}:{n}: {exc}") from exc
        hts = tuple(h.replace(".", "") for h in _items(get["hts"]))
        if not all(h.isdigit() and len(h) <= 10 for h in hts):
            raise DataError(f"{name}:{n}: hts must be HTS digit prefixes separated by ';', not {get['hts']!r}")
        origins = tuple(o.upper() for o in _items(get["origin"]))
        bad = [o for o in origins if not re.fullmatch(r"[A-Z]{2}", o)]
        if bad:
            raise DataError(f"{name}:{n}: origin must be * or ISO codes separated by ';', not {get['origin']!r}")
        out.append(Verdict(get["layer"], get["key"], origins, pcts[0], pcts[1], revs, hts,
                           get["verdict"], get["citation"], get["explanation"], n))
    return out
