"""One verdict per claim: route it to the U.S. or China side; cache engine answers per run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from tariffstack.errors import TariffstackError
from tariffstack.models import DeMinimis, RateResult, SearchHit
from tariffstack.news.china import check_cn
from tariffstack.news.claims import find_claims
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


def check_claim(claim: Claim, engine: EngineLike, china: ChinaTariffs | None) -> CheckedClaim:
    """Verdict for one claim; never raises for data gaps (they become not_checkable)."""
    try:
        return _check_claim(claim, engine, china)
    except TariffstackError as exc:
        return nc(claim, claim.actor, f"could not check: {exc}")


def _check_claim(claim: Claim, engine: EngineLike, china: ChinaTariffs | None) -> CheckedClaim:
    got = _check_side(claim, engine, china)
    w = claim.when
    if claim.forecast and got.verdict == "not_checkable" and w is not None and w.future:
        # a dated plan: still not checkable as of the article, but say what the law later said
        later = _check_side(replace(claim, forecast=False, on=w.start), engine, china)
        if later.verdict != "not_checkable":
            got = replace(got, explanation=f"{got.explanation}; for information, on "
                                           f"{w.start.isoformat()} the schedule shows: "
                                           f"{later.verdict} – {later.explanation}",
                          evidence=got.evidence + later.evidence,
                          codes_used=got.codes_used + later.codes_used)
    return got


def _check_side(claim: Claim, engine: EngineLike, china: ChinaTariffs | None) -> CheckedClaim:
    if claim.actor == "CN":
        return check_cn(claim, china, engine)
    if claim.actor_country is None and claim.target.kind == "unknown":
        return nc(claim, claim.actor, "unknown actor and target: the sentence says neither who "
                                       "imposes the rate nor on what")
    if claim.actor == "other":
        who = COUNTRY_NAMES.get(claim.actor_country or "", claim.actor_text or "an unknown party")
        return nc(claim, "other", f"no data on tariffs imposed by {who}; only U.S. law (the HTS) "
                                   "and China's 2025 notices are checked")
    if claim.kind == "de_minimis":
        if claim.forecast:
            return nc(claim, "US", f"a forecast or plan, not the law in force on {claim.on}")
        return check_de_minimis(claim, engine)
    if claim.forecast:
        when = "" if claim.when and claim.when.future else f" on {claim.on}"
        return nc(claim, "US", f"a forecast, threat or conditional ('{claim.fragment}'), not a "
                                f"statement of the law in force{when}")
    if claim.kind == "exemption":
        return check_us_exemption(claim, engine)
    if claim.target.kind == "unknown" or claim.target.country == "US":
        return nc(claim, "US", "unknown target: the sentence names no country, product group or "
                                "'all imports' the rate falls on")
    if claim.target.kind == "all":
        return check_us_all(claim, engine)
    if claim.target.products:
        return check_us_products(claim, engine)
    return check_us_country(claim, engine)


class _Memo:
    """Caches engine answers for one check() run: articles repeat the same question (145% on
    China, asked three times) and each asks it for a few dozen sampled lines."""

    def __init__(self, engine: EngineLike) -> None:
        self._engine = engine
        self._rates: dict[tuple[str, str, dt.date], RateResult | TariffstackError] = {}
        self._products: dict[dt.date, Sequence[str]] = {}
        self._search: dict[tuple[str, int], list[SearchHit]] = {}
        self._dm: dict[tuple[str, dt.date, float], DeMinimis] = {}
        self.samples: dict[tuple[dt.date, int], list[str]] = {}   # used by sample_codes

    def rate(self, code: str, origin: str, on: dt.date, /) -> RateResult:
        key = (code, origin, on)
        if key not in self._rates:
            try:
                self._rates[key] = self._engine.rate(code, origin, on)
            except TariffstackError as exc:
                self._rates[key] = exc
        got = self._rates[key]
        if isinstance(got, TariffstackError):
            raise got
        return got

    def search(self, query: str, /, *, limit: int) -> list[SearchHit]:
        key = (query, limit)
        if key not in self._search:
            self._search[key] = self._engine.search(query, limit=limit)
        return self._search[key]

    def de_minimis(self, *, origin: str, on: dt.date, value_usd: float) -> DeMinimis:
        key = (origin, on, value_usd)
        if key not in self._dm:
            self._dm[key] = self._engine.de_minimis(origin=origin, on=on, value_usd=value_usd)
        return self._dm[key]

    def products(self, on: dt.date, /) -> Sequence[str]:
        if on not in self._products:
            self._products[on] = self._engine.products(on)
        return self._products[on]


def check(article: Article, engine: EngineLike, china: ChinaTariffs | None) -> list[CheckedClaim]:
    """Find and check every claim in an article, U.S. claims with the engine and China's with
    its notices, each as of the claim's own date."""
    memo = _Memo(engine)
    return [check_claim(c, memo, china) for c in find_claims(article)]
