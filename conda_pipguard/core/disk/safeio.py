"""Bounded, non-blocking reads of the files an environment holds.

Everything the scanner reads is text that someone else wrote: a package author (RECORD,
METADATA), another tool (``conda-meta/*.json``, ``history``), or a user. These readers never block
(a FIFO is opened with ``O_NONBLOCK`` and then refused), read only regular files (not
``/dev/zero`` behind a symlink), never read more than a cap per kind of file, and, when given
the prefix, never follow a symbolic link out of it. Every refusal is an :class:`UnreadableFile`
(an ``OSError``), so callers that already turn ``OSError`` into a finding need nothing new.

Prefix-relative paths a record or a ``RECORD`` names are read, hashed and removed through
:class:`~.containment.Within`, which builds on these readers.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator
from typing import Any, BinaryIO

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

MiB = 1024 * 1024

#: Caps per kind of file, far above what real packages hold.
RECORD_JSON_LIMIT = 256 * MiB
"""A ``conda-meta/*.json`` record (the largest real ones, with ~100k files, are ~40 MiB)."""
HISTORY_LIMIT = 256 * MiB
"""``conda-meta/history``."""
DIST_RECORD_LIMIT = 64 * MiB
"""A distribution's ``RECORD`` (one line per file)."""
METADATA_LIMIT = 16 * MiB
"""``METADATA`` / ``PKG-INFO`` (long descriptions included)."""
SMALL_LIMIT = 1 * MiB
"""``INSTALLER``, ``REQUESTED``, ``direct_url.json``, ``.egg-link``, ``.pth``, ``pip.conf``,
``EXTERNALLY-MANAGED`` and the like."""


class UnreadableFile(OSError):
    """A file the readers refuse: not a regular file, too large, or a link out of the prefix."""


def read_bytes(path: str | os.PathLike[str], *, limit: int, root: str | None = None) -> bytes:
    """Read a whole regular file of at most *limit* bytes, without blocking.

    Args:
        path: The file.
        limit: The most bytes accepted.
        root: The prefix: when given, a file that is a symbolic link leading out of it is
            refused. Directories are the caller's to check, once each (:func:`is_within`):
            checking every file's parents would cost a ``realpath`` per file.

    Returns:
        The content.

    Raises:
        UnreadableFile: Not a regular file, larger than *limit*, or outside *root*.
        OSError: The file cannot be opened or read.
    """
    name = os.fspath(path)
    fd = _open(name, root)
    try:
        check_regular(fd, limit, name)
        return read_fd(fd, limit, name)
    finally:
        os.close(fd)


def check_regular(fd: int, limit: int, name: str) -> None:
    """Refuse open file *fd* unless it is a regular file of at most *limit* bytes.

    Raises:
        UnreadableFile: Not a regular file (a FIFO, a device, a directory), or larger.
    """
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile(errno.EINVAL, "not a regular file", name)
    if info.st_size > limit:
        raise UnreadableFile(errno.EFBIG, f"larger than {limit} bytes", name)


def read_fd(fd: int, limit: int, name: str) -> bytes:
    """The rest of open file *fd*, at most *limit* bytes (*name* says which in an error).

    Raises:
        UnreadableFile: More than *limit* bytes.
    """
    chunks = []
    left = limit + 1
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    if left <= 0:  # grew while being read
        raise UnreadableFile(errno.EFBIG, f"larger than {limit} bytes", name)
    return b"".join(chunks)


def open_regular(path: str | os.PathLike[str], *, limit: int, root: str | None = None) -> BinaryIO:
    """Open a regular file of at most *limit* bytes for reading, without blocking.

    For files read in parts (a wheel is a zip archive: its directory first, then members);
    the checks are :func:`read_bytes`'s.

    Raises:
        UnreadableFile: Not a regular file, larger than *limit*, or outside *root*.
        OSError: The file cannot be opened.
    """
    name = os.fspath(path)
    fd = _open(name, root)
    try:
        check_regular(fd, limit, name)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _open(name: str, root: str | None) -> int:
    flags = os.O_RDONLY | _O_NONBLOCK | _O_BINARY
    if root is None:
        return os.open(name, flags)
    try:
        return os.open(name, flags | _O_NOFOLLOW)
    except OSError as err:
        if err.errno != errno.ELOOP:
            raise
    # The file itself is a symbolic link: follow it only when it stays inside the prefix.
    if not is_within(root, name):
        raise UnreadableFile(errno.EXDEV, "a symbolic link out of the environment", name)
    return os.open(name, flags)


def is_within(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Whether *path* is *root* or under it once every symbolic link is resolved."""
    try:
        return is_under(os.path.realpath(root), os.path.realpath(path))
    except ValueError:  # a NUL byte: no such path
        return False


def is_under(real_root: str, real: str) -> bool:
    """Whether the resolved path *real* is the resolved *real_root* or under it."""
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def read_text(
    path: str | os.PathLike[str],
    *,
    limit: int,
    root: str | None = None,
    errors: str = "strict",
) -> str:
    """:func:`read_bytes` decoded as UTF-8 (``errors="replace"`` for optional metadata).

    Raises:
        UnicodeDecodeError: Not UTF-8 and *errors* is ``strict``.
    """
    return read_bytes(path, limit=limit, root=root).decode("utf-8", errors)


def read_lines(
    path: str | os.PathLike[str],
    *,
    limit: int,
    root: str | None = None,
    max_line: int = 64 * 1024,
) -> Iterator[str]:
    """The lines of a regular file of at most *limit* bytes, read a block at a time.

    Lines are decoded as UTF-8 (undecodable bytes replaced) and split as ``str.splitlines``
    splits them; a line longer than *max_line* is cut to its first *max_line* characters. The
    file is never held whole: memory stays at a block (a MiB) and a line whatever its size.

    Raises:
        UnreadableFile: Not a regular file, larger than *limit* (also when it grows while
            being read), or a symbolic link out of *root*.
        OSError: The file cannot be opened or read.
    """
    name = os.fspath(path)
    fd = _open(name, root)
    try:
        check_regular(fd, limit, name)
        pending = b""
        skipping = False  # in the rest of a line already cut
        total = 0
        while block := os.read(fd, 1 << 20):
            total += len(block)
            if total > limit:
                raise UnreadableFile(errno.EFBIG, f"larger than {limit} bytes", name)
            data = pending + block
            end = data.rfind(b"\n") + 1  # a newline is never inside a UTF-8 sequence
            complete, pending = data[:end], data[end:]
            if complete and skipping:
                complete, skipping = complete[complete.find(b"\n") + 1 :], False
            if complete:
                lines = complete.decode("utf-8", "replace").splitlines()
                if max(map(len, lines), default=0) > max_line:
                    lines = [line[:max_line] for line in lines]
                yield from lines
            if len(pending) > max_line:
                if not skipping:
                    yield from _decoded(pending[:max_line])
                pending, skipping = b"", True
        if pending and not skipping:
            yield from _decoded(pending)
    finally:
        os.close(fd)


def _decoded(line: bytes) -> list[str]:
    return line.decode("utf-8", "replace").splitlines() or [""]


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` that turns too deep nesting into ``ValueError``, like any other bad JSON.

    Raises:
        ValueError: Not JSON, or nested deeper than the interpreter's recursion limit.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def load_json(
    path: str | os.PathLike[str], *, limit: int = RECORD_JSON_LIMIT, root: str | None = None
) -> Any:
    """Read and parse a JSON file with :func:`read_bytes` and :func:`loads_json`.

    Raises:
        OSError: As :func:`read_bytes`.
        ValueError: Not JSON (``UnicodeDecodeError`` included), or nested too deeply.
    """
    return loads_json(read_bytes(path, limit=limit, root=root))
