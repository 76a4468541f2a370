"""Atomic file writes: write to a temporary file in the same folder, then rename.

An interrupted run therefore never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success rename it to `path`."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; expected the path of a file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write here ({exc.strerror})", str(path)) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file private (0600); give it the mode a plain open() would have
        os.chmod(tmp_path, _FILE_MODE)
        try:
            os.replace(tmp_path, path)
        except OSError as exc:   # name the file the user asked for, not the temporary one
            raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def check_out_dir(path: str | Path) -> Path:
    """Fail now, with an OSError naming `path`, if the output folder `path` could not be created or written,
    without creating it (for commands that compute for long and may still refuse their input)."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder; expected an output folder", str(path))
        existing = path
    else:
        existing = next((a for a in path.absolute().parents if a.exists()), Path("/"))
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"cannot create this output folder: {existing} is a file",
                                     str(path))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"cannot write in this output folder ({existing} is not writable)",
                              str(path))
    return path


def prepare_out_dir(path: str | Path) -> Path:
    """Create the output folder `path` (and its parents) and check that files can be written in it, so that a
    wrong --out fails before any computation; OSError naming the folder otherwise."""
    path = check_out_dir(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write in this output folder ({exc.strerror})", str(path)) from None
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write a text file (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Atomically write a binary file."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
