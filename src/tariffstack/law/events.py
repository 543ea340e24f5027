"""Legal events the printed schedule misses, and the de minimis rule, read from cited data files.

The HTS can lag the law: the 2026 revisions still print the IEEPA headings although those duties
ended for goods entered on or after Feb 24, 2026. ``data/legal_events.csv`` records each such
event with its citation; the model applies them to the measures so that the engine answers what
the law imposed, and shows the event's citation in the explanation.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from tariffstack.errors import DataError
from tariffstack.law import countries
from tariffstack.law.validity import Validity

if TYPE_CHECKING:
    from tariffstack.law.measures import Measure


@cache
def _headings_match(spec: str, heading: str, layer: str, event_layer: str) -> bool:
    """Whether ``heading`` is in a ``;``-separated list of headings and ranges (cached: hot)."""
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        if part == "*":
            return layer == event_layer
        if "-" in part:
            lo, hi = (p.strip() for p in part.split("-", 1))
            if lo <= heading <= hi:
                return True
        elif part == heading:
            return True
    return False


@dataclass(frozen=True, slots=True)
class LegalEvent:
    """A change in the law on a date, for a set of headings, with its citation."""

    id: str
    headings: str
    layer: str
    action: str                 # terminate | start | rate | suspend
    effective: date
    end: date | None
    rate_pct: float | None
    countries: frozenset[str] | None
    citation: str
    summary: str

    def apply(self, m: Measure) -> list[Measure]:
        """The measure as this event leaves it: unchanged, re-dated, ended, or cut in pieces.

        A ``rate`` event sets the rate for the days from ``effective`` to ``end`` (inclusive)
        that the version covers, so the printed rate stays in force outside that period.
        """
        if not _headings_match(self.headings, m.heading, m.layer, self.layer):
            return [m]
        if self.action in ("terminate", "suspend"):
            if m.start >= self.effective:
                return [replace(m, status="terminated", start_source=f"{m.start_source}; ended by {self.citation}")]
            if m.end is None or m.end > self.effective:
                return [replace(
                    m, end=self.effective,
                    start_source=f"{m.start_source}; ends {self.effective:%B %-d, %Y} ({self.citation})",
                )]
        if self.action == "start" and m.start > self.effective and m.revision_index >= 0:
            return [replace(m, start=self.effective, start_source=f"effective {self.effective:%B %-d, %Y} ({self.citation})")]
        if self.action == "rate" and self.rate_pct is not None:
            return self._rate(m, self.rate_pct)
        return [m]

    @property
    def validity(self) -> Validity:
        """``end`` is the last day the event covers, as legal_events.csv writes it."""
        return Validity.from_last(self.effective, self.end)

    def _rate(self, m: Measure, pct: float) -> list[Measure]:
        span = m.validity.intersect(self.validity)
        if span is None:
            return [m]
        assert span.start is not None
        lo, hi = span.start, span.end
        duty = replace(m.duty, pct=pct, text=f"{pct:g}% ({self.citation})", specific=())
        pieces = []
        if m.start < lo:
            pieces.append(replace(m, end=lo))
        pieces.append(replace(m, start=lo, end=hi, duty=duty,
                              start_source=f"rate {pct:g}% from {lo:%B %-d, %Y} ({self.citation})"))
        if hi is not None and (m.end is None or hi < m.end):
            pieces.append(replace(m, start=hi))
        return pieces


def data_rows(name: str) -> list[dict[str, str]]:
    """Rows of a packaged data file (empty when the file is absent)."""
    path = resources.files("tariffstack").joinpath(f"data/{name}")
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def optional_date(text: str | None, error: str) -> date | None:
    """An ISO date from a data file (None when empty), or a DataError with ``error`` and the text."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DataError(f"{error} {text!r} (expected YYYY-MM-DD)") from exc


def _date(text: str, what: str) -> date | None:
    return optional_date(text, f"legal data: bad {what} date")


@cache
def load_events() -> list[LegalEvent]:
    out: list[LegalEvent] = []
    for row in data_rows("legal_events.csv"):
        eff = _date(row.get("effective", ""), "effective")
        if eff is None:
            continue
        rate = (row.get("rate_pct") or "").strip()
        out.append(
            LegalEvent(
                id=row["id"], headings=row.get("headings", ""), layer=row.get("layer", ""),
                action=row.get("action", "").strip(), effective=eff,
                end=_date(row.get("end", ""), "end"), rate_pct=float(rate) if rate else None,
                countries=countries.parse_spec(row.get("countries", ""), "legal_events.csv: countries"),
                citation=row.get("citation", ""), summary=row.get("summary", ""),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class DeMinimisRule:
    """One period of the de minimis law for some origins (``de_minimis.csv`` writes its first and
    last day in force; read into a :class:`Validity`)."""

    id: str
    countries: frozenset[str] | None
    validity: Validity
    eligible: bool
    threshold_usd: float
    citation: str
    summary: str

    @property
    def effective(self) -> date:
        assert self.validity.start is not None  # every row has a first day (load_de_minimis)
        return self.validity.start

    @property
    def last(self) -> date | None:
        """The last day in force (inclusive), as de_minimis.csv writes it."""
        return self.validity.last

    def covers(self, origin: str, day: date) -> bool:
        return (self.countries is None or origin in self.countries) and self.validity.contains(day)


@cache
def load_de_minimis() -> list[DeMinimisRule]:
    out: list[DeMinimisRule] = []
    for row in data_rows("de_minimis.csv"):
        eff = _date(row.get("effective", ""), "effective")
        if eff is None:
            continue
        thr = (row.get("threshold_usd") or "").strip()
        out.append(
            DeMinimisRule(
                id=row["id"], countries=countries.parse_spec(row.get("countries", ""), "de_minimis.csv: countries"),
                validity=Validity.from_last(eff, _date(row.get("last", ""), "last")),
                eligible=(row.get("eligible") or "").strip().lower() in ("1", "true", "yes"),
                threshold_usd=float(thr) if thr else 800.0,
                citation=row.get("citation", ""), summary=row.get("summary", ""),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class StackingRule:
    """'When an article pays <when>, <then> does not apply' as a note or order states it."""

    id: str
    when_layer: str
    when_headings: str
    then_layer: str
    then_headings: str
    effect: str                 # not_applied | applies_to_remainder | cumulative
    share_input: str | None
    validity: Validity          # stacking.csv writes the first and the last day covered
    countries: frozenset[str] | None
    citation: str
    quote: str

    def in_force(self, origin: str, day: date) -> bool:
        return (self.countries is None or origin in self.countries) and self.validity.contains(day)

    def matches_when(self, layer: str, heading: str) -> bool:
        return layer == self.when_layer and (
            not self.when_headings.strip() or _headings_match(self.when_headings, heading, layer, layer)
        )

    def matches_then(self, layer: str, heading: str) -> bool:
        return layer == self.then_layer and (
            not self.then_headings.strip() or _headings_match(self.then_headings, heading, layer, layer)
        )


@cache
def load_stacking() -> list[StackingRule]:
    out: list[StackingRule] = []
    for row in data_rows("stacking.csv"):
        out.append(
            StackingRule(
                id=row.get("id", ""), when_layer=(row.get("when_layer") or "").strip(),
                when_headings=(row.get("when_headings") or "").replace(",", ";"),
                then_layer=(row.get("then_layer") or "").strip(),
                then_headings=(row.get("then_headings") or "").replace(",", ";"),
                effect=(row.get("effect") or "").strip(),
                share_input=(row.get("share_input") or "").strip() or None,
                validity=Validity.from_last(_date(row.get("effective", ""), "effective"),
                                            _date(row.get("end", ""), "end")),
                countries=countries.parse_spec(row.get("countries", ""), "stacking.csv: countries"),
                citation=row.get("citation", ""), quote=row.get("quote", ""),
            )
        )
    return out
