"""Cross-check of the panel against an independent tracker (Yale Budget Lab tariff-rate-tracker).

Two programs reading the same 44 archives should disagree only where one of them (or the
schedule) is wrong, or where they model on purpose differently. So for each revision the peer
exported we pick a date that both date the same way, compare our panel with the peer's
*statutory* rates layer by layer after normalising the documented method differences, and group
what still disagrees into clusters (layer x our heading(s) x origins x the two rates). A
committed verdicts file (``data/crosscheck_verdicts.csv``) says for each cluster whose side is
wrong, or that it is a method difference, with a citation; clusters of 50 pairs or more without
one are reported as UNEXPLAINED, so a new disagreement cannot hide.

Everything row-wise runs in DuckDB over Arrow (each peer file is about 237,000 rows); Python only
touches the few hundred clusters.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tariffstack.engine.us import Engine, parse_date
from tariffstack.errors import BadInput, DataError
from tariffstack.law import countries
from tariffstack.panel import Panel

TOLERANCE_PP = 0.05
PENDING_HORIZON_DAYS = 62   # how far past the peer's period to look for the revision's own later changes
MIN_EXPLAINED = 50          # clusters this large must carry a verdict (else UNEXPLAINED)
VERDICTS = ("ours_wrong", "theirs_wrong", "method")
VERDICT_COLUMNS = ("layer", "key", "origin", "ours_pct", "theirs_pct", "revision", "hts", "verdict", "citation",
                   "explanation")
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

# a printed MFN rate that is purely ad valorem: the only kind the peer's base rate carries as is
AD_VALOREM_RE = r"(Free|[0-9]+(\.[0-9]+)?%)"

NORMALISATIONS: tuple[tuple[str, str], ...] = (
    ("Statutory columns only",
     "The peer's rate_* columns are expected values over all entries (USMCA utilisation for Canada and "
     "Mexico, MFN-exemption shares for autos, metal-content shares); our panel gives the rate one entry "
     "pays. Only its statutory_rate_* and statutory_base_rate columns are compared."),
    ("Brazil and India country duties",
     "The peer books the IEEPA country duties on Brazil (9903.01.77 ff., EO 14323) and India (9903.01.84 ff., "
     "EO 14329) in its reciprocal column; ours are in ieepa_other. For BR and IN our ieepa_reciprocal + "
     "ieepa_other is compared with its reciprocal column; for the other origins our ieepa_other is "
     "compared with 0 (the peer has no such column)."),
    ("Section 232 on the metal content",
     "The peer's blended rate_232 scales derivative duties by a metal share; its statutory_rate_232 does "
     "not, and neither does our panel (its default input is that the whole value is metal), so the "
     "statutory column is compared."),
    ("MFN only where the printed rate is ad valorem",
     "For specific and compound general rates (2.8¢/kg, 30.5¢/kg + 8.5%, garment-ensemble rules) the peer's "
     "base rate is an ad valorem equivalent or 0, ours the ad valorem part as printed (or none): the "
     "two measure different things, so the mfn layer is compared only where the printed rate is Free "
     "or a percentage."),
    ("Lines only one side has",
     "Pairs are joined on the HTS-10 code and origin; lines only one side lists (the peer omits chapter 98 "
     "and some chapter 91 lines; statistical suffixes are renumbered between revisions) are counted, not "
     "compared."),
    ("Tolerance",
     f"A layer agrees when the two rates differ by at most {TOLERANCE_PP} percentage points; the peer's "
     "fractions are multiplied by 100 first."),
)


# ---- names and the peer's files -------------------------------------------------------------
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


# ---- the comparison date ---------------------------------------------------------------------
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


# ---- verdicts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """One row of the verdicts file: which disagreements it covers, and what they are.

    Every field but the verdict and its text narrows what the row covers; blank (or ``*``) means
    any. The most specific matching row wins for each disagreeing cell, so a general row can be
    refined by a narrower one (a product range, one origin, one revision) further down.
    """

    layer: str                        # a layer, or *
    key: str                          # cluster key or glob pattern (9903.94.05, none:74*, exempt:9903.01.3*)
    origin: tuple[str, ...]           # ISO codes; () = any
    ours_pct: float | None
    theirs_pct: float | None
    revision: tuple[str, ...]         # peer revisions; () = any
    hts: tuple[str, ...]              # HTS digit prefixes; () = any
    verdict: str
    citation: str
    explanation: str
    line: int

    @property
    def specificity(self) -> int:
        """Constrained fields count most; then the literal characters of the key pattern."""
        fields = (bool(self.origin), self.ours_pct is not None, self.theirs_pct is not None, bool(self.revision),
                  bool(self.hts), self.layer != "*")
        return 1000 * sum(fields) + sum(ch not in "*?[]" for ch in self.key)

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "citation": self.citation, "explanation": self.explanation,
                "rule": f"crosscheck_verdicts.csv:{self.line}"}


def _items(text: str) -> list[str]:
    """Items of a ';'-separated field; blank and * mean any (an empty list)."""
    return [x.strip() for x in text.split(";") if x.strip() and x.strip() != "*"]


def default_verdicts_text() -> str:
    return resources.files("tariffstack").joinpath("data/crosscheck_verdicts.csv").read_text("utf-8")


def load_verdicts(path: Path | None = None) -> list[Verdict]:
    """The verdicts file (default the packaged one), checked row by row."""
    name = str(path) if path else "crosscheck_verdicts.csv"
    try:
        text = path.read_text("utf-8") if path else default_verdicts_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read verdicts file {name}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in VERDICT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"verdicts file {name} lacks column(s): {', '.join(missing)}")
    out = []
    for row in reader:
        n = reader.line_num
        get = {k: (row.get(k) or "").strip() for k in VERDICT_COLUMNS}
        if get["layer"] not in (*LAYERS, "*"):
            raise DataError(f"{name}:{n}: unknown layer {get['layer']!r}")
        if get["verdict"] not in VERDICTS:
            raise DataError(f"{name}:{n}: verdict must be one of {', '.join(VERDICTS)}, not {get['verdict']!r}")
        if not get["key"] or not get["citation"] or not get["explanation"]:
            raise DataError(f"{name}:{n}: key, citation and explanation are required")
        pcts: list[float | None] = []
        for col in ("ours_pct", "theirs_pct"):
            try:
                pcts.append(float(get[col]) if get[col] else None)
            except ValueError as exc:
                raise DataError(f"{name}:{n}: {col} must be a number, not {get[col]!r}") from exc
        try:
            revs = tuple(peer_name(r) for r in _items(get["revision"]))
        except BadInput as exc:
            raise DataError(f"{name}:{n}: {exc}") from exc
        hts = tuple(h.replace(".", "") for h in _items(get["hts"]))
        if not all(h.isdigit() and len(h) <= 10 for h in hts):
            raise DataError(f"{name}:{n}: hts must be HTS digit prefixes separated by ';', not {get['hts']!r}")
        origins = tuple(o.upper() for o in _items(get["origin"]))
        bad = [o for o in origins if not re.fullmatch(r"[A-Z]{2}", o)]
        if bad:
            raise DataError(f"{name}:{n}: origin must be * or ISO codes separated by ';', not {get['origin']!r}")
        out.append(Verdict(get["layer"], get["key"], origins, pcts[0], pcts[1], revs, hts,
                           get["verdict"], get["citation"], get["explanation"], n))
    return out


# ---- results ---------------------------------------------------------------------------------
@dataclass
class LayerAgreement:
    layer: str
    compared: int
    agree: int

    @property
    def share(self) -> float | None:
        return self.agree / self.compared if self.compared else None


@dataclass
class RevisionResult:
    """Agreement for one peer revision on its comparison date."""

    file: Path
    choice: DateChoice
    pairs: int                        # product x origin pairs both sides have
    only_ours: int
    only_theirs: int
    only_ours_chapters: dict[str, int]
    only_theirs_chapters: dict[str, int]
    layers: list[LayerAgreement]
    all_agree: int
    method_only: int = 0              # pairs whose every disagreement is a `method` verdict
    explained: int = 0                # ... a `method` or `theirs_wrong` verdict

    @property
    def all_share(self) -> float | None:
        return self.all_agree / self.pairs if self.pairs else None

    @property
    def normalised_share(self) -> float | None:
        """All layers agree once the method differences with a verdict are normalised."""
        return (self.all_agree + self.method_only) / self.pairs if self.pairs else None

    @property
    def explained_share(self) -> float | None:
        """All layers agree, or differ only where a verdict shows the peer wrong or a method."""
        return (self.all_agree + self.explained) / self.pairs if self.pairs else None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file.name, **self.choice.to_json(), "pairs": self.pairs,
            "only_ours": self.only_ours, "only_theirs": self.only_theirs,
            "only_ours_chapters": self.only_ours_chapters, "only_theirs_chapters": self.only_theirs_chapters,
            "layers": {x.layer: {"compared": x.compared, "agree": x.agree, "share": x.share} for x in self.layers},
            "all_layers": {"pairs": self.pairs, "agree": self.all_agree, "share": self.all_share,
                           "normalised_share": self.normalised_share, "explained_share": self.explained_share},
        }


@dataclass
class Cluster:
    """Disagreeing pairs with the same layer, our heading(s), origins and the two rates."""

    layer: str
    key: str                          # our imposing heading(s) in the layer; exempt:<h>; none:<HTS heading>;
                                      # ' +s232:<its s232 key>' when the pair also disagrees on 232
    origins: tuple[str, ...]
    ours_pct: float
    theirs_pct: float
    pairs: int
    products: int
    revisions: tuple[str, ...]
    sample_hts: tuple[str, ...]
    hts_headings: tuple[str, ...]     # the products' HTS headings, most frequent first
    our_revisions: tuple[str, ...]    # revisions our layer's entries were printed in
    verdict: Verdict | None = None

    @property
    def origin_label(self) -> str:
        return "*" if len(self.origins) == len(PEER_CENSUS) else ",".join(self.origins)

    @property
    def status(self) -> str:
        if self.verdict is not None:
            return self.verdict.verdict
        return "UNEXPLAINED" if self.pairs >= MIN_EXPLAINED else "-"

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer, "key": self.key, "origins": self.origin_label, "ours_pct": self.ours_pct,
            "theirs_pct": self.theirs_pct, "pairs": self.pairs, "products": self.products,
            "revisions": list(self.revisions), "sample_hts": list(self.sample_hts),
            "hts_headings": list(self.hts_headings), "our_revisions": list(self.our_revisions),
            "status": self.status, "verdict": self.verdict.to_json() if self.verdict else None,
        }


@dataclass
class Report:
    peer_dir: Path
    revisions: list[RevisionResult]
    clusters: list[Cluster]
    seconds: float = 0.0
    tolerance_pp: float = TOLERANCE_PP
    normalisations: tuple[tuple[str, str], ...] = NORMALISATIONS
    panel_built: str | None = None    # when the compared panel was built (its meta.json)

    def to_json(self) -> dict[str, Any]:
        return {
            "peer": {"dir": str(self.peer_dir), "calendar": CALENDAR_SOURCE},
            "tolerance_pp": self.tolerance_pp,
            "normalisations": [{"name": n, "why": w} for n, w in self.normalisations],
            "revisions": [r.to_json() for r in self.revisions],
            "clusters": [c.to_json() for c in self.clusters],
            "verdict_totals": self.verdict_totals(),
            "panel_built": self.panel_built,
            "seconds": round(self.seconds, 2),
        }

    def verdict_totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.clusters:
            out[c.status] = out.get(c.status, 0) + c.pairs
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def to_markdown(self, limit: int = 120) -> str:
        return _markdown(self, limit)


# ---- the comparison --------------------------------------------------------------------------
_STACK_ENTRY = '[{"layer": "VARCHAR", "heading": "VARCHAR", "exempt": "BOOLEAN", "revision": "VARCHAR"}]'


def _layer_selects() -> str:
    """One SELECT per compared layer over the joined table ``j``: ours, theirs, compared, key layer."""
    folded = ", ".join(f"'{o}'" for o in FOLDED_INTO_RECIPROCAL)
    parts = []
    for col, layer in PEER_LAYERS:
        theirs = f"100 * o.{col}"
        ours = f"coalesce(o.{layer}, 0)"
        compared = "TRUE"
        key_layer = f"'{layer}'"
        if layer == "mfn":
            ours = "o.mfn"
            compared = f"o.mfn IS NOT NULL AND regexp_full_match(trim(o.mfn_text), '{AD_VALOREM_RE}')"
        elif layer == "ieepa_reciprocal":
            ours = (f"coalesce(o.ieepa_reciprocal, 0) + CASE WHEN o.origin IN ({folded}) "
                    "THEN coalesce(o.ieepa_other, 0) ELSE 0 END")
            key_layer = f"CASE WHEN o.origin IN ({folded}) THEN 'recip+other' ELSE 'ieepa_reciprocal' END"
        parts.append(f"SELECT o.d, o.origin, '{layer}' AS layer, {ours} AS ours, {theirs} AS theirs, "
                     f"{compared} AS compared, o.stack_id, {key_layer} AS key_layer, o.mfn_text FROM j o")
        if layer == "ieepa_reciprocal":
            parts.append("SELECT o.d, o.origin, 'ieepa_other' AS layer, coalesce(o.ieepa_other, 0) AS ours, "
                         f"0.0 AS theirs, o.origin NOT IN ({folded}) AS compared, o.stack_id, "
                         "'ieepa_other' AS key_layer, o.mfn_text FROM j o")
    return "\nUNION ALL ".join(parts)


class _Run:
    """One DuckDB connection for a whole cross-check (peer files, snapshots, disagreements)."""

    def __init__(self, engine: Engine, panel: Panel) -> None:
        self.engine = engine
        self.panel = panel
        self.db = duckdb.connect()
        by_census = {c.census_code: c.iso2 for c in countries.all_countries() if c.census_code}
        missing = [c for c in PEER_CENSUS if c not in by_census]
        if missing:
            raise DataError(f"countries.csv has no country with Census code(s) {', '.join(missing)}")
        self.isos = [by_census[c] for c in PEER_CENSUS]
        self.db.register("census_map", pa.table({"code": list(by_census), "iso2": list(by_census.values())}))
        names = [r.name for r in engine.model.revisions]
        self.db.register("revs", pa.table({"name": names, "idx": list(range(len(names)))}))
        stacks = panel.db.query("SELECT stack_id, layers_json FROM stacks").to_arrow_table()
        self.db.register("stacks_raw", stacks)
        # per stack and layer: our imposing and exempting headings, and the revisions they came from
        self.db.execute(f"""CREATE TEMP TABLE stack_layers AS
            WITH e AS (SELECT stack_id, unnest(from_json(layers_json, '{_STACK_ENTRY}')) AS x FROM stacks_raw),
            f AS (SELECT stack_id, x.layer AS layer, x.heading, x.exempt, x.revision FROM e
                  UNION ALL SELECT stack_id, 'recip+other', x.heading, x.exempt, x.revision FROM e
                  WHERE x.layer IN ('ieepa_reciprocal', 'ieepa_other'))
            SELECT stack_id, layer,
                   string_agg(DISTINCT heading, ';' ORDER BY heading) FILTER (WHERE NOT exempt) AS imposing,
                   string_agg(DISTINCT heading, ';' ORDER BY heading) FILTER (WHERE exempt) AS exempting,
                   list(DISTINCT revision ORDER BY revision) AS revisions
            FROM f GROUP BY stack_id, layer""")
        self.db.execute("""CREATE TEMP TABLE dis (revision VARCHAR, d VARCHAR, origin VARCHAR, layer VARCHAR,
            ours DOUBLE, theirs DOUBLE, key VARCHAR, our_revisions VARCHAR[])""")

    def revision(self, peer: str | None, path: Path, day: date | None) -> RevisionResult:
        """Compare one peer file; its disagreeing cells go to table ``dis``, all cells stay in ``cmp``."""
        rev, first = _read_peer(self.db, path, "peer")
        if peer is not None and rev != peer:
            raise DataError(f"peer file {path} holds revision {rev}, not {peer}")
        peer = rev
        choice = choose_date(self.engine, peer, first, day)
        snap = self.panel.snapshot(choice.day, origins=self.isos).project(
            "replace(hts10, '.', '') AS d, origin, mfn_text, mfn, s301, s232, ieepa_fentanyl, ieepa_reciprocal, "
            "ieepa_other, s122, s201, other, stack_id").to_arrow_table()
        self.db.register("ours", snap)
        db = self.db
        db.execute("""CREATE OR REPLACE TEMP TABLE theirs AS
            SELECT p.*, m.iso2 AS origin FROM peer p JOIN census_map m ON m.code = p.country""")
        unknown = _one(db, "SELECT count(*), min(country) FROM peer WHERE country NOT IN (SELECT code FROM census_map)"
                           )
        if unknown and unknown[0]:
            raise DataError(f"peer file {path}: {unknown[0]} row(s) with an unknown Census country code "
                            f"(e.g. {unknown[1]})")
        db.execute("""CREATE OR REPLACE TEMP TABLE j AS
            SELECT o.*, y.* EXCLUDE (origin, hts10) FROM ours o JOIN theirs y ON y.hts10 = o.d AND y.origin = o.origin""")
        only = _one(db, """SELECT
              (SELECT count(*) FROM ours o WHERE NOT EXISTS (SELECT 1 FROM theirs y WHERE y.hts10 = o.d AND y.origin = o.origin)),
              (SELECT count(*) FROM theirs y WHERE NOT EXISTS (SELECT 1 FROM ours o WHERE y.hts10 = o.d AND y.origin = o.origin)),
              (SELECT count(*) FROM j)""")
        assert only is not None
        chapters = []
        for a, b in (("ours", "theirs"), ("theirs", "ours")):
            ca, cb = ("d", "hts10") if a == "ours" else ("hts10", "d")
            rows = db.query(f"""SELECT substr(a.{ca}, 1, 2) AS ch, count(*) AS n FROM {a} a
                WHERE NOT EXISTS (SELECT 1 FROM {b} b WHERE b.{cb} = a.{ca} AND b.origin = a.origin)
                GROUP BY ch ORDER BY n DESC, ch LIMIT 8""").fetchall()
            chapters.append({str(c): int(n) for c, n in rows})
        tol = TOLERANCE_PP + 1e-9
        db.execute(f"""CREATE OR REPLACE TEMP TABLE cmp AS
            SELECT *, compared AND abs(ours - theirs) <= {tol} AS agree FROM ({_layer_selects()})""")
        per_layer = dict(
            (str(layer), (int(n), int(a))) for layer, n, a in db.query(
                "SELECT layer, count(*) FILTER (WHERE compared), count(*) FILTER (WHERE agree) FROM cmp GROUP BY layer"
            ).fetchall())
        all_row = _one(db, """SELECT count(*) FROM (SELECT d, origin FROM cmp GROUP BY d, origin
                              HAVING bool_and(agree OR NOT compared))""")
        db.execute("""CREATE OR REPLACE TEMP TABLE dk AS
            SELECT c.d, c.origin, c.layer, c.ours, c.theirs,
                   CASE WHEN c.layer = 'mfn' THEN 'general ' || c.mfn_text
                        WHEN s.imposing IS NOT NULL THEN s.imposing
                        WHEN s.exempting IS NOT NULL THEN 'exempt:' || s.exempting
                        ELSE 'none:' || substr(c.d, 1, 4) END AS key,
                   coalesce(s.revisions, []) AS revisions
            FROM cmp c LEFT JOIN stack_layers s ON s.stack_id = c.stack_id AND s.layer = c.key_layer
            WHERE c.compared AND NOT c.agree""")
        # a pair that also disagrees on Section 232 names that disagreement: 232 duties displace
        # or reduce the others, so the other layers' difference follows from it
        db.execute(f"""INSERT INTO dis
            SELECT '{peer}', x.d, x.origin, x.layer, x.ours, x.theirs,
                   x.key || CASE WHEN x.layer <> 's232' AND k.key IS NOT NULL THEN ' +s232:' || k.key ELSE '' END,
                   x.revisions
            FROM dk x LEFT JOIN (SELECT d, origin, key FROM dk WHERE layer = 's232') k
                   ON k.d = x.d AND k.origin = x.origin""")
        db.execute("DROP TABLE dk")
        for t in ("j", "theirs", "peer"):
            db.execute(f"DROP TABLE IF EXISTS {t}")
        db.unregister("ours")
        layers = [LayerAgreement(x, *per_layer.get(x, (0, 0))) for x in LAYERS]
        return RevisionResult(path, choice, int(only[2]), int(only[0]), int(only[1]), chapters[0], chapters[1],
                              layers, int(all_row[0]) if all_row else 0)

    def clusters(self, verdicts: Sequence[Verdict]) -> list[Cluster]:
        return clusters(self.db, verdicts)


def _verdict_table(verdicts: Sequence[Verdict]) -> pa.Table:
    strs = pa.list_(pa.string())
    return pa.table({
        "vid": pa.array([v.line for v in verdicts], pa.int64()),
        "layer": pa.array([v.layer for v in verdicts], pa.string()),
        "key": pa.array([v.key for v in verdicts], pa.string()),
        "origins": pa.array([list(v.origin) for v in verdicts], strs),
        "ours": pa.array([v.ours_pct for v in verdicts], pa.float64()),
        "theirs": pa.array([v.theirs_pct for v in verdicts], pa.float64()),
        "revisions": pa.array([list(v.revision) for v in verdicts], strs),
        "hts": pa.array([list(v.hts) for v in verdicts], strs),
        "spec": pa.array([v.specificity for v in verdicts], pa.int64()),
        "kind": pa.array([v.verdict for v in verdicts], pa.string()),
    })


def clusters(db: duckdb.DuckDBPyConnection, verdicts: Sequence[Verdict]) -> list[Cluster]:
    """Group the disagreeing cells of table ``dis`` into clusters, each with its verdict.

    ``dis`` has one row per disagreeing (revision, product, origin, layer): ours, theirs and the
    cluster key. Each row takes the most specific matching verdict (ties: the earlier line); a
    cluster is then one layer, key, verdict and pair of rates, with the set of origins that
    disagree alike on each product, summed over products and revisions.
    """
    db.register("verdicts", _verdict_table(verdicts))
    db.execute("""CREATE OR REPLACE TEMP TABLE rv AS
        WITH m AS (
          SELECT x.rowid AS rid, v.vid, v.spec FROM dis x JOIN verdicts v
            ON (v.layer = '*' OR v.layer = x.layer) AND x.key GLOB v.key
           AND (len(v.origins) = 0 OR list_contains(v.origins, x.origin))
           AND (v.ours IS NULL OR abs(v.ours - x.ours) <= 0.005)
           AND (v.theirs IS NULL OR abs(v.theirs - x.theirs) <= 0.005)
           AND (len(v.revisions) = 0 OR list_contains(v.revisions, x.revision))
           AND (len(v.hts) = 0 OR len(list_filter(v.hts, lambda h: starts_with(x.d, h))) > 0)),
        best AS (SELECT rid, arg_max(vid, spec * 1000000 - vid) AS vid FROM m GROUP BY rid),
        own AS (SELECT x.*, b.vid FROM dis x LEFT JOIN best b ON b.rid = x.rowid),
        -- a layer that differs only because Section 232 differs on the same pair (key ' +s232:')
        -- and has no rule of its own takes the verdict of that Section 232 difference
        r AS (SELECT o.* REPLACE (coalesce(o.vid, CASE WHEN o.key LIKE '% +s232:%' THEN k.vid END) AS vid)
              FROM own o LEFT JOIN own k ON k.layer = 's232' AND k.revision = o.revision AND k.d = o.d
                                       AND k.origin = o.origin AND o.layer <> 's232')
        SELECT r.*, v.kind FROM r LEFT JOIN verdicts v ON v.vid = r.vid""")
    rows = db.query("""
        WITH         p AS (
          SELECT revision, layer, key, vid, round(ours, 2) AS o, round(theirs, 2) AS t, d,
                 string_agg(origin, ',' ORDER BY origin) AS origins, count(*) AS n,
                 flatten(list(our_revisions)) AS our_revs
          FROM rv GROUP BY revision, layer, key, vid, o, t, d)
        SELECT layer, key, vid, origins, o, t, sum(n) AS pairs, count(DISTINCT d) AS products,
               list(DISTINCT revision ORDER BY revision) AS revisions,
               list(DISTINCT d ORDER BY d)[1:200] AS sample,
               histogram(substr(d, 1, 4)) AS heads,
               list_distinct(flatten(list(our_revs))) AS our_revs
        FROM p GROUP BY layer, key, vid, origins, o, t
        ORDER BY pairs DESC, layer, key, origins, o, t, vid""").fetchall()
    db.unregister("verdicts")
    by_line = {v.line: v for v in verdicts}
    order = {name: k for k, (name, _) in enumerate(PEER_CALENDAR)}
    out = []
    for layer, key, vid, origins, o, t, pairs, products, revs, sample, heads, our_revs in rows:
        heads_sorted = sorted(dict(heads).items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(Cluster(
            layer=str(layer), key=str(key), origins=tuple(str(origins).split(",")), ours_pct=float(o),
            theirs_pct=float(t), pairs=int(pairs), products=int(products),
            revisions=tuple(sorted((str(x) for x in revs), key=lambda x: order.get(x, 99))),
            sample_hts=tuple(_spread(sample, 5)), hts_headings=tuple(h for h, _ in heads_sorted[:6]),
            our_revisions=tuple(sorted(str(x) for x in our_revs if x)),
            verdict=by_line.get(vid) if vid is not None else None,
        ))
    return out


def explained_pairs(db: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Per peer revision, the disagreeing pairs whose every disagreement is a method difference,
    and those whose every disagreement is a method difference or the peer's error (table ``rv``
    of ``clusters``): the all-layer agreement after normalising for each."""
    rows = db.query("""
        SELECT revision, count(*) FILTER (WHERE all_method), count(*) FILTER (WHERE all_explained)
        FROM (SELECT revision, d, origin, bool_and(coalesce(kind = 'method', false)) AS all_method,
                     bool_and(coalesce(kind IN ('method', 'theirs_wrong'), false)) AS all_explained
              FROM rv GROUP BY revision, d, origin)
        GROUP BY revision""").fetchall()
    return {str(r): (int(m), int(e)) for r, m, e in rows}


def compare_file(engine: Engine, panel: Panel, path: Path, day: date | str | None = None,
                 verdicts: Sequence[Verdict] = ()) -> tuple[RevisionResult, pa.Table, list[Cluster]]:
    """One peer file: its result, every compared cell (d, origin, layer, ours, theirs, compared,
    agree, key layer) and its clusters; for tests and for looking into one revision."""
    job = _Run(engine, panel)
    try:
        res = job.revision(None, path, parse_date(day) if day is not None else None)
        cells = job.db.query("SELECT d, origin, layer, ours, theirs, compared, agree, key_layer FROM cmp"
                             ).to_arrow_table()
        return res, cells, job.clusters(verdicts)
    finally:
        job.db.close()


def _spread(codes: Sequence[str], k: int) -> list[str]:
    """k codes spread over a sorted list (the first k are often siblings)."""
    if len(codes) <= k:
        return list(codes)
    step = (len(codes) - 1) / (k - 1)
    return [codes[round(i * step)] for i in range(k)]


def run(engine: Engine, panel: Panel, peer_dir: Path, *, revisions: Iterable[str] | None = None,
        day: date | str | None = None, verdicts: Sequence[Verdict] | None = None) -> Report:
    """The cross-check of every (or the named) peer revision; verdicts joined to the clusters."""
    t0 = time.perf_counter()
    files = peer_files(peer_dir)
    wanted = [peer_name(r) for r in revisions] if revisions else list(files)
    unknown = [r for r in wanted if r not in files]
    if unknown:
        raise BadInput(f"no peer file for {', '.join(unknown)} in {peer_dir}; there are: {', '.join(files)}")
    when = parse_date(day) if day is not None else None
    verdict_rows = load_verdicts() if verdicts is None else verdicts
    job = _Run(engine, panel)
    results = [job.revision(r, files[r], when) for r in dict.fromkeys(wanted)]
    clusters = job.clusters(verdict_rows)
    counts = explained_pairs(job.db)
    for res in results:
        res.method_only, res.explained = counts.get(res.choice.revision, (0, 0))
    job.db.close()
    built = panel.meta.get("built")
    return Report(peer_dir, results, clusters, seconds=time.perf_counter() - t0,
                  panel_built=str(built) if built else None)


# ---- the Markdown report ---------------------------------------------------------------------
def share_text(x: float | None) -> str:
    """A share as a percentage with one decimal, never rounding a disagreement up to 100%."""
    if x is None:
        return "-"
    v = 100 * x
    return "100%" if x == 1 else f"{min(v, 99.9):.1f}%"


def _rate(x: float) -> str:
    return f"{x:g}"


def _chapters(counts: dict[str, int]) -> str:
    return ", ".join(f"ch. {k}: {v:,}" for k, v in counts.items()) or "none"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(rep: Report, limit: int) -> str:
    out = ["# Cross-check against the Yale Budget Lab tariff-rate-tracker", ""]
    out += [
        "Generated by `tariffstack crosscheck` (src/tariffstack/crosscheck.py). The peer's exports "
        "(`peer/yale/yale_*.csv.gz`: every HTS-10 line x 12 origins, fractional rates) are compared with "
        "the rate panel (`tariffstack build`, default inputs) per layer, on one date per revision, "
        f"with a tolerance of {rep.tolerance_pp} percentage points. Where the two disagree the heading "
        "text, the U.S. notes and the change records decide; each cluster of disagreements carries a "
        "verdict from `src/tariffstack/data/crosscheck_verdicts.csv` (`ours_wrong`, `theirs_wrong`, "
        f"`method`), and a cluster of {MIN_EXPLAINED} pairs or more without one shows UNEXPLAINED.", "",

        "## Comparison dates", "",
        "The peer applies a revision's rates from its own date for the revision (its calendar: "
        f"{CALENDAR_SOURCE}) to the day before the next revision's; we date each heading version by the "
        "legal effective date in the change records, so a later revision can restate a day retroactively "
        "and a revision's own changes can start after the peer's date. In the peer's period we compare on "
        "the last day with the fewest heading versions dated differently (from later revisions and in force "
        "that day, or from this revision and not yet in force); where none are, the law that day is the law "
        "the revision prints by both datings. The headings dated differently are listed: disagreements they "
        "cause are dating differences, not errors.", "",
        "| peer revision | peer period | compared on | our product lines | dated differently on that day | why |",
        "|---|---|---|---|---|---|",
    ]
    for r in rep.revisions:
        ch = r.choice
        diff = [*ch.later, *(f"not yet: {p}" for p in ch.pending)]
        listed = ", ".join(diff[:8]) + (f" (+{len(diff) - 8})" if len(diff) > 8 else "") or "none"
        span = f"{ch.window_from} to {ch.window_to or '...'}"
        out.append(f"| {ch.revision} | {span} | {ch.day} | {ch.product_revision} | {_cell(listed)} | {ch.reason} |")
    out += ["", "## Normalisations", ""]
    out += [f"- **{n}.** {w}" for n, w in rep.normalisations]
    out += ["", "## Agreement", "",
            "Share of product x origin pairs where the layer agrees (compared pairs only; the mfn layer "
            "compares ad valorem general rates only); *all layers*: pairs where every compared layer agrees; "
            "*normalised*: also counting as agreeing the pairs whose every disagreement is a method difference "
            "with a verdict; *explained*: also those whose every disagreement has a `method` or `theirs_wrong` "
            "verdict (the rest: `ours_wrong`, or no verdict).", "",
            "| revision | date | pairs | " + " | ".join(LAYERS) + " | all layers | normalised | explained |",
            "|---|---|---|" + "---|" * len(LAYERS) + "---|---|---|"]
    for r in rep.revisions:
        cells = [share_text(x.share) for x in r.layers]
        out.append(f"| {r.choice.revision} | {r.choice.day} | {r.pairs:,} | " + " | ".join(cells)
                   + f" | **{share_text(r.all_share)}** | {share_text(r.normalised_share)} | "
                   f"{share_text(r.explained_share)} |")
    out += ["", "Lines only one side has (pairs, by chapter):", ""]
    for r in rep.revisions:
        out.append(f"- {r.choice.revision}: only ours {r.only_ours:,} ({_chapters(r.only_ours_chapters)}); "
                   f"only the peer's {r.only_theirs:,} ({_chapters(r.only_theirs_chapters)})")
    totals = rep.verdict_totals()
    n_pairs = sum(totals.values())
    out += ["", "## Disagreement clusters", "",
            f"{len(rep.clusters):,} clusters, {n_pairs:,} disagreeing layer x pair cells over all revisions. "
            "A cluster is one layer, our heading(s) in that layer (`exempt:` when ours is exempted, `none:` "
            "and the HTS heading when we have no entry; ` +s232:key` when the same pairs also disagree on "
            "Section 232, whose duties displace or reduce the others, with that disagreement's key), the set of "
            "origins (`*`: all 12), the two rates (percent) and the verdict rule (`V` and its line in "
            "`crosscheck_verdicts.csv`, explained below). By verdict: "
            + ", ".join(f"{k} {v:,}" for k, v in totals.items()) + ".", "",
            "| # | layer | our heading(s) | origins | ours | theirs | pairs | products | revisions | "
            "sample HTS | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    shown = rep.clusters[: max(limit, sum(1 for c in rep.clusters if c.pairs >= MIN_EXPLAINED))]
    for k, c in enumerate(shown, start=1):
        rule = f" (V{c.verdict.line})" if c.verdict else ""
        out.append(
            f"| {k} | {c.layer} | {_cell(c.key)} | {c.origin_label} | {_rate(c.ours_pct)} | {_rate(c.theirs_pct)} | "
            f"{c.pairs:,} | {c.products:,} | {', '.join(c.revisions)} | {', '.join(c.sample_hts)} | "
            f"{c.status}{rule} |")
    rest = rep.clusters[len(shown):]
    if rest:
        out += ["", f"{len(rest):,} smaller clusters ({sum(c.pairs for c in rest):,} cells) are in `--json`."]
    rules: dict[int, tuple[Verdict, int, int]] = {}
    for c in rep.clusters:
        if c.verdict is not None:
            v, n, m = rules.get(c.verdict.line, (c.verdict, 0, 0))
            rules[c.verdict.line] = (v, n + c.pairs, m + 1)
    out += ["", "## Verdict rules", "",
            "Each rule covers the disagreeing cells that match its layer, key pattern and optional origin, rates, "
            "revisions and HTS prefixes; the most specific matching rule wins. Rules that matched nothing are "
            "not listed.", "",
            "| rule | verdict | layer | key | scope | cells | clusters | why | citation |",
            "|---|---|---|---|---|---|---|---|---|"]
    for line, (v, n, m) in sorted(rules.items()):
        scope = "; ".join(x for x in (
            f"origin {','.join(v.origin)}" if v.origin else "",
            f"ours {v.ours_pct:g}" if v.ours_pct is not None else "",
            f"theirs {v.theirs_pct:g}" if v.theirs_pct is not None else "",
            f"revisions {','.join(v.revision)}" if v.revision else "",
            f"HTS {','.join(v.hts)}" if v.hts else "") if x) or "any"
        out.append(f"| V{line} | {v.verdict} | {v.layer} | {_cell(v.key)} | {_cell(scope)} | {n:,} | {m:,} | "
                   f"{_cell(v.explanation)} | {_cell(v.citation)} |")
    out.append("")
    return "\n".join(out)


def write_json(rep: Report) -> str:
    return json.dumps(rep.to_json(), indent=1, default=str)
