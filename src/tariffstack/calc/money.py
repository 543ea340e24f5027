"""Dollars for a batch of lines, in two stages that every path (one call, a file, Spark) shares.

Stage 1 (:func:`stage_lines`) needs the law: it prices each line's duty stack, its postal
options and the facts its entry will need (value, the value liable to MPF, the de minimis rule
of its origin and date). Stage 2 (:func:`stage_entries`) needs only those columns plus two
sums per entry (the entry's value and its value liable to MPF): de minimis is decided on the
entry's value, the MPF is computed per entry (minimum and maximum) and shared among its lines
by value. Without ``entry_id`` each line is its own entry and both stages run back to back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tariffstack.calc import fees as feemod
from tariffstack.calc.formula import LAYERS
from tariffstack.calc.lines import Lines, canonical, normalise
from tariffstack.calc.lowvalue import de_minimis_rules, postal, postal_rows
from tariffstack.calc.pricing import Pricer

DUTY_COLUMNS = tuple(f"duty_{x}_usd" for x in LAYERS)
IEEPA = tuple(LAYERS.index(x) for x in ("ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other"))
OUTPUT_SCHEMA = pa.schema([
    ("line", pa.int64()), ("hts10", pa.string()), ("origin", pa.string()), ("entry_date", pa.date32()),
    ("value", pa.float64()), ("quantity", pa.float64()), ("unit", pa.string()), ("quantity_2", pa.float64()),
    ("unit_2", pa.string()), ("mode", pa.string()), ("entry_id", pa.string()), ("revision", pa.string()),
    *((c, pa.float64()) for c in DUTY_COLUMNS), ("postal_duty_usd", pa.float64()), ("duty_usd", pa.float64()),
    ("mpf_usd", pa.float64()), ("hmf_usd", pa.float64()), ("fees_usd", pa.float64()), ("total_usd", pa.float64()),
    ("duty_pct_of_value", pa.float64()), ("landed_pct_of_value", pa.float64()), ("de_minimis", pa.bool_()),
    ("postal", pa.bool_()), ("entry_type", pa.string()), ("rates", pa.string()), ("headings", pa.string()),
    ("sources", pa.string()), ("notes", pa.string()), ("error", pa.string()),
])
# what stage 1 adds for stage 2 (dropped from the output)
INTERNAL = pa.schema([
    ("_good", pa.bool_()), ("_entry", pa.string()), ("_dm_rule", pa.int64()), ("_postal_ok", pa.bool_()),
    ("_postal_usd", pa.float64()), ("_postal_src", pa.string()), ("_postal_note", pa.string()),
    ("_mpf_base", pa.float64()), ("_entry_type", pa.string()), ("_usmca_or_program", pa.bool_()),
])
STAGE1_SCHEMA = pa.schema([*OUTPUT_SCHEMA, *INTERNAL])

Arr = npt.NDArray[Any]
NULL: Any = None  # None for numpy's typed signatures


def _join(a: Arr, b: Arr, sep: str = "; ") -> Arr:
    """Element-wise ``a; b`` skipping empty parts (object arrays of str), in Arrow's kernels.

    (Arrow's own null skipping returns an empty array when every value is null, so the choice
    is made here with masks over texts that hold no nulls.)"""
    x = pc.fill_null(pa.array(a, pa.string()), "")
    y = pc.fill_null(pa.array(b, pa.string()), "")
    both = pc.and_(pc.not_equal(x, ""), pc.not_equal(y, ""))
    joined = pc.if_else(both, pc.binary_join_element_wise(x, y, sep), pc.binary_join_element_wise(x, y, ""))
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


def _per_id(values: list[str], ids: npt.NDArray[np.int64]) -> Arr:
    table = np.array([*values, ""], dtype=object)
    return table[np.where(ids >= 0, ids, len(values))]


class _Texts:
    """Per-coefficient text columns, computed once per coefficient set."""

    def __init__(self) -> None:
        self.rates: list[str] = []
        self.heads: list[str] = []
        self.notes: list[str] = []
        self.errors: list[str | None] = []
        self.need1: list[str | None] = []
        self.need2: list[str | None] = []
        self.revision: list[str] = []

    def extend(self, pricer: Pricer) -> None:
        reverse = {c: f for (f, _, _), c in pricer._ckeys.items()}  # noqa: SLF001
        for k in range(len(self.rates), len(pricer.coefs)):
            c, f = pricer.coefs[k], pricer.formulas[reverse[k]]
            self.rates.append("; ".join(
                f"{t.layer} {t.rate_text}" + (f" on {t.base_share:.0%} of value" if t.base_share != 1.0 else "")
                + (f" {t.heading}" if t.heading and t.layer != "mfn" else "")
                for t in f.terms if not t.exempt))
            self.heads.append("; ".join(dict.fromkeys(t.heading for t in f.terms
                                                      if t.heading and not t.exempt and t.layer != "mfn")))
            self.notes.append("; ".join(c.notes))
            self.errors.append(c.error)
            self.need1.append(c.needs_q1)
            self.need2.append(c.needs_q2)
            self.revision.append(f.revision)


def texts(pricer: Pricer) -> _Texts:
    found = getattr(pricer, "_texts", None)
    if found is None:
        found = _Texts()
        pricer._texts = found  # type: ignore[attr-defined]
    found.extend(pricer)
    return found


def rename(table: pa.Table) -> pa.Table:
    """Columns under the calculator's names (case, spaces and aliases forgiven); a name given
    twice keeps its first column."""
    names = [canonical(c) for c in table.column_names]
    keep, seen = [], set()
    for k, nm in enumerate(names):
        if nm not in seen:
            seen.add(nm)
            keep.append(k)
    return pa.table({names[k]: table.column(k) for k in keep})


def stage_lines(pricer: Pricer, raw: pa.Table, line_numbers: npt.NDArray[np.int64],
                read_errors: Arr | None = None) -> pa.Table:
    """Price each line's stack and postal options; bad lines keep their reason (stage 1)."""
    t = rename(raw)
    lines = normalise(t, line_numbers, pricer.first, pricer.last, pricer.assume_unchanged, read_errors)
    err = lines.errors
    n = len(lines)
    sit = pricer.situations(lines, ~err.bad)
    err.add(np.not_equal(sit.error, NULL), lambda i: str(sit.error[i]))
    cid = pricer.coefficient_ids(np.where(err.bad, -1, sit.fid), lines.unit1, lines.unit2)
    tx = texts(pricer)
    cerr = _per_id([e or "" for e in tx.errors], cid)
    err.add(cerr != "", lambda i: str(cerr[i]))
    need1 = _per_id([e or "" for e in tx.need1], cid)
    need2 = _per_id([e or "" for e in tx.need2], cid)
    err.add((need1 != "") & np.isnan(lines.q1), lambda i: str(need1[i]))
    err.add((need2 != "") & np.isnan(lines.q2), lambda i: str(need2[i]))
    good = ~err.bad
    arrays = pricer.coefficient_arrays()
    c = np.where(good, cid, 0) if len(arrays["av"]) else np.zeros(n, dtype=np.int64)
    value = np.where(good, lines.value, 0.0)
    duty = np.zeros((n, len(LAYERS)))
    if len(arrays["av"]):
        duty = (value[:, None] * arrays["av"][c] + np.nan_to_num(lines.q1)[:, None] * arrays["q1"][c]
                + np.nan_to_num(lines.q2)[:, None] * arrays["q2"][c])
        fl = arrays["floor_layer"][c]
        has = good & (fl >= 0)
        if has.any():
            rows = np.flatnonzero(has)
            add = np.maximum(0.0, arrays["floor_frac"][c][rows] * value[rows] - duty[rows, 0]) * arrays["floor_scale"][c][rows]
            duty[rows, fl[rows]] += add
    duty = np.floor(duty * 100.0 + 0.5) / 100.0
    duty[~good] = np.nan
    notes = _per_id(tx.notes, np.where(good, cid, -1))
    # past the data: priced with the newest law, and said so
    stale = good & (lines.day > np.datetime64(pricer.last, "D"))
    notes = _join(notes, np.where(stale, f"after the newest law on file ({pricer.last}): priced as if "
                                  "nothing changed since (--assume-unchanged)", "").astype(object))
    ieepa_usd = duty[:, list(IEEPA)].sum(axis=1)
    dm = _dm_rule(lines)
    p_ok, p_usd, p_src, p_note = _postal(lines, good, value, ieepa_usd, dm)
    usmca_or_program = lines.inputs["usmca_claimed"] | (lines.inputs["program"] != "")
    mpf_base = np.where(good & ~lines.mpf_exempt & ~p_ok, value, 0.0)
    heads = np.where(good, _join(sit.rate_line, _per_id(tx.heads, np.where(good, cid, -1))), "").astype(object)
    out = {
        "line": lines.line, "hts10": np.where(good, _dot(lines.hts10), lines.raw_hts),
        "origin": np.where(good, lines.origin, lines.raw_origin), "entry_date": lines.day,
        "value": np.where(good, lines.value, np.nan), "quantity": lines.q1, "unit": lines.unit1,
        "quantity_2": lines.q2, "unit_2": lines.unit2, "mode": lines.mode, "entry_id": lines.entry_id,
        "revision": np.where(good, pricer.revision_names(lines.day), NULL),
        **{name: duty[:, k] for k, name in enumerate(DUTY_COLUMNS)},
        "rates": _per_id(tx.rates, np.where(good, cid, -1)), "headings": heads, "notes": notes,
        "error": err.msg,
        "_good": good, "_entry": lines.entry_id, "_dm_rule": dm, "_postal_ok": p_ok, "_postal_usd": p_usd,
        "_postal_src": p_src, "_postal_note": p_note, "_mpf_base": mpf_base, "_entry_type": lines.entry_type,
        "_usmca_or_program": usmca_or_program,
    }
    cols = {}
    for f in STAGE1_SCHEMA:
        if f.name in out:
            v = out[f.name]
            if f.type == pa.string():
                v = np.where(np.equal(v, NULL), NULL, v).astype(object)
                v = np.where(v == "", None, v) if f.name not in ("hts10", "origin") else v
            elif f.type == pa.date32():
                v = pa.array(v.astype("datetime64[D]"), pa.date32())
            cols[f.name] = pa.array(v, f.type, from_pandas=True) if not isinstance(v, pa.Array) else v
        else:
            cols[f.name] = pa.nulls(n, f.type)
    return pa.table(cols, schema=STAGE1_SCHEMA)


def _dot(d: Arr) -> Arr:
    """10 digits -> 0000.00.00.00, as arrays."""
    if not len(d):
        return d
    a = pa.array(d, pa.string())
    parts = [pc.utf8_slice_codeunits(a, i, j) for i, j in ((0, 4), (4, 6), (6, 8), (8, 10))]
    return np.asarray(pc.binary_join_element_wise(*parts, ".").to_numpy(zero_copy_only=False), dtype=object)


def _dm_rule(lines: Lines) -> npt.NDArray[np.int64]:
    from tariffstack.calc.lowvalue import de_minimis

    return de_minimis(lines.origin, lines.day, lines.value).rule


def _postal(lines: Lines, good: Arr, value: Arr, ieepa_usd: Arr, dm_rule: Arr) -> tuple[Arr, Arr, Arr, Arr]:
    """(applies, duty, source key, note) of the postal regime for each line (if not de minimis).

    The ad valorem option is the row's percent, or for ``ad_valorem_ieepa`` rows without one
    the line's own IEEPA duties as a percent of its value; the per-item option is a flat row
    (China 2025) or the band of that percent (EO 14324 sec. 3(c)). The carrier's choice is the
    line's ``postal_method`` (ad valorem unless it says specific and the date offers it).
    """
    n = len(lines)
    ok = np.zeros(n, dtype=bool)
    usd = np.zeros(n)
    src = np.full(n, "", dtype=object)
    note = np.full(n, "", dtype=object)
    is_postal = good & (lines.mode == "postal")
    if not is_postal.any():
        return ok, usd, src, note
    rows = postal_rows()
    opts = postal(lines.origin, lines.day)
    dm = de_minimis_rules()
    thr = np.array([r.threshold_usd for r in dm] + [800.0])[dm_rule]
    per_item = value / lines.items
    ieepa_pct = np.where(value > 0, ieepa_usd / np.where(value > 0, value, 1.0) * 100.0, 0.0)
    row_pct = np.array([np.nan if r.rate_pct is None else r.rate_pct for r in rows] + [np.nan])
    row_amount = np.array([np.nan if r.amount_usd is None else r.amount_usd for r in rows] + [np.nan])
    row_key = np.array([r.key for r in rows] + [""], dtype=object)
    row_method = np.array([r.method for r in rows] + [""], dtype=object)
    none = len(rows)
    av_k = np.where(opts.ad_valorem >= 0, opts.ad_valorem, none)
    rate = np.where(np.isnan(row_pct[av_k]), ieepa_pct, row_pct[av_k])
    band = np.where(rate < 16.0, 0, np.where(rate <= 25.0, 1, 2))
    spec_k = np.where(opts.specific >= 0, opts.specific, opts.bands[np.arange(n), band])
    spec_k = np.where(spec_k >= 0, spec_k, none)
    unconfirmed = is_postal & opts.unconfirmed
    note[unconfirmed] = ("postal duty basis after Jul 23, 2026 not confirmed (postal.csv): priced as an entry "
                         "with all duties")
    ok = is_postal & ~unconfirmed & (per_item <= thr) & ((av_k < none) | (spec_k < none))
    use_spec = ok & lines.specific_postal & (spec_k < none)
    use_av = ok & ~use_spec & (av_k < none)
    usd = np.where(use_spec, np.floor(np.nan_to_num(row_amount[spec_k]) * lines.items * 100.0 + 0.5) / 100.0, usd)
    usd = np.where(use_av, np.floor(value * np.nan_to_num(rate) / 100.0 * 100.0 + 0.5) / 100.0, usd)
    src = np.where(use_spec, row_key[spec_k], np.where(use_av, row_key[av_k], "")).astype(object)
    for i in np.flatnonzero(use_spec | use_av):  # a few words per postal line
        if use_spec[i]:
            note[i] = f"postal item: {row_method[spec_k[i]]} ${row_amount[spec_k[i]]:g} per item x {lines.items[i]:g}"
        else:
            note[i] = f"postal item: {row_method[av_k[i]]} {rate[i]:g}% of value"
            if lines.specific_postal[i]:
                note[i] += " (no per-item option on this date)"
    return ok, usd, src, note


def stage_entries(t: pa.Table, entry_value: Arr, entry_mpf_base: Arr) -> pa.Table:
    """De minimis on the entry's value, MPF per entry shared by value, HMF, totals (stage 2)."""
    n = t.num_rows
    good = np.asarray(t.column("_good").to_numpy(zero_copy_only=False), dtype=bool)
    value = np.nan_to_num(np.asarray(t.column("value").to_numpy(zero_copy_only=False), dtype=np.float64))
    day = np.asarray(t.column("entry_date").to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    mode = np.asarray(t.column("mode").fill_null("").to_numpy(zero_copy_only=False), dtype=object)
    rules = de_minimis_rules()
    rule = np.asarray(t.column("_dm_rule").to_numpy(zero_copy_only=False), dtype=np.int64)
    elig_rule = np.array([r.eligible for r in rules] + [True])[rule]
    thr = np.array([r.threshold_usd for r in rules] + [800.0])[rule]
    eligible = good & elig_rule & (entry_value <= thr)
    postal_ok = np.asarray(t.column("_postal_ok").to_numpy(zero_copy_only=False), dtype=bool) & ~eligible
    duties = {c: np.asarray(t.column(c).to_numpy(zero_copy_only=False), dtype=np.float64) for c in DUTY_COLUMNS}
    replaced = eligible | postal_ok
    for c in DUTY_COLUMNS:
        duties[c] = np.where(replaced & good, 0.0, duties[c])
    postal_usd = np.where(postal_ok, np.asarray(t.column("_postal_usd").to_numpy(zero_copy_only=False)), 0.0)
    duty = np.sum([duties[c] for c in DUTY_COLUMNS], axis=0) + postal_usd if n else np.zeros(0)
    # MPF per entry, shared by value among the entry's liable lines
    base = np.where(eligible, 0.0, np.asarray(t.column("_mpf_base").to_numpy(zero_copy_only=False)))
    declared = _col(t, "_entry_type")
    liable = good & (base > 0)
    mpf, etype, src, note = _mpf(declared, entry_value, np.asarray(entry_mpf_base, dtype=np.float64), base, day, liable)
    hmf_rate, hmf_key = _hmf(day, mode, good)
    hmf = np.floor(value * hmf_rate / 100.0 * 100.0 + 0.5) / 100.0
    fees = np.nan_to_num(mpf) + hmf
    total = duty + fees
    with np.errstate(divide="ignore", invalid="ignore"):
        duty_pct = np.where(value > 0, np.round(duty / value * 100.0, 4), np.nan)
        landed = np.where(value > 0, np.round(total / value * 100.0, 4), np.nan)
    notes = np.asarray(t.column("notes").fill_null("").to_numpy(zero_copy_only=False), dtype=object)
    dm_note = np.where(eligible, np.array([f"de minimis ({r.id})" for r in rules] + ["de minimis"], dtype=object)[rule],
                       "").astype(object)
    notes = _join(_join(_join(notes, dm_note), np.where(~eligible, _col(t, "_postal_note"), "").astype(object)), note)
    hint = good & ~eligible & (base > 0) & np.asarray(t.column("_usmca_or_program").to_numpy(zero_copy_only=False), dtype=bool)
    notes = _join(notes, np.where(hint, "MPF charged although a preference is claimed: USMCA and other FTA "
                                  "goods may be exempt (19 U.S.C. 58c(b)); set mpf_exempt if so", "").astype(object))
    dm_src = np.where(eligible, np.array([f"de_minimis:{r.id}" for r in rules] + ["de_minimis:19 USC 1321"],
                                         dtype=object)[rule], "").astype(object)
    heads = _col(t, "headings")
    sources = _join(_join(_join(_join(np.where(eligible | postal_ok, "", heads).astype(object), src),
                                np.where(hmf > 0, hmf_key, "").astype(object)), dm_src),
                    np.where(postal_ok, _col(t, "_postal_src"), "").astype(object))
    bad = ~good
    final = {
        **{c: duties[c] for c in DUTY_COLUMNS}, "postal_duty_usd": np.where(good, postal_usd, np.nan),
        "duty_usd": np.where(good, duty, np.nan), "mpf_usd": np.where(good, mpf, np.nan),
        "hmf_usd": np.where(good, hmf, np.nan), "fees_usd": np.where(good, fees, np.nan),
        "total_usd": np.where(good, total, np.nan), "duty_pct_of_value": np.where(good, duty_pct, np.nan),
        "landed_pct_of_value": np.where(good, landed, np.nan),
        "de_minimis": eligible, "postal": postal_ok, "entry_type": etype, "sources": sources, "notes": notes,
    }
    cols = []
    for f in OUTPUT_SCHEMA:
        if f.name in final:
            v = final[f.name]
            if f.type == pa.string():
                v = np.where((v == "") | bad, NULL, v).astype(object)
            elif f.type == pa.bool_():
                v = pa.array(np.asarray(v, dtype=bool), pa.bool_(), mask=bad)
            cols.append(v if isinstance(v, pa.Array) else pa.array(v, f.type, from_pandas=True))
        else:
            cols.append(t.column(f.name))
    return pa.table(cols, schema=OUTPUT_SCHEMA)


def _col(t: pa.Table, name: str) -> Arr:
    return np.asarray(t.column(name).fill_null("").to_numpy(zero_copy_only=False), dtype=object)


def _mpf(declared: Arr, entry_value: Arr, entry_base: Arr, base: Arr, day: Arr,
         liable: Arr) -> tuple[Arr, Arr, Arr, Arr]:
    """(MPF share, entry type, source keys, note) per line: the entry's MPF from the fee row of
    its type and fiscal year, shared by value; a missing figure leaves the MPF empty, said why."""
    n = len(day)
    kinds = sorted({k for k, _ in feemod.ENTRY_TYPES.values()})
    code = np.full(n, -1, dtype=np.int64)
    manual = np.zeros(n, dtype=bool)
    enc = pc.dictionary_encode(pa.array(declared, pa.string()))
    words = enc.dictionary.to_pylist()
    idx = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    word_code = np.array([kinds.index(feemod.ENTRY_TYPES[w][0]) if w in feemod.ENTRY_TYPES else -1 for w in words]
                         + [-1], dtype=np.int64)
    word_manual = np.array([feemod.ENTRY_TYPES[w][1] if w in feemod.ENTRY_TYPES else False for w in words] + [False])
    code, manual = word_code[idx], word_manual[idx]
    auto = code < 0
    informal = auto & (entry_value <= feemod.INFORMAL_LIMIT_USD)
    code = np.where(auto, np.where(informal, kinds.index("informal_automated"), kinds.index("formal")), code)
    kind = np.array(kinds, dtype=object)[code]
    note = np.where(liable & informal, f"taken as an informal entry ({feemod.INFORMAL_LIMIT_SOURCE}); "
                    "give entry_type if filed otherwise", "").astype(object)
    amount = np.full(n, np.nan)
    keys = np.full(n, "", dtype=object)
    extra = np.full(n, "", dtype=object)
    for r in feemod.fee_table():
        if r.fee not in ("mpf", "mpf_manual_surcharge"):
            continue
        if r.entry_type not in kinds:
            continue
        sel = liable & (code == kinds.index(r.entry_type)) & (day >= np.datetime64(r.first, "D"))
        if r.last is not None:
            sel &= day <= np.datetime64(r.last, "D")
        if r.fee == "mpf_manual_surcharge":
            sel &= manual
            amount = np.where(sel, np.nan_to_num(amount) + (r.flat_usd or 0.0), amount)
        elif r.flat_usd is not None:
            amount = np.where(sel, r.flat_usd, amount)
        else:
            v = entry_base * (r.rate_pct or 0.0) / 100.0
            if r.min_usd is not None:
                v = np.maximum(v, r.min_usd)
            if r.max_usd is not None:
                v = np.minimum(v, r.max_usd)
            amount = np.where(sel, v, amount)
        if r.fee == "mpf_manual_surcharge":
            extra[sel] = r.key
        else:
            keys[sel] = r.key
    keys = _join(keys, extra) if manual.any() else keys
    missing = liable & np.isnan(amount)
    note = _join(note, np.where(missing, "no MPF figures for this entry type and fiscal year in "
                                "data/calc/fees.csv: MPF not computed", "").astype(object))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(entry_base > 0, base / np.where(entry_base > 0, entry_base, 1.0), 0.0)
    mpf = np.where(liable, np.floor(amount * share * 100.0 + 0.5) / 100.0, 0.0)
    etype = np.where(liable, np.where(manual, kind + "_manual", kind), "").astype(object)
    return mpf, etype, np.where(liable, keys, "").astype(object), note


def _hmf(day: Arr, mode: Arr, good: Arr) -> tuple[Arr, str]:
    rate = np.zeros(len(day))
    key = ""
    ocean = good & (mode == "ocean")
    for r in feemod.fee_table():
        if r.fee != "hmf":
            continue
        mask = ocean & (day >= np.datetime64(r.first, "D"))
        if r.last is not None:
            mask &= day <= np.datetime64(r.last, "D")
        rate = np.where(mask, r.rate_pct or 0.0, rate)
        key = r.key
    return rate, key


def entry_sums(t: pa.Table) -> tuple[Arr, Arr]:
    """(entry value, entry value liable to MPF) per line, when each line is its own entry or
    when the batch holds whole entries (lines with the same ``entry_id``)."""
    good = np.asarray(t.column("_good").to_numpy(zero_copy_only=False), dtype=bool)
    value = np.where(good, np.nan_to_num(np.asarray(t.column("value").to_numpy(zero_copy_only=False), dtype=np.float64)), 0.0)
    base = np.asarray(t.column("_mpf_base").to_numpy(zero_copy_only=False), dtype=np.float64)
    entry = np.asarray(t.column("_entry").fill_null("").to_numpy(zero_copy_only=False), dtype=object)
    grouped = entry != ""
    if not grouped.any():
        return value, base
    keys = pa.array(np.where(grouped, entry, "").astype(object), pa.string())
    enc = pc.dictionary_encode(keys)
    idx = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    sums_v = np.bincount(idx, weights=value)
    sums_b = np.bincount(idx, weights=base)
    return np.where(grouped, sums_v[idx], value), np.where(grouped, sums_b[idx], base)


def price_table(pricer: Pricer, raw: pa.Table, line_numbers: npt.NDArray[np.int64] | None = None,
                read_errors: Arr | None = None) -> pa.Table:
    """Both stages on one batch that holds whole entries (or no entry_id at all)."""
    if line_numbers is None:
        line_numbers = np.arange(1, raw.num_rows + 1, dtype=np.int64)
    t = stage_lines(pricer, raw, line_numbers, read_errors)
    v, b = entry_sums(t)
    return stage_entries(t, v, b)
