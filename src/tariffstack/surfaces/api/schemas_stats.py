"""What the effective-rate and scenario endpoints answer (the JSON of ``effective-rate --json``
and ``scenario --json``), declared for the OpenAPI document; tests validate real answers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tariffstack.surfaces.api.schemas import ERRORS, _err, _Out

STATS_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 503: _err("The rate panel is not built (run 'tariffstack build'), or the weights folder is missing")}


class EffRowOut(_Out):
    date: str = Field(description="First day of the interval (YYYY-MM-DD)")
    until: str = Field(description="Last day the figures hold (inclusive)")
    key: str | None = Field(None, description="Partner group, chapter, GTAP sector (absent overall)")
    weight_musd: float = Field(description="Import weight, millions of USD")
    mfn: float | None
    additional: float | None = Field(description="Mean additional duty (all non-MFN layers), percent")
    total: float | None = Field(description="Mean total duty, percent")


class MarkOut(_Out):
    date: str
    label: str = Field(examples=["May 14, 2025: -20.9 pts; headings 1 ended, 1 changed (ieepa_reciprocal)"])
    move_pct: float | None = Field(None, description="Change of the overall additional duty that day, points")
    came: list[str] = []
    ended: list[str] = []
    changed: list[str] = []
    sources: list[str] = Field([], description="Where the first headings' dates come from")


class EffectiveOut(_Out):
    """Same JSON as ``tariffstack effective-rate --json``, plus ``marks``."""

    label: str = Field(description="What the figures are (statutory, estimate on sector weights...)")
    statutory: bool = Field(description="False when an expected-value option changed the figures")
    options: list[str]
    by: str = Field(examples=["partner"])
    units: str
    goods_weight_musd: dict[str, float]
    unmapped_lines: dict[str, int]
    rows: list[EffRowOut]
    marks: list[MarkOut] = Field(description="The days the rate moves, with the headings behind the move")


class StepOut(_Out):
    line: int = Field(description="Line of the event in the scenario file")
    action: str = Field(examples=["suspend"])
    text: str
    headings: list[str]
    effective: str
    end: str | None


class ScenarioInfoOut(_Out):
    name: str
    title: str | None
    citation: str | None
    source: str
    events: list[StepOut]
    first_day: str = Field(description="First day the scenario can differ from the law")


class ChangesOut(_Out):
    date: str
    pairs: int = Field(description="Product x origin pairs whose duties differ from the law's")
    pairs_rate_changed: int
    lines: int
    by_chapter: list[dict[str, Any]]
    by_partner: list[dict[str, Any]]
    lines_changed: list[dict[str, Any]] = Field(description="The first product lines that change, with rates")


class ScenarioOut(_Out):
    """Same JSON as ``tariffstack scenario FILE --json``, plus ``marks``."""

    scenario: ScenarioInfoOut
    label: str = Field(description="Says the scenario is hypothetical, and what the rates are")
    by: str
    units: str
    overall: list[dict[str, Any]] = Field(description="law_*, scenario_* and diff_* of every measure, per interval")
    rows: list[dict[str, Any]] = Field(description="The same per key of ``by``")
    changes: list[ChangesOut]
    marks: list[MarkOut] = Field(description="The law's moves in the range (the scenario's events are in scenario)")
