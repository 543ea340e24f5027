"""The query parameters the routes share, declared once: one naming scheme with the CLI and the
JSON answers (hts10, origin(s), date, from, to, chapter, heading, layer). The names used before
(code, start, end, prefix) still work as deprecated aliases, so links already shared keep their
meaning (see docs/API.md)."""

from __future__ import annotations

from fastapi import Depends, Query

from tariffstack.engine.timeline import MAX_ORIGINS
from tariffstack.engine.us import Inputs
from tariffstack.service.inputs import parse_inputs
from tariffstack.surfaces.api.errors import ApiError

hts10_q = Query(None, min_length=1, max_length=24,
                description="HTS code: 10, 8 or 6 digits, dots optional (required)",
                examples=["8517.13.0000"])
code_q = Query(None, min_length=1, max_length=24, deprecated=True,
               description="Deprecated alias of `hts10`", examples=["8517.13.0000"])
date_q = Query(None, alias="date", max_length=32, examples=["2025-05-02"],
               description="Entry date YYYY-MM-DD (default: newest date covered)")
origins_q = Query("CN", max_length=700, examples=["CN,MX,DE"],
                  description="Comma-separated origins (codes or names), up to "
                              f"{MAX_ORIGINS}")
from_q = Query(None, alias="from", max_length=32, examples=["2025-01-01"],
               description="First date YYYY-MM-DD (default: first date covered)")
to_q = Query(None, alias="to", max_length=32, examples=["2025-12-31"],
             description="Last date YYYY-MM-DD (default: newest date covered)")
start_q = Query(None, max_length=32, deprecated=True, description="Deprecated alias of `from`")
end_q = Query(None, max_length=32, deprecated=True, description="Deprecated alias of `to`")



def need(name: str, *values: str | None) -> str:
    """The first given of a parameter and its aliases; 422 naming it when none is."""
    for v in values:
        if v is not None and v.strip():
            return v
    raise ApiError(422, "validation_error", f"{name}: Field required", name)


def first_of(*values: str | None) -> str | None:
    return next((v for v in values if v is not None and v.strip()), None)


def inputs_dep(
    loading_date: str | None = Query(None, max_length=32, examples=["2025-04-01"],
                                     description="Date loaded for export (in-transit rules)"),
    usmca: bool = Query(False, description="Claim USMCA preference (general note 11)",
                        examples=[False]),
    metal_content_share: float | None = Query(
        None, ge=0, le=1, allow_inf_nan=False, examples=[0.6],
        description="Share of value that is Section 232 metal (0-1)"),
    us_content_share: float | None = Query(None, ge=0, le=1, allow_inf_nan=False,
                                           examples=[0.2],
                                           description="Share of value that is U.S. content"),
    melt_pour_country: str | None = Query(None, max_length=64, examples=["DE"],
                                          description="Where the steel was melted and poured"),
    program: str | None = Query(None, max_length=8, pattern=r"^[A-Za-z+]{1,8}$",
                                examples=["KR"],
                                description="Special program code (column 1 Special)"),
    value_usd: float | None = Query(None, ge=0, le=1e12, allow_inf_nan=False,
                                    examples=[650],
                                    description="Customs value in USD (de minimis check)"),
) -> Inputs:
    return parse_inputs({
        "loading_date": loading_date, "usmca_claimed": usmca,
        "metal_content_share": metal_content_share, "us_content_share": us_content_share,
        "melt_pour_country": melt_pour_country, "program": program, "value_usd": value_usd})


inputs_d = Depends(inputs_dep)
