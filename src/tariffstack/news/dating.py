"""Time expressions in a sentence, resolved against the article date, and which one dates a claim.

A claim is checked on the day its own words give ("effective Saturday, April 12", "since March
12", "the same day"), else on the article's date. Each time expression gets a role from the words
around it: ``start`` (effective, from, since, took effect), ``end`` ("until Nov. 10": when a rate
stops, never the day to check), ``report`` ("said on Friday", "announced on April 4": the day of
the news, used only when nothing else dates the claim) or ``plain``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from functools import lru_cache

from tariffstack.news.lexicon import clause_left
from tariffstack.news.results import DateSource, When

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MON3 = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_WD = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_PREP_WORDS = r"on|since|from|until|till|through|by|before|after|starting|beginning|effective|as\s+of"
_PREP = rf"(?:(?i:{_PREP_WORDS})\s+)?"
# "from 12:01 a.m. Eastern time on", "at 12:01 p.m. on": a clock time before a day belongs to it
_CLOCK = (r"(?:(?i:at|from|after|before)\s+)?\d{1,2}:\d{2}\s*(?:a\.m\.|p\.m\.|am\b|pm\b)?"
          r"(?:\s+(?:Eastern|EDT|EST|ET|GMT|Beijing)(?:\s+(?:daylight\s+|standard\s+)?time)?)?"
          r"\s+(?:(?i:on)\s+)?")
_MD = rf"{_MON3}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
_DM = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_MON3}(?:,?\s+\d{{4}})?\b"
_TIME_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(rf"\b{_PREP}\d{{4}}-\d{{2}}-\d{{2}}\b")),
    # "Saturday, April 12": the date is what counts, the weekday only confirms it
    ("wdmd", re.compile(rf"\b(?:{_CLOCK})?{_PREP}{_WD},?\s+(?:{_MD}|{_DM})")),
    ("md", re.compile(rf"\b(?:{_CLOCK})?{_PREP}{_MD}")),
    ("dm", re.compile(rf"\b(?:{_CLOCK})?{_PREP}{_DM}")),
    ("month", re.compile(r"\b(?:(?:in|since|during|by|until|from|through|starting|beginning)\s+)?"
                         r"(?:(?:early|mid|late)[-\s]+)?(?P<mon>January|February|March|April|May|June|"
                         r"July|August|September|October|November|December)(?:\s+(?P<yr>\d{4}))?\b")),
    ("weekday", re.compile(rf"\b(?:{_CLOCK})?(?:(?P<mod>last|this|next|on|since|by|until|from|"
                           r"coming|starting|beginning|effective|earlier\s+this)\s+)?(?P<wd>monday|"
                           r"tuesday|wednesday|thursday|friday|saturday|sunday)(?:['’]s)?\b", re.I)),
    ("rel", re.compile(r"\b(?:(?:from|starting|beginning|by|until)\s+)?(?:(?:earlier|later)\s+this|"
                       r"last|this|next|past|previous|coming)\s+(?:week|month|year)\b", re.I)),
    ("day", re.compile(r"\b(?:today|yesterday|tomorrow|tonight)\b", re.I)),
    ("ago", re.compile(r"\b(?:a|one|two|three|four|five|six|\d+)\s+(?:days?|weeks?|months?)\s+ago\b",
                       re.I)),
    ("recent", re.compile(r"\b(?:recently|in\s+recent\s+(?:days|weeks))\b", re.I)),
    ("midnight", re.compile(r"\b(?:at|from|after)\s+midnight\b", re.I)),
    # anaphora: "at the same hour", "from the same day", "on the same date"
    ("same", re.compile(r"\b(?:(?:at|on|from|by)\s+)?the\s+same\s+(?:day|date|hour|time|moment)\b",
                        re.I)),
)
_FUTURE_RE = re.compile(
    r"\b(?:will|shall|would|(?:is|are|was|were)\s+(?:\w+\s+)?(?:set|due|scheduled|slated)\s+"
    r"to|to\s+take\s+effect|takes?\s+effect|going\s+to|from\s+next|starting|effective)\b",
    re.I,
)
MONTH_DAY_NAMES = (r"(?:January|February|March|April|May|June|July|August|September|October|"
                    r"November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_SMALL_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_FUTURE_MONTHS = 6      # a bare month read as future is at most this far ahead ("their April rises")

_END_TAIL_RE = re.compile(r"\b(?:until|till|through|to\s+run\s+until|expir(?:e|es|ing)\s+on|"
                          r"run(?:s)?\s+out\s+on|ends?\s+on)\s*$", re.I)
_START_TAIL_RE = re.compile(
    r"\b(?:effective|starting|beginning|from|since|as\s+of|takes?\s+effect|took\s+effect|"
    r"taking\s+effect|come\s+into\s+force|came\s+into\s+force|due\s+to\s+start|"
    r"start(?:s|ed|ing)?|begin(?:s|ning)?|began|appl(?:y|ies)\s+from|kick(?:s|ed)?\s+in)"
    r"\s+(?:(?:on|at)\s+)?$", re.I)
_REPORT_TAIL_RE = re.compile(
    r"\b(?:said|says|told|announced|announcing|confirmed|signed|published|unveiled|ordered|"
    r"reported|wrote|added|declared|posted|statement|agreed|reached|struck|concluded|sealed)\s+(?:[\w,]+\s+){0,3}?(?:on|in|at)?\s*$",
    re.I)
_OWN_PREP_RE = re.compile(rf"^(?:{_CLOCK})?(?P<p>{_PREP_WORDS})\b", re.I)
# a time that another rate noun governs: "on top of the reciprocal rate in force since Aug. 7"
_OTHER_NOUN_RE = re.compile(r"\b(?:rate|tariffs?|dut(?:y|ies)|levy|levies)\s+(?:in\s+force|in\s+place|"
                            r"(?:that\s+)?(?:has|have|had)\s+applied)\s*$", re.I)
# where a claim's clause ends on its right: a time past this belongs to another clause
_CLAUSE_BREAK_RE = re.compile(r"[;]|,\s+(?:and|but|while|whereas|although|though)\s|\s[–—]\s|"
                              r"\buntil\b", re.I)
_PRESENT_RE = re.compile(r"\b(?:now|still|currently|remains?|remained|continues?\s+to|already|"
                         r"at\s+present|so\s+far|in\s+force|in\s+place|stands?\s+at)\b", re.I)


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

    cleaned = re.sub(rf"^(?:{_CLOCK})?(?:(?:{_PREP_WORDS})\s+)?", "", text.strip(), flags=re.I)
    cleaned = re.sub(rf"^{_WD},?\s+", "", cleaned, flags=re.I)
    cleaned = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", cleaned)
    got = dateparser.parse(
        cleaned, languages=["en"],
        settings={"RELATIVE_BASE": dt.datetime.combine(base, dt.time(12)),
                  "PREFER_DATES_FROM": "future" if future else "past",
                  "RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": False},
    )
    return got.date() if got is not None else None


def _explicit(kind: str, m: re.Match[str], base: dt.date, future: bool) -> When | None:
    text, low = m.group(0), m.group(0).lower()
    got = _dateparser(text, base, future)
    if got is None:
        return None
    if not re.search(r"\d{4}", text):
        # no year: take the nearer of the past and the future reading ("June 4" in May)
        other = _dateparser(text, base, not future)
        if other is not None and abs((other - base).days) < abs((got - base).days):
            got = other
    if re.match(r"(?:\S+\s+){0,4}?since\b", low) and got <= base:
        return When(text, got, base, f"from {got.isoformat()} to the article date")
    return When(text, got, got, f"explicit date, read as {got.isoformat()}", got > base)


def _month(kind: str, m: re.Match[str], d: dt.date, future: bool) -> When | None:
    text, low = m.group(0), m.group(0).lower()
    mon = _MONTHS.index(m.group("mon").lower()) + 1
    if m.group("mon") == "May" and not re.match(r"(?:in|since|during|by|until|from|through|early|"
                                                r"mid|late)\b", low) and not m.group("yr"):
        return None   # "may" the modal verb, or a bare month we cannot place
    if m.group("yr"):
        year = int(m.group("yr"))
    elif future and (mon - d.month) % 12 <= _FUTURE_MONTHS:
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
    return When(text, a, b, f"month {a:%B %Y}", a > d)


def _weekday(kind: str, m: re.Match[str], d: dt.date, future: bool) -> When | None:
    wd = _WEEKDAYS.index(m.group("wd").lower())
    name = _WEEKDAYS[wd].title()
    mod = (m.group("mod") or "").lower()
    delta_back = (d.weekday() - wd) % 7
    if mod == "last":
        day, how = d - dt.timedelta(days=delta_back or 7), f"'last {name}': the one before {d}"
    elif mod in ("next", "coming"):
        day, how = d + dt.timedelta(days=((wd - d.weekday()) % 7) or 7), f"next {name} after {d}"
    elif mod.startswith("earlier") or mod == "this":
        day = d - dt.timedelta(days=d.weekday()) + dt.timedelta(days=wd)
        how = f"{name} of the week of {d}"
    elif delta_back == 0:
        day, how = d, f"the article's own day ({name} {d})"
    elif future:
        day = d + dt.timedelta(days=(wd - d.weekday()) % 7)
        how = f"future tense: the next {name} after {d}"
    else:
        day = d - dt.timedelta(days=delta_back)
        how = f"past tense: the most recent {name} before {d}"
    return When(m.group(0), day, day, how, day > d)


def _relative(kind: str, m: re.Match[str], d: dt.date, future: bool) -> When | None:
    text = m.group(0)
    low = re.sub(r"^(?:from|starting|beginning|by|until)\s+", "", text.lower())
    unit = low.split()[-1]
    if low.startswith("past"):
        span = {"week": 7, "month": 30, "year": 365}[unit]
        return When(text, d - dt.timedelta(days=span), d, f"the {span} days up to {d}")
    k = -1 if low.startswith(("last", "previous")) else 1 if low.startswith(("next", "coming")) else 0
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
                a > d)


def _day_words(kind: str, m: re.Match[str], d: dt.date, future: bool) -> When | None:
    text, low = m.group(0), m.group(0).lower()
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
    return When(text, d - dt.timedelta(days=30), d, "vague: the 30 days before the article")


_RESOLVERS = {"iso": _explicit, "md": _explicit, "dm": _explicit, "wdmd": _explicit,
              "month": _month, "weekday": _weekday, "rel": _relative, "day": _day_words,
              "ago": _day_words, "recent": _day_words}


def _resolve_time(kind: str, m: re.Match[str], base: dt.date, future: bool) -> When | None:
    """Resolve one time expression against the article date."""
    fn = _RESOLVERS.get(kind)
    return fn(kind, m, base, future) if fn else None


def _role(s: str, a: int, text: str) -> str:
    """start / end / report / plain, from the expression's own preposition and the words before."""
    own = _OWN_PREP_RE.match(text)
    prep = own.group("p").lower() if own else ""
    tail = s[max(0, a - 40):a]
    if prep in ("until", "till", "through") or _END_TAIL_RE.search(tail):
        return "end"
    if prep in ("from", "since", "starting", "beginning", "effective") or prep.startswith("as") \
            or _START_TAIL_RE.search(tail):
        return "start"
    if _REPORT_TAIL_RE.search(tail):
        return "report"
    return "plain"


def time_spans(s: str, base: dt.date, last: dt.date | None = None) -> list[tuple[int, int, When]]:
    """Every time expression of a sentence with its span, resolved and given a role.

    ``last``: the day the article last stated, for "the same day".
    """
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
        if kind == "same":
            day = last or base
            w: When | None = When(m.group(0), day, day,
                                  f"'the same day' as the date stated before ({day.isoformat()})"
                                  if last else "'the same day', no date stated before: the article's",
                                  day > base)
        elif kind == "midnight":
            day = base + dt.timedelta(days=1) if future else base
            w = When(m.group(0), day, day, f"midnight at the start of {day.isoformat()}", day > base)
        elif kind == "month" and not re.match(r"(?i:in|since|during|by|until|from|through|starting|"
                                              r"beginning|early|mid|late)\b", m.group(0)) \
                and re.match(r"\s+[a-z]", s[b:b + 2]):
            w = None   # a month as an adjective: "its July deal", "their April increases"
        else:
            role = _role(s, a, m.group(0))
            # a reporting day is a day of the news, so in the past ("a deal reached on Sunday")
            w = _resolve_time(kind, m, base, future and role != "report")
        if w is not None:
            out.append((a, b, replace(w, role=_role(s, a, m.group(0)))))
    return out


def pick_time(times: list[tuple[int, int, When]], s: str, a: int, b: int,
              taken: set[int]) -> When | None:
    """The time expression that dates the claim at span [a, b) of sentence ``s``.

    Nearest first, but never an end date, never one past the end of the claim's clause or
    governed by another rate noun, and a reporting date only when nothing else is there. A time
    another claim already took is reused only if it stands before this claim (a sentence-wide
    date: "From March 10, China will add 15% ..., and 10% on ...").
    """
    def usable(x: int, y: int, w: When) -> bool:
        if w.role == "end":
            return False
        if x >= b:
            gap = s[b:x]
            if _CLAUSE_BREAK_RE.search(gap) or _OTHER_NOUN_RE.search(s[max(b, x - 40):x]):
                return False
        elif y <= a and (re.search(r"[;]|\s[–—]\s", s[y:a]) or (
                x > 0 and re.search(r",\s+(?:and|but|while|whereas)\s", s[y:a]))):
            return False   # another clause, or a dateline ("NEW YORK, March 12 – ...")
        return True

    def dist(x: int, y: int) -> int:
        return 0 if (x < b and y > a) else min(abs(x - b), abs(a - y))

    cands = [(w.role == "report", dist(x, y), i, w) for i, (x, y, w) in enumerate(times)
             if i not in taken and usable(x, y, w)]
    if cands:
        got = min(cands, key=lambda c: (c[0], c[1]))
        taken.add(got[2])
        return got[3]
    # a time another claim took: one before this claim, or the main verb's day after it ("The
    # duties, 25% on Canada and 10% on China, take effect on Tuesday")
    shared = [(dist(x, y), w) for i, (x, y, w) in enumerate(times)
              if i in taken and (y <= a or w.role == "start") and usable(x, y, w)
              and w.role != "report"]
    return min(shared, key=lambda c: c[0])[1] if shared else None


def is_present(clause: str) -> bool:
    """Words that put a claim at the article's date ("now pay", "remains in force", "still")."""
    return bool(_PRESENT_RE.search(clause))


def check_day(w: When | None, base: dt.date, present: bool = False,
              past: bool = False) -> tuple[dt.date, DateSource]:
    """The day to check a claim dated by ``w`` (None: the article's), and where it comes from.

    A start in the past ("since March 12", "from April") is the day checked unless the claim
    speaks of the present ("... remains in force"); a past window is checked at its end (or the
    article's date if that comes first); a future day or window at its start. A reporting day
    ("said on Wednesday") dates only a claim in the past tense ("were exempted, the
    administration said on Friday"); a claim in the present is checked at the article's date.
    """
    if w is None:
        return base, "article"
    if w.start <= base and ((present and w.role in ("start", "report"))
                            or (w.role == "report" and not past)):
        return base, "article"
    if w.start > base:
        return w.start, "stated"
    if w.role == "start":
        return w.start, "stated"
    day = min(w.end, base)
    return day, ("article" if day == base and w.how.startswith("vague") else "stated")
