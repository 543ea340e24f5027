"""Words the official texts number and date things with, read one way everywhere: month names
("April 5, 2025", "Apr. 5") and roman numerals (note 2(v)(xiii), "Section XV")."""

from __future__ import annotations

import re

MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
               "september", "october", "november", "december")
_ROMAN_RE = re.compile(r"^m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def month_number(name: str) -> int:
    """1-12 for a month name or its abbreviation of three letters or more ("Sept."), any case;
    ValueError otherwise."""
    key = name.strip().rstrip(".").lower()
    for i, full in enumerate(MONTH_NAMES, start=1):
        if len(key) >= 3 and full.startswith(key):
            return i
    raise ValueError(f"not a month name: {name!r}")


def roman_value(text: str) -> int | None:
    """The value of a well-formed roman numeral (any case), or None."""
    s = text.strip().lower()
    if not s or not _ROMAN_RE.match(s):
        return None
    total = 0
    for a, b in zip(s, s[1:] + " ", strict=True):
        v = _ROMAN_VALUES[a]
        total += -v if b != " " and _ROMAN_VALUES[b] > v else v
    return total
