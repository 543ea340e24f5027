"""Parse HTS rate-of-duty texts into structured values.

The schedule prints every rate as free text (``Free``, ``6%``, ``2.2¢/kg``, ``1.5¢/kg + 4.3%``,
``The duty provided in the applicable subheading + 25%`` ...). Everything downstream (duty
stacks, floors, comparisons) needs numbers, so this module turns the texts into small frozen
values once, and keeps the original text so nothing is lost when a form is not computable.

Three entry points, one per kind of column text:

* :func:`parse_rate` for a single rate (column 1 General, column 2, or one group of Special);
* :func:`parse_special` / :func:`special_rate_for` for the Special column, which is a sequence
  of ``rate (program codes)`` groups;
* :func:`parse_additional` for the ``general`` text of chapter 99 headings, which states an
  *additional* duty relative to the product's own rate.

The parsers never raise: a text that is not understood comes back with ``parsed=False`` and its
text intact. They are pure and called for ~1.5M texts, hence ``lru_cache`` and compiled regexes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = [
    "AdValoremPart",
    "AdditionalDuty",
    "AdditionalKind",
    "Rate",
    "SpecialRate",
    "SpecificPart",
    "floor_pct_from_description",
    "parse_additional",
    "parse_rate",
    "parse_special",
    "special_rate_for",
    "split_special",
    "unparsed_texts",
]

_CACHE_SIZE = 1 << 16


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpecificPart:
    """One amount per unit of quantity (``2.2¢/kg`` -> 0.022 USD per ``kg``)."""

    amount_usd: float      # dollars per unit (2.2¢ -> 0.022)
    unit: str              # unit as printed after '/', normalized ("kg", "pf. liter", "each")
    qualifier: str | None  # what the amount is measured on ("on drained weight"), if printed
    text: str              # the original fragment


@dataclass(frozen=True, slots=True)
class AdValoremPart:
    """One percentage, with the part of the value it applies to when the text names one.

    Watches, rifles with sights and the like print several percentages on different parts of
    the article (``4.2% on the case + 2% on the strap``), so a single number is not enough.
    """

    pct: float
    qualifier: str | None  # "on the case", "of the fair retail value", ... None = full value
    text: str


@dataclass(frozen=True, slots=True)
class Rate:
    """A parsed rate of duty.

    ``ad_valorem_pct`` is the first printed percentage (0.0 for Free). When a text prints
    several percentages, or one on a part of the value only, every part is in ``ad_valorem``
    with its qualifier and :attr:`ad_valorem_is_partial` is True: the first percentage alone
    is then not the rate on the full customs value.

    Texts that refer to another rate ("The rate applicable to each garment ...", "See
    9822.04.25", "A duty upon the value of the repairs ...", "No change" on chapter 99 lines)
    are understood (``parsed=True``) but carry no amount: :attr:`is_reference` is True and
    the text is kept in ``note``.
    """

    text: str                        # original text, stripped
    free: bool
    ad_valorem_pct: float | None     # e.g. 4.3 for "4.3%"; 0.0 for Free
    specific: tuple[SpecificPart, ...]
    parsed: bool                     # False => not understood (text kept); never raise
    note: str | None = None          # trailing condition text kept but not computed
    ad_valorem: tuple[AdValoremPart, ...] = ()

    @property
    def is_compound(self) -> bool:
        """Both an ad valorem and a specific component (``1.5¢/kg + 4.3%``)."""
        return self.ad_valorem_pct is not None and bool(self.specific)

    @property
    def is_specific_only(self) -> bool:
        """Only amounts per unit: the ad valorem equivalent needs quantity and value."""
        return self.ad_valorem_pct is None and bool(self.specific)

    @property
    def is_empty(self) -> bool:
        """No text printed (statistical lines inherit the rate of their 8-digit parent)."""
        return self.text == ""

    @property
    def is_reference(self) -> bool:
        """Understood, but the amount is stated elsewhere (another heading, a note ...)."""
        return (
            self.parsed
            and not self.free
            and self.ad_valorem_pct is None
            and not self.specific
            and self.text != ""
        )

    @property
    def ad_valorem_is_partial(self) -> bool:
        """True when the percentages apply to parts of the value, not the full value."""
        return len(self.ad_valorem) > 1 or any(p.qualifier for p in self.ad_valorem)


@dataclass(frozen=True, slots=True)
class SpecialRate:
    """One group of the Special column: a rate and the program codes it is granted under."""

    rate: Rate
    programs: tuple[str, ...]        # as printed, markers kept: ("A+", "AU", "BH")


AdditionalKind = Literal["plus", "exempt", "no_change", "free", "absolute", "floor", "unknown"]


@dataclass(frozen=True, slots=True)
class AdditionalDuty:
    """The duty a chapter 99 heading imposes, relative to the product's own rate.

    kinds:
      * ``plus``: the product's duty plus ``pct`` (and/or ``specific``); ``content_basis`` set
        when the additional duty is on the value of a metal (or non-U.S.) content only;
      * ``exempt``: "The duty provided in the applicable subheading" - no additional duty, the
        heading exists to carve goods out of another heading;
      * ``no_change``: the heading does not change the duty in that column;
      * ``free``: the heading makes the goods free;
      * ``absolute``: a plain rate is printed (``10%``). Whether it replaces the product's duty
        or adds to it is said by the U.S. notes, not by this text (e.g. subchapter III note 13
        makes 9903.53.01 cumulative, note 37 makes 9903.76.21 the "ordinary customs duty");
      * ``floor``: a plain ``pct`` on a heading whose description limits it to goods "with an
        ad valorem (or ad valorem equivalent) rate of duty under column 1 less than pct
        percent" (the 2025 "all-in" deals): additional = max(0, pct - column 1 ad valorem);
      * ``unknown``: not understood (``parsed=False``), including an empty text.
    """

    text: str
    kind: AdditionalKind
    pct: float | None
    specific: tuple[SpecificPart, ...]
    content_basis: str | None        # "steel", "aluminum", "copper", "non-U.S." ...
    parsed: bool
    base_subheadings: tuple[str, ...] = ()  # when the base is named ("subheadings 8716.39.00 ...")

    @property
    def is_empty(self) -> bool:
        """No text printed."""
        return self.text == ""

    def additional_pct(self, mfn_ad_valorem_pct: float | None) -> float | None:
        """Ad valorem duty this heading adds on top of a product whose column 1 rate is given.

        ``None`` when not computable from the text alone (``absolute``, ``unknown``, a floor
        without the product's rate, specific-only amounts).
        """
        if self.kind in ("exempt", "no_change"):
            return 0.0
        if self.kind == "plus":
            return self.pct
        if self.kind == "floor" and self.pct is not None and mfn_ad_valorem_pct is not None:
            return max(0.0, self.pct - mfn_ad_valorem_pct)
        return None


# --------------------------------------------------------------------------------------------
# Normalization
# --------------------------------------------------------------------------------------------

_TAG_RE = re.compile(r"<[^>]*>")
_WS_RE = re.compile(r"\s+")
_TRAILING_JUNK_RE = re.compile(r"[\s/:;,]+$")


def _clean(text: str) -> str:
    """Drop HTML markup (``m<sup>2</sup>``, ``<il></il>``) and collapse whitespace."""
    if "<" in text:
        text = _TAG_RE.sub("", text)
    return _WS_RE.sub(" ", text.replace("\u00a0", " ")).strip()


def _num(text: str) -> float:
    """A printed number: ``1,000``, ``2.2``, or a mixed fraction like ``33 1/3``."""
    text = text.replace(",", "").strip()
    if "/" in text:
        whole, _, frac = text.rpartition(" ")
        num, _, den = frac.partition("/")
        return (float(whole) if whole else 0.0) + float(num) / float(den)
    return float(text)


# --------------------------------------------------------------------------------------------
# parse_rate
# --------------------------------------------------------------------------------------------

_NUMBER = r"\d[\d,]*(?:\.\d+)?"

_FREE_RE = re.compile(r"free\b[\s,;:.]*(?P<rest>.*)$", re.IGNORECASE)

# Texts that state the rate by reference; understood, but without an amount.
_REFERENCE_RE = re.compile(
    r"(?:the\s+(?:duty\s+)?rate\s+(?:of\s+duty\s+)?(?:applicable|appli-?\s*cable|provided)\b"
    r"|a\s+duty\b"
    r"|see\b"
    r"|no\s+change\b\.?$"
    r")",
    re.IGNORECASE,
)

# Trailing conditions we keep as text: ", but if consisting ...", "less 0.02¢/kg for each degree".
_NOTE_RE = re.compile(r",\s*but\b|\s+less\s+(?=[\d$])", re.IGNORECASE)

_PLUS_RE = re.compile(r"\s*\+\s*")

_ADVAL_RE = re.compile(
    rf"(?P<num>{_NUMBER}(?:\s+\d+/\d+)?)\s*(?:%|percent\b)\s*(?P<rest>.*)$", re.IGNORECASE
)

_SPECIFIC_RE = re.compile(
    rf"(?P<dollar>\$)?\s*(?P<num>{_NUMBER})\s*(?P<cent>¢)?\s*"
    r"(?:/\s*(?P<unit>.+)|(?P<each>each)\b(?P<each_rest>.*)|for\s+each\s+(?P<unit2>.+))$",
    re.IGNORECASE,
)

# Where a unit ends and its qualifier starts ("kg on drained weight", "t, including ...").
_QUALIFIER_START_RE = re.compile(r",\s*(?=[a-z])|\s+(?=(?:on|over|including)\b)", re.IGNORECASE)

_UNIT_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"([a-z])-\s+([a-z])"), r"\1\2"),       # "thou- sand" -> "thousand"
    (re.compile(r"pf\.\s*liter", re.IGNORECASE), "pf. liter"),
    (re.compile(r"\s*/\s*"), "/"),                      # "line/ gross" -> "line/gross"
    (re.compile(r"^(m[23])(?=[a-z])"), r"\1 "),         # "m2of recording" -> "m2 of recording"
)


def _normalize_unit(unit: str) -> str:
    """Units as printed, with spacing and line-break hyphens made consistent."""
    unit = unit.strip()
    for pattern, repl in _UNIT_FIXES:
        unit = pattern.sub(repl, unit)
    return unit.strip()


def _specific_part(fragment: str) -> SpecificPart | None:
    """``2.2¢/kg on drained weight`` -> SpecificPart; None if the fragment is not one."""
    m = _SPECIFIC_RE.match(fragment)
    if m is None or (m["dollar"] is None) == (m["cent"] is None):
        return None  # an amount needs exactly one of "$" or "¢"
    amount = _num(m["num"]) / (100.0 if m["cent"] else 1.0)
    qualifier: str | None
    if m["each"]:
        unit, qualifier = "each", m["each_rest"].strip(" ,") or None
    else:
        raw = m["unit"] if m["unit"] is not None else m["unit2"]
        q = _QUALIFIER_START_RE.search(raw)
        if q is not None:
            unit, qualifier = raw[: q.start()], raw[q.end():].strip() or None
        else:
            unit, qualifier = raw, None
        unit = _normalize_unit(unit)
    if not unit:
        return None
    return SpecificPart(amount_usd=round(amount, 10), unit=unit, qualifier=qualifier, text=fragment)


def _ad_valorem_part(fragment: str) -> AdValoremPart | None:
    """``4.2% on the case`` -> AdValoremPart; None if the fragment is not one."""
    m = _ADVAL_RE.match(fragment)
    if m is None:
        return None
    rest = m["rest"].strip()
    return AdValoremPart(pct=_num(m["num"]), qualifier=rest or None, text=fragment)


def _unparsed(text: str) -> Rate:
    return Rate(text=text, free=False, ad_valorem_pct=None, specific=(), parsed=False)


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_rate(text: str) -> Rate:
    clean = _clean(text)
    if not clean:
        if text.strip():  # markup only, such as "<u></u>": not a rate
            return _unparsed(text.strip())
        return Rate(text="", free=False, ad_valorem_pct=None, specific=(), parsed=True)

    m = _FREE_RE.match(clean)
    if m is not None:
        return Rate(
            text=text.strip(), free=True, ad_valorem_pct=0.0, specific=(), parsed=True,
            note=m["rest"].strip() or None,
        )
    if _REFERENCE_RE.match(clean):
        return Rate(
            text=text.strip(), free=False, ad_valorem_pct=None, specific=(), parsed=True,
            note=clean,
        )

    body = _TRAILING_JUNK_RE.sub("", clean)
    note: str | None = None
    nm = _NOTE_RE.search(body)
    if nm is not None:
        note = body[nm.start():].strip(" ,") or None
        body = body[: nm.start()]

    ad_valorem: list[AdValoremPart] = []
    specific: list[SpecificPart] = []
    for fragment in _PLUS_RE.split(body):
        part_s = _specific_part(fragment)
        if part_s is not None:
            specific.append(part_s)
            continue
        part_a = _ad_valorem_part(fragment)
        if part_a is None:
            return _unparsed(text.strip())
        ad_valorem.append(part_a)
    return Rate(
        text=text.strip(),
        free=False,
        ad_valorem_pct=ad_valorem[0].pct if ad_valorem else None,
        specific=tuple(specific),
        parsed=True,
        note=note,
        ad_valorem=tuple(ad_valorem),
    )


def parse_rate(text: str) -> Rate:
    """Parse one rate text (General, column 2, or one Special group). Never raises."""
    try:
        return _parse_rate(text or "")
    except (ValueError, ZeroDivisionError, OverflowError):  # pragma: no cover - defensive
        return _unparsed((text or "").strip())


def unparsed_texts(texts: Iterable[str]) -> Counter[str]:
    """Count the texts :func:`parse_rate` does not understand (for coverage reports)."""
    counts: Counter[str] = Counter()
    for text in texts:
        if not parse_rate(text).parsed:
            counts[text] += 1
    return counts


# --------------------------------------------------------------------------------------------
# Special column
# --------------------------------------------------------------------------------------------

_PROGRAM_RE = re.compile(r"[A-Z]{1,2}[+*]?")
_GROUP_RE = re.compile(r"\(([A-Z+*,.\s]+)\)")
_GROUP_SEP_RE = re.compile(r"[\s,.]+")
# A code group opened twice: "(PA (PA)" -> "(PA)".
_DOUBLE_OPEN_RE = re.compile(r"\(([A-Z]{1,2}[+*]?)\s*\(\1\)")


def _programs(inner: str) -> tuple[str, ...] | None:
    """``A+, AU,BH`` -> ("A+", "AU", "BH"); None if the parenthesis is not a code list."""
    codes = tuple(c for c in _GROUP_SEP_RE.split(inner) if c)
    if not codes or not all(_PROGRAM_RE.fullmatch(c) for c in codes):
        return None
    return codes


@lru_cache(maxsize=_CACHE_SIZE)
def _split_special(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    clean = _clean(text)
    if not clean:
        return ()
    clean = _DOUBLE_OPEN_RE.sub(r"(\1)", clean)
    groups: list[tuple[str, tuple[str, ...]]] = []
    pos = 0
    for m in _GROUP_RE.finditer(clean):
        codes = _programs(m[1])
        if codes is None:
            continue
        groups.append((clean[pos: m.start()].strip(), codes))
        pos = m.end()
    tail = clean[pos:].strip()
    if tail:
        groups.append((tail, ()))
    return tuple(groups)


def split_special(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Split a Special column text into ``(rate text, program codes)`` groups.

    Exposed because chapter 99 headings print *additional* duties in the Special column
    (``The duty provided in the applicable subheading + 10% (CA, MX, S)``), which belong to
    :func:`parse_additional` rather than :func:`parse_rate`. A trailing rate without codes
    (``15%``) becomes a group with no programs.
    """
    return _split_special(text or "")


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_special(text: str) -> tuple[SpecialRate, ...]:
    return tuple(
        SpecialRate(rate=parse_rate(rate_text), programs=codes)
        for rate_text, codes in _split_special(text)
    )


def parse_special(text: str) -> tuple[SpecialRate, ...]:
    """Parse the Special column: ``Free (A+,AU,...) 3.2% (JP)`` -> one entry per group."""
    return _parse_special(text or "")


def _base_code(code: str) -> str:
    return code.rstrip("+*")


def special_rate_for(text: str, program: str) -> Rate | None:
    """The Special rate granted under one program code, or None if the code is not listed.

    Matching rule: an exact code match wins (``A+`` finds ``A+``); otherwise the codes are
    compared without their ``+``/``*`` markers, so ``A`` finds ``A+`` or ``A*`` (and ``A*``
    finds ``A``). The markers restrict which beneficiary countries or goods qualify (general
    note 4: ``A*`` excludes named countries for that line, ``A+`` is for least-developed
    beneficiaries only); checking the origin against them is the caller's job.
    """
    want = program.strip().upper()
    groups = parse_special(text)
    for group in groups:
        if want in group.programs:
            return group.rate
    base = _base_code(want)
    for group in groups:
        if any(_base_code(code) == base for code in group.programs):
            return group.rate
    return None


# --------------------------------------------------------------------------------------------
# Chapter 99 additional duties
# --------------------------------------------------------------------------------------------

_ADD_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\binthe\b", re.IGNORECASE), "in the"),
    (re.compile(r"\s*\+\s*"), " + "),
    (re.compile(r"\s+plus\s+", re.IGNORECASE), " + "),
)

_NO_CHANGE_RE = re.compile(r"no\s+change\.?", re.IGNORECASE)

_DUTY_PROVIDED_RE = re.compile(
    r"the\s+duty\s+provided\s+(?:for\s+)?in\s+"
    r"(?:the\s+applicable\s+subheading|subheadings?\s+(?P<subs>[\d.,\s]+(?:\s*(?:or|and)\s+[\d.]+)?))"
    r"\s*\.?\s*(?:\+\s*(?P<add>.+?))?\s*\.?$",
    re.IGNORECASE,
)

_A_DUTY_OF_RE = re.compile(r"a\s+duty\s+of\s+", re.IGNORECASE)
_CONTENT_RE = re.compile(r"\s+(?:up)?on\s+the\s+value\s+of\s+the\s+(?P<basis>.+?)\s+content$",
                         re.IGNORECASE)
_FLOOR_TEXT_RE = re.compile(
    rf"\(?\s*(?P<num>{_NUMBER})\s*%\s+minus\s+the\b.*$", re.IGNORECASE
)
_HEADING_NO_RE = re.compile(r"\d{4}\.\d{2}(?:\.\d{2})?")

# "... with an ad valorem (or ad valorem equivalent) rate of duty under column 1 less than 15
# percent ..." (also "column 1-General or column 1-Special", "column1").
_FLOOR_DESC_RE = re.compile(
    r"rate\s+of\s+duty\s+under\s+column\s*1[^;]{0,80}?\bless\s+than\s+(?P<num>\d+(?:\.\d+)?)"
    r"\s*(?:percent|%)",
    re.IGNORECASE,
)


def floor_pct_from_description(description: str | None) -> float | None:
    """The N of "rate of duty under column 1 less than N percent" in a heading's description.

    The "all-in" deals are printed as two headings: one for goods whose column 1 rate is at
    least N ("The duty provided in the applicable subheading", i.e. nothing more) and one for
    the rest that prints a plain ``N%``; only the description tells the second one apart from
    a rate that simply replaces the duty.
    """
    if not description:
        return None
    m = _FLOOR_DESC_RE.search(_clean(description))
    return float(m["num"]) if m else None


def _amounts(text: str) -> Rate | None:
    """A rate text that states amounts (no Free, no reference), else None."""
    rate = parse_rate(text)
    if not rate.parsed or rate.free or rate.is_reference or rate.is_empty:
        return None
    if rate.ad_valorem_is_partial or rate.note:
        return None
    return rate


def _unknown(text: str) -> AdditionalDuty:
    return AdditionalDuty(text=text, kind="unknown", pct=None, specific=(), content_basis=None,
                          parsed=False)


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_additional(text: str, floor_pct: float | None) -> AdditionalDuty:
    original = text.strip()
    clean = _clean(text)
    for pattern, repl in _ADD_FIXES:
        clean = pattern.sub(repl, clean)
    clean = clean.strip()
    if not clean:
        return _unknown(original)

    def result(kind: AdditionalKind, pct: float | None = None,
               specific: tuple[SpecificPart, ...] = (), basis: str | None = None,
               subs: tuple[str, ...] = ()) -> AdditionalDuty:
        return AdditionalDuty(text=original, kind=kind, pct=pct, specific=specific,
                              content_basis=basis, parsed=True, base_subheadings=subs)

    if _NO_CHANGE_RE.fullmatch(clean):
        return result("no_change")
    if re.fullmatch(r"free\.?", clean, re.IGNORECASE):
        return result("free", pct=0.0)

    m = _DUTY_PROVIDED_RE.match(clean)
    if m is not None:
        subs = tuple(_HEADING_NO_RE.findall(m["subs"])) if m["subs"] else ()
        add = m["add"]
        if add is None:
            return result("exempt", subs=subs)
        add = _A_DUTY_OF_RE.sub("", add).strip().rstrip(".").strip()
        floor = _FLOOR_TEXT_RE.fullmatch(add)
        if floor is not None:
            return result("floor", pct=_num(floor["num"]), subs=subs)
        basis: str | None = None
        cm = _CONTENT_RE.search(add)
        if cm is not None:
            basis = cm["basis"].strip()
            basis = basis if basis.lower().startswith("non-") else basis.lower()
            add = add[: cm.start()]
        amounts = _amounts(add)
        if amounts is None:
            return _unknown(original)
        return result("plus", pct=amounts.ad_valorem_pct, specific=amounts.specific,
                      basis=basis, subs=subs)

    amounts = _amounts(clean.rstrip("."))
    if amounts is None:
        return _unknown(original)
    if (
        floor_pct is not None
        and amounts.ad_valorem_pct == floor_pct
        and not amounts.specific
    ):
        return result("floor", pct=floor_pct)
    return result("absolute", pct=amounts.ad_valorem_pct, specific=amounts.specific)


def parse_additional(text: str, description: str | None = None) -> AdditionalDuty:
    """Parse the rate text of a chapter 99 heading as an additional duty. Never raises.

    Pass the heading's ``description`` to recognise "all-in" floors: a plain ``15%`` on a
    heading limited to goods whose column 1 rate is "less than 15 percent" is
    ``kind="floor"``; without the description it is ``kind="absolute"``.
    """
    try:
        return _parse_additional(text or "", floor_pct_from_description(description))
    except (ValueError, ZeroDivisionError, OverflowError):  # pragma: no cover - defensive
        return _unknown((text or "").strip())
