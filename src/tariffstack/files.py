"""Writing user-requested output files so that a failure never leaves a partial file behind."""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tariffstack.errors import BadInput


def _umask() -> int:
    """The process umask (reading it means setting it; put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it only if the block succeeds.

    Errors of the file system (missing folder, no permission, full disk) become ``BadInput``
    naming the target; on any failure the temporary file is removed.
    """
    folder = target.resolve().parent
    if not folder.is_dir():
        raise BadInput(f"cannot write {target}: folder {folder} does not exist")
    _sweep(folder, target.name)
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.{os.getpid()}.", suffix=".part")
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror}") from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a user's file gets the usual mode
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BadInput(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sweep(folder: Path, name: str) -> None:
    """Remove the temporaries of ``name`` left by writers that died (kill -9, power cut): their
    names carry the writer's pid, and a pid no process has is a dead writer's. DuckDB's COPY
    writes ``tmp_<our temporary>`` first, so those go too."""
    ours = f".{glob.escape(name)}.*.part"
    for tmp in [*folder.glob(ours), *folder.glob(f"tmp_{ours}")]:
        pid = tmp.name.removeprefix("tmp_")[len(name) + 2 :].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):  # not ours to remove, or gone already: leave it
            tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


@contextmanager
def exclusive(lock_file: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (created if missing) for the block.

    Two builds into one home would each swap in their store and delete the other's work in
    progress; the second one waits instead (``on_wait`` is told who holds the lock). The lock
    dies with its process, so a killed build never leaves the home locked.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            if on_wait is not None:
                on_wait(holder)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
