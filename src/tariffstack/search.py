"""Ranked full-text search over product descriptions and their hierarchy paths (SQLite FTS5).

SQLite's FTS5 ships with Python, ranks with BM25 and needs no server, which suits an embedded
tool. The product's own description weighs more than its ancestors' text; a query that looks
like an HTS code jumps straight to the lines under that prefix.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING

from .models import SearchHit
from .schedule import digits, products

if TYPE_CHECKING:
    from .store import Model

CODE_QUERY_RE = re.compile(r"^\s*\d{2,4}(?:\.?\d{1,2}){0,3}\s*$")
WORD_RE = re.compile(r"[\w\-]+", re.UNICODE)
MAX_QUERY = 200


class SearchIndex:
    """An in-memory FTS5 index of the newest revision's product lines."""

    def __init__(self, model: Model) -> None:
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute(
            "CREATE VIRTUAL TABLE lines USING fts5(code UNINDEXED, digits UNINDEXED, description, path,"
            " tokenize='porter unicode61 remove_diacritics 2')"
        )
        newest = model.lines[-1]
        rows = []
        self.lines = {}
        for ln in products(newest):
            rows.append((ln.hts, ln.digits, ln.description, " > ".join(ln.path)))
            self.lines[ln.digits] = ln
        self.db.executemany("INSERT INTO lines VALUES (?, ?, ?, ?)", rows)
        self.db.commit()

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        q = (query or "").strip()[:MAX_QUERY]
        limit = max(1, min(int(limit), 200))
        if not q:
            return []
        if CODE_QUERY_RE.match(q):
            d = digits(q)
            hits = [
                SearchHit(ln.hts, ln.description, ln.path, 1.0)
                for k, ln in sorted(self.lines.items()) if k.startswith(d)
            ]
            return hits[:limit]
        words = [w for w in WORD_RE.findall(q.lower()) if w not in {"and", "or", "not", "near"}]
        if not words:
            return []
        match = " ".join(f'"{w}"*' for w in words)
        try:
            cur = self.db.execute(
                "SELECT code, description, path, bm25(lines, 0, 0, 4.0, 1.0) AS s FROM lines"
                " WHERE lines MATCH ? ORDER BY s LIMIT ?",
                (match, limit),
            )
            found = cur.fetchall()
        except sqlite3.OperationalError:
            return []
        return [
            SearchHit(code, desc, tuple(p for p in path.split(" > ") if p), round(-score, 4))
            for code, desc, path, score in found
        ]
