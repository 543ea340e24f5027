"""Scenario files: hypothetical legal events in YAML (or JSON), validated, with line numbers.

A scenario states changes to the law in the form of the package's own legal data: the
``legal_events.csv`` columns (``id``, ``headings``, ``action``, ``effective``, ``end``, ``rate_pct``,
``countries``, ``citation``, ``summary``) for changes to printed headings, and the heading
registry's columns (``heading``, ``layer``, ``countries``, ``except_countries``, ``products``,
``except_products``, ``basis``) for headings no revision prints. ``docs/SCENARIOS.md`` documents
every field; ``docs/scenario.schema.json`` is the JSON schema (``Scenario.model_json_schema()``).

The file is read with PyYAML's base loader (every scalar a string, so ``NO`` stays Norway and
``9903.01.25`` stays a heading), keeping each node's line so that every error names the line at
fault. JSON is YAML, so API bodies take the same path and get line numbers too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from tariffstack.errors import BadInput, TooLarge

MAX_BYTES = 256 * 1024
MAX_EVENTS = 200
MAX_DEPTH = 12
HEADING = r"9903\.\d\d\.\d\d"
HEADINGS_RE = re.compile(rf"^{HEADING}(?:-{HEADING})?$")
HEADING_RE = re.compile(rf"^{HEADING}$")
NULLS = frozenset({"", "~", "null", "Null", "NULL"})
Layer = Literal["s301", "s232", "ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other", "s122", "s201", "other"]


def _split(value: Any) -> list[str]:
    """A ``;``-separated string or a list of strings, as a list of stripped, non-empty items."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(";")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError("expected a string or a list of strings")
        out.extend(p.strip() for p in item.split(";") if p.strip())
    return out


def _heading_list(value: Any) -> list[str]:
    items = _split(value)
    if not items:
        raise ValueError("give at least one heading (9903.01.25) or range (9903.01.43-9903.01.62)")
    for item in items:
        if not HEADINGS_RE.match(item):
            raise ValueError(f"{item!r} is not a Chapter 99 heading (9903.xx.xx) or a range of them")
    return items


def _optional_headings(value: Any) -> list[str]:
    return _heading_list(value) if _split(value) else []


def _product_terms(value: Any) -> list[str]:
    """HTS codes as ``code:`` terms; only code: and note: terms name products to add or remove."""
    out = []
    for item in _split(value):
        if re.fullmatch(r"[\d.]{2,13}", item):
            item = f"code:{item}"
        if not (item.startswith("code:") or item.startswith("note:")):
            raise ValueError(f"{item!r}: give an HTS code (8517.13.00), code:PREFIX or note:REF")
        out.append(item)
    if not out:
        raise ValueError("give at least one product")
    return out


_TEXT_OR_LIST: Any = str | list[str]
Headings = Annotated[list[str], BeforeValidator(_heading_list, json_schema_input_type=_TEXT_OR_LIST),
                     Field(description="Headings (9903.01.25) and ranges (9903.01.43-9903.01.62), "
                                       "';'-separated or a list")]
OptionalHeadings = Annotated[list[str], BeforeValidator(_optional_headings, json_schema_input_type=_TEXT_OR_LIST),
                             Field(description="Headings whose goods this one excepts, as a heading "
                                               "text's 'except ...' does")]
Terms = Annotated[list[str], BeforeValidator(_split, json_schema_input_type=_TEXT_OR_LIST)]
ProductTerms = Annotated[list[str], BeforeValidator(_product_terms, json_schema_input_type=_TEXT_OR_LIST),
                         Field(description="HTS codes (8517.13.00) or terms code:PREFIX, note:REF")]


class _Event(BaseModel):
    """Fields every event has (the legal_events.csv columns)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$",
                                    description="A name for the event, unique in the file")] = None
    effective: Annotated[date, Field(description="First day the event applies to entries (ISO date)")]
    citation: Annotated[str | None, Field(max_length=500, description="Where the idea comes from")] = None
    summary: Annotated[str | None, Field(max_length=2000, description="What the event does, in words")] = None


class _Period(_Event):
    end: Annotated[date | None, Field(description="Last day the event applies (inclusive); none: no end")] = None

    @model_validator(mode="after")
    def _ordered(self) -> _Period:
        if self.end is not None and self.end < self.effective:
            raise ValueError(f"end {self.end} is before effective {self.effective}")
        return self


class RateEvent(_Period):
    """Change the rate of printed headings (a legal_events.csv ``rate`` row)."""

    action: Literal["rate"]
    headings: Headings
    rate_pct: Annotated[float, Field(ge=0, le=1000, description="The new ad valorem rate, percent")]


class TerminateEvent(_Event):
    """End printed headings for goods entered on or after ``effective`` (a ``terminate`` row)."""

    action: Literal["terminate"]
    headings: Headings


class SuspendEvent(_Period):
    """Suspend printed headings from ``effective``; with ``end`` they apply again the day after."""

    action: Literal["suspend"]
    headings: Headings


class ProductsEvent(_Period):
    """Add products to, or take products out of, the product list of a printed heading."""

    action: Literal["add_products", "remove_products"]
    headings: Headings
    products: ProductTerms


class _NewHeading(_Period):
    """A heading given by number; for one no revision prints, the registry's columns say its reach."""

    heading: Annotated[str, Field(pattern=HEADING_RE.pattern, description="A 9903.xx.xx heading")]
    countries: Annotated[Terms, Field(description="Payers: ISO codes, names or groups (EU); '*': any")]
    except_countries: Annotated[Terms, Field(description="Countries taken out of the payers")] = []
    except_products: Annotated[Terms, Field(description="code: and note: terms taken out")] = []
    except_headings: OptionalHeadings = []


class CountryRate(_NewHeading):
    """A rate for some countries: a new heading, or more (or fewer) payers of a printed one."""

    action: Literal["country_rate"]
    rate_pct: Annotated[float | None, Field(ge=0, le=1000, description="Percent; only for a new heading")] = None
    layer: Layer = "ieepa_reciprocal"
    products: Annotated[Terms, Field(description="Registry product terms (default: all)")] = ["all"]


class Section232(_NewHeading):
    """A new Section 232 action on a product list (a heading no revision prints)."""

    action: Literal["s232_action"]
    rate_pct: Annotated[float, Field(ge=0, le=1000, description="Percent of the value (or of the content)")]
    products: Annotated[Terms, Field(min_length=1, description="Registry product terms: code:, note:")]
    countries: Annotated[Terms, Field(description="Payers (default '*': any country)")] = ["*"]
    basis: Literal["steel", "aluminum", "copper", "metal"] | None = None


Event = Annotated[RateEvent | TerminateEvent | SuspendEvent | ProductsEvent | CountryRate | Section232,
                  Field(discriminator="action")]


class Scenario(BaseModel):
    """A named set of hypothetical legal events, compared with the law on file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"$id": "https://tariffstack/scenario.schema.json"})

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$", description="Short name (a-z, 0-9, -)")]
    title: Annotated[str | None, Field(max_length=200)] = None
    citation: Annotated[str | None, Field(max_length=500)] = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    events: Annotated[list[Event], Field(min_length=1, max_length=MAX_EVENTS)]


def schema() -> dict[str, Any]:
    """The published JSON schema of scenario files (docs/scenario.schema.json)."""
    return Scenario.model_json_schema()


# ---- reading ---------------------------------------------------------------------------
@dataclass
class ScenarioFile:
    """A validated scenario and where each part of it was written."""

    scenario: Scenario
    source: str
    root: yaml.Node
    text: str

    def line(self, *loc: int | str) -> int:
        """The line (1-based) of the node at ``loc`` (e.g. ``"events", 2, "heading"``), or of the
        deepest node on the way when the rest is missing."""
        return _line(self.root, loc)

    def where(self, *loc: int | str) -> str:
        return f"{self.source} line {self.line(*loc)}"


def _line(node: yaml.Node, loc: tuple[int | str, ...]) -> int:
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == part), None)
            if found is None:
                if isinstance(part, str) and any(k.value == "action" for k, _ in node.value):
                    continue  # the union's tag in a pydantic location, not a key
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return int(node.start_mark.line) + 1


def _data(node: yaml.Node, source: str, seen: set[int] | None = None) -> Any:
    """Plain data from the node tree: strings, lists, dicts (duplicate keys are an error).

    YAML aliases (``&a`` ... ``*a``) are refused: a scenario needs none, and expanding them
    would let a small file grow exponentially ("billion laughs")."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        raise BadInput(f"{source} line {node.start_mark.line + 1}: YAML aliases (&name, *name) are not accepted")
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        return None if node.value in NULLS and node.style is None else node.value
    if isinstance(node, yaml.SequenceNode):
        return [_data(v, source, seen) for v in node.value]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise BadInput(f"{source} line {k.start_mark.line + 1}: a key must be a plain word")
            if k.value in out:
                raise BadInput(f"{source} line {k.start_mark.line + 1}: {k.value!r} appears twice")
            out[k.value] = _data(v, source, seen)
        return out
    raise BadInput(f"{source} line {node.start_mark.line + 1}: unsupported YAML node")


def _message(err: dict[str, Any]) -> str:
    """One pydantic error in words, prefixed by the field it is about."""
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p in _ACTIONS)]
    names = [str(p) for p in loc if isinstance(p, str)]
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        found = err.get("ctx", {}).get("tag")
        what = f"unknown action {found!r}" if found else "missing"
        return f"action: {what} (one of {', '.join(sorted(_ACTIONS))})"
    if err["type"] == "extra_forbidden":
        return f"unknown field {names[-1]!r}" if names else msg
    if loc and isinstance(loc[-1], int) or not names:
        return msg  # about the event (or the file) as a whole
    return f"{names[-1]}: {msg}"


_ACTIONS = frozenset({"rate", "terminate", "suspend", "add_products", "remove_products", "country_rate",
                      "s232_action"})


def _shallow(text: str, source: str) -> None:
    """Refuse deep nesting before building nodes: PyYAML's parser streams events without
    recursion, its composer recurses (thousands of levels in a small body would cost seconds)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.BaseLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 1
                raise BadInput(f"{source} line {line}: nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def parse(text: str | bytes, source: str = "scenario") -> ScenarioFile:
    """Read and validate a scenario text, or a ``BadInput`` naming the line at fault."""
    if isinstance(text, bytes):
        raw = text
        if len(raw) > MAX_BYTES:
            raise TooLarge(f"{source}: {len(raw):,} bytes, the limit is {MAX_BYTES:,}")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise BadInput(f"{source} line {line}: not UTF-8 text") from None
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise TooLarge(f"{source}: larger than {MAX_BYTES:,} bytes")
    try:
        _shallow(text, source)
        root = yaml.compose(text, Loader=yaml.BaseLoader)
    except RecursionError:
        raise BadInput(f"{source}: nested too deeply to be a scenario") from None
    except yaml.MarkedYAMLError as exc:
        mark, what = exc.problem_mark or exc.context_mark, exc.problem or exc.context
        if exc.context_mark is not None and ("end of stream" in (exc.problem or "") or "<stream end>" in (exc.problem or "")):
            # an unclosed quote or bracket: where it opened, not the end of the file it ran to
            mark, what = exc.context_mark, f"{(exc.context or '').removeprefix('while scanning ').removeprefix('while parsing ')} is never closed"
        line = mark.line + 1 if mark is not None else 1
        raise BadInput(f"{source} line {line}: not valid YAML: {what}") from None
    except yaml.reader.ReaderError as exc:  # a control character (NUL...): name its line, as for the rest
        line = text[: exc.position].count("\n") + 1
        code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
        what = "binary data (NUL bytes)" if code == 0 else f"character #x{code:04x}"
        raise BadInput(f"{source} line {line}: not valid YAML: {what} is not allowed in YAML text") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{source}: not valid YAML: {exc}") from None
    if root is None:
        raise BadInput(f"{source} line 1: empty scenario (give name and events)")
    if not isinstance(root, yaml.MappingNode):
        raise BadInput(f"{source} line {root.start_mark.line + 1}: a scenario is a mapping with name and events")
    try:
        data = _data(root, source)
    except RecursionError:
        raise BadInput(f"{source}: nested too deeply to be a scenario") from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadInput(f"{source} line {_line(root, tuple(first['loc']))}: {_message(dict(first))}") from None
    return ScenarioFile(scenario, source, root, text)
