"""Reading what users and China's files say, for engine/cn.py: days and minutes in Beijing time,
codes typed for China, how sure a notice row is, the press-reported exemptions, HS6 descriptions.

Kept apart from the engine so the rules of China's schedule read on their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tariffstack.errors import BadInput, DataError
from tariffstack.sources.china import Notice

Describe = Callable[[str], "tuple[str, tuple[str, ...]] | None"]
When = dt.date  # a date, or a datetime (Beijing time) for the minute
_WHEN_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}):(\d{2}))?$")


def parse_when(text: str | dt.date) -> When:
    """A Beijing-time day (YYYY-MM-DD) or minute (YYYY-MM-DDTHH:MM), or a specific error."""
    if isinstance(text, dt.date):
        return text
    m = _WHEN_RE.match(str(text).strip())
    try:
        if m is None:
            raise ValueError(text)
        day = dt.date.fromisoformat(m.group(1))
        return day if m.group(2) is None else dt.datetime.combine(day, dt.time(int(m.group(2)), int(m.group(3))))
    except ValueError as exc:
        raise BadInput(f"bad date {text!r}: expected YYYY-MM-DD or, for China's notices to the minute, "
                       "YYYY-MM-DDTHH:MM in Beijing time") from exc


def day_of(when: When) -> dt.date:
    """The Beijing-time day of a date or minute."""
    return when.date() if isinstance(when, dt.datetime) else when


def started(t: dt.datetime, when: When) -> bool:
    """Has a moment passed on ``when``? A notice effective at 12:01 counts for the whole day."""
    return t <= when if isinstance(when, dt.datetime) else t.date() <= when


def moment(text: str, end: bool = False) -> dt.datetime:
    """'2025-04-10 12:01' -> that minute; '2025-05-13 24:00', or a bare date ending a period, -> the next midnight."""
    day = dt.date.fromisoformat(text[:10])
    if len(text) <= 10:
        return dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time(0))
    hh, mm = (int(x) for x in text[11:].split(":"))
    if hh == 24:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0))
    return dt.datetime.combine(day, dt.time(hh, mm))


def status_of(n: Notice) -> str:
    """What the notice row rests on, in words (never 'official': no government file was reachable)."""
    conf = n.number_confidence.lower()
    if "unverified" in conf:
        return "unverified (number not seen in any text; facts from press)"
    if "press translations" in conf:
        return "press translation (number from a secondary source)"
    if "printed in" in conf:
        return "notice text (reproduced copy)"
    if "cited" in conf:
        return "notice text cited by later notices and press"
    if "secondary" in conf:
        return "secondary source"
    return "compiled from public pages"


@dataclass(frozen=True, slots=True)
class CnInputs:
    """Facts about a shipment China's rules depend on; default: not in transit."""

    shipped: When | None = None     # when the goods left the U.S. (Beijing time), for in-transit rules


@dataclass(frozen=True)
class PressEntry:
    prefix: str
    category: str
    named_by: str
    source: str
    mapping: str


def load_press_entries() -> tuple[PressEntry, ...]:
    """The goods press reports (and an unverified list) say China exempted in April 2025 (data file)."""
    path = resources.files("tariffstack").joinpath("data/cn_press_exemptions.csv")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    out = []
    for i, r in enumerate(rows, start=2):
        prefix = (r.get("hs_prefix") or "").strip()
        if not prefix.isdigit() or len(prefix) not in (4, 6, 8):
            raise DataError(f"cn_press_exemptions.csv line {i}: hs_prefix {prefix!r} is not 4, 6 or 8 digits")
        out.append(PressEntry(prefix, r["category"].strip(), r["named_by"].strip(), r["source"].strip(),
                              r["mapping"].strip()))
    return tuple(out)


def parse_cn_code(code: str) -> tuple[str, str, str | None]:
    """(digits, level, note) for a code typed for China: HS6, a Chinese HS8 line, or a U.S. HTS-10."""
    text = (code or "").strip()
    d = re.sub(r"[\s.]", "", text)
    if not d.isdigit():
        raise BadInput(f"malformed HS code {code!r}: give 6 digits (HS6, e.g. 1201.90), 8 (a Chinese tariff "
                       "line, e.g. 12019011) or a U.S. HTS-10 (e.g. 8517.13.0000)")
    if len(d) == 6:
        return d, "HS6", None
    if len(d) == 8:
        return d, "HS8", None
    if len(d) == 10:
        return d[:6], "HS6", (f"U.S. line {text} maps to HS6 {d[:4]}.{d[4:6]}: the first six digits are shared "
                              "internationally; China's 8-digit lines are its own")
    if len(d) == 4:
        raise BadInput(f"{code!r} is a heading: give an HS6 subheading (6 digits) or a Chinese 8-digit line")
    raise BadInput(f"malformed HS code {code!r}: it has {len(d)} digits (expected 6, 8 or 10)")


def fraction(f: float, most: int = 12) -> tuple[int, int] | None:
    """k/n (n <= most) closest to f within 0.002, smallest n first: 0.4 -> (2, 5)."""
    for n in range(1, most + 1):
        k = round(f * n)
        if 0 < k <= n and abs(f - k / n) < 0.002:
            return k, n
    return None


def fmt_moment(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t.time() != dt.time(0) else t.date().isoformat()


def describe_from_us(lines: dict[str, Any]) -> Describe:
    """HS6 descriptions from the U.S. schedule's lines (digits -> Line): the six digits are shared."""
    by_hs6: dict[str, list[str]] = {}
    for k in lines:
        if len(k) >= 6:
            by_hs6.setdefault(k[:6], []).append(k)

    def describe(hs6: str) -> tuple[str, tuple[str, ...]] | None:
        keys = sorted(by_hs6.get(hs6, ()))
        if not keys:
            return None
        if hs6 in lines:
            own = lines[hs6]
            return own.description, tuple(own.path)
        eights = [k for k in keys if len(k) == 8] or [k for k in keys if len(k) == 10]
        if len(eights) == 1:
            own = lines[eights[0]]
            return own.description, tuple(own.path)
        paths = [tuple(lines[k].full_path) for k in eights]
        common: list[str] = []
        for parts in zip(*paths, strict=False):
            if len(set(parts)) != 1:
                break
            common.append(parts[0])
        if len(common) >= 2:
            return common[-1], tuple(common[:-1])
        return (f"{common[0] if common else 'HS6'} (HS6 {hs6[:4]}.{hs6[4:]}, {len(eights)} U.S. lines)",
                tuple(common[:-1]))

    return describe
