"""Check the tariff claims in news text against the law, as of the date each claim speaks of.

One module per step, each testable alone:

- :mod:`.reading`: validate the text, take its date line, strip page furniture, split sentences;
- :mod:`.claims` (with :mod:`.ratehits`, :mod:`.parties`, :mod:`.lexicon`): find each tariff
  claim with its span, actor, target, rate and change;
- :mod:`.dating`: time expressions, resolved against the article date;
- :mod:`.us` (with :mod:`.uslaw`): U.S. claims against the rate engine;
- :mod:`.china`: China's claims against its notices and the WTO applied rates;
- :mod:`.composite`: composite totals ("a total of 55%") counted over every product line;
- :mod:`.repeats`: later mentions of a claim merged into its first;
- :mod:`.verdicts`: one verdict per claim: the day (stated, or the implementing measure of an
  announcement) and the side;
- :mod:`.render`: the 80-column text output.

Extraction is rule based on purpose: every decision traces to a named pattern, and a number that
is not clearly a tariff rate is left out rather than guessed.

Checked: U.S. country-wide rates (fentanyl, reciprocal, country rates, all-in floors), U.S.
product rates (232, 301: steel, cars, parts ...), rates on all imports, composite totals
("a total of 55%", "up to 245%"), extra layers ("an extra 25% penalty"), U.S. exemptions and
de minimis; China's across-the-board level, its product lists (No.1, No.2) and their end, the
suspended 24%, totals with the MFN rate; announcements (on the implementing measure's date) and
threats (open or lapsed); changes ("from 125% to 10%", "ended") and their timing.
Not checked, and said so: other countries' tariffs (no data), anti-dumping and countervailing
duties (per company, not in the schedule), U.S. rates held in suspense (the schedule prints what
is collected), China's April 2025 exemptions (never published), possibilities with no day
("could rise", "analysts expect"), and claims naming neither who imposes nor on what.
"""

from __future__ import annotations

from tariffstack.news.claims import find_claims
from tariffstack.news.context import load_extras
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
    "Target", "Verdict", "When", "check", "check_claim", "find_claims", "load_extras",
    "read_article", "read_article_file", "render_claims", "verdict_label",
]
