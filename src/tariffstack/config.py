"""Where tariffstack reads official files and keeps its derived store.

The data folder holds USITC files laid out as in ``../shared/hts`` (``json/``, ``REVISIONS.csv``,
``change_records/``, ``notes/``). The home folder holds derived, rebuildable files (caches,
panels). Both are configurable because tests, CI and real users keep them in different places.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "TARIFFSTACK_DATA_DIR"
HOME_ENV = "TARIFFSTACK_HOME"


def default_data_dir() -> Path:
    """``$TARIFFSTACK_DATA_DIR``, else ``../shared/hts`` beside a source checkout, else home/hts."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "hts"
        if (parent / "pyproject.toml").exists() and candidate.is_dir():
            return candidate
    return default_home() / "hts"


def default_home() -> Path:
    """``$TARIFFSTACK_HOME``, else ``~/.tariffstack``."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".tariffstack"
