"""China's side of the tariff war: its 2025 tariff notices and WTO applied rates on U.S. goods.

News reports pair U.S. rates with China's ("Beijing responded with 125%"). The U.S. schedule cannot
check those, so this module reads the compiled notice table and the WTO Tariff & Trade Data export
in ``shared/china`` (see its SOURCES.md) and answers three questions: the across-the-board
additional tariff on U.S. goods on a day (derived from the notice rows, not hard-coded), the WTO
applied rate of an HS6 line on a day, and what is known about China's unpublished April 2025
exemptions. Nothing here is an official government file, and results say so.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tariffstack.errors import BadInput, DataError, DateOutOfRange
from tariffstack.sources.schedule import digits

ANNOUNCEMENTS = "announcements_2025.csv"
WTO_FILE = "C156_C840.csv"
SOURCES_FILE = "SOURCES.md"
ANNEX_FILE = "transcribed_annex_lines.csv"

_ANN_COLUMNS = (
    "number", "published", "effective_beijing_time", "action", "rate", "scope", "in_transit_rule",
    "later_status", "number_confidence", "sources",
)
_WTO_COLUMNS = ("year_dt", "hs_code", "best_avlbl", "imports")
_ANNEX_COLUMNS = ("announcement", "annex", "additional_rate_pct", "effective_date", "hs8_as_published",
                  "hs8_normalized", "description_as_published", "category", "source_url", "note")
_ANNEX_RATE_RE = re.compile(r"\+\s*(\d+(?:\.\d+)?)\s*%\s*\(\s*Annex\s*(\d+)\s*:?\s*([^)]*)\)")
_NUMBER_RE = re.compile(r"第\s*(\d+)\s*号")
_ARROW_RE = re.compile(r"->\s*(\d+(?:\.\d+)?)\s*%")
_RETAINED_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*retained")
_PLUS_RE = re.compile(r"^\s*\+\s*(\d+(?:\.\d+)?)\s*%\s*$")
_ALL_GOODS_RE = re.compile(r"^\s*all\b", re.I)
_URL_RE = re.compile(r"https?://[^\s;]+")

# What SOURCES.md says about the exemption list, used when the file is absent (kept in step with
# its "Not found" section).
_EXEMPTION_FALLBACK = (
    "The April 2025 exemption (\"whitelist\") of U.S. goods from the 125% tariff: never published "
    "officially. Press (Reuters 2025-04-25/30, Bloomberg 2025-05-02) reported about 131 items, "
    "about $40 bn / a quarter of 2024 imports from the U.S.: some pharmaceuticals, microchips, "
    "aircraft engines/parts, ethane."
)
PRESS_SOURCES = ("Reuters 2025-04-25", "Reuters 2025-04-30", "Bloomberg 2025-05-02")


@dataclass(frozen=True, slots=True)
class Notice:
    """One Customs Tariff Commission (税委会) notice row, as compiled in announcements_2025.csv."""

    number: str                     # as printed, e.g. "税委会公告2025年第6号"
    short: str                      # "No.6", "No.8?" when the number is a guess
    published: dt.date
    effective: dt.datetime          # Beijing time, naive
    action: str
    rate: str
    scope: str
    in_transit_rule: str
    later_status: str
    number_confidence: str
    sources: tuple[str, ...]
    general_pct: float | None       # level of the all-goods additional tariff this notice sets

    @property
    def label(self) -> str:
        """Short, readable citation, e.g. ``No.6 (税委会公告2025年第6号), effective 2025-04-12``."""
        when = self.effective.strftime("%Y-%m-%d %H:%M") if self.effective.time() != dt.time(0) \
            else self.effective.date().isoformat()
        return f"{self.short} ({self.number}), effective {when} Beijing time"


@dataclass(frozen=True, slots=True)
class AppliedRate:
    """WTO applied ad valorem rate on U.S. goods for one HS6 on the nearest data date on or before."""

    hs6: str
    requested: dt.date
    data_date: dt.date
    best_avlbl_pct: float | None    # None where the export says NA
    imports: float | None


@dataclass(frozen=True, slots=True)
class ExemptionFacts:
    """What is and is not known about China's April 2025 exemptions from its 125% tariff."""

    officially_published: bool
    summary: str
    press_sources: tuple[str, ...]
    reported_categories: tuple[str, ...]
    unverified_hs8: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class AnnexLine:
    """One 8-digit tariff line of a notice's product list, as transcribed (transcribed_annex_lines.csv)."""

    notice: str                     # printed number of the notice
    annex: int
    rate_pct: float
    effective: dt.date
    hs8: str                        # zero-padded 8 digits
    hs8_as_published: str
    description: str
    category: str
    source_url: str
    note: str


@dataclass(frozen=True, slots=True)
class Annex:
    """A product list (annex) of a notice: its rate, what it covers, and how much of it is transcribed.

    ``transcription`` is "complete" when the transcription says the source printed every line,
    "partial" when it says otherwise or says nothing, "missing" when no line is transcribed.
    """

    notice: str
    annex: int
    rate_pct: float
    summary: str                    # the notice row's words for the annex ("coal, LNG; 8 tariff lines")
    transcription: str
    lines: tuple[AnnexLine, ...]
    note: str                       # what the transcription says about its completeness


def _read_csv(path: Path, required: Iterable[str]) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataError(f"China data file not found: {path}")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(f"{path.name}: missing columns {', '.join(missing)}")
            return list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path.name}: unreadable CSV ({exc})") from exc


def _parse_day(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError as exc:
        raise DataError(f"{where}: bad date {text!r}") from exc


def _parse_effective(text: str, where: str) -> dt.datetime:
    t = text.strip()
    day = _parse_day(t, where)
    m = re.search(r"(\d{1,2}):(\d{2})", t[10:])
    return dt.datetime.combine(day, dt.time(int(m.group(1)), int(m.group(2))) if m else dt.time(0))


def _short_number(number: str, confidence: str) -> str:
    m = _NUMBER_RE.search(number)
    if not m:
        return number
    guess = "?" if ("UNVERIFIED" in confidence or "possibly" in number or "not found" in number) else ""
    return f"No.{m.group(1)}{guess}"


def general_level(rate: str, scope: str) -> float | None:
    """Level of the across-the-board additional tariff a notice sets, or None if not such a notice.

    Why parse: the level is read from the compiled rate text ("+34%", "34% -> 84%", "24% ...
    suspended; 10% retained") so that a corrected CSV corrects the answer.
    """
    if not _ALL_GOODS_RE.match(scope):
        return None
    m = _ARROW_RE.search(rate)
    if m:
        return float(m.group(1))
    m = _RETAINED_RE.search(rate)
    if m:
        return float(m.group(1))
    m = _PLUS_RE.match(rate)
    if m:
        return float(m.group(1))
    return None


def _norm_hs6(code: str) -> str:
    d = digits(str(code))
    if not d.isdigit() or len(d) < 6:
        raise BadInput(f"HS6 code must be at least 6 digits (e.g. 300490 or 3004.90), got {code!r}")
    return d[:6]


def _float_or_none(text: str) -> float | None:
    t = (text or "").strip()
    if not t or t.upper() == "NA":
        return None
    try:
        return float(t)
    except ValueError:
        return None


def _count_ok(summary: str, found: int) -> bool:
    """False when the notice row gives a line count ("29 lines") that the transcription does not reach."""
    m = re.search(r"(\d+)\s+(?:tariff\s+)?lines", summary)
    return m is None or int(m.group(1)) == found


def _annex_lines(path: Path) -> tuple[AnnexLine, ...]:
    out = []
    for i, r in enumerate(_read_csv(path, _ANNEX_COLUMNS), start=2):
        where = f"{ANNEX_FILE} line {i}"
        hs8 = r["hs8_normalized"].strip()
        if not (hs8.isdigit() and len(hs8) == 8):
            raise DataError(f"{where}: hs8_normalized {hs8!r} is not 8 digits")
        try:
            annex, rate = int(r["annex"]), float(r["additional_rate_pct"])
        except ValueError as exc:
            raise DataError(f"{where}: bad annex or rate ({exc})") from exc
        out.append(AnnexLine(
            notice=r["announcement"].strip(), annex=annex, rate_pct=rate,
            effective=_parse_day(r["effective_date"], where), hs8=hs8,
            hs8_as_published=r["hs8_as_published"].strip(),
            description=r["description_as_published"].strip(), category=r["category"].strip(),
            source_url=r["source_url"].strip(), note=r["note"].strip(),
        ))
    return tuple(out)


def _exemption_paragraph(sources_md: Path) -> str | None:
    if not sources_md.is_file():
        return None
    text = sources_md.read_text(encoding="utf-8", errors="replace")
    m = re.search(r"^- The April 2025 exemption.*?(?=^\s*-\s|\Z)", text, re.M | re.S)
    return " ".join(m.group(0).lstrip("- ").split()) if m else None


class ChinaTariffs:
    """China's 2025 notices plus WTO applied rates; load once with :meth:`load`."""

    def __init__(self, notices: tuple[Notice, ...], wto_path: Path | None,
                 exemptions: ExemptionFacts, annex_lines: tuple[AnnexLine, ...] = ()) -> None:
        self.notices = notices
        self.exemptions = exemptions
        self.annex_lines = annex_lines
        self._wto_path = wto_path
        self._wto: dict[str, dict[dt.date, tuple[float | None, float | None]]] | None = None
        self._wto_dates: tuple[dt.date, ...] = ()

    @classmethod
    def load(cls, shared_china_dir: Path | str) -> ChinaTariffs:
        """Read the notice table now; the 4 MB WTO export is read on first use."""
        root = Path(shared_china_dir)
        if not root.is_dir():
            raise DataError(f"China data folder not found: {root}")
        rows = _read_csv(root / ANNOUNCEMENTS, _ANN_COLUMNS)
        notices: list[Notice] = []
        for i, r in enumerate(rows, start=2):
            where = f"{ANNOUNCEMENTS} line {i}"
            notices.append(Notice(
                number=r["number"].strip(),
                short=_short_number(r["number"], r["number_confidence"]),
                published=_parse_day(r["published"], where),
                effective=_parse_effective(r["effective_beijing_time"], where),
                action=r["action"].strip(),
                rate=r["rate"].strip(),
                scope=r["scope"].strip(),
                in_transit_rule=r["in_transit_rule"].strip(),
                later_status=r["later_status"].strip(),
                number_confidence=r["number_confidence"].strip(),
                sources=tuple(_URL_RE.findall(r["sources"])),
                general_pct=general_level(r["rate"], r["scope"]),
            ))
        notices.sort(key=lambda n: (n.effective, n.published))
        para = _exemption_paragraph(root / SOURCES_FILE)
        summary = para or _EXEMPTION_FALLBACK
        low = summary.lower()
        facts = ExemptionFacts(
            officially_published=not ("never published" in low or "not published" in low),
            summary=summary,
            press_sources=PRESS_SOURCES,
            reported_categories=("pharmaceuticals", "microchips", "aircraft engines/parts", "ethane"),
            unverified_hs8=tuple(re.findall(r"\b(\d{8})\b", summary)),
            source=f"china/{SOURCES_FILE}, section 'Not found'" if para else "press reports (built in)",
        )
        wto = root / WTO_FILE
        annex = root / ANNEX_FILE
        lines = _annex_lines(annex) if annex.is_file() else ()
        return cls(tuple(notices), wto if wto.is_file() else None, facts, lines)

    # ---- the across-the-board retaliation ---------------------------------------------------
    def general_notices(self) -> tuple[Notice, ...]:
        """Notices that set the all-goods additional tariff, in the order they took effect."""
        return tuple(n for n in self.notices if n.general_pct is not None)

    def general_additional_pct(self, on: dt.date) -> tuple[float, tuple[str, ...]]:
        """The all-goods additional tariff on U.S. goods on a Beijing-time day, and its notices.

        A notice effective at 12:01 on a day counts for that day. Returns (0.0, ()) before the
        first such notice. A ``datetime`` is compared to the minute.
        """
        if not isinstance(on, dt.date):
            raise BadInput(f"date expected, got {on!r}")
        level = 0.0
        chain: list[str] = []
        for n in self.general_notices():
            started = n.effective <= on if isinstance(on, dt.datetime) else n.effective.date() <= on
            if not started:
                break
            level = n.general_pct if n.general_pct is not None else level
            chain.append(n.number)
        return level, tuple(chain)

    def general_history(self) -> list[tuple[dt.date, float, Notice]]:
        """Each change of the all-goods level: (first day, level, notice), deduplicated by day."""
        out: list[tuple[dt.date, float, Notice]] = []
        for n in self.general_notices():
            assert n.general_pct is not None
            day = n.effective.date()
            if out and out[-1][0] == day:
                out[-1] = (day, n.general_pct, n)
            else:
                out.append((day, n.general_pct, n))
        return out

    def notice(self, number: str) -> Notice:
        """A notice by its printed number or short form ("No.6")."""
        for n in self.notices:
            if number in (n.number, n.short, n.short.rstrip("?")):
                return n
        raise BadInput(f"unknown China tariff notice {number!r}")

    # ---- product lists (annexes) -------------------------------------------------------------
    def annexes(self, notice: Notice) -> tuple[Annex, ...]:
        """The product lists a notice imposes, with their transcribed lines (none for all-goods notices).

        Why from the rate text: the notice row says "+15% (Annex 1: coal, LNG; 8 tariff lines)",
        so an annex that nobody transcribed (No.1 Annex 2) is still known, with its rate.
        """
        out = []
        for m in _ANNEX_RATE_RE.finditer(notice.rate):
            rate, k, summary = float(m.group(1)), int(m.group(2)), m.group(3).strip()
            lines = tuple(x for x in self.annex_lines if x.notice == notice.number and x.annex == k)
            notes = " ".join(dict.fromkeys(x.note for x in lines if x.note and f"Annex {k}" in x.note))
            low = notes.lower()
            if not lines:
                state = "missing"
            elif f"annex {k} complete" in low and "incomplete" not in low and _count_ok(summary, len(lines)):
                state = "complete"
            else:
                state = "partial"
            out.append(Annex(notice.number, k, rate, summary, state, lines, notes))
        return tuple(out)

    def list_notices(self) -> tuple[Notice, ...]:
        """Notices that impose product lists (No.1, No.2), in the order they took effect."""
        return tuple(n for n in self.notices if n.general_pct is None and self.annexes(n))

    def wto_table(self) -> dict[str, dict[dt.date, tuple[float | None, float | None]]]:
        """Every HS6 -> {date: (best available rate %, imports)} of the WTO export (read once; do not modify)."""
        return self._load_wto()

    # ---- WTO applied rates --------------------------------------------------------------------
    def _load_wto(self) -> dict[str, dict[dt.date, tuple[float | None, float | None]]]:
        if self._wto is not None:
            return self._wto
        if self._wto_path is None:
            raise DataError(f"WTO applied-rate file {WTO_FILE} not found in the China data folder")
        data: dict[str, dict[dt.date, tuple[float | None, float | None]]] = {}
        dates: set[dt.date] = set()
        for i, r in enumerate(_read_csv(self._wto_path, _WTO_COLUMNS), start=2):
            day = _parse_day(r["year_dt"], f"{WTO_FILE} line {i}")
            code = r["hs_code"].strip().zfill(6)
            data.setdefault(code, {})[day] = (_float_or_none(r["best_avlbl"]), _float_or_none(r["imports"]))
            dates.add(day)
        self._wto, self._wto_dates = data, tuple(sorted(dates))
        return data

    @property
    def wto_dates(self) -> tuple[dt.date, ...]:
        """The dates the WTO export has rates for."""
        self._load_wto()
        return self._wto_dates

    def wto_date_on(self, on: dt.date) -> dt.date:
        """Nearest WTO data date on or before ``on``."""
        dates = self.wto_dates
        before = [d for d in dates if d <= on]
        if not before:
            raise DateOutOfRange(
                f"no WTO applied-rate data on or before {on.isoformat()}: data starts {dates[0].isoformat()}"
            )
        return before[-1]

    def applied_rate(self, hs6: str, on: dt.date) -> AppliedRate:
        """WTO "best available" applied rate (%) on U.S. goods for an HS6, nearest date on/before."""
        code = _norm_hs6(hs6)
        data = self._load_wto()
        rows = data.get(code)
        if rows is None:
            raise BadInput(f"HS6 {code} is not in the WTO applied-rate data for China on U.S. goods")
        day = self.wto_date_on(on)
        best, imports = rows.get(day, (None, None))
        return AppliedRate(code, on, day, best, imports)

    def hs6_codes(self) -> tuple[str, ...]:
        """All HS6 codes in the WTO export, sorted."""
        return tuple(sorted(self._load_wto()))

    def count_rises(self, delta_pct: float, before: dt.date, after: dt.date,
                    tol: float = 0.5) -> tuple[int, int]:
        """How many HS6 lines rose by ``delta_pct`` (± tol) between two days, out of those with data.

        Why: an across-the-board notice should show up as the same rise on almost every line.
        """
        data = self._load_wto()
        d0, d1 = self.wto_date_on(before), self.wto_date_on(after)
        hits = total = 0
        for rows in data.values():
            a, b = rows.get(d0, (None, None))[0], rows.get(d1, (None, None))[0]
            if a is None or b is None:
                continue
            total += 1
            if abs((b - a) - delta_pct) <= tol:
                hits += 1
        return hits, total

    def base_date_for_general(self) -> dt.date | None:
        """Last WTO date before the first all-goods notice took effect (the pre-retaliation base)."""
        gen = self.general_notices()
        if not gen:
            return None
        first = gen[0].effective.date()
        before = [d for d in self.wto_dates if d < first]
        return before[-1] if before else None
