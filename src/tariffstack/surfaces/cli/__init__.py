"""Command line: ``tariffstack rate|search|revisions|countries|fetch|check-news|build|timeline|diff|export|serve|crosscheck|registry|effective-rate``.

Every user error becomes one line on stderr and exit code 2 (data problems 3, download
problems 4); no traceback reaches the user. One module per room of the package holds its commands;
importing them here registers them on the group.
"""

from tariffstack.surfaces.cli import law, news, panel, rate, schedule, stats
from tariffstack.surfaces.cli.app import cli, main

__all__ = ["cli", "law", "main", "news", "panel", "rate", "schedule", "stats"]
