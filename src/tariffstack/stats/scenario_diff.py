"""The product x origin pairs a scenario changes: its panel against the law's on one date.

Both panels share their stack ids (the scenario's store continues the law's), but a changed
heading's new revision label alone makes new stacks, so stacks are compared by what they charge.
Only the regime rows that differ bound the pairs looked at, so a scenario that moves a few
origins or products costs a fraction of a full comparison of 5 million pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from tariffstack.panel import ADD_LAYERS, Panel
from tariffstack.stats.weights import Weights

MAX_CHANGE_ROWS = 200


@dataclass
class Changes:
    """The product x origin pairs whose duty stack differs from the law's on one date."""

    day: date
    pairs: int
    rate_pairs: int
    lines: int
    by_chapter: list[dict[str, Any]]
    by_partner: list[dict[str, Any]]
    top: list[dict[str, Any]]
    rel: duckdb.DuckDBPyRelation | None = None

    def to_json(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "pairs": self.pairs, "pairs_rate_changed": self.rate_pairs,
                "lines": self.lines, "by_chapter": self.by_chapter, "by_partner": self.by_partner,
                "lines_changed": self.top}


def changes(law: Panel, scen: Panel, weights: Weights, day: date, limit: int = MAX_CHANGE_ROWS) -> Changes:
    """Every product x origin whose stack differs on ``day`` (the panels share their stack ids)."""
    scen.check_date(day)
    db = duckdb.connect()
    db.execute("SET enable_progress_bar = false")
    for prefix, store in (("l", law), ("s", scen)):
        for name in ("products", "regimes", "groups"):
            db.execute(f"CREATE VIEW {prefix}_{name} AS SELECT * FROM read_parquet('{store.path / (name + '.parquet')}')")
    db.execute(f"CREATE VIEW stacks AS SELECT * FROM read_parquet('{scen.path / 'stacks.parquet'}')")
    db.register("w_countries", weights.countries)
    d = f"DATE '{day.isoformat()}'"
    # a change of duty: a rate, or which headings impose or exempt (not a revision label or a text)
    differ = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}"
                         for c in (*ADD_LAYERS, "additional_pct", "specific", "headings", "exempt_headings"))

    on = f"valid_from <= {d} AND {d} <= valid_until"
    # Stacks are compared by what they charge (``duty``), since a changed heading's new revision
    # label alone makes a new stack. Only some (signature, MFN key, group) rows of the regimes
    # differ: their signatures and origins bound the pairs that can change, so the product x
    # origin join stays small unless the scenario moves every origin of every product.
    cols = ", ".join((*ADD_LAYERS, "additional_pct", "specific", "headings", "exempt_headings"))
    db.execute(f"CREATE TEMP TABLE duty AS SELECT stack_id, hash({cols}) AS duty FROM stacks")
    for p in ("l", "s"):
        db.execute(f"""CREATE TEMP TABLE {p}r AS SELECT r.sig_id, r.mfn_key, r.group_id, u.duty, r.stack_id
                       FROM {p}_regimes r JOIN duty u USING (stack_id) WHERE {on}""")
        db.execute(f"CREATE TEMP TABLE {p}p AS SELECT hts10, sig_id, mfn_key FROM {p}_products WHERE {on}")
    db.execute("""CREATE TEMP TABLE dr AS
                  (SELECT sig_id, mfn_key, group_id, duty FROM lr EXCEPT SELECT sig_id, mfn_key, group_id, duty FROM sr)
                  UNION (SELECT sig_id, mfn_key, group_id, duty FROM sr EXCEPT SELECT sig_id, mfn_key, group_id, duty FROM lr)""")
    db.execute("""CREATE TEMP TABLE dp AS SELECT DISTINCT hts10 FROM ((SELECT * FROM lp EXCEPT SELECT * FROM sp)
                  UNION (SELECT * FROM sp EXCEPT SELECT * FROM lp))""")
    db.execute("CREATE TEMP TABLE ds AS SELECT DISTINCT sig_id FROM dr")
    for p in ("l", "s"):  # the differing rows' signatures, per origin
        db.execute(f"""CREATE TEMP TABLE {p}x AS SELECT r.sig_id, r.mfn_key, g.iso2, r.duty, r.stack_id
                       FROM {p}r r JOIN {p}_groups g USING (group_id) WHERE r.sig_id IN (SELECT sig_id FROM ds)""")
    db.execute("""CREATE TEMP TABLE ck AS SELECT DISTINCT sig_id, iso2 FROM
                  ((SELECT sig_id, mfn_key, iso2, duty FROM lx EXCEPT SELECT sig_id, mfn_key, iso2, duty FROM sx)
                   UNION (SELECT sig_id, mfn_key, iso2, duty FROM sx EXCEPT SELECT sig_id, mfn_key, iso2, duty FROM lx))""")
    for p in ("l", "s"):
        db.execute(f"CREATE TEMP TABLE {p}k AS SELECT x.* FROM {p}x x JOIN ck USING (sig_id, iso2)")

    def side(p: str) -> str:
        return f"""SELECT pr.hts10, x.iso2, x.duty, x.stack_id FROM {p}p pr
                   JOIN {p}k x ON x.sig_id = pr.sig_id AND (x.mfn_key = 0 OR x.mfn_key = pr.mfn_key)
                   UNION ALL
                   SELECT pr.hts10, g.iso2, r.duty, r.stack_id FROM {p}p pr
                   JOIN {p}r r ON r.sig_id = pr.sig_id AND (r.mfn_key = 0 OR r.mfn_key = pr.mfn_key)
                   JOIN {p}_groups g ON g.group_id = r.group_id
                   WHERE pr.hts10 IN (SELECT hts10 FROM dp)"""

    db.execute(f"CREATE TEMP TABLE l AS SELECT DISTINCT * FROM ({side('l')})")
    db.execute(f"CREATE TEMP TABLE s AS SELECT DISTINCT * FROM ({side('s')})")
    db.execute("""CREATE TEMP TABLE cand AS SELECT l.hts10, l.iso2, l.stack_id AS law_stack,
                  s.stack_id AS scen_stack FROM l JOIN s ON s.hts10 = l.hts10 AND s.iso2 = l.iso2 WHERE l.duty <> s.duty""")
    db.execute(f"""CREATE TEMP TABLE chg AS
        SELECT c.hts10, c.iso2 AS origin, coalesce(w.partner, 'none') AS partner, c.law_stack, c.scen_stack,
               a.additional_pct AS law_additional, b.additional_pct AS scenario_additional,
               {", ".join(f"b.{n} - a.{n} AS d_{n}" for n in ADD_LAYERS)},
               list_filter(b.headings, lambda x: NOT list_contains(a.headings, x)) AS added,
               list_filter(a.headings, lambda x: NOT list_contains(b.headings, x)) AS removed
        FROM cand c JOIN stacks a ON a.stack_id = c.law_stack JOIN stacks b ON b.stack_id = c.scen_stack
        LEFT JOIN w_countries w ON w.iso2 = c.iso2
        WHERE {differ}""")
    pairs, rate_pairs, lines = db.query("""SELECT count(*), count(*) FILTER (WHERE law_additional
        IS DISTINCT FROM scenario_additional), count(DISTINCT hts10) FROM chg""").fetchall()[0]

    def dicts(sql: str) -> list[dict[str, Any]]:
        rel = db.query(sql)
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]

    by_chapter = dicts("""SELECT substr(hts10, 1, 2) AS chapter, count(DISTINCT hts10) AS lines, count(*) AS pairs,
                          avg(scenario_additional - law_additional) AS mean_change FROM chg
                          GROUP BY chapter ORDER BY pairs DESC, chapter LIMIT 30""")
    by_partner = dicts("""SELECT partner, count(DISTINCT origin) AS origins, count(DISTINCT hts10) AS lines,
                          count(*) AS pairs, avg(scenario_additional - law_additional) AS mean_change
                          FROM chg GROUP BY partner ORDER BY pairs DESC""")
    top = dicts(f"""SELECT hts10, count(*) AS origins, min(law_additional) AS law_min, max(law_additional) AS law_max,
                    min(scenario_additional) AS scenario_min, max(scenario_additional) AS scenario_max,
                    list_distinct(flatten(list(added))) AS added, list_distinct(flatten(list(removed))) AS removed,
                    string_agg(DISTINCT origin, ';' ORDER BY origin) AS origin_list
                    FROM chg GROUP BY hts10 ORDER BY hts10 LIMIT {int(limit)}""")
    for r in top:
        codes = r.pop("origin_list").split(";")
        r["origin_examples"] = codes[:8]
    rel = db.query("SELECT * EXCLUDE (law_stack, scen_stack) FROM chg ORDER BY hts10, origin")
    return Changes(day, int(pairs), int(rate_pairs), int(lines), by_chapter, by_partner, top, rel)


def write_changes(ch: Changes, out: Path) -> int:
    """All changed pairs of one date to a CSV file (atomically)."""
    from tariffstack.files import atomic_path

    if ch.rel is None:
        return 0
    rel = ch.rel.project("* REPLACE (array_to_string(added, ';') AS added, array_to_string(removed, ';') AS removed)")
    with atomic_path(out) as tmp:
        rel.write_csv(str(tmp))
    return ch.pairs
