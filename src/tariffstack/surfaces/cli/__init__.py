"""Command line: ``tariffstack rate|calc|calc-bulk|refunds|search|revisions|countries|fetch|check-news|build|timeline|diff|export|serve|crosscheck|registry|effective-rate|scenario|war``.

Every user error becomes one line on stderr and exit code 2 (data problems 3, download
problems 4); no traceback reaches the user. One module per room of the package holds its commands;
importing them here registers them on the group.
"""

from tariffstack.surfaces.cli import calc, law, news, panel, rate, scenario, schedule, stats, war
from tariffstack.surfaces.cli.app import cli, main

__all__ = ["calc", "cli", "law", "main", "news", "panel", "rate", "scenario", "schedule", "stats", "war"]
