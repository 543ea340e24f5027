"""Time expressions in a sentence, resolved against the article date."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from tariffstack.news.lexicon import clause_left
from tariffstack.news.results import When

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MON3 = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_PREP = r"(?:(?i:on|since|from|until|by|before|after)\s+)?"
_TIME_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"\b\d{4}-\d{2}-\d{2}\b")),
    ("md", re.compile(rf"\b{_PREP}{_MON3}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b")),
    ("dm", re.compile(rf"\b{_PREP}\d{{1,2}}(?:st|nd|rd|th)?\s+{_MON3}(?:,?\s+\d{{4}})?\b")),
    ("month", re.compile(r"\b(?:(?:in|since|during|by|until|from|through)\s+)?"
                         r"(?:(?:early|mid|late)[-\s]+)?(?P<mon>January|February|March|April|May|June|"
                         r"July|August|September|October|November|December)(?:\s+(?P<yr>\d{4}))?\b")),
    ("weekday", re.compile(r"\b(?:(?P<mod>last|this|next|on|since|by|until|from|coming|earlier\s+"
                           r"this)\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|"
                           r"sunday)(?:['’]s)?\b", re.I)),
    ("rel", re.compile(r"\b(?:(?:earlier|later)\s+this|last|this|next|past|previous|coming)\s+"
                       r"(?:week|month|year)\b", re.I)),
    ("day", re.compile(r"\b(?:today|yesterday|tomorrow|tonight)\b", re.I)),
    ("ago", re.compile(r"\b(?:a|one|two|three|four|five|six|\d+)\s+(?:days?|weeks?|months?)\s+ago\b",
                       re.I)),
    ("recent", re.compile(r"\b(?:recently|in\s+recent\s+(?:days|weeks))\b", re.I)),
)
_FUTURE_RE = re.compile(
    r"\b(?:will|shall|is\s+(?:set|due|scheduled|slated)\s+to|are\s+(?:set|due|scheduled|slated)\s+"
    r"to|to\s+take\s+effect|takes\s+effect|going\s+to|from\s+next)\b",
    re.I,
)
MONTH_DAY_NAMES = (r"(?:January|February|March|April|May|June|July|August|September|October|"
                    r"November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_SMALL_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _shift_month(d: dt.date, k: int) -> tuple[int, int]:
    idx = d.year * 12 + d.month - 1 + k
    return idx // 12, idx % 12 + 1


@lru_cache(maxsize=256)
def _dateparser(text: str, base: dt.date, future: bool) -> dt.date | None:
    """dateparser for explicit dates ("April 9", "9 April 2025"), preferring past or future."""
    import dateparser

    cleaned = re.sub(r"^(?:on|since|from|until|by|before|after)\s+", "", text.strip(), flags=re.I)
    cleaned = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", cleaned)
    got = dateparser.parse(
        cleaned, languages=["en"],
        settings={"RELATIVE_BASE": dt.datetime.combine(base, dt.time(12)),
                  "PREFER_DATES_FROM": "future" if future else "past",
                  "RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": False},
    )
    return got.date() if got is not None else None


def _resolve_time(kind: str, m: re.Match[str], base: dt.date, future: bool) -> When | None:
    """Resolve one time expression against the article date."""
    text = m.group(0)
    low = text.lower()
    d = base
    if kind in ("iso", "md", "dm"):
        got = _dateparser(text, base, future)
        if got is None:
            return None
        if not re.search(r"\d{4}", text):
            # no year: take the nearer of the past and the future reading ("June 4" in May)
            other = _dateparser(text, base, not future)
            if other is not None and abs((other - base).days) < abs((got - base).days):
                got = other
        if low.startswith("since") and got <= base:
            return When(text, got, base, f"from {got.isoformat()} to the article date")
        return When(text, got, got, f"explicit date, read as {got.isoformat()}", got > base)
    if kind == "month":
        mon = _MONTHS.index(m.group("mon").lower()) + 1
        if m.group("mon") == "May" and not re.match(r"(?:in|since|during|by|until|from|through|early|"
                                                    r"mid|late)\b", low) and not m.group("yr"):
            return None   # "may" the modal verb, or a bare month we cannot place
        if m.group("yr"):
            year = int(m.group("yr"))
        elif future:
            year = d.year if mon >= d.month else d.year + 1
        else:
            year = d.year if mon <= d.month else d.year - 1
        a, b = dt.date(year, mon, 1), _month_end(year, mon)
        if "early" in low:
            b = dt.date(year, mon, 10)
        elif "mid" in low:
            a, b = dt.date(year, mon, 11), dt.date(year, mon, 20)
        elif "late" in low:
            a = dt.date(year, mon, 21)
        return When(text, a, b, f"month {a:%B %Y}", a > base)
    if kind == "weekday":
        wd = _WEEKDAYS.index(m.group("wd").lower())
        mod = (m.group("mod") or "").lower()
        delta_back = (d.weekday() - wd) % 7
        if mod == "last":
            day = d - dt.timedelta(days=delta_back or 7)
            how = f"'last {_WEEKDAYS[wd].title()}': the one before {d.isoformat()}"
        elif mod in ("next", "coming"):
            day = d + dt.timedelta(days=((wd - d.weekday()) % 7) or 7)
            how = f"next {_WEEKDAYS[wd].title()} after {d.isoformat()}"
        elif mod.startswith("earlier") or mod == "this":
            day = d - dt.timedelta(days=d.weekday()) + dt.timedelta(days=wd)
            how = f"{_WEEKDAYS[wd].title()} of the week of {d.isoformat()}"
        elif delta_back == 0:
            day = d
            how = f"the article's own day ({_WEEKDAYS[wd].title()} {d.isoformat()})"
        elif future:
            day = d + dt.timedelta(days=(wd - d.weekday()) % 7)
            how = f"future tense: the next {_WEEKDAYS[wd].title()} after {d.isoformat()}"
        else:
            day = d - dt.timedelta(days=delta_back)
            how = f"past tense: the most recent {_WEEKDAYS[wd].title()} before {d.isoformat()}"
        return When(text, day, day, how, day > base)
    if kind == "rel":
        unit = low.split()[-1]
        if low.startswith(("last", "previous")):
            k = -1
        elif low.startswith(("next", "coming")):
            k = 1
        elif low.startswith("past"):
            span = {"week": 7, "month": 30, "year": 365}[unit]
            return When(text, d - dt.timedelta(days=span), d, f"the {span} days up to {d}")
        else:
            k = 0
        if unit == "week":
            monday = d - dt.timedelta(days=d.weekday()) + dt.timedelta(weeks=k)
            a, b = monday, monday + dt.timedelta(days=6)
        elif unit == "month":
            y, mo = _shift_month(d, k)
            a, b = dt.date(y, mo, 1), _month_end(y, mo)
        else:
            a, b = dt.date(d.year + k, 1, 1), dt.date(d.year + k, 12, 31)
        if k == 0 and low.startswith("earlier"):
            b = d
        elif k == 0 and low.startswith("later"):
            a = d
        elif k == 0:
            b = min(b, d) if not future else b
        return When(text, a, b, f"{a.isoformat()} to {b.isoformat()} relative to {d.isoformat()}",
                    a > base)
    if kind == "day":
        off = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[low]
        day = d + dt.timedelta(days=off)
        return When(text, day, day, f"{low} relative to {d.isoformat()}", off > 0)
    if kind == "ago":
        parts = low.split()
        n = _SMALL_NUMBERS.get(parts[0]) or int(parts[0])
        days = n * {"day": 1, "week": 7, "month": 30}[parts[1].rstrip("s")]
        day = d - dt.timedelta(days=days)
        return When(text, day, day, f"{days} days before {d.isoformat()}")
    if kind == "recent":
        return When(text, d - dt.timedelta(days=30), d, "vague: the 30 days before the article")
    return None


def time_spans(s: str, base: dt.date) -> list[tuple[int, int, When]]:
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for kind, rx in _TIME_RES:
        for m in rx.finditer(s):
            found.append((m.start(), m.end(), kind, m))
    found.sort(key=lambda x: (-(x[1] - x[0]), x[0]))
    kept: list[tuple[int, int, str, re.Match[str]]] = []
    for x in found:
        if all(x[1] <= y[0] or x[0] >= y[1] for y in kept):
            kept.append(x)
    out: list[tuple[int, int, When]] = []
    for a, b, kind, m in sorted(kept, key=lambda x: x[0]):
        local = clause_left(s, a, 80) + s[a:b + 40]
        future = bool(_FUTURE_RE.search(local)) and not re.search(
            r"\b(?:last|ago|earlier|yesterday|recently|past|previous)\b", m.group(0), re.I)
        w = _resolve_time(kind, m, base, future)
        if w is not None:
            out.append((a, b, w))
    return out


def nearest_time(times: list[tuple[int, int, When]], a: int, b: int,
                  taken: set[int]) -> When | None:
    """The time expression closest to span [a, b) not already used by another claim here;
    one the next rate in the sentence is closer to is left for that rate."""
    best: tuple[int, int, When] | None = None
    for i, (x, y, w) in enumerate(times):
        if i in taken:
            continue
        dist = 0 if (x < b and y > a) else min(abs(x - b), abs(a - y))
        if best is None or dist < best[0]:
            best = (dist, i, w)
    if best is None:
        return None
    taken.add(best[1])
    return best[2]


def check_day(w: When | None, base: dt.date) -> dt.date:
    if w is None:
        return base
    if w.start > base:
        return w.start
    return min(w.end, base)
