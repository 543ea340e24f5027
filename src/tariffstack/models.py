"""Typed results the engine returns and every front end (CLI, API, web, news checker) renders.

Kept separate from the engine so front ends depend on the shape of an answer, not on how it is
computed. ``to_json`` gives the documented output contract of ``tariffstack rate --json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

LayerName = Literal[
    "mfn", "s301", "s232", "ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other", "s122", "s201",
    "other",
]
LAYER_ORDER: tuple[LayerName, ...] = (
    "mfn", "s301", "s232", "ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other", "s122", "s201",
    "other",
)
LAYER_TITLES: dict[str, str] = {  # for charts and legends, where the short keys puzzle readers
    "mfn": "MFN (column 1 General)", "s301": "Section 301 (China)", "s232": "Section 232 (metals, autos, ...)",
    "ieepa_fentanyl": "IEEPA fentanyl", "ieepa_reciprocal": "IEEPA reciprocal",
    "ieepa_other": "IEEPA other (Brazil, India, ...)", "s122": "Section 122", "s201": "Section 201 safeguard",
    "other": "other",
}


@dataclass(frozen=True, slots=True)
class Layer:
    """One duty layer of a stack, with the text that imposes (or exempts) it."""

    layer: LayerName
    rate_pct: float | None          # ad valorem percent (None when only specific / not computable)
    specific: str | None            # specific part as printed, e.g. "2.2¢/kg"
    heading: str | None             # Chapter 99 heading, or the product line for MFN
    revision: str                   # HTS revision the text was read from
    effective_from: date | None
    effective_to: date | None       # last day in force (inclusive), None = still in force
    reason: str                     # one plain sentence of why
    source: str | None = None       # legal citation (note, EO, proclamation, CSMS)
    applies_to: str | None = None   # e.g. "steel content (60% of value)" when partial
    exempt: bool = False            # True when this entry records an exemption (rate 0)
    summary: str | None = None      # a few words for narrow tables ("Section 232 steel")
    in_force_since: date | None = None  # first day of the uninterrupted run of this heading here

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "rate_pct": self.rate_pct,
            "specific": self.specific,
            "heading": self.heading,
            "revision": self.revision,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "reason": self.reason,
            "source": self.source,
            "applies_to": self.applies_to,
            "exempt": self.exempt,
            "summary": self.summary,
            "in_force_since": self.in_force_since.isoformat() if self.in_force_since else None,
        }


@dataclass(frozen=True, slots=True)
class DeMinimis:
    """Whether a low-value shipment may enter free under 19 U.S.C. 1321 on that date."""

    eligible: bool | None           # None when no value was given
    threshold_usd: float
    reason: str
    source: str | None


@dataclass(frozen=True, slots=True)
class RateResult:
    """The full answer for one (product, origin, entry date)."""

    hts10: str
    description: str
    path: tuple[str, ...]
    origin: str                     # ISO alpha-2
    origin_name: str
    entry_date: date
    revision: str                   # revision in force for the product line
    layers: tuple[Layer, ...]
    total_additional_pct: float
    total_pct: float
    specific: tuple[str, ...] = ()  # specific (non ad valorem) parts of the total
    notes: tuple[str, ...] = ()     # caveats: inputs assumed, things not modelled
    de_minimis: DeMinimis | None = None
    inputs: dict[str, Any] = field(default_factory=dict)

    def layer(self, name: LayerName) -> list[Layer]:
        return [x for x in self.layers if x.layer == name]

    def layer_totals(self) -> dict[str, float]:
        """Ad valorem percent per layer, summed over the layer's non-exempt entries."""
        out: dict[str, float] = {}
        for x in self.layers:
            if not x.exempt and x.rate_pct is not None:
                out[x.layer] = round(out.get(x.layer, 0.0) + x.rate_pct, 4)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "hts10": self.hts10,
            "description": self.description,
            "path": list(self.path),
            "origin": self.origin,
            "origin_name": self.origin_name,
            "entry_date": self.entry_date.isoformat(),
            "revision": self.revision,
            "layers": [x.to_json() for x in self.layers],
            "total_additional_pct": self.total_additional_pct,
            "total_pct": self.total_pct,
            "specific": list(self.specific),
            "notes": list(self.notes),
            "de_minimis": None if self.de_minimis is None else {
                "eligible": self.de_minimis.eligible,
                "threshold_usd": self.de_minimis.threshold_usd,
                "reason": self.de_minimis.reason,
                "source": self.de_minimis.source,
            },
            "inputs": self.inputs,
        }


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result with what a reader needs at a glance; the full path stays for JSON."""

    hts: str                        # dotted code as printed (8 or 10 digits, or heading)
    description: str                # the line's own description, as printed
    path: tuple[str, ...]           # ancestors' descriptions, outermost (the heading) first
    score: float
    short: str = ""                 # own description, led by the nearest informative ancestor if "Other"
    heading: str = ""               # the heading's (4-digit) description
    general: str = ""               # column 1 General (MFN) rate text

    def to_json(self) -> dict[str, Any]:
        return {"hts": self.hts, "description": self.description, "short": self.short or self.description,
                "heading": self.heading, "general": self.general, "path": list(self.path),
                "score": self.score}


# ---- China's duties on U.S. goods (engine/cn.py) ----------------------------------------------
# A sibling of Layer/RateResult: China's layers are set by tariff notices in Beijing time and by
# WTO data at HS6, carry a status (official data, reproduced notice text, press report...) and
# may be uncertain at 8 digits, which the U.S. types have no room for.
CN_LAYER_TITLES: dict[str, str] = {
    "base": "applied before the 2025 notices (WTO: MFN + 2018-19 retaliation)",
    "cn_list": "2025 product lists (No.1 Feb, No.2 Mar)",
    "cn_all": "all U.S. goods (No.4-No.7, No.10)",
    "wto_residual": "WTO figure not explained by the notices",
}


def _when_json(v: date | None) -> str | None:
    return None if v is None else v.isoformat()


@dataclass(frozen=True, slots=True)
class CnLayer:
    """One layer of China's duty on a U.S. good, with the notice or data behind it."""

    layer: str                      # "base", "cn_list", "cn_all", "wto_residual"
    rate_pct: float | None          # ad valorem percent; None when the data have none (NA)
    notice: str | None              # 税委会 notice number as printed; None for WTO data
    effective_from: date | None     # Beijing time (a datetime when the notice gives the minute)
    effective_to: date | None       # first moment no longer in force (exclusive); None = still
    reason: str
    source: str | None              # URLs of the public pages, or the data file and row
    status: str                     # "WTO data", "notice text (reproduced copy)", "press translation", ...
    applies_to: str | None = None   # e.g. "HS6 average: 2 of 5 lines listed"
    exempt: bool = False            # recorded but not paid (suspended, in transit)
    certain: bool = True            # False: an 8-digit line the partial transcriptions cannot place
    summary: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer, "rate_pct": self.rate_pct, "notice": self.notice,
            "effective_from": _when_json(self.effective_from), "effective_to": _when_json(self.effective_to),
            "reason": self.reason, "source": self.source, "status": self.status,
            "applies_to": self.applies_to, "exempt": self.exempt, "certain": self.certain,
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class CnRateResult:
    """China's duty on a U.S.-origin good on a Beijing-time day (or minute), layer by layer."""

    code: str                       # digits as asked (6 or 8, or a U.S. HTS-10 mapped to its HS6)
    level: str                      # "HS6" (WTO averages) or "HS8" (a Chinese tariff line)
    hs6: str
    description: str                # the HS6 description (from the U.S. schedule: HS6 is shared)
    path: tuple[str, ...]
    importer: str                   # "CN"
    origin: str                     # "US"
    entry_date: date                # Beijing time; a datetime when asked to the minute
    layers: tuple[CnLayer, ...]
    total_additional_pct: float | None
    total_pct: float | None         # None when the WTO data give no base rate (NA)
    upper_pct: float | None         # total if the uncertain list layers apply (= total when none)
    follows: str                    # which source the answer follows and why
    wto: dict[str, Any]             # the WTO HS6 figure on the nearest data date: date, best_avlbl, imports
    several_lines: str | None = None  # why the HS6 holds several Chinese lines (the WTO figure averages them)
    notes: tuple[str, ...] = ()
    inputs: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code, "level": self.level, "hs6": self.hs6, "description": self.description,
            "path": list(self.path), "importer": self.importer, "origin": self.origin,
            "entry_date": self.entry_date.isoformat(), "time_zone": "Asia/Shanghai (Beijing time)",
            "layers": [x.to_json() for x in self.layers],
            "total_additional_pct": self.total_additional_pct, "total_pct": self.total_pct,
            "upper_pct": self.upper_pct, "follows": self.follows, "wto": self.wto,
            "several_lines": self.several_lines, "notes": list(self.notes), "inputs": self.inputs,
        }
