"""Check the tariff claims in news text against the law, as of the date each claim speaks of.

One module per step, each testable alone:

- :mod:`.reading`: validate the text, take its date line, strip page furniture, split sentences;
- :mod:`.claims` (with :mod:`.ratehits`, :mod:`.parties`, :mod:`.lexicon`): find each tariff
  claim with its span, actor, target, rate and change;
- :mod:`.dating`: time expressions, resolved against the article date;
- :mod:`.us` (with :mod:`.uslaw`): U.S. claims against the rate engine;
- :mod:`.china`: China's claims against its notices and the WTO applied rates;
- :mod:`.verdicts`: one verdict per claim (routing, caching);
- :mod:`.render`: the 80-column text output.

Extraction is rule based on purpose: every decision traces to a named pattern, and a number that
is not clearly a tariff rate is left out rather than guessed.
"""

from __future__ import annotations

from tariffstack.news.claims import find_claims
from tariffstack.news.reading import MAX_BYTES, read_article, read_article_file
from tariffstack.news.render import render_claims, verdict_label
from tariffstack.news.results import (
    Actor,
    Article,
    CheckedClaim,
    Claim,
    EngineLike,
    Evidence,
    Sentence,
    Target,
    Verdict,
    When,
)
from tariffstack.news.verdicts import check, check_claim

__all__ = [
    "MAX_BYTES", "Actor", "Article", "CheckedClaim", "Claim", "EngineLike", "Evidence", "Sentence",
    "Target", "Verdict", "When", "check", "check_claim", "find_claims", "read_article",
    "read_article_file", "render_claims", "verdict_label",
]
