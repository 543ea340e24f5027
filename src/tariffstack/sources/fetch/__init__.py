"""Download HTS revisions into the user's data folder (``tariffstack fetch``).

USITC only serves the *current* release, so the data folder is an archive that grows: every
fetch adds what is new and keeps every revision fetched before. Two sources are supported:

* USITC itself (``fetch_usitc``): the release list names the current release, the full-schedule
  JSON export is gzipped into ``json/`` and the change record PDF goes into ``change_records/``.
* A mirror laid out like ``../shared`` (``fetch_mirror``): ``BASE/hts/REVISIONS.csv`` lists the
  files and their sha256; whatever is missing or damaged locally is downloaded again. Revisions
  the package knows are checked against its manifest (``manifest.py``), not the mirror's word:
  a mirror cannot change a revision silently.

USITC's change record is a PDF; its text, laid out as printed, is written beside it
(``..._change_record.txt``) and listed, so the build reads it as it reads a mirror's.

Every download streams into ``<name>.part`` beside its destination, resumes with an HTTP Range
request after an interruption, is verified, and only then renamed into place, so a final file is
never half written. ``REVISIONS.csv`` is rewritten atomically after each file, so it only ever
lists archives that are present and verified.

One module per idea: ``http`` (client, retries, resumable downloads), ``install`` (checks before
a download is moved into place), ``local`` (data-folder paths, checksums, atomic small writes),
``revisions`` (``REVISIONS.csv``), ``mirror``, ``usitc``, ``verify``; ``result`` holds
``FetchResult``. The public names are re-exported here.
"""

from tariffstack.sources.fetch.http import Progress
from tariffstack.sources.fetch.mirror import fetch_mirror, notes_names
from tariffstack.sources.fetch.result import FetchResult
from tariffstack.sources.fetch.usitc import USITC_BASE, fetch_usitc
from tariffstack.sources.fetch.verify import verify_archives

__all__ = [
    "USITC_BASE",
    "FetchResult",
    "Progress",
    "fetch_mirror",
    "fetch_usitc",
    "notes_names",
    "verify_archives",
]
