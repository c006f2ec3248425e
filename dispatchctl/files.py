"""Reading and writing the files a user names, safely.

Reading: a FIFO or a device given as a config or plan would block or never end, so every file
is opened without blocking and read only if it is a regular file. Writing (plan files, imported
configs): with mode 0600 from the first byte, all or nothing, never through a symbolic link,
never onto a device or FIFO, and replacing a file only if the caller recognises it as its own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


class UnsafePathError(OSError):
    """A path dispatchctl refuses to read or write; ``strerror`` says why, for the message."""

    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(errno.EPERM, why, str(path))


def kind_of(mode: int) -> str:
    """What a non-regular file is, as a user would name it."""
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_regular(path: Path | str, *, limit: int | None = None) -> bytes:
    """The bytes of a regular file; raises UnsafePathError for anything else (without waiting
    for a FIFO's writer) or for more than ``limit`` bytes, OSError when it cannot be read."""
    with _open_regular(path) as handle:
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise UnsafePathError(path, f"larger than {limit:,} bytes")
    return data


def shown_path(path: str) -> str:
    """A path as short as it is unambiguous: relative to the working directory when below
    it, else absolute."""
    absolute = os.path.normpath(os.path.abspath(path))
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else relative


def read_head(path: Path | str, size: int) -> bytes:
    """The first ``size`` bytes of a regular file, as ``read_regular`` opens it."""
    with _open_regular(path) as handle:
        return handle.read(size)


@contextlib.contextmanager
def _open_regular(path: Path | str) -> Iterator[BinaryIO]:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnsafePathError(path, f"{kind_of(mode)}, not a regular file")
        yield handle


def check_safe_to_write(
    path: Path, *, replaceable: Callable[[Path], bool] | None, what: str
) -> None:
    """Refuse to write at ``path`` if it is a link, not a regular file, or a regular file that
    ``replaceable`` does not recognise (``what`` names what it accepts: "a dispatchctl plan").
    ``replaceable=None`` accepts any regular file."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # nothing there; the write says why not
        return
    if stat.S_ISLNK(mode):
        raise UnsafePathError(path, "it is a symbolic link (dispatchctl never writes through one)")
    if not stat.S_ISREG(mode):
        raise UnsafePathError(path, f"it is {kind_of(mode)}, not a regular file")
    if replaceable is not None and not replaceable(path):
        raise UnsafePathError(path, f"it exists and is not {what}")


def make_private_folders(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0700 whatever the umask (``mkdir
    parents=True`` gives the parents the umask's mode): a new folder is nobody else's to read or
    fill. Existing folders are left as they are. Raises OSError."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists() or folder.is_symlink():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:  # made meanwhile: not ours to change
            continue
        os.chmod(folder, 0o700)


def write_private(
    path: Path,
    data: bytes,
    *,
    overwrite: bool,
    replaceable: Callable[[Path], bool] | None = None,
    what: str = "a file dispatchctl wrote",
) -> None:
    """Write ``data`` to ``path`` with mode 0600 from the first byte.

    A temporary file in the same folder, synced, then one rename (``overwrite``) or a hard link,
    which fails with FileExistsError rather than replace a file that appeared meanwhile. A
    reader never sees half a file; the rename replaces a name, never what a link points to.
    Raises UnsafePathError (see ``check_safe_to_write``) or OSError: the caller words the error.
    """
    check_safe_to_write(path, replaceable=replaceable, what=what)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
