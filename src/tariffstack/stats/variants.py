"""Panels for amended law (scenarios, expected-value variants), built by the panel's own builder.

A variant is the compiled model with some versions changed; its panel is computed by
``panel.builder.Builder`` exactly as the law's is, continuing the law's store from the first day
the variant can differ (the rows before it are the law's) and reusing the law's evaluations of
every situation no changed version takes part in. Changed versions carry a new revision label,
so the panel's keys for them differ from the law's and no stale evaluation can be reused. The
store goes to its own folder (``<home>/scenarios/...``, ``<home>/expected/...``), keyed by the
variant's content and the law panel it continues; a second run with the same key reuses it.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tariffstack.engine.us import Engine
from tariffstack.errors import DataError
from tariffstack.files import exclusive
from tariffstack.panel import Panel
from tariffstack.panel import store as panel_store
from tariffstack.panel.builder import Builder


def check_current(engine: Engine, law: Panel) -> None:
    """The law panel must be the one the law on file gives, or a variant would mix two laws."""
    now = [[d, h] for d, h in panel_store.interval_hashes(engine)]
    if law.meta.get("intervals") != now or law.meta.get("code") != panel_store.code_fingerprint():
        raise DataError(f"the rate panel in {law.path.parent} is not the one the law on file gives "
                        "(data or code changed since it was built): run 'tariffstack build' first")


def _meta_key(folder: Path) -> str | None:
    try:
        meta = json.loads((panel_store.store_path(folder) / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = meta.get("variant_key")
    return found if isinstance(found, str) else None


def _law_from(tables: dict[str, pa.Table], until: date, seed: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """A variant's rows before ``until``, then the law's rows from ``until`` on.

    From ``until`` the amended model is the law again (every changed version has ended), so the
    law's rows are the variant's: they are cut at ``until`` and appended."""
    edge = pa.scalar(until, pa.date32())
    for name, order in (("products", ["hts10", "valid_from"]), ("regimes", ["sig_id", "mfn_key", "valid_from", "group_id"])):
        tail = seed[name].filter(pc.greater_equal(seed[name]["valid_until"], edge))
        starts = pc.max_element_wise(tail["valid_from"], edge)
        tail = tail.set_column(tail.schema.get_field_index("valid_from"), "valid_from", starts)
        tables[name] = pa.concat_tables([tables[name], tail.cast(tables[name].schema)]).sort_by(
            [(c, "ascending") for c in order])
    return tables


def build_variant(engine: Engine, law: Panel, folder: Path, key: str, describe: dict[str, Any], *,
                  since: date | None = None, until: date | None = None, origins: list[str] | None = None,
                  progress: Any = None) -> Panel:
    """The panel of ``engine``'s (amended) model in ``folder``: reused when ``key`` matches.

    With ``since``, the law's store is continued from that day (it must be a boundary of the
    amended model); with ``until`` as well, the variant is the law again from that day, so only
    [since, until) is computed; with ``origins``, only those origins are computed (a variant that
    can differ only for them), from the first day of the data.
    """
    if _meta_key(folder) == key:
        return Panel.open(folder)
    with exclusive(folder / ".build.lock"):
        if _meta_key(folder) == key:  # built by another process meanwhile
            return Panel.open(folder)
        seed: dict[str, pa.Table] | None = None
        memo: dict[tuple[Any, ...], int] | None = None
        if since is not None:
            seed, memo = panel_store.load_seed(law.path)
        builder = Builder(engine, seed, since, memo)
        if origins is not None:
            builder.countries = list(origins)  # the builder walks these origins only
        if since is not None and until is not None and seed is not None and until <= engine.model.last_date:
            tables = _law_from(builder.run(progress, until=until), until, seed)
        else:
            tables = builder.run(progress)
        meta = {**{k: law.meta[k] for k in ("format", "version", "code", "first_date", "last_date", "revisions")},
                "built": time.strftime("%Y-%m-%dT%H:%M:%S"), "variant_key": key,
                "law_panel": str(law.path), "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
                "origins": origins, "evaluations": builder.evaluations, **describe,
                "inputs": "defaults, except as the variant says"}
        panel_store.write_store(folder, tables, meta, {})
    return Panel.open(folder)
