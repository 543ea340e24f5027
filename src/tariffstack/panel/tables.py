"""The panel store's tables: their schemas, names and format number (``docs/STORE.md``).

Shared by the builder that writes them, the store that swaps them in and the queries that read
them, so a column added in one place cannot be missed in another.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pyarrow as pa

from tariffstack.models import LAYER_ORDER

PANEL_FORMAT = 2
ADD_LAYERS: tuple[str, ...] = tuple(x for x in LAYER_ORDER if x != "mfn")
LIST_SCOPES = ("list", "footnote")
MEMO = "memo.pickle"
PRODUCT_CONTENT = ("hts10", "description", "general", "general_pct", "other", "other_pct", "rate_line", "sig_id",
                   "mfn_key")
REGIME_CONTENT = ("sig_id", "mfn_key", "group_id", "stack_id")
PRODUCT_SCHEMA = pa.schema([
    ("hts10", pa.string()), ("valid_from", pa.date32()), ("valid_until", pa.date32()),
    ("revision", pa.string()), ("description", pa.string()), ("general", pa.string()),
    ("general_pct", pa.float64()), ("other", pa.string()), ("other_pct", pa.float64()),
    ("rate_line", pa.string()), ("sig_id", pa.int32()), ("mfn_key", pa.int32())])
REGIME_SCHEMA = pa.schema([
    ("sig_id", pa.int32()), ("mfn_key", pa.int32()), ("group_id", pa.int32()), ("stack_id", pa.int32()),
    ("valid_from", pa.date32()), ("valid_until", pa.date32())])
STACK_SCHEMA = pa.schema([
    ("stack_id", pa.int32()), *((n, pa.float64()) for n in ADD_LAYERS), ("additional_pct", pa.float64()),
    ("specific", pa.string()), ("headings", pa.list_(pa.string())), ("exempt_headings", pa.list_(pa.string())),
    ("layers_json", pa.string())])
TABLES = ("products", "regimes", "stacks", "groups", "sigs", "mfn_keys", "countries")
# (what, done, of): a build reports each interval it walks
Progress = Callable[[str, int, int], None]
ONE_DAY = timedelta(days=1)


