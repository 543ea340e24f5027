"""What changed between two dates: the changed product x origin pairs and their summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from tariffstack.panel.tables import ADD_LAYERS

if TYPE_CHECKING:
    from tariffstack.panel.query import Panel


@dataclass
class Diff:
    """The changed product x origin pairs between two dates, with summaries."""

    panel: Panel
    start: date
    end: date
    rel: duckdb.DuckDBPyRelation
    origins: list[str]
    prefix: str | None
    layer: str | None

    def count(self) -> int:
        row = one(self.rel.aggregate("count(*)"))
        return int(row[0]) if row else 0

    def by_kind(self) -> dict[str, int]:
        """How the changed pairs add up: the total rate moved; the same total under other
        headings or texts; a line new in the schedule; a line gone from it."""
        row = one(self.panel.db.query(f"""
            SELECT count(*) FILTER (WHERE kind = 'changed' AND old_total_pct IS DISTINCT FROM new_total_pct),
                   count(*) FILTER (WHERE kind = 'changed' AND old_total_pct IS NOT DISTINCT FROM new_total_pct),
                   count(*) FILTER (WHERE kind = 'new line'), count(*) FILTER (WHERE kind = 'line removed')
            FROM ({self.rel.sql_query()})""")) or (0, 0, 0, 0)
        keys = ("total changed", "same total, other headings or texts", "new lines", "lines removed")
        return {k: int(n or 0) for k, n in zip(keys, row, strict=True)}

    def by_layer(self) -> list[tuple[str, int, float | None, float | None]]:
        """(layer, pairs changed, mean old rate, mean new rate) for each layer that moved.

        Only pairs on both dates count: a new or removed line is not a change of every layer."""
        names = ("mfn", *ADD_LAYERS, "total_pct")
        parts = ", ".join(
            f"count(*) FILTER (WHERE old_{n} IS DISTINCT FROM new_{n}), "
            f"avg(old_{n}) FILTER (WHERE old_{n} IS DISTINCT FROM new_{n}), "
            f"avg(new_{n}) FILTER (WHERE old_{n} IS DISTINCT FROM new_{n})" for n in names)
        row = one(self.panel.db.query(
            f"SELECT {parts} FROM ({self.rel.sql_query()}) WHERE kind = 'changed'")) or ()
        out = []
        for k, name in enumerate(names):
            n, old, new = row[3 * k: 3 * k + 3]
            if n:
                out.append((name, int(n), old, new))
        return out

    def by_chapter(self, limit: int = 20) -> list[tuple[str, int]]:
        rows = self.rel.aggregate("substr(hts10, 1, 2) AS chapter, count(*) AS n", "chapter").order(
            "n DESC, chapter").limit(limit).fetchall()
        return [(str(c), int(n)) for c, n in rows]

    def causes(self, limit: int = 20) -> list[tuple[str, str, int]]:
        """(added or removed, heading, pairs) - which headings explain the changes."""
        rows = self.panel.db.query(f"""
            SELECT kind, h, count(*) AS n FROM (
              SELECT 'added' AS kind, unnest(added) AS h FROM ({self.rel.sql_query()})
              UNION ALL SELECT 'removed' AS kind, unnest(removed) AS h FROM ({self.rel.sql_query()}))
            GROUP BY kind, h ORDER BY n DESC, h LIMIT {int(limit)}""").fetchall()
        return [(str(k), str(h), int(n)) for k, h, n in rows]

    def rows(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        rel = self.rel.order("hts10, origin").limit(limit, offset)
        names = rel.columns
        return [dict(zip(names, r, strict=True)) for r in rel.fetchall()]

    def write(self, out: Path, fmt: str) -> int:
        rel = self.rel
        if fmt == "csv":
            rel = rel.project("* REPLACE (array_to_string(added, ';') AS added, array_to_string(removed, ';') AS removed)")
        return self.panel.copy(rel.order("hts10, origin"), out, fmt)

    def to_json(self, limit: int = 100) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            return v.isoformat() if isinstance(v, date) else v

        return {
            "from": self.start.isoformat(), "to": self.end.isoformat(), "origins": self.origins,
            "prefix": self.prefix, "layer": self.layer, "changed": self.count(), "by_kind": self.by_kind(),
            "by_layer": [{"layer": n, "pairs": c, "mean_old": o, "mean_new": w} for n, c, o, w in self.by_layer()],
            "by_chapter": [{"chapter": c, "pairs": n} for c, n in self.by_chapter()],
            "causes": [{"kind": k, "heading": h, "pairs": n} for k, h, n in self.causes()],
            "rows": [{k: clean(v) for k, v in r.items()} for r in self.rows(limit)],
        }


def one(rel: duckdb.DuckDBPyRelation) -> tuple[Any, ...] | None:
    rows = rel.limit(1).fetchall()
    return rows[0] if rows else None
