"""What the both-sides endpoints answer (China's duty on U.S. goods, and the two sides together).

Like ``schemas.py``: the endpoints return ready-made JSON, these models only describe it, and
tests/test_openapi.py validates real answers against them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tariffstack.surfaces.api.schemas import ERRORS, TimelineOut, _err, _Out

WAR_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 503: _err("China's data folder is missing, or (averages) the rate panel is not built")}


class CnLayerOut(_Out):
    layer: str = Field(examples=["cn_all"], description="base, cn_list, cn_all or wto_residual")
    rate_pct: float | None
    notice: str | None = Field(description="税委会 notice number as printed; null for WTO data")
    effective_from: str | None = Field(description="Beijing time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)")
    effective_to: str | None = Field(description="First moment no longer in force; null: still in force")
    reason: str
    source: str | None
    status: str = Field(examples=["notice text (reproduced copy)"],
                        description="What the layer rests on (never an official file: none was reachable)")
    applies_to: str | None
    exempt: bool = Field(description="Recorded but not paid (suspended, in transit)")
    certain: bool = Field(description="False: an 8-digit line a partial list cannot place (not in total_pct)")
    summary: str | None


class CnRateOut(_Out):
    """Same JSON as ``tariffstack rate CODE --importer CN --json``."""

    code: str
    level: str = Field(examples=["HS6"])
    hs6: str
    description: str
    path: list[str]
    importer: str
    origin: str
    entry_date: str
    time_zone: str
    layers: list[CnLayerOut]
    total_additional_pct: float | None
    total_pct: float | None = Field(description="Null when the WTO data give no base rate")
    upper_pct: float | None = Field(description="The total if the uncertain list layers apply")
    follows: str = Field(description="Which source the answer follows and why")
    wto: dict[str, Any]
    several_lines: str | None
    notes: list[str]
    inputs: dict[str, Any]


class CnSegmentOut(_Out):
    valid_from: str
    valid_until: str
    total_pct: float | None
    upper_pct: float | None
    layers: dict[str, float]
    uncertain: dict[str, float]
    notices: list[str]
    changes: list[str]


class CnTimelineOut(_Out):
    importer: str
    origin: str
    code: str
    level: str
    hs6: str
    description: str
    from_: str = Field(alias="from")
    to: str
    time_zone: str
    several_lines: str | None
    follows: str
    segments: list[CnSegmentOut]


class WarRowOut(_Out):
    valid_from: str
    valid_until: str
    us_total_pct: float | None
    us_layers: dict[str, float]
    cn_total_pct: float | None
    cn_upper_pct: float | None
    cn_layers: dict[str, float]
    changes: list[str]


class WarProductOut(_Out):
    """Same JSON as ``tariffstack war HTS10 --json``."""

    hts10: str
    description: str
    hs6: str
    from_: str = Field(alias="from")
    to: str
    us: dict[str, Any]
    cn: dict[str, Any]
    rows: list[WarRowOut]
    notes: list[str]
    us_timeline: TimelineOut
    cn_timeline: CnTimelineOut


class WarAverageRow(_Out):
    date: str
    cn_total_pct: float
    cn_additional_pct: float
    cn_wto_pct: float = Field(description="The same mean read straight from the WTO figures")
    cn_weights_from: str
    cn_excluded_hs6: int
    us_total_pct: float | None
    us_additional_pct: float | None
    us_mfn_pct: float | None


class StepOut(_Out):
    from_: str = Field(alias="from")
    until: str
    pct: float


class SideSeries(_Out):
    label: str
    weights: str
    rows: list[StepOut]


class SeriesOut(_Out):
    from_: str = Field(alias="from")
    to: str
    us: SideSeries
    cn: SideSeries


class WarAverageOut(_Out):
    """Same JSON as ``tariffstack war --average --json``."""

    wto_dates: list[WarAverageRow]
    us_weights: str
    cn_weights: str
    series: SeriesOut | None = None
