"""Import weights for effective rates: U.S. imports by GTAP sector x partner group.

The default files (``../shared/weights``, see its SOURCES.md) come from the Yale Budget Lab's
Tariff-ETRs repository. They are sector-level, so every rate averaged with them is an *estimate
on sector weights*; docs/EFFECTIVE.md says exactly how a sector x group value is spread over
HTS-10 lines (in ``effective.py``, per date) and over the countries of a group (here).

Every file is validated when loaded, because a bad code would otherwise silently drop weight:
a missing column, an unknown sector, partner group or country, or a negative or non-numeric
value raises ``DataError`` naming the file and the line.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from tariffstack.errors import DataError
from tariffstack.law import countries

PARTNERS: tuple[str, ...] = ("china", "canada", "mexico", "japan", "eu", "uk", "ftrow", "row")
WEIGHTS_FILE = "gtap_import_weights.csv"
CROSSWALK_FILE = "hs10_gtap_crosswalk.csv"
MAPPING_FILE = "country_partner_mapping.csv"
ISO3_FILE = "census_to_iso3.csv"
NO_SECTOR = "na"                 # the crosswalk's mark for a line it does not map
US_CENSUS = "1000"               # the United States is not an origin of imports
_HS10 = re.compile(r"\d{10}")
_GTAP = re.compile(r"[a-z_]{2,4}")
_CENSUS = re.compile(r"\d{4}")
_ISO3 = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Weights:
    """Validated weights, as Arrow tables ready for DuckDB joins.

    ``sectors``: gtap, partner, value (millions of USD, one row per nonzero cell);
    ``crosswalk``: hts10 (10 digits), hs6, gtap (lines the source maps to no sector are left out);
    ``countries``: iso2, partner (the origins a group's weight is spread over);
    ``totals``: the source's total per partner group over all sectors, goods and services.
    """

    folder: Path
    sectors: pa.Table
    crosswalk: pa.Table
    countries: pa.Table
    totals: dict[str, float]


def default_weights_dir(data_dir: Path) -> Path:
    """The weights folder is the data folder's sibling (``../shared/hts`` -> ``../shared/weights``)."""
    return data_dir.parent / "weights"


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file, after checking that the header has ``required``."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise DataError(f"cannot read weights file {path}: {exc.strerror or exc}") from exc
    with fh:
        reader = csv.reader(_text_lines(path, fh))
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError(f"{path} line 1: empty file, expected columns {', '.join(required)}") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"{path} line 1: unreadable: {exc}") from exc
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(f"{path} line 1: missing column(s) {', '.join(missing)}")
        try:
            for fields in reader:
                if not any(f.strip() for f in fields):
                    continue
                if len(fields) != len(header):
                    raise DataError(f"{path} line {reader.line_num}: {len(fields)} fields, the header has "
                                    f"{len(header)}")
                yield reader.line_num, {h: f.strip() for h, f in zip(header, fields, strict=True)}
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"{path} line {reader.line_num}: unreadable: {exc}") from exc


def _text_lines(path: Path, fh: BinaryIO) -> Iterator[str]:
    """The file's lines as text, decoded one by one so a bad byte is reported on its own line
    (a text stream decodes 8 kB ahead and would blame whatever line the reader was on)."""
    for n, raw in enumerate(fh, start=1):
        if b"\x00" in raw:
            raise DataError(f"{path} line {n}: binary data (NUL bytes), not CSV text")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{path} line {n}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                            f"{exc.start + 1}); save it as UTF-8") from None
        yield text.removeprefix("\ufeff") if n == 1 else text


def _sector_weights(path: Path) -> tuple[pa.Table, dict[str, float]]:
    cols: dict[str, list[object]] = {"gtap": [], "partner": [], "value": []}
    totals = dict.fromkeys(PARTNERS, 0.0)
    seen: set[str] = set()
    for n, row in _rows(path, ("gtap_code", *PARTNERS)):
        code = row["gtap_code"].lower()
        if not _GTAP.fullmatch(code):
            raise DataError(f"{path} line {n}: bad GTAP sector code {row['gtap_code']!r}")
        if code in seen:
            raise DataError(f"{path} line {n}: sector {code!r} appears twice")
        seen.add(code)
        for p in PARTNERS:
            try:
                v = float(row[p])
            except ValueError:
                raise DataError(f"{path} line {n}: {p} value {row[p]!r} is not a number") from None
            if not math.isfinite(v) or v < 0:
                raise DataError(f"{path} line {n}: {p} value {row[p]!r} must be a finite number >= 0")
            totals[p] += v
            if v > 0:
                cols["gtap"].append(code)
                cols["partner"].append(p)
                cols["value"].append(v)
    if not seen:
        raise DataError(f"{path}: no sector rows")
    table = pa.table({"gtap": pa.array(cols["gtap"], pa.string()), "partner": pa.array(cols["partner"], pa.string()),
                      "value": pa.array(cols["value"], pa.float64())})
    return table, totals


def _crosswalk(path: Path, sectors: set[str]) -> pa.Table:
    hts, hs6s, codes = [], [], []
    seen: set[str] = set()
    for n, row in _rows(path, ("hs10", "hs6_code", "gtap_code")):
        d, hs6, code = row["hs10"], row["hs6_code"], row["gtap_code"].lower()
        if not _HS10.fullmatch(d):
            raise DataError(f"{path} line {n}: bad HTS-10 code {d!r} (10 digits expected)")
        if hs6 != d[:6]:
            raise DataError(f"{path} line {n}: hs6_code {hs6!r} is not the first 6 digits of {d}")
        if code == NO_SECTOR:
            continue
        if code not in sectors:
            raise DataError(f"{path} line {n}: unknown GTAP sector {row['gtap_code']!r} (not in {WEIGHTS_FILE})")
        if d in seen:
            raise DataError(f"{path} line {n}: HTS-10 {d} appears twice")
        seen.add(d)
        hts.append(d)
        hs6s.append(hs6)
        codes.append(code)
    return pa.table({"hts10": pa.array(hts, pa.string()), "hs6": pa.array(hs6s, pa.string()),
                     "gtap": pa.array(codes, pa.string())})


def _partner_countries(mapping: Path, iso3_file: Path) -> pa.Table:
    """Every origin of the package's country list with a Census code, in its partner group.

    Mapped countries go to their group (Census code -> ISO3 by census_to_iso3.csv -> ISO2);
    every other origin with a Census code is ``row``, as the source says. Origins with no Census
    code (Antarctica, Jersey, ...) carry no Census trade and get no weight; nor does the U.S.
    """
    to_iso3: dict[str, tuple[str, int]] = {}
    for n, row in _rows(iso3_file, ("cty_code", "iso3")):
        code, iso3 = row["cty_code"], row["iso3"].upper()
        if not _CENSUS.fullmatch(code):
            raise DataError(f"{iso3_file} line {n}: bad Census country code {code!r}")
        if not _ISO3.fullmatch(iso3):
            raise DataError(f"{iso3_file} line {n}: bad ISO3 code {row['iso3']!r}")
        to_iso3[code] = (iso3, n)
    by_iso3 = {c.iso3: c for c in countries.all_countries()}
    group: dict[str, str] = {}
    for n, row in _rows(mapping, ("cty_code", "partner")):
        code, partner = row["cty_code"], row["partner"].lower()
        if partner not in PARTNERS:
            raise DataError(f"{mapping} line {n}: unknown partner group {row['partner']!r} "
                            f"(one of {', '.join(PARTNERS)})")
        if code not in to_iso3:
            raise DataError(f"{mapping} line {n}: Census country code {code!r} is not in {ISO3_FILE}")
        iso3, m = to_iso3[code]
        country = by_iso3.get(iso3)
        if country is None:
            raise DataError(f"{iso3_file} line {m}: ISO3 code {iso3!r} is not a known country")
        if country.iso2 in group and group[country.iso2] != partner:
            raise DataError(f"{mapping} line {n}: {country.name} is already in group {group[country.iso2]!r}")
        group[country.iso2] = partner
    isos, parts = [], []
    for c in countries.all_countries():
        if c.iso2 in group:
            isos.append(c.iso2)
            parts.append(group[c.iso2])
        elif c.census_code is not None and c.census_code != US_CENSUS:
            isos.append(c.iso2)
            parts.append("row")
    return pa.table({"iso2": pa.array(isos, pa.string()), "partner": pa.array(parts, pa.string())})


def load(folder: Path) -> Weights:
    """Read and validate the four weights files of ``folder``."""
    if not folder.is_dir():
        raise DataError(f"no weights folder {folder}: give --weights-dir (the folder of {WEIGHTS_FILE})")
    sectors, totals = _sector_weights(folder / WEIGHTS_FILE)
    crosswalk = _crosswalk(folder / CROSSWALK_FILE, set(sectors.column("gtap").to_pylist())
                           | _all_codes(folder / WEIGHTS_FILE))
    partner_countries = _partner_countries(folder / MAPPING_FILE, folder / ISO3_FILE)
    return Weights(folder, sectors, crosswalk, partner_countries, totals)


def _all_codes(path: Path) -> set[str]:
    """Every sector code of the weights file (also those with no imports at all)."""
    return {row["gtap_code"].lower() for _, row in _rows(path, ("gtap_code",))}
