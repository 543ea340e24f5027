"""Disagreeing cells grouped into clusters, each with the most specific verdict that covers it."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from tariffstack.stats.crosscheck.peer import PEER_CALENDAR
from tariffstack.stats.crosscheck.results import Cluster
from tariffstack.stats.crosscheck.verdicts import Verdict


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


def _spread(codes: Sequence[str], k: int) -> list[str]:
    """k codes spread over a sorted list (the first k are often siblings)."""
    if len(codes) <= k:
        return list(codes)
    step = (len(codes) - 1) / (k - 1)
    return [codes[round(i * step)] for i in range(k)]
