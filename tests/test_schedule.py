"""Reading the official files: hierarchy, inherited rates, footnotes, archive integrity."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from tariffstack.errors import DataError
from tariffstack.sources.schedule import (
    Interner,
    TextCleaner,
    load_revisions,
    parse_records,
    products,
    read_records,
)

RECORDS = [
    {"htsno": "8517", "indent": "0", "description": "Telephone sets:", "general": "", "special": "",
     "other": "", "units": [], "footnotes": []},
    {"htsno": "", "indent": "1", "description": "Telephone sets, including:", "general": "",
     "special": "", "other": "", "units": [], "footnotes": None},
    {"htsno": "8517.13.00", "indent": "2", "description": "Smartphones", "general": "Free",
     "special": "", "other": "35%", "units": [],
     "footnotes": [{"columns": ["general"], "value": "See 9903.88.15. ", "type": "endnote"}]},
    {"htsno": "8517.13.00.00", "indent": "3", "description": "Smartphones", "general": "",
     "special": "", "other": "", "units": ["No."], "footnotes": []},
    {"htsno": "8517.14.00", "indent": "2", "description": "Other <i>phones</i>", "general": "2.5%",
     "special": "Free (A,AU)", "other": "35%", "units": ["No."], "footnotes": []},
]


def test_hierarchy_rates_and_footnotes() -> None:
    lines = parse_records(RECORDS)
    phone = lines["8517130000"]
    assert phone.path == ("Telephone sets:", "Telephone sets, including:", "Smartphones")
    assert phone.general == "Free" and phone.other == "35%" and phone.rate_line == "8517.13.00"
    assert phone.see == ("9903.88.15",)
    assert lines["85171400"].description == "Other phones"  # markup dropped
    assert [p.hts for p in products(lines)] == ["8517.13.00.00", "8517.14.00"]


def test_every_revision_reads(hts_dir: Path) -> None:
    revs = load_revisions(hts_dir)
    assert len(revs) == 44
    first = parse_records(read_records(revs[0]))
    assert len(list(products(first))) > 17000


def test_batch_parsing_shares_lines_and_reads_the_same(hts_dir: Path) -> None:
    """Revisions parsed together (one worker's batch) give the same lines as alone, shared."""
    revs = load_revisions(hts_dir)[9:11]
    interner, cleaner = Interner(), TextCleaner()
    together = [parse_records(read_records(r), interner, cleaner) for r in revs]
    alone = [parse_records(read_records(r)) for r in revs]
    assert together == alone
    same = [k for k, v in together[1].items() if together[0].get(k) == v]
    assert len(same) > 25000 and all(together[0][k] is together[1][k] for k in same)


def _copy_dir(hts_dir: Path, tmp: Path, names: list[str]) -> Path:
    root = tmp / "hts"
    (root / "json").mkdir(parents=True)
    rows = (hts_dir / "REVISIONS.csv").read_text(encoding="utf-8").splitlines()
    keep = [rows[0]] + [r for r in rows[1:] if any(f"/{n}," in r for n in names)]
    (root / "REVISIONS.csv").write_text("\n".join(keep) + "\n", encoding="utf-8")
    for n in names:
        shutil.copy(hts_dir / "json" / n, root / "json" / n)
    return root


def test_corrupt_archive_fails_its_checksum(hts_dir: Path, tmp_path: Path) -> None:
    root = _copy_dir(hts_dir, tmp_path, ["hts_2025_basic.json.gz"])
    f = root / "json" / "hts_2025_basic.json.gz"
    f.write_bytes(f.read_bytes()[:1000])
    with pytest.raises(DataError, match="fails its checksum"):
        read_records(load_revisions(root)[0])


def test_truncated_archive_is_reported(hts_dir: Path, tmp_path: Path) -> None:
    root = _copy_dir(hts_dir, tmp_path, ["hts_2025_basic.json.gz"])
    f = root / "json" / "hts_2025_basic.json.gz"
    f.write_bytes(f.read_bytes()[:1000])
    with pytest.raises(DataError, match="corrupt or truncated"):
        read_records(load_revisions(root)[0], verify=False)
    f.write_bytes(gzip.compress(json.dumps({"not": "a list"}).encode()))
    with pytest.raises(DataError, match="not a list"):
        read_records(load_revisions(root)[0], verify=False)


def test_missing_revision_is_named(hts_dir: Path, tmp_path: Path) -> None:
    root = _copy_dir(hts_dir, tmp_path, ["hts_2025_basic.json.gz", "hts_2025_rev_1.json.gz"])
    (root / "json" / "hts_2025_rev_1.json.gz").unlink()
    with pytest.raises(DataError, match="2025 rev 1.*tariffstack fetch"):
        load_revisions(root)
