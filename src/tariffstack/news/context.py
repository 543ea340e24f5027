"""What the verdicts consult, bundled for one check() run: the U.S. engine (its answers cached),
China's data, and, when built, the rate panel and the import weights (for composite totals)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tariffstack.errors import TariffstackError
from tariffstack.models import DeMinimis, RateResult, SearchHit
from tariffstack.news.results import EngineLike
from tariffstack.sources.china import ChinaTariffs


class PanelLike(Protocol):
    """The part of :class:`tariffstack.panel.Panel` the checker reads: one-date snapshots."""

    def snapshot(self, on: dt.date, *, prefix: str | None = ...,
                 origins: Any = ...) -> Any: ...


class Memo:
    """Caches engine answers for one check() run: articles repeat the same question (145% on
    China, asked three times) and each asks it for a few dozen sampled lines."""

    def __init__(self, engine: EngineLike) -> None:
        self._engine = engine
        self._rates: dict[tuple[str, str, dt.date], RateResult | TariffstackError] = {}
        self._products: dict[dt.date, Sequence[str]] = {}
        self._search: dict[tuple[str, int], list[SearchHit]] = {}
        self._dm: dict[tuple[str, dt.date, float], DeMinimis] = {}
        self.samples: dict[tuple[dt.date, int], list[str]] = {}   # used by sample_codes

    def rate(self, code: str, origin: str, on: dt.date, /) -> RateResult:
        key = (code, origin, on)
        if key not in self._rates:
            try:
                self._rates[key] = self._engine.rate(code, origin, on)
            except TariffstackError as exc:
                self._rates[key] = exc
        got = self._rates[key]
        if isinstance(got, TariffstackError):
            raise got
        return got

    def search(self, query: str, /, *, limit: int) -> list[SearchHit]:
        key = (query, limit)
        if key not in self._search:
            self._search[key] = self._engine.search(query, limit=limit)
        return self._search[key]

    def de_minimis(self, *, origin: str, on: dt.date, value_usd: float) -> DeMinimis:
        key = (origin, on, value_usd)
        if key not in self._dm:
            self._dm[key] = self._engine.de_minimis(origin=origin, on=on, value_usd=value_usd)
        return self._dm[key]

    def products(self, on: dt.date, /) -> Sequence[str]:
        if on not in self._products:
            self._products[on] = self._engine.products(on)
        return self._products[on]

    def change_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Days in [start, end] on which some duty may change: the model's boundaries (every
        heading version's start and end) when the engine has a model, else every day."""
        model = getattr(self._engine, "model", None)
        days: list[dt.date] | None = None
        if model is not None and hasattr(model, "boundaries"):
            try:
                days = [d for d in model.boundaries() if start <= d <= end]
            except (TypeError, AttributeError):
                days = None
        if days is None:
            days = [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
        return sorted(set(days))


@dataclass
class Law:
    """Everything a verdict may consult."""

    engine: Memo
    china: ChinaTariffs | None = None
    panel: PanelLike | None = None
    weights: Any = None                    # tariffstack.stats.weights.Weights, when loaded
    cache: dict[Any, Any] = field(default_factory=dict)


_WEIGHTS: dict[tuple[str, float], Any] = {}


def load_extras(home: Path | None, data_dir: Path | None) -> tuple[PanelLike | None, Any]:
    """The rate panel built in ``home`` and the import weights beside ``data_dir``
    (``../shared/weights``), each None when absent or unreadable: they only sharpen composite
    totals (all lines counted, shares of imports), the checker works without them."""
    panel: PanelLike | None = None
    weights: Any = None
    if home is not None:
        from tariffstack.panel import Panel

        try:
            panel = Panel.open(home)
        except (TariffstackError, OSError):
            panel = None
    if data_dir is not None:
        from tariffstack.stats import weights as wmod

        folder = wmod.default_weights_dir(data_dir)
        try:
            key = (str(folder), (folder / wmod.WEIGHTS_FILE).stat().st_mtime)
            if key not in _WEIGHTS:
                _WEIGHTS[key] = wmod.load(folder)
            weights = _WEIGHTS[key]
        except (TariffstackError, OSError):
            weights = None
    return panel, weights
