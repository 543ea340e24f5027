"""When a rule is in force: one type and one convention for every rule kind.

Inside the package a period runs from ``start`` (the first day in force) up to ``end``, the
first day *no longer* in force (exclusive; ``None``: still in force). Half-open periods split
and join without off-by-one arithmetic: a version cut on day D is [start, D) and [D, end).
The law's own texts and the package's CSV files name the *last* day in force instead
(``de_minimis.csv``'s ``last``, the registry's ``last``, a legal event's ``end``); those are
converted once, where they are read, by :meth:`Validity.from_last`, and back by
:attr:`Validity.last` where a last day is shown (a layer's ``effective_to``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def last_day(end: date | None) -> date | None:
    """The last day in force of a period ending (exclusive) at ``end``."""
    return None if end is None else end - ONE_DAY


@dataclass(frozen=True, slots=True)
class Validity:
    """Days in force: ``start`` (inclusive; None: since before the data) to ``end`` (exclusive;
    None: no end)."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    @classmethod
    def from_last(cls, first: date | None, last: date | None) -> Validity:
        """From a first and a *last* day in force, as the law and the CSV files write them."""
        return cls(first, None if last is None else last + ONE_DAY)

    @property
    def last(self) -> date | None:
        """The last day in force (inclusive), for output."""
        return last_day(self.end)

    def contains(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)

    def intersect(self, other: Validity) -> Validity | None:
        """The days in both periods, or None when they share no day."""
        lo = other.start if self.start is None else (
            self.start if other.start is None else max(self.start, other.start))
        hi = other.end if self.end is None else (
            self.end if other.end is None else min(self.end, other.end))
        if lo is not None and hi is not None and hi <= lo:
            return None
        return Validity(lo, hi)

    def boundaries(self) -> tuple[date, ...]:
        """The days on which the rule's being in force changes: its start and its end."""
        return tuple(d for d in (self.start, self.end) if d is not None)
