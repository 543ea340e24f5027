"""The heading registry: every Chapter 99 heading as a reviewed, cited record.

The schedule's heading texts say a lot, but not always who pays and for what in a form a parser
can pin down ("motor vehicles of heading 8701 to 8705", "of Mexico ... smelted in China"). So the
reach of each heading is data, reviewed against its text, its U.S. note and the orders behind it:
``data/registry/*.csv``, one row per heading (or per period when its reach changed). The engine
applies only rows marked ``modelled``; a heading that appears in a revision without a row fails
the build, so a new revision cannot bring in unreviewed headings.

Columns (``docs/REGISTRY.md`` has the full reference):

- ``heading``: ``9903.01.25``.
- ``valid_from`` / ``valid_to``: optional ISO dates, both inclusive (``valid_to`` is the last day
  in force). They narrow the validity the schedule prints; they never extend it.
- ``status``: ``modelled`` (the engine applies it), ``not_evaluated`` (its countries, products or
  condition cannot be established: listed with ``reason`` where it could concern the product),
  ``historical`` (printed for reference, never applicable in the covered period).
- ``layer``: the duty layer (``s232``, ``ieepa_reciprocal``...).
- ``role``: ``impose`` (additional duty or a rate replacing column 1), ``floor`` (raises the
  total to an all-in rate), ``exempt`` (takes goods out of the headings it names). Checked
  against the printed rate text at build time.
- ``countries``: ``*`` (any country) or ISO codes and groups (``EU``, ``USMCA``, ``GN3B``)
  separated by ``;``. ``except_countries``: the same syntax.
- ``products``: ``all``; ``footnote`` (lines whose footnotes cite the heading); ``note:16(c)(iii)``
  (a U.S. note's product list); ``code:8703`` (an HTS prefix); ``layer:s232`` (articles subject
  to an imposing heading of that layer); ``none``. Terms separated by ``;`` add up.
  ``except_products``: ``code:`` and ``note:`` terms taken out.
- ``condition``: a fact beyond product and origin (``usmca``, ``in_transit``, ``donation``...).
- ``citation``: where each field comes from (required). ``reason``: plain words (required
  unless modelled).
- optional ``exempts``: for an exempting record, headings (``9903.74.08`` or ranges
  ``9903.85.02-9903.85.09``) it takes goods out of when the note, not their text, says so.
- optional ``basis``: ``steel``, ``aluminum``, ``copper``, ``metal`` or ``non-U.S.``: the part
  of the value an imposing heading taxes when its rate text does not say.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, get_args

from tariffstack.errors import DataError
from tariffstack.law import countries
from tariffstack.law.events import optional_date
from tariffstack.law.validity import Validity
from tariffstack.models import LAYER_ORDER
from tariffstack.sources.noterefs import note_ref

Status = Literal["modelled", "not_evaluated", "historical"]
Role = Literal["impose", "floor", "exempt"]
COLUMNS = ("heading", "valid_from", "valid_to", "status", "layer", "role", "countries",
           "except_countries", "products", "except_products", "condition", "citation", "reason")
# optional, after the others: headings an exemption takes goods out of although their own text
# does not name it (the note says so), and the part of the value an imposing heading taxes
OPTIONAL = ("exempts", "basis")
NOT_LAW = frozenset({"crosscheck_verdicts.csv"})
BASES = frozenset({"steel", "aluminum", "copper", "metal", "non-U.S."})
RANGE_RE = re.compile(r"^9903\.\d\d\.\d\d(?:-9903\.\d\d\.\d\d)?$")
# facts the engine reads from the inputs; the others are never met unless a later input says so
EVALUATED_CONDITIONS = frozenset({"donation", "informational", "usmca", "us_content", "usmca_us_content", "in_transit",
                                  "us_melt"})
OTHER_CONDITIONS = frozenset({
    "transshipment", "ftz", "certified_end_use", "smelt_country", "melt_pour", "exclusion_granted",
    "quota", "chapter98", "personal_use", "other",
})
HEADING_RE = re.compile(r"^9903\.\d\d\.\d\d$")
TERM_RE = re.compile(r"^(all|footnote|none|note:\S.*|code:[\d.]{2,13}|layer:[a-z0-9_]+)$")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Record:
    """One reviewed reading of a heading over a period (``last`` inclusive)."""

    heading: str
    first: date | None
    last: date | None
    status: Status
    layer: str
    role: Role
    countries: frozenset[str] | None          # None: any country
    except_countries: frozenset[str]
    products: tuple[str, ...]
    except_products: tuple[str, ...]
    condition: str | None
    citation: str
    reason: str
    where: str                                # file:line, for messages
    exempts: tuple[tuple[str, str], ...] = ()  # (first, last) heading ranges this one exempts from
    basis: str | None = None                  # part of the value taxed, when the rate text omits it

    @property
    def validity(self) -> Validity:
        """The record's period: the CSV's ``first`` and ``last`` days in force, read once."""
        return Validity.from_last(self.first, self.last)

    @property
    def end(self) -> date | None:
        """First day no longer in force (exclusive), the package's convention."""
        return self.validity.end

    def covers(self, start: date, end: date | None) -> tuple[date, date | None] | None:
        """The part of [start, end) inside this record's period, or None."""
        span = Validity(start, end).intersect(self.validity)
        if span is None:
            return None
        assert span.start is not None
        return span.start, span.end

    def codes(self, terms: Iterable[str]) -> set[str]:
        """Digit prefixes named by ``code:`` terms."""
        return {t[5:].replace(".", "") for t in terms if t.startswith("code:")}

    @staticmethod
    def notes(terms: Iterable[str]) -> list[str]:
        return [t[5:] for t in terms if t.startswith("note:")]


def _countries(spec: str, where: str, field_name: str) -> frozenset[str] | None:
    if not spec.strip():
        return frozenset()
    return countries.parse_spec(spec, f"{where}: {field_name}")


def _date(text: str, where: str, field_name: str) -> date | None:
    return optional_date(text, f"{where}: {field_name}: bad date")


def _terms(spec: str, where: str, field_name: str) -> tuple[str, ...]:
    terms = tuple(t.strip() for t in spec.split(";") if t.strip())
    for t in terms:
        if not TERM_RE.match(t):
            raise DataError(f"{where}: {field_name}: bad term {t!r} (all, footnote, none, note:REF, "
                            "code:PREFIX or layer:NAME)")
        if t.startswith("note:") and ((ref := note_ref(t[5:])) is None or not ref.exact or str(ref) != t[5:]):
            want = f" (write note:{ref})" if ref is not None and ref.exact else ""
            raise DataError(f"{where}: {field_name}: {t!r} is not one note subdivision in canonical form{want}")
        if t.startswith("layer:") and t[6:] not in LAYER_ORDER:
            raise DataError(f"{where}: {field_name}: unknown layer in {t!r}")
        if t.startswith("code:") and len(t[5:].replace(".", "")) not in (2, 4, 6, 8, 10):
            raise DataError(f"{where}: {field_name}: {t!r} is not a 2-10 digit HTS prefix")
    return terms


def _check_fields(v: Mapping[str, str], where: str) -> str | None:
    """The plain fields of a row checked one by one; the row's condition (None: none)."""
    if not HEADING_RE.match(v["heading"]):
        raise DataError(f"{where}: heading: {v['heading']!r} is not a 9903.xx.xx heading")
    if v["status"] not in get_args(Status):
        raise DataError(f"{where}: status: {v['status']!r} (modelled, not_evaluated or historical)")
    if v["layer"] not in LAYER_ORDER or v["layer"] == "mfn":
        raise DataError(f"{where}: layer: unknown layer {v['layer']!r}")
    if v["role"] not in get_args(Role):
        raise DataError(f"{where}: role: {v['role']!r} (impose, floor or exempt)")
    if not v["citation"]:
        raise DataError(f"{where}: citation: missing (every record cites its source)")
    if v["status"] != "modelled" and not v["reason"]:
        raise DataError(f"{where}: reason: a {v['status']} record says why")
    cond = v["condition"] or None
    if cond is not None and cond not in EVALUATED_CONDITIONS | OTHER_CONDITIONS:
        raise DataError(f"{where}: condition: unknown condition {cond!r}")
    if v["status"] == "modelled" and v["role"] != "exempt" and cond in OTHER_CONDITIONS:
        raise DataError(f"{where}: condition: {cond!r} is not an input, so an imposing heading that "
                        "needs it cannot be modelled (mark it not_evaluated)")
    return cond


def _exempts(text: str, where: str) -> list[tuple[str, str]]:
    """The ``exempts`` field: ``;``-separated headings or heading ranges, as (first, last)."""
    exempts: list[tuple[str, str]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        if not RANGE_RE.match(part):
            raise DataError(f"{where}: exempts: {part!r} is not a heading or heading range")
        lo, _, hi = part.partition("-")
        exempts.append((lo, hi or lo))
    return exempts


def parse_row(row: Mapping[str, str | None], where: str) -> Record:
    """One CSV row as a record, or a DataError naming the file, line and field."""
    extra = [k for k in row if k not in COLUMNS and k not in OPTIONAL]
    if extra:
        raise DataError(f"{where}: unknown field {extra[0]!r} (fields: {', '.join(COLUMNS + OPTIONAL)})")
    missing = [k for k in COLUMNS if row.get(k) is None]
    if missing:
        raise DataError(f"{where}: missing field {missing[0]!r}")
    v = {k: (row[k] or "").strip() for k in COLUMNS}
    cond = _check_fields(v, where)
    products = _terms(v["products"], where, "products")
    if not products:
        raise DataError(f"{where}: products: missing (use 'none' when they cannot be established)")
    if v["status"] == "modelled" and "none" in products:
        raise DataError(f"{where}: products: a modelled record needs a product scope, not 'none'")
    except_products = _terms(v["except_products"], where, "except_products")
    if any(not (t.startswith("code:") or t.startswith("note:")) for t in except_products):
        raise DataError(f"{where}: except_products: only code: and note: terms")
    if not v["countries"]:
        raise DataError(f"{where}: countries: missing ('*' for any country)")
    exempts = _exempts(row.get("exempts") or "", where)
    if exempts and v["role"] != "exempt":
        raise DataError(f"{where}: exempts: only an exempting record takes goods out of other headings")
    basis = (row.get("basis") or "").strip() or None
    if basis is not None and basis not in BASES:
        raise DataError(f"{where}: basis: {basis!r} (one of {', '.join(sorted(BASES))})")
    first = _date(v["valid_from"], where, "valid_from")
    last = _date(v["valid_to"], where, "valid_to")
    if first and last and last < first:
        raise DataError(f"{where}: valid_to {last} is before valid_from {first}")
    return Record(
        heading=v["heading"], first=first, last=last, status=v["status"],  # type: ignore[arg-type]
        layer=v["layer"], role=v["role"],  # type: ignore[arg-type]
        countries=_countries(v["countries"], where, "countries"),
        except_countries=_countries(v["except_countries"], where, "except_countries") or frozenset()
        if v["except_countries"] else frozenset(),
        products=products, except_products=except_products, condition=cond,
        citation=v["citation"], reason=v["reason"], where=where, exempts=tuple(exempts), basis=basis,
    )


class Registry:
    """All records, by heading, with overlapping periods rejected."""

    def __init__(self, records: Iterable[Record]) -> None:
        self.by_heading: dict[str, list[Record]] = {}
        for r in records:
            self.by_heading.setdefault(r.heading, []).append(r)
        for h, rs in self.by_heading.items():
            rs.sort(key=lambda r: r.first or date.min)
            for a, b in zip(rs, rs[1:], strict=False):
                if a.last is None or b.first is None or b.first <= a.last:
                    raise DataError(f"{b.where}: {h}: period overlaps the record at {a.where}")

    def __contains__(self, heading: object) -> bool:
        return heading in self.by_heading

    def get(self, heading: str) -> list[Record]:
        return self.by_heading.get(heading, [])

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_heading.values())


def read_file(path: Path | str, text: str | None = None) -> list[Record]:
    """Records of one registry CSV (``text`` overrides reading the file)."""
    name = Path(str(path)).name
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    header = tuple(rows.fieldnames or ())
    if header[: len(COLUMNS)] != COLUMNS or any(k not in OPTIONAL for k in header[len(COLUMNS):]):
        raise DataError(f"{name}:1: header must be {','.join(COLUMNS)} (then optionally {', '.join(OPTIONAL)})")
    out = []
    for row in rows:
        if None in row:
            raise DataError(f"{name}:{rows.line_num}: more fields than the header has")
        out.append(parse_row(row, f"{name}:{rows.line_num}"))
    return out


def csv_text(rows: Iterable[Mapping[str, str]], columns: Iterable[str] = COLUMNS) -> str:
    """Rows as CSV text with a header, one line each (the registry's and the ledger's format)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def registry_files() -> list[tuple[str, str]]:
    """(name, text) of every packaged registry file, in name order."""
    folder = resources.files("tariffstack").joinpath("data/registry")
    return sorted((p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".csv"))


@cache
def load_registry() -> Registry:
    """The packaged registry, validated (a DataError names the file and line of any bad row)."""
    return Registry(r for name, text in registry_files() for r in read_file(name, text))


def law_fingerprint() -> str:
    """A checksum of every packaged legal data file: a compiled model depends on all of them."""
    import hashlib

    h = hashlib.sha256()
    data = resources.files("tariffstack").joinpath("data")
    # the cross-check's verdicts describe the peer, not the law: editing them rebuilds nothing
    files = [(p.name, p.read_text(encoding="utf-8")) for p in data.iterdir()
             if p.name.endswith(".csv") and p.name not in NOT_LAW]
    for name, text in sorted(files) + [(f"registry/{n}", t) for n, t in registry_files()]:
        h.update(name.encode())
        h.update(text.encode())
    return h.hexdigest()[:16]
