"""Expected-value inputs for effective rates: USMCA claim shares and metal content shares.

The statutory panel answers for the default inputs: no preference claimed and the whole value
of a derivative product counted as 232 metal. Averages that analysts quote are often expected
values instead. Both options are computed by the engine itself, never by a second reading of the
law, and always labelled:

* **Metal content shares** (``metal_content_shares_bea_hs10.csv`` of ``../shared/weights``, BEA
  input-output estimates). For every stack in the panel with a duty on a metal content, the engine
  re-evaluates one product x origin x day of it with ``metal_content_share=0``; the rate at a
  line's share ``s`` is then exact: linear in ``s`` for every layer, and ``max(at 0, s x at 1)``
  for 232, where the engine keeps the highest duty. ``s`` is the sum of the line's shares of
  the metals the stack's duties name (steel, aluminum, copper; ``metal``: all three), at most 1;
  a line the file lacks keeps the whole value (the panel default).
* **USMCA claim shares** for Canada and Mexico (given by the user: no file states them). A
  variant panel is built for those two origins with every USMCA-conditioned heading applied as
  if claimed (``Inputs(usmca_claimed=True)`` for every entry) and MFN at the program S rate
  (``Engine.mfn`` with the claim); the effective rate is ``(1 - share) x law + share x claimed``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from tariffstack.engine.us import USMCA_PARTNERS, Engine, Inputs
from tariffstack.errors import BadInput, DataError
from tariffstack.law.measures import Measure
from tariffstack.panel import ADD_LAYERS, Panel
from tariffstack.sources.schedule import products
from tariffstack.stats.effective import MetalInputs, UsmcaInputs
from tariffstack.stats.variants import build_variant

METAL_FILE = "metal_content_shares_bea_hs10.csv"
BASES = {"steel": (1, 0, 0), "aluminum": (0, 1, 0), "copper": (0, 0, 1), "metal": (1, 1, 1)}
PARTNER_OF = {"CA": "canada", "MX": "mexico"}
CONTENT_MARK = "content (assumed 100%"


# ---- metal content --------------------------------------------------------------------------
def _metal_shares(folder: Path) -> pa.Table:
    path = folder / METAL_FILE
    hts, steel, alu, cu = [], [], [], []
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc} (the metal content option needs it)") from exc
    with fh:
        reader = csv.DictReader(fh)
        need = ("hs10", "steel_share", "aluminum_share", "copper_share")
        missing = [c for c in need if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path} line 1: missing column(s) {', '.join(missing)}")
        for row in reader:
            n = reader.line_num
            code = (row["hs10"] or "").strip()
            if len(code) != 10 or not code.isdigit():
                raise DataError(f"{path} line {n}: bad HTS-10 code {code!r}")
            vals = []
            for c in need[1:]:
                text = (row[c] or "").strip()
                try:
                    v = float(text) if text not in ("", "NA") else 0.0
                except ValueError:
                    raise DataError(f"{path} line {n}: {c} {text!r} is not a number") from None
                if not math.isfinite(v) or v < 0:
                    raise DataError(f"{path} line {n}: {c} {text!r} is not a share >= 0")
                # BEA input requirements of the metal industries themselves exceed 1 (about 1.19
                # dollars of steel per dollar of output of 331110): such a line is all metal
                vals.append(min(v, 1.0))
            hts.append(code)
            steel.append(vals[0])
            alu.append(vals[1])
            cu.append(vals[2])
    return pa.table({"hts10": hts, "steel": pa.array(steel, pa.float64()),
                     "aluminum": pa.array(alu, pa.float64()), "copper": pa.array(cu, pa.float64())})


def _bases(layers_json: str) -> tuple[int, int, int]:
    """Which metals the stack's content-based duties name (steel, aluminum, copper flags)."""
    flags = [0, 0, 0]
    for layer in json.loads(layers_json):
        to = layer.get("applies_to") or ""
        if CONTENT_MARK in to and not layer.get("exempt"):
            for k, v in enumerate(BASES.get(to.split(" content")[0], (1, 1, 1))):
                flags[k] |= v
    return flags[0], flags[1], flags[2]


def metal_inputs(panel: Panel, engine: Engine, weights_dir: Path) -> MetalInputs:
    """The layers at metal share 0 of every stack with a content-based duty, and the shares."""
    shares = _metal_shares(weights_dir)
    reps = panel.db.query(f"""
        WITH s AS (SELECT stack_id, layers_json FROM stacks WHERE layers_json LIKE '%{CONTENT_MARK}%'),
        c AS (SELECT r.stack_id, r.mfn_key, r.group_id, p.hts10,
                     greatest(p.valid_from, r.valid_from) AS day,
                     row_number() OVER (PARTITION BY r.stack_id, r.mfn_key ORDER BY r.valid_from, p.hts10) AS k
              FROM regimes r JOIN s USING (stack_id)
              JOIN products p ON p.sig_id = r.sig_id AND (r.mfn_key = 0 OR p.mfn_key = r.mfn_key)
                             AND p.valid_from <= r.valid_until AND r.valid_from <= p.valid_until)
        SELECT c.stack_id, c.mfn_key, c.hts10, c.day, (SELECT min(iso2) FROM groups g WHERE g.group_id = c.group_id),
               s.layers_json
        FROM c JOIN s USING (stack_id) WHERE k = 1 ORDER BY c.stack_id, c.mfn_key""").fetchall()
    cols: dict[str, list[Any]] = {k: [] for k in ("stack_id", "mfn_key", "b_steel", "b_aluminum", "b_copper",
                                                   *ADD_LAYERS, "additional")}
    zero = Inputs(metal_content_share=0.0)
    for stack_id, mfn_key, hts10, day, origin, layers_json in reps:
        line = engine.line(hts10, day)
        _, rate = engine.mfn(line, origin, day)
        layers = engine.additional(line, origin, day, zero, rate, [])
        b = _bases(layers_json)
        for key, v in zip(("stack_id", "mfn_key", "b_steel", "b_aluminum", "b_copper"),
                          (stack_id, mfn_key, *b), strict=True):
            cols[key].append(v)
        for name in ADD_LAYERS:
            vals = [x.rate_pct for x in layers if x.layer == name and not x.exempt]
            cols[name].append(None if any(v is None for v in vals) else sum(v or 0.0 for v in vals))
        cols["additional"].append(sum(x.rate_pct or 0.0 for x in layers if not x.exempt))
    table = pa.table({k: pa.array(v, pa.int32() if k in ("stack_id", "mfn_key") else
                                  (pa.int8() if k.startswith("b_") else pa.float64())) for k, v in cols.items()})
    label = (f"metal content shares per HTS-10 (BEA input-output estimates, {weights_dir / METAL_FILE}) "
             "on duties charged on a metal content, instead of the whole value")
    return MetalInputs(table, shares, label)


# ---- USMCA claims ---------------------------------------------------------------------------
def parse_shares(specs: tuple[str, ...] | list[str]) -> dict[str, float]:
    """``0.9`` (both), ``CA=0.38``, ``MX=0.5`` -> {"canada": 0.38, "mexico": 0.5}; shares in [0, 1]."""
    out: dict[str, float] = {}
    for spec in specs:
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            who, _, num = part.rpartition("=")
            targets = [who.strip().upper()] if who else list(PARTNER_OF)
            if any(t not in PARTNER_OF for t in targets):
                raise BadInput(f"--usmca-share {part!r}: the share is for CA or MX (e.g. CA=0.38)", field="usmca_share")
            try:
                v = float(num.rstrip("%")) / (100 if num.endswith("%") else 1)
            except ValueError:
                raise BadInput(f"--usmca-share {part!r}: {num!r} is not a number", field="usmca_share") from None
            if not math.isfinite(v) or not 0 <= v <= 1:
                raise BadInput(f"--usmca-share {part!r}: a share is between 0 and 1", field="usmca_share")
            for t in targets:
                out[PARTNER_OF[t]] = v
    return out


def _claimed(m: Measure) -> Measure | None:
    """A version as every entry claiming USMCA reads it: the condition holds, for CA and MX only."""
    if m.condition != "usmca":
        return m
    payers = (USMCA_PARTNERS if m.countries is None else m.countries & USMCA_PARTNERS) - m.excluded_countries
    if not payers:
        return None
    return replace(m, condition=None, countries=frozenset(payers), revision=f"{m.revision} [USMCA claimed]")


@lru_cache(maxsize=2)
def claimed_mfn(engine: Engine) -> pa.Table:
    """MFN with a USMCA claim (``Engine.mfn``: program S where the line grants it), per line and
    period of the schedule, where it differs from column 1 General.

    Kept per engine (a server or a test asks for several claim shares over the same law); a
    line object shared by several revisions is read once."""
    model = engine.model
    claim = Inputs(usmca_claimed=True)
    memo: dict[tuple[str, str], float | None] = {}
    per_line: dict[int, tuple[str, float | None]] = {}
    open_rows: dict[str, list[Any]] = {}
    done: list[list[Any]] = []
    n = len(model.revisions)
    one_day = timedelta(days=1)
    for idx in range(n):
        start = model.starts[idx]
        last = (model.starts[idx + 1] - one_day) if idx + 1 < n else model.last_date
        if last < start:
            continue  # a revision that takes over the same day as the next one (no day of its own)
        seen = set()
        for line in products(model.lines[idx]):
            known = per_line.get(id(line))  # the model keeps its lines alive meanwhile
            if known is None:
                key = (line.general, line.special)
                if key not in memo:
                    layer, _ = engine.mfn(line, "CA", start, claim)
                    memo[key] = layer.rate_pct
                known = per_line[id(line)] = (line.hts10, memo[key])
            hts10, pct = known
            cur = open_rows.get(hts10)
            if cur is not None and cur[3] == pct and cur[2] + one_day == start:
                cur[2] = last
            else:
                if cur is not None:
                    done.append(cur)
                open_rows[hts10] = [hts10, start, last, pct]
            seen.add(hts10)
        for h in [h for h in open_rows if h not in seen]:
            done.append(open_rows.pop(h))
    done.extend(open_rows.values())
    return pa.table({"hts10": [r[0] for r in done], "valid_from": pa.array([r[1] for r in done], pa.date32()),
                     "valid_until": pa.array([r[2] for r in done], pa.date32()),
                     "pct": pa.array([r[3] for r in done], pa.float64())})


def usmca_inputs(engine: Engine, law: Panel, home: Path, shares: dict[str, float],
                 progress: Any = None) -> UsmcaInputs:
    """The all-claimed variant panel for CA and MX (built once per law panel, then reused)."""
    model = engine.model
    measures: dict[str, list[Measure]] = {}
    for h, versions in model.measures.items():
        kept = [c for c in (_claimed(v) for v in versions) if c is not None]
        if kept:
            measures[h] = kept
    variant = Engine(replace(model, measures=measures))
    key = hashlib.sha256(json.dumps([law.meta.get("code"), law.meta.get("intervals"), "usmca-claimed-1"])
                         .encode()).hexdigest()[:16]
    panel = build_variant(variant, law, home / "expected" / "usmca-claimed", key,
                          {"variant": "every entry from Canada and Mexico claims USMCA (general note 11)"},
                          origins=sorted(USMCA_PARTNERS), progress=progress)
    label = ("USMCA claim shares " + ", ".join(f"{p} {v:.0%}" for p, v in sorted(shares.items()))
             + " (your input; the rest pays as no claim is made)")
    return UsmcaInputs(panel, claimed_mfn(engine), shares, label)
