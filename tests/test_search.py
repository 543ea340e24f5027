"""Product search in users' own words, on the real schedule in ../shared.

The expectations are facts of the schedule (laptops are 8471.30.01.00, shoes are chapter 64), not
of the code: the synonyms table and the ranking have to earn them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_inproc import warm_engine
from click.testing import CliRunner

from tariffstack.engine.search import SearchIndex, is_generic, load_synonyms, parse_synonyms
from tariffstack.engine.us import Engine
from tariffstack.errors import DataError
from tariffstack.models import SearchHit
from tariffstack.surfaces.cli import cli


@pytest.fixture(scope="module")
def index(engine: Engine) -> SearchIndex:
    return SearchIndex(engine.model)


def codes(hits: list[SearchHit]) -> list[str]:
    return [h.hts for h in hits]


def test_laptop_finds_portable_adp_machines(index: SearchIndex) -> None:
    for q in ("laptop", "laptops", "Laptop", "notebook computer"):
        assert codes(index.search(q, 5))[:1] == ["8471.30.01.00"], q


def test_computer_prefers_heading_8471(index: SearchIndex) -> None:
    hits = index.search("computer", 10)
    assert hits and sum(h.hts.startswith("8471") for h in hits) >= 6


def test_leather_shoes_ranks_footwear_above_shoelaces(index: SearchIndex) -> None:
    hits = index.search("leather shoes", 200)
    assert hits[0].hts.startswith("64")
    ranks = {h.hts: i for i, h in enumerate(hits)}
    first_64 = min(i for c, i in ranks.items() if c.startswith("64"))
    assert first_64 < ranks.get("4205.00.20.00", len(hits))
    assert all(h.hts.startswith("64") for h in hits[:10])


def test_accessories_still_found_when_asked(index: SearchIndex) -> None:
    assert "4205.00.20.00" in codes(index.search("leather shoelaces", 5))
    assert index.search("car parts", 5)[0].hts.startswith("8708")


@pytest.mark.parametrize(("query", "heading"), [
    ("smartphones", "8517.13.00.00"), ("cell phone", "8517.1"), ("mobile phones", "8517.1"),
    ("tv", "8528"), ("television", "8528"), ("fridge", "8418"), ("bike", "8712"), ("car", "8703"),
    ("sneakers", "640"), ("t-shirt", "6109"), ("vacuum cleaner", "8508"), ("motorbike", "8711"),
])
def test_everyday_words_land_on_the_product(index: SearchIndex, query: str, heading: str) -> None:
    hits = index.search(query, 5)
    assert hits and hits[0].hts.startswith(heading), (query, codes(hits))


def test_search_as_you_type_prefix(index: SearchIndex) -> None:
    assert "8517.13.00.00" in codes(index.search("smartph", 5))
    assert index.search("leather sho", 5)[0].hts.startswith("64")


@pytest.mark.parametrize("q", ["8517.13.00", "85171300", "8517.13.00.00", "8517130000", "8517.13.0000",
                               " 8517 13 00 "])
def test_code_queries_lead_to_ten_digit_lines(index: SearchIndex, q: str) -> None:
    assert codes(index.search(q, 20)) == ["8517.13.00.00"]


@pytest.mark.parametrize(("q", "prefix"), [("8517", "8517"), ("8517.13", "851713"), ("851713", "851713"),
                                           ("7208.51", "720851"), ("85", "85")])
def test_code_prefixes(index: SearchIndex, engine: Engine, q: str, prefix: str) -> None:
    hits = index.search(q, 200)
    want = sorted(d for d in index.lines if d.startswith(prefix))
    assert hits and [h.hts.replace(".", "") for h in hits] == want[:200]
    newest = engine.model.lines[-1]
    assert all(len(h.hts.replace(".", "")) in (8, 10) and newest[h.hts.replace(".", "")].hts == h.hts
               for h in hits)


def test_hits_carry_short_heading_and_rate(index: SearchIndex, engine: Engine) -> None:
    newest = engine.model.lines[-1]
    hit = index.search("smartphones", 1)[0]
    line = newest["8517130000"]
    assert hit.description == line.description and hit.path == line.path
    assert hit.general == line.general and hit.heading == line.path[0].rstrip(" :")
    assert hit.short == line.description
    # an "Other" line is named by its nearest informative ancestor
    others = [h for h in index.search("8471", 200) if is_generic(h.description)]
    assert others
    for h in others:
        assert h.short != h.description and h.short.endswith(h.description.lower().rstrip(" :"))
        assert not is_generic(h.short.split(": ")[0])
    js = hit.to_json()
    assert {"hts", "description", "short", "heading", "general", "path", "score"} <= set(js)
    assert js["path"] == list(line.path)


def test_queries_are_never_syntax(index: SearchIndex) -> None:
    for q in ['foo" OR *', "NEAR(a b)", "shoes AND", "-", "(", "of the", "***"]:
        assert isinstance(index.search(q, 5), list)
    assert index.search("of the", 5) == []


def test_packaged_synonyms_load_and_each_expansion_exists(index: SearchIndex) -> None:
    table = load_synonyms().table
    assert 60 <= len(table) <= 150
    for key, phrases in table.items():
        for p in phrases:
            words = re.findall(r"[^\W_]+", p)
            n = index.db.execute("SELECT count(*) FROM lines WHERE lines MATCH ?",
                                 ('"' + " ".join(words) + '"',)).fetchone()[0]
            assert n > 0, f"{' '.join(key)} -> {p!r} matches no product line"


@pytest.mark.parametrize(("text", "line", "what"), [
    ("term,expands_to,note\nlaptop,portable automatic data processing machines,\n,footwear,\n", 3, "bad term"),
    ("term,expands_to,note\nshoes,footwear,\nbike,,\n", 3, "bad expands_to"),
    ("term,expands_to,note\nshoes,footwear,\nshoe,footwear|boots,\n", 3, "listed twice"),
    ("term,expands_to,note\nshoes,foot*wear,\n", 2, "bad expands_to"),
    ("term,expands_to,note\nshoes,footwear,x,y\n", 2, "more fields"),
    ("term,note\nshoes,x\n", 1, "missing column"),
])
def test_bad_synonym_rows_fail_with_their_line(text: str, line: int, what: str) -> None:
    with pytest.raises(DataError, match=rf"line {line}: .*{what}|line {line}: {what}"):
        parse_synonyms(text)


def test_good_synonyms_text_parses() -> None:
    syn = parse_synonyms("term,expands_to,note\nCell Phone,smartphones|telephone sets,\n")
    assert syn.expand(["my", "cell", "phones"]) == [(("my",), ()), (("cell", "phones"), ("smartphones", "telephone sets"))]


# ---- the CLI at 80 columns ------------------------------------------------------------------

@pytest.fixture(scope="module")
def invoke(hts_dir: Path, session_home: Path, engine: Engine):  # type: ignore[no-untyped-def]
    """The command over the session's engine and its search index, as one long-lived process
    would keep them (loading the model and indexing 30,000 lines per call cost ~2 s each)."""
    runner = CliRunner()

    def _invoke(*args: str, columns: int = 80):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["--data-dir", str(hts_dir), "--home", str(session_home), *args],
                             env={"COLUMNS": str(columns)}, catch_exceptions=False)
    with warm_engine(engine, hts_dir, session_home):
        yield _invoke


@pytest.mark.parametrize(("query", "columns"), [("leather shoes", 80), ("watches", 80), ("laptop", 80),
                                                ("8471", 80), ("steel", 60), ("tv", 120)])
def test_cli_table_fits_and_breaks_no_word(invoke, query: str, columns: int) -> None:  # type: ignore[no-untyped-def]
    res = invoke("search", *query.split(), "-n", "12", columns=columns)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) >= 2 and all(len(ln) <= columns for ln in lines), lines
    hits = json.loads(invoke("search", *query.split(), "-n", "12", "--json").stdout)
    assert hits and all(h["hts"] in res.stdout for h in hits)
    def words(text: str) -> set[str]:
        return {w.strip(",;:.") for w in text.split()}

    allowed = {"HTS", "code", "product", "(heading)", "MFN", "rate", "…"}
    for h in hits:
        for text in (h["short"], h["heading"], h["general"], h["hts"], h["hts"][:4]):
            allowed |= words(text)
    for ln in lines:
        assert words(ln) <= allowed, (words(ln) - allowed, ln)  # a broken word would be new
    # every hit's rate is shown (whole when it fits the column)
    for h in hits:
        if len(h["general"]) <= 14:
            assert any(h["hts"] in ln and ln.rstrip().endswith(h["general"]) for ln in lines), h


def test_cli_no_match_gives_a_hint(invoke) -> None:  # type: ignore[no-untyped-def]
    res = invoke("search", "zzqxv")
    assert res.exit_code == 0
    assert "no match" in res.output and "HTS code" in res.output and "broader" in res.output


def test_cli_json_keeps_the_full_path(invoke, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    hits = json.loads(invoke("search", "smartphones", "--json").stdout)
    assert hits[0]["hts"] == "8517.13.00.00"
    assert hits[0]["path"] == list(engine.model.lines[-1]["8517130000"].path)
    assert hits[0]["general"] == engine.model.lines[-1]["8517130000"].general
