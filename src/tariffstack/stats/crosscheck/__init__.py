"""Cross-check of the panel against an independent tracker (Yale Budget Lab tariff-rate-tracker).

Two programs reading the same 44 archives should disagree only where one of them (or the
schedule) is wrong, or where they model on purpose differently. So for each revision the peer
exported we pick a date that both date the same way, compare our panel with the peer's
*statutory* rates layer by layer after normalising the documented method differences, and group
what still disagrees into clusters (layer x our heading(s) x origins x the two rates). A
committed verdicts file (``data/crosscheck_verdicts.csv``) says for each cluster whose side is
wrong, or that it is a method difference, with a citation; clusters of 50 pairs or more without
one are reported as UNEXPLAINED, so a new disagreement cannot hide.

Everything row-wise runs in DuckDB over Arrow (each peer file is about 237,000 rows); Python only
touches the few hundred clusters.

One module per step: ``peer`` (its names, calendar and files), ``dating`` (the comparison date),
``compare`` (the run), ``grouping`` (clusters), ``verdicts`` (the verdicts file), ``results`` and
``report`` (Markdown and JSON); ``method`` holds the tolerance and the normalisations. The public
names are re-exported here.
"""

from tariffstack.stats.crosscheck.compare import compare_file, run
from tariffstack.stats.crosscheck.dating import PENDING_HORIZON_DAYS, DateChoice, choose_date
from tariffstack.stats.crosscheck.grouping import clusters, explained_pairs
from tariffstack.stats.crosscheck.method import (
    AD_VALOREM_RE,
    MIN_EXPLAINED,
    NORMALISATIONS,
    TOLERANCE_PP,
)
from tariffstack.stats.crosscheck.peer import (
    CALENDAR_SOURCE,
    FOLDED_INTO_RECIPROCAL,
    LAYERS,
    PEER_CALENDAR,
    PEER_CENSUS,
    PEER_LAYERS,
    PEER_PREFIX,
    PEER_SUFFIX,
    REQUIRED_COLUMNS,
    TEXT_COLUMNS,
    our_name,
    peer_files,
    peer_name,
    peer_window,
)
from tariffstack.stats.crosscheck.report import share_text, write_json
from tariffstack.stats.crosscheck.results import Cluster, LayerAgreement, Report, RevisionResult
from tariffstack.stats.crosscheck.verdicts import (
    VERDICT_COLUMNS,
    VERDICTS,
    Verdict,
    default_verdicts_text,
    load_verdicts,
)

__all__ = [
    "AD_VALOREM_RE",
    "CALENDAR_SOURCE",
    "Cluster",
    "DateChoice",
    "FOLDED_INTO_RECIPROCAL",
    "LAYERS",
    "LayerAgreement",
    "MIN_EXPLAINED",
    "NORMALISATIONS",
    "PEER_CALENDAR",
    "PEER_CENSUS",
    "PEER_LAYERS",
    "PEER_PREFIX",
    "PEER_SUFFIX",
    "PENDING_HORIZON_DAYS",
    "REQUIRED_COLUMNS",
    "Report",
    "RevisionResult",
    "TEXT_COLUMNS",
    "TOLERANCE_PP",
    "VERDICTS",
    "VERDICT_COLUMNS",
    "Verdict",
    "choose_date",
    "clusters",
    "compare_file",
    "default_verdicts_text",
    "explained_pairs",
    "load_verdicts",
    "our_name",
    "peer_files",
    "peer_name",
    "peer_window",
    "run",
    "share_text",
    "write_json",
]
