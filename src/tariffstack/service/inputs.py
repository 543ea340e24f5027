"""The optional inputs of a rate question, read the same way from CLI options, batch CSV rows
and API query parameters (text or already-typed values), each error naming its field."""

from __future__ import annotations

from collections.abc import Mapping

from tariffstack.engine.us import Inputs, parse_date
from tariffstack.errors import BadInput, blame
from tariffstack.law import countries

INPUT_FIELDS = ("loading_date", "usmca_claimed", "metal_content_share", "us_content_share",
                "melt_pour_country", "program", "value_usd")


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    t = _text(value).lower()
    if t in ("", "0", "false", "no", "n"):
        return False
    if t in ("1", "true", "yes", "y"):
        return True
    raise BadInput(f"{field} must be true or false, not {value!r}", field=field)


def _number(value: object, field: str, what: str, percent: bool = False) -> float | None:
    """A typed number, or its text ("0.6", "60%" when ``percent``); None when empty."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    t = _text(value)
    if not t:
        return None
    try:
        return float(t.rstrip("%")) / 100 if percent and t.endswith("%") else float(t)
    except ValueError as exc:
        raise BadInput(f"{field} must be {what}, not {value!r}", field=field) from exc


def _share(value: object, field: str) -> float | None:
    """A share of value: 0-1, or a percentage written with %."""
    v = _number(value, field, "a number between 0 and 1", percent=True)
    if v is not None and not 0 <= v <= 1:
        raise BadInput(f"{field} must be between 0 and 1 (or 0% to 100%), not {value!r}",
                       field=field)
    return v


def _amount(value: object, field: str) -> float | None:
    v = _number(value, field, "a number")
    if v is not None and not 0 <= v < float("inf"):
        raise BadInput(f"{field} must be a non-negative amount, not {value!r}", field=field)
    return v


def parse_inputs(row: Mapping[str, object]) -> Inputs:
    """Inputs from a mapping of the names in ``INPUT_FIELDS`` (``usmca`` is taken as an alias
    of ``usmca_claimed``); missing or empty values take the engine's defaults."""
    loading = _text(row.get("loading_date"))
    with blame("loading_date"):
        loading_date = parse_date(loading) if loading else None
    melt = _text(row.get("melt_pour_country"))
    with blame("melt_pour_country"):
        melt_iso = countries.resolve(melt).iso2 if melt else None
    usmca = row.get("usmca_claimed", row.get("usmca"))
    return Inputs(
        loading_date=loading_date,
        usmca_claimed=_bool(usmca, "usmca_claimed"),
        metal_content_share=_share(row.get("metal_content_share"), "metal_content_share"),
        us_content_share=_share(row.get("us_content_share"), "us_content_share"),
        melt_pour_country=melt_iso,
        program=_text(row.get("program")) or None,
        value_usd=_amount(row.get("value_usd"), "value_usd"),
    )
