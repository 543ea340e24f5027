"""Input files that used to end in a traceback or a vague message (found by generated inputs)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tariffstack.calc.bulkio import read_chunks
from tariffstack.errors import BadInput
from tariffstack.stats.scenario_file import parse


def test_csv_with_cr_only_line_ends_is_named(tmp_path: Path) -> None:
    src = tmp_path / "mac.csv"
    src.write_bytes(b"hts10,origin,entry_date,value\r6403.99.9065,VN,2025-09-01,100\r")
    with pytest.raises(BadInput, match="header line: a carriage return .*CR only"):
        list(read_chunks(src))


def test_parquet_with_a_list_column_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"hts10": ["6403.99.9065"], "origin": ["VN"], "entry_date": ["2025-09-01"],
                             "value": pa.array([[1.0, 2.0]], pa.list_(pa.float64()))}), src)
    with pytest.raises(BadInput, match="column 'value' holds list<"):
        list(read_chunks(src))


@pytest.mark.parametrize(("junk", "what"), [("\x00", "binary data \\(NUL bytes\\)"), ("\x1b", "character #x001b")])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_control_character_in_a_scenario_names_its_line(junk: str, what: str, as_bytes: bool) -> None:
    text = f"name: test\ndescription: a{junk}b\nevents: []\n"
    with pytest.raises(BadInput, match=f"s.yaml line 2: not valid YAML: {what} is not allowed"):
        parse(text.encode() if as_bytes else text, "s.yaml")


@pytest.mark.parametrize("header", ["hts10,origin,entry_date,value,value", "hts10,hts,origin,entry_date,value",
                                    "hts10,origin,entry_date,Value,value"])
def test_a_column_given_twice_is_refused(tmp_path: Path, header: str) -> None:
    """Two columns for one field: pricing the first silently could price the wrong value."""
    src = tmp_path / "twice.csv"
    src.write_text(header + "\n" + ",".join(["6403.99.9065", "VN", "2025-09-01", "100", "200"]) + "\n")
    with pytest.raises(BadInput, match="times .*keep one"):
        list(read_chunks(src))


def test_an_encoding_name_with_a_nul_is_bad_input(tmp_path: Path) -> None:
    """Found by the API fuzzer: ``"".encode("a\\x00b")`` raises ValueError, not LookupError."""
    src = tmp_path / "x.csv"
    src.write_text("hts10,origin,entry_date,value\n")
    with pytest.raises(BadInput, match="not a text encoding"):
        list(read_chunks(src, encoding="utf\x008"))


def _read_all(src: Path) -> tuple[list[int], dict[int, str], list[str | None]]:
    """(line numbers, {line: error}, origin per line) over every chunk of a bulk file."""
    numbers: list[int] = []
    errors: dict[int, str] = {}
    origins: list[str | None] = []
    for chunk in read_chunks(src):
        numbers += chunk.lines.tolist()
        origins += chunk.table.column("origin").to_pylist()
        if chunk.errors is not None:
            errors.update({int(n): e for n, e in zip(chunk.lines, chunk.errors, strict=True) if e is not None})
    return numbers, errors, origins


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_a_lone_cr_inside_a_line_costs_that_line_and_shifts_no_other(tmp_path: Path, eol: bytes) -> None:
    """The CSV parser ended a line at a lone CR, so every later line took its neighbour's number
    (a good line priced under another line's number); now the line is refused and named."""
    rows = [b"hts10,origin,entry_date,value", b"6403.99.9065,VN,2025-09-01,100", b"8517.13.0000,CN\r2025-05-02,100",
            b"0406.90.1200,FR,2025-10-01,200", b"8517.13.0000,JP,2025-05-02,300"]
    src = tmp_path / "in.csv"
    src.write_bytes(eol.join(rows) + eol)
    numbers, errors, origins = _read_all(src)
    assert numbers == [2, 3, 4, 5]
    assert list(errors) == [3] and "carriage return (CR) inside the line" in errors[3]
    assert [o for n, o in zip(numbers, origins, strict=True) if n not in errors] == ["VN", "FR", "JP"]


def test_a_line_of_spaces_is_blank_whatever_its_neighbours(tmp_path: Path) -> None:
    """Tabs or spaces alone were skipped only in a block that also held an empty line; elsewhere
    the same line was an error ("1 fields")."""
    src = tmp_path / "in.csv"
    src.write_bytes(b"hts10,origin,entry_date,value\n6403.99.9065,VN,2025-09-01,100\n\t \n0406.90.1200,FR,2025-10-01,2\n")
    numbers, errors, origins = _read_all(src)
    assert numbers == [2, 4] and errors == {} and origins == ["VN", "FR"]


@pytest.mark.parametrize(("text", "where"), [
    ('name: x\nevents:\n  - id: a\n    title: "unclosed\n    action: rate\n', 'line 4: not valid YAML: a quoted scalar is never closed'),
    ("name: x\nevents: [a, b\n\n\n", "line 2: not valid YAML: a flow sequence is never closed"),
])
def test_an_unclosed_quote_or_bracket_names_the_line_it_opens_on(text: str, where: str) -> None:
    """Not the end of the file, where the YAML parser finally gives up."""
    with pytest.raises(BadInput, match=f"s.yaml {where}$"):
        parse(text, "s.yaml")


def test_text_stored_as_bytes_in_parquet_names_the_rows_that_are_not_utf8(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"hts10": ["6403.99.9065"] * 3, "origin": pa.array([b"VN", b"F\xffR", None], pa.binary()),
                             "entry_date": ["2025-09-01"] * 3, "value": ["1"] * 3}), src)
    numbers, errors, origins = _read_all(src)
    assert numbers == [1, 2, 3] and origins == ["VN", None, None]
    assert list(errors) == [2] and errors[2].startswith("origin: not UTF-8 text (byte 0xff at position 2)")
