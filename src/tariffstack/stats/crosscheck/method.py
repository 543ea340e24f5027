"""How the comparison is made: the tolerance, when a cluster must carry a verdict, and the
documented method differences normalised before comparing (printed in the report)."""

from __future__ import annotations

TOLERANCE_PP = 0.05
MIN_EXPLAINED = 50          # clusters this large must carry a verdict (else UNEXPLAINED)

# a printed MFN rate that is purely ad valorem: the only kind the peer's base rate carries as is
AD_VALOREM_RE = r"(Free|[0-9]+(\.[0-9]+)?%)"

NORMALISATIONS: tuple[tuple[str, str], ...] = (
    ("Statutory columns only",
     "The peer's rate_* columns are expected values over all entries (USMCA utilisation for Canada and "
     "Mexico, MFN-exemption shares for autos, metal-content shares); our panel gives the rate one entry "
     "pays. Only its statutory_rate_* and statutory_base_rate columns are compared."),
    ("Brazil and India country duties",
     "The peer books the IEEPA country duties on Brazil (9903.01.77 ff., EO 14323) and India (9903.01.84 ff., "
     "EO 14329) in its reciprocal column; ours are in ieepa_other. For BR and IN our ieepa_reciprocal + "
     "ieepa_other is compared with its reciprocal column; for the other origins our ieepa_other is "
     "compared with 0 (the peer has no such column)."),
    ("Section 232 on the metal content",
     "The peer's blended rate_232 scales derivative duties by a metal share; its statutory_rate_232 does "
     "not, and neither does our panel (its default input is that the whole value is metal), so the "
     "statutory column is compared."),
    ("MFN only where the printed rate is ad valorem",
     "For specific and compound general rates (2.8¢/kg, 30.5¢/kg + 8.5%, garment-ensemble rules) the peer's "
     "base rate is an ad valorem equivalent or 0, ours the ad valorem part as printed (or none): the "
     "two measure different things, so the mfn layer is compared only where the printed rate is Free "
     "or a percentage."),
    ("Lines only one side has",
     "Pairs are joined on the HTS-10 code and origin; lines only one side lists (the peer omits chapter 98 "
     "and some chapter 91 lines; statistical suffixes are renumbered between revisions) are counted, not "
     "compared."),
    ("Tolerance",
     f"A layer agrees when the two rates differ by at most {TOLERANCE_PP} percentage points; the peer's "
     "fractions are multiplied by 100 first."),
)
