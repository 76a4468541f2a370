"""Run folders: one writer at a time, one run's files only, no leftovers of an interrupted write.

Every command that writes a run folder holds it through :func:`run_folder`:

* a lock (``.hepatwin.lock``, an ``flock`` on that file) refuses a second writer with a message naming the
  folder and the other process; the kernel releases the lock of a killed process, so a stale lock file is
  recognised (its ``flock`` is free) and taken over;
* the lock file stays after the run and marks the folder as a hepatwin run folder;
* before the new run writes, the files of the previous run are removed (subfolders that are run folders of
  their own, with their own lock file, are kept), as are the partial files of an interrupted atomic write;
* a folder the run created is removed again if the run fails before writing anything in it.

A folder that holds files but is not a hepatwin run folder is refused rather than cleared: nothing of the
user's is ever deleted.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from .atomic import check_out_dir, prepare_out_dir
from .manifest import MANIFEST, invalidate

LOCK = ".hepatwin.lock"
#: files that mark a folder written by hepatwin before run folders had a lock file
_LEGACY_MARKERS = (MANIFEST, "run_settings.json")
_PARTIAL = ".*.partial"
#: folders this process holds -> [holders, cleared] (re-entrant: a command and the library it calls both hold)
_held: dict[Path, list] = {}
_held_lock = threading.Lock()


class FolderBusyError(OSError):
    """Another process is writing the run folder; the message names it."""


class ForeignFolderError(OSError):
    """The output folder holds files that hepatwin did not write; nothing is deleted."""


def _describe(info: dict) -> str:
    who = f"process {info.get('pid', '?')}"
    if info.get("host") and info.get("host") != socket.gethostname():
        who += f" on {info['host']}"
    cmd = info.get("command")
    since = info.get("started_utc")
    return who + (f" ({cmd})" if cmd else "") + (f", started {since}" if since else "")


def _read_info(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def is_run_folder(path: str | Path) -> bool:
    """True if `path` was written by hepatwin (lock file, or a manifest of an earlier version)."""
    path = Path(path)
    return any((path / m).exists() for m in (LOCK, *_LEGACY_MARKERS))


def remove_partials(path: str | Path) -> list[Path]:
    """Delete the temporary files of interrupted atomic writes under `path` (call only while holding it)."""
    removed = []
    for root, dirs, _files in os.walk(path):
        # a subfolder with a lock file of its own is another run's (its writer cleans it)
        dirs[:] = [d for d in dirs if not (Path(root) / d / LOCK).exists()]
        for p in Path(root).glob(_PARTIAL):
            if p.is_file():
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def clear_previous_run(path: str | Path) -> None:
    """Remove the files of the run that wrote `path` before (call only while holding it): everything but the
    lock file and subfolders that are run folders of their own. A manifest goes first, so a folder cleared
    halfway never looks complete."""
    path = Path(path)
    invalidate(path)
    for entry in path.iterdir():
        if entry.name == LOCK:
            continue
        if entry.is_dir() and not entry.is_symlink():
            if (entry / LOCK).exists():
                continue
            shutil.rmtree(entry)
        else:
            entry.unlink()


class RunFolder:
    """A run folder held by this process; see :func:`run_folder`."""

    def __init__(self, path: Path, created: bool, state: list):
        self.path = path
        self.created = created
        self._state = state

    def begin(self) -> Path:
        """Remove the previous run's files (once per hold) so that only this run's files end up here."""
        if not self._state[1]:
            clear_previous_run(self.path)
            self._state[1] = True
        return self.path


def _acquire(path: Path, command: str) -> tuple[int, dict]:
    lock = path / LOCK
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        raise FolderBusyError(errno.EBUSY, f"is being written by {_describe(_read_info(lock))}; wait for it to "
                                           "finish or choose another output folder", str(path)) from None
    previous = _read_info(lock)
    info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
            "started_utc": datetime.now(UTC).isoformat(timespec="seconds"), "state": "running"}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
    return fd, previous


def _release(fd: int, path: Path, finished: bool) -> None:
    info = _read_info(path / LOCK)
    info["state"] = "finished" if finished else "failed"
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextlib.contextmanager
def run_folder(out: str | Path, *, resume: bool = False, begin: bool = True,
               command: str | None = None) -> Iterator[RunFolder]:
    """Hold the output folder `out` for one run.

    `begin=True` removes the previous run's files at once; with `begin=False` the caller calls
    :meth:`RunFolder.begin` when it is about to write (so a run refused after a long computation leaves the
    earlier run as it was). `resume=True` keeps the folder's files for the caller to check (a resumable
    sweep). Raises FolderBusyError if another process holds the folder, ForeignFolderError if it holds files
    hepatwin did not write, OSError naming the folder if it cannot be written.
    """
    path = Path(out)
    created = not path.exists()
    check_out_dir(path)
    if not created and any(path.iterdir()) and not is_run_folder(path):
        raise ForeignFolderError(errno.EEXIST, "holds files that hepatwin did not write; give an empty or new "
                                               "output folder (nothing was deleted)", str(path))
    prepare_out_dir(path)
    key = path.resolve()
    with _held_lock:
        state = _held.setdefault(key, [0, False])
        nested = state[0]
        state[0] += 1
    fd = None
    ok = False
    try:
        if not nested:
            fd, previous = _acquire(path, command or " ".join(["hepatwin", *sys.argv[1:]])[:300])
            remove_partials(path)
            if previous.get("state") == "running":
                print(f"note: {path} was left by an interrupted run ({_describe(previous)}); taking it over",
                      file=sys.stderr)
        folder = RunFolder(path, created, state)
        if begin and not resume:
            folder.begin()
        yield folder
        ok = True
    finally:
        with _held_lock:
            state[0] -= 1
            if not state[0]:
                del _held[key]
        if fd is not None:
            _release(fd, path, ok)
            if not ok and created and _only_lock(path):
                shutil.rmtree(path, ignore_errors=True)


def _only_lock(path: Path) -> bool:
    try:
        return all(e.name == LOCK for e in path.iterdir())
    except OSError:
        return False
