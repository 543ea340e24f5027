"""The peer (Yale Budget Lab tariff-rate-tracker) and its files: its revision names and
calendar, its origins and statutory columns, and reading one export into DuckDB."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from tariffstack.errors import BadInput, DataError

PEER_PREFIX = "yale_"
PEER_SUFFIX = ".csv.gz"

# The peer's origins (Census Schedule C codes), as its README lists them.
PEER_CENSUS = ("5700", "1220", "2010", "4280", "5880", "5520", "5330", "3510", "4120", "4419", "5800", "5820")
# Origins whose IEEPA country duties (EO 14323 Brazil, EO 14329 India; our ieepa_other) the peer
# books in its reciprocal column.
FOLDED_INTO_RECIPROCAL = ("BR", "IN")

# peer statutory column -> our layer; ieepa_other has no peer column (see FOLDED_INTO_RECIPROCAL)
PEER_LAYERS: tuple[tuple[str, str], ...] = (
    ("statutory_base_rate", "mfn"),
    ("statutory_rate_301", "s301"),
    ("statutory_rate_232", "s232"),
    ("statutory_rate_ieepa_fent", "ieepa_fentanyl"),
    ("statutory_rate_ieepa_recip", "ieepa_reciprocal"),
    ("statutory_rate_s122", "s122"),
    ("statutory_rate_section_201", "s201"),
    ("statutory_rate_other", "other"),
)
LAYERS: tuple[str, ...] = ("mfn", "s301", "s232", "ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other", "s122",
                           "s201", "other")
REQUIRED_COLUMNS: tuple[str, ...] = ("hts10", "country", "revision", "effective_date",
                                     *(c for c, _ in PEER_LAYERS))
# the peer's text columns; every other column is read as DOUBLE (some hold only integers in
# their first thousands of rows, which would make a sniffer type them BIGINT)
TEXT_COLUMNS = frozenset({"hts10", "country", "revision", "effective_date", "valid_from", "valid_until",
                          "deriv_type", "s232_annex", "usmca_eligible", "is_copper_heading"})

# The peer's own revision calendar: the date from which it applies each revision's rates (its
# config/revision_dates.csv, effective_date column, at the snapshot the exports were made with,
# Budget-Lab-Yale/tariff-rate-tracker 8315fffd). A revision's period ends the day before the next
# one's date; the exports carry the first date only (valid_from/valid_until are empty).
PEER_CALENDAR: tuple[tuple[str, str], ...] = (
    ("basic", "2025-01-01"), ("rev_1", "2025-01-27"), ("rev_2", "2025-02-01"), ("rev_3", "2025-02-04"),
    ("rev_4", "2025-03-04"), ("rev_5", "2025-03-05"), ("rev_6", "2025-03-12"), ("rev_7", "2025-04-02"),
    ("rev_8", "2025-04-03"), ("rev_9", "2025-04-05"), ("rev_10", "2025-04-09"), ("rev_11", "2025-04-11"),
    ("rev_12", "2025-04-14"), ("rev_13", "2025-04-22"), ("rev_14", "2025-05-02"), ("rev_15", "2025-05-14"),
    ("rev_16", "2025-06-06"), ("rev_17", "2025-07-01"), ("rev_18", "2025-08-07"), ("rev_19", "2025-08-12"),
    ("rev_20", "2025-08-20"), ("rev_21", "2025-08-28"), ("rev_22", "2025-09-03"), ("rev_23", "2025-09-12"),
    ("rev_24", "2025-09-19"), ("rev_25", "2025-09-26"), ("rev_26", "2025-10-06"), ("rev_27", "2025-10-15"),
    ("rev_28", "2025-10-22"), ("rev_29", "2025-10-31"), ("rev_30", "2025-11-05"), ("rev_31", "2025-11-12"),
    ("rev_32", "2025-11-15"), ("2026_basic", "2026-01-01"), ("2026_rev_1", "2026-01-16"),
    ("2026_rev_2", "2026-01-30"), ("2026_rev_3", "2026-02-12"), ("2026_rev_4", "2026-02-24"),
    ("2026_rev_5", "2026-04-06"), ("2026_rev_6", "2026-04-23"), ("2026_rev_7", "2026-04-29"),
)
CALENDAR_SOURCE = "Budget-Lab-Yale/tariff-rate-tracker config/revision_dates.csv at 8315fffd"


_REV_RE = re.compile(r"^(?:yale_)?(?:(20\d\d)[ _])?(basic|rev[ _]?(\d+))$")


def peer_name(text: str) -> str:
    """The peer's name for a revision ("rev_17", "2026_rev_4") from either spelling."""
    m = _REV_RE.match(text.strip().lower())
    if m is None:
        raise BadInput(f"bad revision name {text!r}: give e.g. rev_17, 2026_rev_4 or '2025 rev 17'")
    year, kind, num = m.group(1), m.group(2), m.group(3)
    base = "basic" if kind == "basic" else f"rev_{int(num)}"
    return base if year in (None, "2025") else f"{year}_{base}"


def our_name(peer: str) -> str:
    """Our revision name ("2025 rev 17") for a peer revision name ("rev_17")."""
    name = peer_name(peer)
    year, _, rest = name.partition("_") if name.startswith("20") else ("2025", "", name)
    return f"{year} {rest.replace('_', ' ')}"


def peer_files(peer_dir: Path) -> dict[str, Path]:
    """Peer revision name -> its export file, in the peer's calendar order."""
    if not peer_dir.is_dir():
        raise DataError(f"no peer folder {peer_dir}: give --peer-dir (the folder of yale_*.csv.gz)")
    found = {}
    for p in peer_dir.glob(f"{PEER_PREFIX}*{PEER_SUFFIX}"):
        try:
            found[peer_name(p.name[: -len(PEER_SUFFIX)])] = p
        except BadInput:
            continue
    if not found:
        raise DataError(f"no peer files ({PEER_PREFIX}*{PEER_SUFFIX}) in {peer_dir}")
    order = {name: k for k, (name, _) in enumerate(PEER_CALENDAR)}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def peer_window(peer: str, first: date) -> tuple[date, date | None]:
    """The days the peer applies a revision's rates: its date to the day before the next one's."""
    dates = [(n, date.fromisoformat(d)) for n, d in PEER_CALENDAR]
    nxt = next((d for _, d in dates if d > first), None)
    return first, (nxt - timedelta(days=1)) if nxt else None


def _read_peer(db: duckdb.DuckDBPyConnection, path: Path, table: str) -> tuple[str, date]:
    """Load one export into ``table`` (numeric columns as DOUBLE); (revision, its first date)."""
    src = str(path).replace("'", "''")
    try:
        header = db.query(f"SELECT * FROM read_csv('{src}', header=true, all_varchar=true) LIMIT 0").columns
    except duckdb.Error as exc:
        raise DataError(f"cannot read peer file {path}: {_first_line(exc)}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DataError(f"peer file {path} lacks column(s): {', '.join(missing)}")
    types = ", ".join(f"'{c}': '{'VARCHAR' if c in TEXT_COLUMNS else 'DOUBLE'}'" for c in header)
    try:
        db.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT * FROM read_csv('{src}', header=true, types={{{types}}}, nullstr=['', 'NA'])""")
        row = _one(db, f"""SELECT count(DISTINCT revision), min(revision), count(DISTINCT effective_date),
                                  min(effective_date), count(*) FILTER (WHERE NOT regexp_full_match(hts10, '[0-9]{{10}}')),
                                  count(*) FROM {table}""")
    except duckdb.Error as exc:
        raise DataError(f"cannot read peer file {path}: {_first_line(exc)}") from exc
    assert row is not None
    n_rev, rev, n_eff, eff, bad_codes, n = row
    if not n:
        raise DataError(f"peer file {path} has no rows")
    if n_rev != 1 or n_eff != 1:
        raise DataError(f"peer file {path} mixes {n_rev} revisions / {n_eff} effective dates; expected one each")
    if bad_codes:
        raise DataError(f"peer file {path}: {bad_codes} row(s) whose hts10 is not 10 digits")
    try:
        first = date.fromisoformat(str(eff))
    except ValueError as exc:
        raise DataError(f"peer file {path}: effective_date {eff!r} is not a date") from exc
    return peer_name(str(rev)), first


def _one(db: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The first row of a query (DuckDB relations keep no result between calls)."""
    rows = db.query(sql).fetchall()
    return tuple(rows[0]) if rows else ()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
