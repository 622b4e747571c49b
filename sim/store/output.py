"""Where results go: checked before any work, claimed while a command writes, rescued on failure.

Three promises to the user, each in one line instead of a traceback after a long simulation:

- **Before any work**, the output place is checked: the nearest existing folder on the way to it
  must be a folder (not a file) and writable (a probe file is created there and removed).
- **While a command writes** a folder, it holds a lock file beside it (``.<name>.sim-lock`` with
  its pid). A second command aimed at the same folder stops at once with exit 2; a lock left by a
  process that no longer exists is taken over.
- **On a write error after the work** (disk full, folder removed or made read-only meanwhile), the
  results are written to a rescue folder in the system's temporary folder instead, and the message
  names it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

PROBE_BYTES = 64 * 1024
"""Written (and synced) by the probe, so a full disk shows before the work, not after."""


class OutputError(Exception):
    """The output place cannot be used; the message is one line for the user.

    ``rescued`` is the folder where the results were saved instead, if any.
    """

    def __init__(self, message: str, rescued: Path | None = None) -> None:
        super().__init__(message)
        self.rescued = rescued


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (the current folder at worst)."""
    path = Path(os.path.abspath(path))
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path.cwd()  # pragma: no cover - the root always exists


def check_output_place(path: Path, *, file: bool = False) -> None:
    """Raise OutputError unless ``path`` (a folder to create, or with ``file`` a file to write)
    can be written: no file on the way to it, and a writable folder where it will be created."""
    path = Path(path)
    if file and path.is_dir():
        raise OutputError(f"{path} is a folder; expected a file name, e.g. {path / 'compare.html'}")
    start = path.parent if file or not path.is_dir() else path
    base = nearest_existing(start)
    if not base.is_dir():
        raise OutputError(f"cannot write {path}: {base} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".sim-probe-", dir=base)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc)} ({base})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"\0" * PROBE_BYTES)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc)} ({base})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)


def lock_path(final: Path) -> Path:
    return final.parent / f".{final.name}.sim-lock"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, run by someone else
    return True


def _holder(lock: Path) -> int | None:
    """The pid in a lock file, or None when it cannot be read (being written, or garbage)."""
    try:
        text = lock.read_text(encoding="ascii").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def _remove_stale_locks(folder: Path) -> None:
    """Remove the locks in ``folder`` left by processes that no longer exist (killed with
    SIGKILL, which leaves no chance to clean up); a lock of a live process is never touched."""
    try:
        locks = list(folder.glob(".*.sim-lock"))
    except OSError:
        return
    for lock in locks:
        pid = _holder(lock)
        if pid is not None and not _alive(pid):
            with contextlib.suppress(OSError):
                lock.unlink()


@contextlib.contextmanager
def claim(final: Path) -> Iterator[None]:
    """Hold the lock of ``final`` while the block runs; OutputError when another live process
    holds it. The lock file is removed on the way out (whatever happens)."""
    final = Path(final)
    lock = lock_path(final)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {_reason(exc)}") from None
    _remove_stale_locks(lock.parent)
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _holder(lock)
            if pid is None or _alive(pid):
                who = f"pid {pid}" if pid else "another process"
                raise OutputError(
                    f"{final} is being written by another sim command ({who}); "
                    "wait for it or choose another --out"
                ) from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()  # left by a process that no longer exists
            continue
        except OSError as exc:
            raise OutputError(f"cannot write {final}: {_reason(exc)}") from None
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(f"{os.getpid()}\n")
        break
    else:  # pragma: no cover - three stale locks in a row
        raise OutputError(f"cannot lock {final}: {lock} keeps reappearing")
    try:
        yield
    finally:
        if _holder(lock) == os.getpid():
            with contextlib.suppress(OSError):
                lock.unlink()


def rescue_dir(final: Path) -> Path:
    """A new folder name in the system's temporary folder for results that could not be written."""
    base = Path(tempfile.gettempdir()) / f"sim-rescue-{Path(final).name}-{os.getpid()}"
    path, i = base, 2
    while os.path.lexists(path):
        path = base.with_name(f"{base.name}-{i}")
        i += 1
    return path


def write_or_rescue(write: Callable[[Path], T], final: Path) -> T:
    """``write(final)``; on an OSError, ``write(rescue folder)`` and OutputError naming both."""
    try:
        return write(final)
    except OSError as exc:
        reason = _reason(exc)
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) or os.path.lexists(final):
            reason = f"{final} was created by another command meanwhile"
    rescue = rescue_dir(final)
    try:
        write(rescue)
    except OSError as exc2:
        raise OutputError(
            f"cannot write {final}: {reason}; saving the results to {rescue} failed too: "
            f"{_reason(exc2)}; nothing was written"
        ) from None
    raise OutputError(
        f"cannot write {final}: {reason}; the results were saved in {rescue} instead",
        rescued=rescue,
    )
