"""Proposed registry rows for headings that have none: the parser's reading, to be reviewed.

A new revision can bring headings the registry does not know; the build then stops. This module
writes what the parser reads from each such heading's newest text as a registry row with the
reason ``PROPOSED``, which a reviewer confirms or corrects (``tariffstack registry propose``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tariffstack.law.measures import Measure, family_for
from tariffstack.law.registry import COLUMNS, OTHER_CONDITIONS, csv_text

# the parser's condition words, in the registry's vocabulary
CONDITIONS = {"certificate": "other", "described": "other", "exclusion": "exclusion_granted"}


def proposal(m: Measure) -> dict[str, str]:
    """A registry row from a parsed heading version."""
    role = {"floor": "floor"}.get(m.duty.kind, "exempt" if m.exempts else "impose")
    if m.scope == "all":
        products = "all"
    elif m.scope == "footnote":
        products = "footnote"
    elif m.scope == "list":
        products = ";".join(f"note:{r}" for r in m.note_refs) or ";".join(f"code:{c}" for c in sorted(m.codes))
    elif m.scope.startswith("layer:"):
        products = m.scope
    elif m.scope == "condition":
        products = "all"
    else:
        products = "none"
    condition = CONDITIONS.get(m.condition or "", m.condition or "")
    unmet = role != "exempt" and condition in OTHER_CONDITIONS
    return {
        "heading": m.heading, "valid_from": "", "valid_to": "",
        "status": "not_evaluated" if products == "none" or unmet else "modelled",
        "layer": m.layer, "role": role,
        "countries": "*" if m.countries is None else ";".join(sorted(m.countries)),
        "except_countries": ";".join(sorted(m.excluded_countries)),
        "products": products, "except_products": "",
        "condition": condition, "citation": m.family.citation, "reason": "PROPOSED",
    }


def bare(heading: str) -> dict[str, str]:
    """A row for a heading outside every family: nothing is known but its number."""
    fam = family_for(heading)
    return {
        "heading": heading, "valid_from": "", "valid_to": "", "status": "not_evaluated",
        "layer": fam.layer if fam else "other", "role": "impose", "countries": "*",
        "except_countries": "", "products": "none", "except_products": "", "condition": "",
        "citation": fam.citation if fam else "HTS chapter 99, subchapter text", "reason": "PROPOSED",
    }


def proposals(hts_dir: Path) -> str:
    """CSV rows for every heading printed in the data folder that the registry lacks."""
    from tariffstack.law.registry import load_registry
    from tariffstack.law.store import build_model

    model = build_model(hts_dir, law=False)
    known = load_registry()
    printed = sorted({ln.hts for hs in model.headings for d, ln in hs.items() if len(d) == 8} - set(known.by_heading))
    return to_csv(proposal(model.measures[h][-1]) if model.measures.get(h) else bare(h) for h in printed)


def to_csv(rows: Iterable[dict[str, str]]) -> str:
    return csv_text(rows, COLUMNS)
