"""The parsed schedule: every HTS revision's lines as typed records, versioned over time.

Reads USITC's JSON export of each revision (listed in ``REVISIONS.csv``), checks each archive
against its sha256, and turns records into :class:`Line` objects with their full description
path, inherited rate texts (statistical suffixes carry their 8-digit parent's rates) and the
Chapter 99 headings their footnotes point to. Identical lines in successive revisions share
one object, so 44 revisions cost little more memory than one.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tariffstack.errors import DataError

SEE_RE = re.compile(r"\b(99\d\d\.\d\d\.\d\d)\b")
TAG_RE = re.compile(r"<[^>]+>")
SPACE_RE = re.compile(r"\s+")
CODE_RE = re.compile(r"^\d{4}(\.\d{2}){0,3}$")


def digits(code: str) -> str:
    """Digits of an HTS code as typed or printed ("8517.13.0000" -> "8517130000")."""
    return re.sub(r"[\s.]", "", code)


def dotted(d: str) -> str:
    """Print digits the USITC way: 8517.13.00.00."""
    parts = [d[:4]] + [d[i : i + 2] for i in range(4, len(d), 2)]
    return ".".join(p for p in parts if p)


def clean_text(text: str) -> str:
    """Drop HTML tags and normalize spaces and dashes so cosmetic edits are not changes."""
    text = TAG_RE.sub("", text or "")
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u00a0", " ")
    return SPACE_RE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Revision:
    """One published edition of the HTS."""

    name: str                      # "2025 rev 10", "2026 basic"
    index: int                     # position in publication order
    json_path: Path
    change_record_path: Path | None
    published: date | None
    sha256: str

    @property
    def year(self) -> int:
        return int(self.name[:4])


@dataclass(frozen=True, slots=True)
class Line:
    """One numbered line of the schedule as in force in some revision(s)."""

    hts: str                       # dotted, as printed ("8517.13.00.00")
    digits: str
    indent: int
    description: str
    path: tuple[str, ...]          # descriptions of the ancestors, outermost first
    units: tuple[str, ...]
    general: str                   # rate texts; inherited from `rate_line` when not printed here
    special: str
    other: str
    rate_line: str                 # dotted code whose rate texts these are
    see: tuple[str, ...]           # Chapter 99 headings named by footnotes here or on ancestors
    footnotes: tuple[str, ...] = field(default=())

    @property
    def hts10(self) -> str:
        """The 10-digit code an importer declares (an 8-digit line without children ends .00)."""
        return self.hts if len(self.digits) == 10 else f"{self.hts}.00"

    @property
    def full_path(self) -> tuple[str, ...]:
        return (*self.path, self.description)

    @property
    def is_heading99(self) -> bool:
        return self.digits.startswith("99")


def load_revisions(hts_dir: Path) -> list[Revision]:
    """Read ``REVISIONS.csv``; fail with the fix when the folder or a listed file is missing."""
    index = hts_dir / "REVISIONS.csv"
    if not index.is_file():
        raise DataError(
            f"no REVISIONS.csv in data folder {hts_dir}; set --data-dir / TARIFFSTACK_DATA_DIR "
            "to a folder laid out like ../shared/hts, or run 'tariffstack fetch'"
        )
    revisions: list[Revision] = []
    missing: list[str] = []
    seen: set[str] = set()
    for i, (line, row) in enumerate(_index_rows(index)):
        try:
            name = row["revision"].strip()
            json_rel = row["json"].strip()
        except (KeyError, AttributeError) as exc:
            raise DataError(f"{index}: line {line} lacks the revision/json columns") from exc
        if not name or not json_rel:
            raise DataError(f"{index}: line {line} has no {'revision name' if not name else 'JSON file'}")
        if name in seen:
            raise DataError(f"{index}: line {line} lists {name} a second time")
        seen.add(name)
        json_path = _resolve(hts_dir, json_rel)
        cr = (row.get("change_record") or "").strip()
        published = (row.get("published") or "").strip()
        try:
            pub = date.fromisoformat(published) if published else None
        except ValueError as exc:
            raise DataError(f"{index}: bad published date {published!r} for {name}") from exc
        if not json_path.is_file():
            missing.append(f"{name} ({json_path})")
        revisions.append(
            Revision(
                name=name,
                index=i,
                json_path=json_path,
                change_record_path=_resolve(hts_dir, cr) if cr else None,
                published=pub,
                sha256=(row.get("sha256") or "").strip().lower(),
            )
        )
    if missing:
        raise DataError(
            f"data folder {hts_dir} lacks {len(missing)} revision archive(s) listed in "
            f"REVISIONS.csv: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}. "
            "Run 'tariffstack fetch' to download them."
        )
    if not revisions:
        raise DataError(f"{index} lists no revisions")
    return revisions


def _index_rows(index: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of REVISIONS.csv; a file that is not UTF-8 CSV text (an Excel BOM is fine) is a
    ``DataError`` naming the line, never a traceback."""
    try:
        raw = index.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {index}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(f"{index}: line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02x})") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise DataError(f"{index}: line {line} holds binary data (NUL bytes), not CSV text")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, str]]] = []
    end = 1
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if any("\n" in v or "\r" in v for v in row.values() if isinstance(v, str)):
                raise DataError(f"{index}: line {start} opens a quote that is not closed (the row runs "
                                f"on to line {end})")
            rows.append((start, row))
    except csv.Error as exc:
        raise DataError(f"{index}: line {reader.line_num} is malformed CSV ({exc})") from None
    if rows and not {"revision", "json"} <= set(reader.fieldnames or ()):
        raise DataError(f"{index}: line 1 lacks the revision/json columns (it reads "
                        f"{','.join(reader.fieldnames or ())})")
    return rows


def _resolve(hts_dir: Path, rel: str) -> Path:
    """REVISIONS.csv paths start with ``hts/`` (the folder as USITC's mirrors name it), whatever
    this folder is called: ``hts/json/x.json.gz`` is ``<data folder>/json/x.json.gz``."""
    p = Path(rel)
    if p.is_absolute():
        return p
    if len(p.parts) > 1 and p.parts[0] in ("hts", hts_dir.name):
        inside = hts_dir.joinpath(*p.parts[1:])
        if inside.exists() or not (hts_dir / p).exists():
            return inside
    return hts_dir / p


def read_records(rev: Revision, *, verify: bool = True) -> list[dict[str, Any]]:
    """The raw JSON records of one revision, after checking the archive's integrity."""
    try:
        raw = rev.json_path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {rev.json_path}: {exc.strerror}") from exc
    if verify and rev.sha256:
        got = hashlib.sha256(raw).hexdigest()
        if got != rev.sha256:
            raise DataError(
                f"archive {rev.json_path.name} ({rev.name}) fails its checksum: sha256 {got[:12]}... "
                f"!= {rev.sha256[:12]}... in REVISIONS.csv; it is corrupt or was replaced. "
                "Run 'tariffstack fetch' to download it again."
            )
    try:
        text = gzip.decompress(raw) if rev.json_path.suffix == ".gz" else raw
        data = json.loads(text)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise DataError(
            f"archive {rev.json_path.name} ({rev.name}) is corrupt or truncated: {exc}"
        ) from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data[:50]):
        raise DataError(f"archive {rev.json_path.name} is not a list of HTS records")
    return data


class Interner:
    """Shares identical Line objects between revisions.

    Lines already shared (those of a batch parsed together) are recognised by identity, so
    each distinct object is hashed field by field only once.
    """

    def __init__(self) -> None:
        self.pool: dict[tuple[Any, ...], Line] = {}
        self.seen: dict[int, tuple[Line, Line]] = {}  # id -> (the object, kept alive; its twin)

    def get(self, line: Line) -> Line:
        known = self.seen.get(id(line))
        if known is not None:
            return known[1]
        key = (
            line.hts, line.indent, line.description, line.path, line.units, line.general,
            line.special, line.other, line.rate_line, line.see, line.footnotes,
        )
        found = self.pool.setdefault(key, line)
        self.seen[id(line)] = (line, found)
        return found


class TextCleaner(dict[str, str]):
    """clean_text with memory: most texts recur in every revision."""

    def __missing__(self, text: str) -> str:
        self[text] = cleaned = clean_text(text)
        return cleaned


def parse_records(
    records: Iterable[dict[str, Any]], interner: Interner | None = None, cleaner: TextCleaner | None = None
) -> dict[str, Line]:
    """Turn one revision's records into Lines keyed by digits (8 or 10; 4/6 for headings)."""
    interner = interner or Interner()
    clean = cleaner if cleaner is not None else TextCleaner()
    out: dict[str, Line] = {}
    # stack of (indent, description, digits-or-"", general, special, other, rate_line, see)
    stack: list[tuple[int, str, str, str, str, str, str, tuple[str, ...]]] = []
    for rec in records:
        try:
            indent = int(str(rec.get("indent") or "0").strip() or 0)
        except ValueError:
            indent = 0
        desc = clean[str(rec.get("description") or "")]
        hts = str(rec.get("htsno") or "").strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        notes = tuple(
            clean[str(f.get("value") or "")]
            for f in (rec.get("footnotes") or [])
            if isinstance(f, dict)
        )
        own_see = tuple(dict.fromkeys(m for n in notes for m in SEE_RE.findall(n)))
        inherited_see: tuple[str, ...] = stack[-1][7] if stack else ()
        see = tuple(dict.fromkeys((*inherited_see, *own_see)))
        general = clean[str(rec.get("general") or "")]
        special = clean[str(rec.get("special") or "")]
        other = clean[str(rec.get("other") or "")]
        d = digits(hts)
        rate_line = hts
        if hts and not (general or special or other) and len(d) == 10:
            # statistical suffix: rates of the nearest numbered ancestor that prints them
            for anc in reversed(stack):
                if anc[2] and (anc[3] or anc[4] or anc[5]):
                    general, special, other, rate_line = anc[3], anc[4], anc[5], anc[6]
                    break
        if hts and CODE_RE.match(hts):
            line = Line(
                hts=hts,
                digits=d,
                indent=indent,
                description=desc,
                path=tuple(s[1] for s in stack),
                units=tuple(str(u) for u in (rec.get("units") or [])),
                general=general,
                special=special,
                other=other,
                rate_line=rate_line,
                see=see,
                footnotes=notes,
            )
            out[d] = interner.get(line)
        stack.append((indent, desc, d, general, special, other, rate_line, see))
    return out


def products(lines: dict[str, Line]) -> Iterator[Line]:
    """Lines an importer declares: 10-digit codes, and 8-digit lines with no 10-digit child."""
    keys = sorted(k for k in lines if not k.startswith("99"))
    for i, k in enumerate(keys):
        if len(k) == 10 or len(k) == 8 and not (i + 1 < len(keys) and keys[i + 1].startswith(k) and len(keys[i + 1]) == 10):
            yield lines[k]
