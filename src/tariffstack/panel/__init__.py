"""The rate panel: the engine's answers for every line x origin x day, built once, queried fast.

``builder`` computes the tables, ``store`` writes and swaps them on disk, ``query`` reads them
(``Panel``), ``diff`` summarises what changed between two dates.
"""

from tariffstack.panel.diff import Diff
from tariffstack.panel.query import Panel
from tariffstack.panel.store import (
           BuildReport,
           build,
           code_fingerprint,
           interval_hashes,
           store_path,
)
from tariffstack.panel.tables import ADD_LAYERS

__all__ = ["ADD_LAYERS", "BuildReport", "Diff", "Panel", "build", "code_fingerprint", "interval_hashes",
           "store_path"]
