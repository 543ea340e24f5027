"""The comparison itself: one DuckDB connection per run joins our panel's snapshot with each
peer file, layer by layer, and keeps the disagreeing cells for the clusters."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from tariffstack.engine.us import Engine, parse_date
from tariffstack.errors import BadInput, DataError
from tariffstack.law import countries
from tariffstack.panel import Panel
from tariffstack.stats.crosscheck.dating import choose_date
from tariffstack.stats.crosscheck.grouping import clusters, explained_pairs
from tariffstack.stats.crosscheck.method import AD_VALOREM_RE, TOLERANCE_PP
from tariffstack.stats.crosscheck.peer import (
    FOLDED_INTO_RECIPROCAL,
    LAYERS,
    PEER_CENSUS,
    PEER_LAYERS,
    _one,
    _read_peer,
    peer_files,
    peer_name,
)
from tariffstack.stats.crosscheck.results import Cluster, LayerAgreement, Report, RevisionResult
from tariffstack.stats.crosscheck.verdicts import Verdict, load_verdicts

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
