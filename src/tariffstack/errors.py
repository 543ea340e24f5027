"""Errors a user can act on.

Every error the tool raises for bad input or bad data derives from ``TariffstackError`` so the
CLI and API can print a specific message (and exit 2 / answer 4xx) instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class TariffstackError(Exception):
    """Base class: the message is shown to the user as is; ``field`` names the input at fault
    (``hts10``, ``origin``, ``date``...) when one is, so every surface can point at it."""

    exit_code = 2

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@contextmanager
def blame(field: str) -> Iterator[None]:
    """Errors raised inside name ``field`` as the input at fault, unless they already name one."""
    try:
        yield
    except TariffstackError as exc:
        if exc.field is None:
            exc.field = field
        raise


class BadInput(TariffstackError):
    """The user's input (code, date, country, file line) is malformed or unknown."""


class UnknownCountry(BadInput):
    """A country name or code that matches nothing; carries close matches."""

    def __init__(self, query: str, suggestions: list[str], why: str | None = None,
                 *, field: str | None = None) -> None:
        self.query = query
        self.suggestions = suggestions
        if why:
            text = f"{query!r} {why}"
        elif suggestions:
            text = f"unknown country {query!r}. Did you mean: {', '.join(suggestions)}?"
        else:
            text = (f"unknown country {query!r}: give an ISO code (CN), a name (China) or a Census "
                    "code (5700); 'tariffstack countries' lists them")
        super().__init__(text, field=field)


class UnknownProduct(BadInput):
    """An HTS code absent from the schedule in force on the date asked."""

    def __init__(self, message: str, *, dated: str | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        # the message with "{day}" where it names the day asked: a bulk job that met the code
        # once on some day of a revision words it for each line's own day of that revision
        self.dated = dated

    def on(self, day: str) -> str:
        """The message for another day of the same revision."""
        return self.dated.format(day=day) if self.dated is not None else str(self)


class DateOutOfRange(BadInput):
    """A date before the first or after the last revision's coverage."""


class TooMany(BadInput):
    """More items in one request than the tool serves at once (origins, lines, rows)."""


class TooLarge(BadInput):
    """A body, file or line larger than the limit."""


class DataError(TariffstackError):
    """The data folder is missing, incomplete or corrupt."""

    exit_code = 3


class StoreMissing(DataError):
    """The built panel the question needs is absent: run ``tariffstack build``."""


class FetchError(TariffstackError):
    """Downloading revisions failed."""

    exit_code = 4
