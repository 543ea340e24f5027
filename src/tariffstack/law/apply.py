"""Read each parsed heading version through its registry records.

The parser dates every version of a heading and reads its rate and exceptions; the registry says
who pays and for what. This module combines them: each version is cut to the periods of its
records, and each piece takes the record's layer, countries, product scope, condition and
citation. A heading printed in a revision with no record stops the build, and so does a record
whose role contradicts the printed rate or whose note lists no products.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import cache

from tariffstack.errors import DataError
from tariffstack.law.events import LegalEvent, data_rows
from tariffstack.law.measures import Family, Measure
from tariffstack.law.rates import parse_additional
from tariffstack.law.registry import Record, Registry
from tariffstack.law.validity import Validity
from tariffstack.sources.notes import NotesIndex

STAND_IN_NOTES = "chapter 99, 2026 rev 6"


@cache
def _aliases() -> tuple[tuple[str, str, str, str, str], ...]:
    return tuple((r["first"], r["last"], r["ref"], r["use"], r["reason"]) for r in data_rows("note_aliases.csv"))


def aliased(heading: str, refs: Iterable[str]) -> tuple[list[str], str]:
    """Note references to read, after mapping subdivisions deleted before the notes at hand."""
    out: list[str] = []
    reasons: list[str] = []
    for ref in refs:
        hit = next((a for a in _aliases() if a[0] <= heading <= a[1] and a[2] == ref), None)
        if hit is None:
            out.append(ref)
            continue
        if hit[3] != "-":
            out.extend(hit[3].split(";"))
            reasons.append(hit[4])
    return out, "; ".join(dict.fromkeys(reasons))


def missing_records(registry: Registry, printed: dict[str, str]) -> list[str]:
    """Headings printed in some revision (heading -> first revision) with no registry record."""
    return [f"{h} (first in {rev})" for h, rev in sorted(printed.items()) if h not in registry]


def _codes(r: Record, terms: tuple[str, ...], notes: NotesIndex | None, what: str) -> tuple[set[str], str]:
    """Digit prefixes of the ``code:`` and ``note:`` terms (with note aliases), and any stand-in."""
    codes = r.codes(terms)
    refs, stand_ins = aliased(r.heading, r.notes(terms))
    for ref in refs:
        if notes is None:
            raise DataError(f"{r.where}: {what} cite U.S. note {ref} but no Chapter 99 notes text is at hand")
        try:
            found = notes.codes(ref)
        except KeyError:
            raise DataError(f"{r.where}: {what}: U.S. note {ref} is not in the notes text ({STAND_IN_NOTES})") from None
        if not found:
            raise DataError(f"{r.where}: {what}: U.S. note {ref} lists no product codes in the notes text")
        codes |= found
    return codes, stand_ins


def _role_ok(r: Record, m: Measure) -> bool:
    if m.status != "active":
        return True  # a terminated or suspended version imposes nothing either way
    kind = m.duty.kind
    if r.role == "exempt":
        return m.exempts
    if r.role == "floor":
        return kind in ("floor", "absolute")
    return kind in ("plus", "absolute") and m.duty.parsed


def read_through(m: Measure, records: list[Record], notes: NotesIndex | None) -> list[Measure]:
    """The pieces of one version that records cover, each read as its record says."""
    out: list[Measure] = []
    for r in records:
        span = r.covers(m.start, m.end)
        if span is None:
            continue
        if r.status == "historical":
            continue
        if r.status == "modelled" and not _role_ok(r, m):
            raise DataError(
                f"{r.where}: {r.heading}: role {r.role!r} contradicts the rate printed in {m.revision} "
                f"({m.duty.text!r})"
            )
        lo, hi = span
        fam = Family(first=r.heading, last=r.heading, layer=r.layer, scope=m.family.scope,  # type: ignore[arg-type]
                     countries=r.countries, citation=r.citation, summary=m.family.summary)
        source = m.start_source
        if lo != m.start:
            source = f"from {lo:%B %-d, %Y} per the heading registry ({r.citation})"
        scope, codes, by_footnote = "unknown", frozenset[str](), False
        terms = r.products
        if "all" in terms:
            scope = "all"
        elif any(t.startswith("layer:") for t in terms):
            scope = next(t for t in terms if t.startswith("layer:"))
        elif "none" not in terms:
            found, stand_ins = _codes(r, terms, notes, "products")
            if found:
                scope, codes, by_footnote = "list", frozenset(found), "footnote" in terms
            elif "footnote" in terms:
                scope = "footnote"
            if stand_ins:
                source = f"{source}; scope: {stand_ins}"
        except_codes, _ = _codes(r, r.except_products, notes, "except_products")
        duty = m.duty
        if r.basis is not None:
            duty = replace(duty, content_basis=r.basis)
        if r.role == "floor" and duty.kind == "absolute":
            duty = replace(duty, kind="floor")  # the note makes the printed rate an all-in rate
        piece = replace(
            m, start=lo, end=hi, start_source=source, layer=r.layer, family=fam, duty=duty,  # type: ignore[arg-type]
            countries=r.countries, excluded_countries=r.except_countries, scope=scope, codes=codes,
            by_footnote=by_footnote, except_codes=frozenset(except_codes), condition=r.condition,
            unevaluated=None if r.status == "modelled" else r.reason, record=r.where,
        )
        out.append(piece)
    return out


def apply_registry(measures: dict[str, list[Measure]], registry: Registry, notes: NotesIndex | None,
                   printed: dict[str, str], covered_until: date | None = None, *,
                   whole_history: bool = True) -> tuple[dict[str, list[Measure]], dict[str, str]]:
    """Every version read through the registry, and the not-evaluated headings with why.

    A record for a heading no revision prints is a mistake, unless it takes effect after the
    newest revision at hand (``covered_until``): a registry may know headings newer than the data.
    With only part of the history on file (``whole_history`` false) such records are of headings
    that ended before it, and are left unused.
    """
    missing = missing_records(registry, printed)
    if missing:
        raise DataError(
            f"{len(missing)} Chapter 99 heading(s) have no record in the heading registry "
            f"(src/tariffstack/data/registry): {', '.join(missing[:12])}"
            + (" ..." if len(missing) > 12 else "")
            + "; review them ('tariffstack registry propose' prints rows to start from)"
        )
    unknown = sorted(h for h, recs in registry.by_heading.items() if whole_history and h not in printed and (
        covered_until is None or any(r.first is None or r.first <= covered_until for r in recs)))
    if unknown:
        first = registry.get(unknown[0])[0]
        raise DataError(f"{first.where}: heading {unknown[0]} appears in no revision")
    out: dict[str, list[Measure]] = {}
    unmodelled: dict[str, str] = {}
    errors: list[str] = []
    for h, versions in measures.items():
        records = registry.get(h)
        try:
            pieces = [p for v in versions for p in read_through(v, records, notes)]
        except DataError as exc:
            errors.append(str(exc))
            continue
        for r in records:
            if r.status == "not_evaluated":
                unmodelled[h] = r.reason
        if pieces:
            out[h] = sorted(pieces, key=lambda v: (v.start, v.revision_index))
    _add_note_exemptions(out, registry)
    if errors:
        raise DataError(f"the heading registry has {len(errors)} bad record(s): " + "; ".join(errors[:20])
                        + (" ..." if len(errors) > 20 else ""))
    return out, unmodelled


def _add_note_exemptions(measures: dict[str, list[Measure]], registry: Registry) -> None:
    """Make each exempting heading an exception of the headings its record ``exempts``."""
    blocks: list[tuple[str, str, str]] = [
        (lo, hi, h) for h, records in registry.by_heading.items() for r in records for lo, hi in r.exempts
    ]
    if not blocks:
        return
    for h, versions in measures.items():
        extra = tuple(dict.fromkeys(e for lo, hi, e in blocks if lo <= h <= hi and e != h))
        if extra:
            measures[h] = [replace(v, exceptions=tuple(dict.fromkeys((*v.exceptions, *extra)))) for v in versions]


def first_printed(headings_by_rev: Iterable[tuple[str, Mapping[str, object]]]) -> dict[str, str]:
    """heading -> name of the first revision printing it (8-digit 9903 lines only)."""
    out: dict[str, str] = {}
    for rev, lines in headings_by_rev:
        for d in lines:
            if len(d) == 8 and d.startswith("9903"):
                out.setdefault(f"{d[:4]}.{d[4:6]}.{d[6:]}", rev)
    return out



# ---- amending compiled law: further legal events on the read-through versions ------------------
# Hypothetical events (what-if scenarios) change the law through the same types the build uses:
# a LegalEvent as in legal_events.csv, a period of a version changed, a heading no revision
# prints read through a registry Record. Each returns new objects and never changes its input.

def apply_events(measures: Mapping[str, list[Measure]], events: Sequence[LegalEvent]) -> dict[str, list[Measure]]:
    """The versions as further legal events leave them (``LegalEvent.apply``, as at build time).

    Headings no event touches keep their list object, so callers can tell what changed."""
    out: dict[str, list[Measure]] = {}
    for h, versions in measures.items():
        pieces = list(versions)
        for e in events:
            pieces = [q for p in pieces for q in e.apply(p)]
        changed = len(pieces) != len(versions) or any(a is not b for a, b in zip(pieces, versions, strict=False))
        out[h] = pieces if changed else versions
    return out


def within(m: Measure, first: date, last: date | None,
           change: Callable[[Measure], Measure | None]) -> list[Measure]:
    """The version with its days from ``first`` through ``last`` (inclusive; None: no end) passed
    through ``change`` (None drops them, as a suspension does); its other days stay as they were."""
    span = m.validity.intersect(Validity.from_last(first, last))
    if span is None:
        return [m]
    assert span.start is not None
    lo, end = span.start, span.end
    out: list[Measure] = []
    if m.start < lo:
        out.append(replace(m, end=lo))
    mid = change(replace(m, start=lo, end=end))
    if mid is not None:
        out.append(mid)
    if end is not None and (m.end is None or end < m.end):
        out.append(replace(m, start=end))
    return out


def proposed_measure(record: Record, rate_text: str, description: str, notes: NotesIndex | None, *,
                     revision: str, revision_index: int, exceptions: tuple[str, ...] = ()) -> list[Measure]:
    """A heading no revision prints, as a printed one would read: its rate column text (e.g.
    ``The duty provided in the applicable subheading + 25%``) read by the schedule's parser,
    then its registry record (who pays, for what, from when) by ``read_through``."""
    if record.first is None:
        raise DataError(f"{record.where}: {record.heading}: a heading no revision prints needs a first day")
    fam = Family(first=record.heading, last=record.heading, layer=record.layer,  # type: ignore[arg-type]
                 scope="unknown", countries=record.countries, citation=record.citation, summary=description)
    base = Measure(
        heading=record.heading, revision=revision, revision_index=revision_index, start=record.first,
        start_source=f"from {record.first:%B %-d, %Y} ({record.citation})", end=record.end, text=description,
        duty=parse_additional(rate_text, description), status="active", layer=record.layer,  # type: ignore[arg-type]
        family=fam, countries=record.countries, excluded_countries=record.except_countries,
        exceptions=exceptions, note_refs=tuple(record.notes(record.products)), codes=frozenset(),
        scope="unknown", condition=record.condition, mfn_condition=None, loaded_before=None,
        entered_before=None,
    )
    return read_through(base, [record], notes)


def backdated_exceptions(measures: dict[str, list[Measure]]) -> dict[str, list[Measure]]:
    """Exceptions a later text adds together with a heading dated back before that text.

    A heading's exceptions are read from its text in the revision in force. When a later
    revision prints a new heading E with an earlier legal start (EO 14345 put 9903.02.72-.73 in
    force from Aug 7, 2025; the revision printing them came out on Sept 16) and, in the same
    text, lists E among the exceptions of heading H, then E excepts H's goods from E's start:
    H's earlier versions that overlap E's period get E added to their exceptions. E must still
    apply to the goods (the engine checks it as for any exception), so nothing else changes.
    """
    first_printed: dict[str, int] = {}
    for h, versions in measures.items():
        if versions:
            first_printed[h] = min(v.revision_index for v in versions)
    out: dict[str, list[Measure]] = {}
    for h, versions in measures.items():
        listed: dict[str, int] = {}  # exception -> first revision of h's text that lists it
        for v in versions:
            for e in v.exceptions:
                listed[e] = min(listed.get(e, v.revision_index), v.revision_index)
        changed: list[Measure] = []
        for v in versions:
            extra = tuple(
                e for e, rev in sorted(listed.items())
                if e not in v.exceptions and rev > v.revision_index
                and first_printed.get(e, -1) > v.revision_index      # printed after v's text
                and any(x.revision_index == first_printed[e] and x.validity.intersect(v.validity)
                        for x in measures.get(e, ()))                 # and dated back into v
            )
            changed.append(replace(v, exceptions=v.exceptions + extra) if extra else v)
        out[h] = changed
    return out
