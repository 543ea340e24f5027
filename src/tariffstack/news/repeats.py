"""Merging repeats: later mentions of a claim an article already made are not new claims.

"A 10% tariff ... took effect on Tuesday" and, two paragraphs on, "the 10% duty would remain" are
one claim; so are "tariffs of 145% on the U.S. side" after "Trump's 145% tariffs", and "a
10-percentage-point cut" inside "halves the tariff from 20% to 10%". A later mention is a repeat
when it says nothing the first did not: same kind, same actor, same rate (or the same change in
points), the same or an unnamed target, and no day of its own that differs.
"""

from __future__ import annotations

from dataclasses import replace

from tariffstack.news.results import Claim

_TOL = 0.05


def _same_rate(first: Claim, later: Claim) -> bool:
    if later.change == "delta" and first.rate_from_pct is not None and first.rate_pct is not None \
            and later.rate_pct is not None:
        return abs(abs(first.rate_from_pct - first.rate_pct) - later.rate_pct) <= _TOL
    if later.rate_range or first.rate_range:
        return later.rate_range == first.rate_range
    if later.rate_pct is None or first.rate_pct is None:
        return later.rate_pct is None and first.rate_pct is None
    return abs(later.rate_pct - first.rate_pct) <= _TOL


def _same_target(first: Claim, later: Claim) -> bool:
    lt, ft = later.target, first.target
    if lt.kind == "unknown" or lt.text.startswith("(China's tariffs fall on"):
        return True
    if lt.country not in (None, ft.country):
        return False
    return set(lt.products) <= set(ft.products) or (not ft.products and lt.kind == "country")


def is_repeat(first: Claim, later: Claim) -> bool:
    """Whether ``later`` only repeats ``first``."""
    if later.kind != first.kind:
        return False
    if later.actor != first.actor and not (later.actor_country is None
                                           or later.actor_text.startswith("(inferred")):
        return False
    if later.kind == "exemption":
        return later.actor == first.actor and later.target.country in (None, first.target.country)
    if later.mood == "conditional" and first.mood != "conditional":
        return False
    if later.kind == "de_minimis":
        return later.change == first.change
    if not _same_rate(first, later) or not _same_target(first, later):
        return False
    if later.rate_from_pct is not None and later.rate_from_pct != first.rate_from_pct:
        return False
    if later.change not in ("level", "keep", "delta", first.change):
        return False
    # a day of its own that differs makes it another claim ("slapped 145% last month")
    return later.date_source == "article" or later.on == first.on or later.when is None


def merge_repeats(claims: list[Claim]) -> list[Claim]:
    """Claims in order, each later repeat folded into the first mention's ``repeats``."""
    kept: list[Claim] = []
    for c in claims:
        for i, k in enumerate(kept):
            if is_repeat(k, c):
                products = k.target.products + tuple(p for p in c.target.products
                                                      if p not in k.target.products)
                target = replace(k.target, products=products,
                                 kind="products" if products else k.target.kind) \
                    if k.kind == "exemption" else k.target
                kept[i] = replace(k, target=target,
                                  repeats=k.repeats + ((c.start, c.end, c.fragment),))
                break
        else:
            kept.append(c)
    return kept
