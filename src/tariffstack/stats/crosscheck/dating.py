"""The comparison date for each peer revision: a day in the peer's period on which our legal
dating shows that revision's law."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tariffstack.engine.us import Engine
from tariffstack.errors import DataError
from tariffstack.stats.crosscheck.peer import our_name, peer_window

PENDING_HORIZON_DAYS = 62   # how far past the peer's period to look for the revision's own later changes


@dataclass(frozen=True)
class DateChoice:
    """The comparison date for one peer revision, and why."""

    revision: str                     # peer name, rev_17
    ours: str                         # our name, 2025 rev 17
    window_from: date                 # the peer applies this revision's rates from ...
    window_to: date | None            # ... to (inclusive; None: open)
    day: date
    product_revision: str             # our product lines in force on the day
    later: tuple[str, ...]            # heading versions from later revisions in force that day
    pending: tuple[str, ...]          # this revision's versions in force only later in the window
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"revision": self.revision, "ours": self.ours, "window_from": self.window_from.isoformat(),
                "window_to": self.window_to.isoformat() if self.window_to else None,
                "date": self.day.isoformat(), "product_revision": self.product_revision,
                "later_headings": list(self.later), "pending_headings": list(self.pending),
                "reason": self.reason}


def choose_date(engine: Engine, peer: str, first: date, day: date | None = None) -> DateChoice:
    """The day in the peer's period for a revision on which our legal dating shows that revision.

    The peer applies a revision's rates from its own date to the day before the next revision's;
    we date every heading version by its legal effective date, so a later revision can restate a
    day retroactively (the April 2025 electronics exemption) and a revision's own changes can start
    after the peer's date (rev 17's copper and Canada 35% on Aug 1, 2025). Within the peer's
    window we take the day with the fewest heading versions dated differently (from a later
    revision and in force, or from this revision and not yet in force) and, among those, the last:
    the day before the next revision's changes take over. ``day`` overrides the choice.
    """
    model = engine.model
    ours = our_name(peer)
    names = [r.name for r in model.revisions]
    if ours not in names:
        raise DataError(f"the peer's {peer} ({ours}) is not among our revisions")
    idx = names.index(ours)
    lo, hi = peer_window(peer, first)
    lo_c, hi_c = max(lo, model.first_date), min(hi or model.last_date, model.last_date)

    def later_on(d: date) -> tuple[str, ...]:
        return tuple(sorted(f"{m.heading} ({m.revision})" for m in engine.active(d) if m.revision_index > idx))

    if day is not None:
        engine.check_date(day)
        inside = lo <= day and (hi is None or day <= hi)
        why = "given with --date" + ("" if inside else f"; outside the peer's period for {peer}")
        return DateChoice(peer, ours, lo, hi, day, names[model.revision_on(day)], later_on(day), (), why)
    if lo_c > hi_c:
        raise DataError(f"the peer's period for {peer} ({lo} to {hi}) is outside our data "
                        f"({model.first_date} to {model.last_date})")
    days = [lo_c + timedelta(days=k) for k in range((hi_c - lo_c).days + 1)]
    # the revision's own heading versions that come into force in the window or soon after it
    # (a peer date weeks before the revision's changes leaves them pending on every day)
    ahead = min(model.last_date, hi_c + timedelta(days=PENDING_HORIZON_DAYS))
    scan = days + [hi_c + timedelta(days=k) for k in range(1, (ahead - hi_c).days + 1)]
    own = {(m.heading, m.start): m for d in scan for m in engine.active(d) if m.revision_index == idx}
    best: tuple[int, date, tuple[str, ...], tuple[str, ...]] | None = None
    for d in days:
        later = later_on(d)
        pending = tuple(sorted(f"{h} (from {s})" for h, s in own if s > d))
        if best is None or len(later) + len(pending) <= best[0]:
            best = (len(later) + len(pending), d, later, pending)
    assert best is not None
    n, chosen, later, pending = best
    why = ("the peer's last day on which our dating shows exactly this revision's headings" if n == 0 else
           f"the peer's last day with the fewest ({n}) heading versions dated differently: from later "
           "revisions in force, or this revision's not yet in force")
    return DateChoice(peer, ours, lo, hi, chosen, names[model.revision_on(chosen)], later, pending, why)
