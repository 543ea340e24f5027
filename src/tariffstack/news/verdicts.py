"""One verdict per claim: on which day, and on whose law.

The day: a claim about the law as it is or was is checked on its own day (the article's, or one
its words state). A claim about a change to come is judged on the day it says the change comes,
or, when it names none, on the legal effective date of the measure that carried it out (the
first day in its window, or the 60 days after the article, on which a measure takes effect and
the law then gives the claimed rate). A change never carried out is not checkable while its day
is still ahead of the article, and contradicted once that day has passed.

The side: U.S. claims go to the engine (:mod:`.us`), China's to its notices (:mod:`.china`);
other countries' tariffs are not in the data.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from tariffstack.errors import TariffstackError
from tariffstack.news.china import check_cn, notice_days
from tariffstack.news.claims import find_claims
from tariffstack.news.context import Law, Memo, PanelLike
from tariffstack.news.lexicon import COUNTRY_NAMES
from tariffstack.news.results import Article, CheckedClaim, Claim, EngineLike, nc
from tariffstack.news.us import (
    check_de_minimis,
    check_us_all,
    check_us_country,
    check_us_exemption,
    check_us_products,
)
from tariffstack.sources.china import ChinaTariffs

_HORIZON = dt.timedelta(days=60)
_TRADE_REMEDY_RE = re.compile(r"\b(?:anti-?dumping|countervailing|AD/CVD|safeguard\s+quota)\b", re.I)
_HOLDS = ("supported", "partly_supported")


def check_claim(claim: Claim, engine: EngineLike | Law, china: ChinaTariffs | None = None
                ) -> CheckedClaim:
    """Verdict for one claim; never raises for data gaps (they become not_checkable)."""
    law = engine if isinstance(engine, Law) else Law(
        engine if isinstance(engine, Memo) else Memo(engine), china)
    try:
        got = _check_claim(claim, law)
    except TariffstackError as exc:
        got = nc(claim, claim.actor, f"could not check: {exc}")
    return replace(got, effective_date=got.effective_date or claim.on,
                   date_source=got.date_source or claim.date_source)


def _published(claim: Claim) -> dt.date:
    return claim.published or claim.on


def _check_claim(claim: Claim, law: Law) -> CheckedClaim:
    pub = _published(claim)
    day_stated = claim.date_source == "stated" and (claim.when is None or not claim.when.window)
    if claim.mood == "fact" and claim.on <= pub:
        return _check_side(claim, law)
    if day_stated or (claim.mood == "fact" and claim.search_from is None):
        return _on_stated_day(claim, law, pub)
    if claim.mood == "conditional" and claim.when is None:
        return nc(claim, claim.actor, f"a forecast, threat or condition ('{claim.fragment}'), not "
                                      f"a statement of the law in force on {pub}")
    return _implemented(claim, law, pub)


def _as_fact(claim: Claim, on: dt.date) -> Claim:
    return replace(claim, forecast=False, mood="fact", on=on)


def _on_stated_day(claim: Claim, law: Law, pub: dt.date) -> CheckedClaim:
    """A change said to come (or to have come) on a stated day: the law on that day decides."""
    got = _check_side(_as_fact(claim, claim.on), law)
    if got.verdict in _HOLDS or got.verdict == "not_checkable":
        return replace(got, claim=claim, effective_date=claim.on, date_source="stated")
    what = {"conditional": "a threat or possibility", "announced": "an announced change"}.get(
        claim.mood, "a change")
    if claim.on > pub:
        return CheckedClaim(
            claim, "not_checkable",
            f"{what} for {claim.on.isoformat()}, after the article's date ({pub.isoformat()}), that "
            f"the law did not carry out as stated; for information, on {claim.on.isoformat()} the "
            f"schedule shows: {got.verdict} – {got.explanation}",
            got.side, got.evidence, got.codes_used, claim.on, "stated")
    return replace(got, claim=claim, verdict="contradicted", effective_date=claim.on,
                   date_source="stated",
                   explanation=f"{what} for {claim.on.isoformat()} that was never carried out: "
                               f"{got.explanation}")


def _candidate_days(claim: Claim, law: Law, start: dt.date, end: dt.date) -> list[dt.date]:
    """The window's first day and the days in it on which a measure took effect."""
    if claim.actor == "CN":
        days = notice_days(law.china, start, end) if law.china is not None else []
    else:
        days = law.engine.change_days(start, end)
    # the window's own first day counts when the article named it ("from next week", the day
    # of the sentence before), not the day after the article, which no measure marks
    first = {start} if claim.search_from is not None and claim.search_from > _published(claim) else set()
    return sorted(first | set(days)) if start <= end else []


def _implemented(claim: Claim, law: Law, pub: dt.date) -> CheckedClaim:
    """An announcement without a day: the first measure that carried it out, if any."""
    start = claim.search_from or pub
    end = claim.search_to or pub + _HORIZON
    tried: list[CheckedClaim] = []
    for day in _candidate_days(claim, law, max(start, pub + dt.timedelta(days=1)), end):
        got = _check_side(_as_fact(claim, day), law)
        tried.append(got)
        if got.verdict in _HOLDS:
            return replace(got, claim=claim, effective_date=day, date_source="implementing_measure",
                           explanation=f"announced on or before {pub.isoformat()}, carried out from "
                                       f"{day.isoformat()}: {got.explanation}")
    now = _check_side(_as_fact(claim, pub), law)
    if now.verdict in _HOLDS:
        return replace(now, claim=claim, effective_date=pub, date_source="article",
                       explanation=f"already so on the article's date: {now.explanation}")
    window = f"{start.isoformat()} to {end.isoformat()}"
    return CheckedClaim(
        claim, "not_checkable",
        f"an announced change ('{claim.fragment}') that no measure carried out from {window}; "
        f"on the article's date ({pub.isoformat()}): {now.verdict} – {now.explanation}",
        now.side, now.evidence, now.codes_used, claim.search_from or pub,
        "implementing_measure" if claim.search_from and claim.search_from > pub else "article")


def _check_end(claim: Claim, law: Law) -> CheckedClaim:
    """A rate said to stop on a day: gone that day, in force the day before."""
    level = replace(claim, change="level")
    now = _check_side(level, law)
    if now.verdict == "not_checkable":
        return now
    if now.verdict in _HOLDS:
        return replace(now, verdict="contradicted",
                       explanation=f"still in force on {claim.on}: {now.explanation}")
    before = _check_side(replace(level, on=claim.on - dt.timedelta(days=1)), law)
    if before.verdict in _HOLDS:
        return replace(now, verdict="supported",
                       explanation=f"ended: in force on {claim.on - dt.timedelta(days=1)} "
                                   f"({before.explanation}); not on {claim.on}: {now.explanation}",
                       evidence=before.evidence + now.evidence)
    return replace(now, explanation=f"not in force the day before either: {before.explanation}")


def _check_side(claim: Claim, law: Law) -> CheckedClaim:
    if claim.kind == "rate" and claim.change == "end":
        return _check_end(claim, law)
    engine = law.engine
    if _TRADE_REMEDY_RE.search(claim.sentence.text):
        return nc(claim, claim.actor, "anti-dumping and countervailing duties are set per company "
                                      "by Commerce orders, not in the tariff schedule: not checked")
    if claim.actor == "CN":
        return check_cn(claim, law.china, engine)
    if claim.actor_country is None and claim.target.kind == "unknown":
        return nc(claim, claim.actor, "unknown actor and target: the sentence says neither who "
                                       "imposes the rate nor on what")
    if claim.actor == "other":
        who = COUNTRY_NAMES.get(claim.actor_country or "", claim.actor_text or "an unknown party")
        return nc(claim, "other", f"no data on tariffs imposed by {who}; only U.S. law (the HTS) "
                                   "and China's 2025 notices are checked")
    if claim.kind == "de_minimis":
        return check_de_minimis(claim, engine)
    if claim.kind == "exemption":
        return check_us_exemption(claim, engine)
    if claim.change == "suspend":
        return nc(claim, "US", "a suspended U.S. rate: the schedule prints what is collected, not "
                               "what is held in suspense")
    if claim.target.kind == "unknown" or claim.target.country == "US":
        return nc(claim, "US", "unknown target: the sentence names no country, product group or "
                                "'all imports' the rate falls on")
    if claim.target.kind == "all":
        return check_us_all(claim, engine)
    if claim.target.products:
        return check_us_products(claim, engine)
    return check_us_country(claim, engine, law)


def check(article: Article, engine: EngineLike, china: ChinaTariffs | None, *,
          panel: PanelLike | None = None, weights: Any = None) -> list[CheckedClaim]:
    """Find and check every claim in an article, U.S. claims with the engine and China's with
    its notices, each as of the claim's own date.

    ``panel`` (a built rate panel) and ``weights`` (import weights) let composite totals ("a
    total of 55%") count every product line and its share of imports; without them a sample of
    lines is counted.
    """
    law = Law(Memo(engine), china, panel, weights)
    return [check_claim(c, law) for c in find_claims(article)]
