"""Bounded, non-blocking reads of the files an environment holds.

Everything the scanner reads is text that someone else wrote: a package author (RECORD,
METADATA), another tool (``conda-meta/*.json``, ``history``), or a user. These readers never block
(a FIFO is opened with ``O_NONBLOCK`` and then refused), read only regular files (not
``/dev/zero`` behind a symlink), never read more than a cap per kind of file, and, when given
the prefix, never follow a symbolic link out of it. Every refusal is an :class:`UnreadableFile`
(an ``OSError``), so callers that already turn ``OSError`` into a finding need nothing new.

:class:`Within` is the one containment check for prefix-relative paths: a path is inside the
prefix when its directory, every link resolved, is inside the prefix's real path, and (when it is
itself a link) so is what it points to. Whatever removes, hashes or reads a path a record or a
``RECORD`` names goes through it; a path that fails it is reported, never touched.
"""

from __future__ import annotations

import errno
import json
import os
import posixpath
import stat
from typing import Any

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
#: Whether directories can be walked by descriptor (POSIX), so that no link is followed
#: between the check and the use; elsewhere the checked real path is used as it is.
DIR_FD = os.open in os.supports_dir_fd and os.unlink in os.supports_dir_fd and bool(_O_NOFOLLOW)

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


#: How a path refused by :class:`Within` is reported.
LEADS_OUTSIDE = "leads outside the environment through a link"


class UnreadableFile(OSError):
    """A file the readers refuse: not a regular file, too large, or a link out of the prefix."""


class OutsideEnvironment(UnreadableFile):
    """A prefix-relative path whose directory, or which itself, leads out through a link."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EXDEV, LEADS_OUTSIDE, path)


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
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(errno.EINVAL, "not a regular file", name)
        if info.st_size > limit:
            raise UnreadableFile(errno.EFBIG, f"larger than {limit} bytes", name)
        return _read_fd(fd, limit, name)
    finally:
        os.close(fd)


def _read_fd(fd: int, limit: int, name: str) -> bytes:
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
        return _under(os.path.realpath(root), os.path.realpath(path))
    except ValueError:  # a NUL byte: no such path
        return False


def _under(real_root: str, real: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


#: Longer prefix-relative paths are refused: no system opens them, and resolving their
#: directories one component at a time would cost their length squared.
_MAX_PATH = 4096


def prefix_relative(path: str) -> str | None:
    """Prefix-relative *path* in normal form, '' for the prefix itself.

    Returns None when *path* cannot name a path in the prefix: absolute, leading up with
    ``..``, holding a NUL byte, or too long.
    """
    if "\0" in path or len(path) > _MAX_PATH or path.startswith("/"):
        return None
    norm = posixpath.normpath(path) if path else "."
    if norm == ".":
        return ""
    if norm == ".." or norm.startswith("../"):
        return None
    return norm


class Within:
    """The one containment check for paths relative to a prefix, every link resolved.

    The prefix's real path is taken once; each directory a path lies in is resolved once (one
    ``lstat`` per directory, memoised), so asking about thousands of paths in a few directories
    costs a few system calls. A file is then opened, hashed or removed through its directory,
    opened by walking the directory's real path from the prefix one component at a time without
    following any link, and never through a link at its own name that leads out: a directory
    swapped for a link after the check is refused, not followed.

    Args:
        root: The prefix.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(root)
        self.real = os.path.realpath(self.root)
        self._dirs: dict[str, str | None] = {"": self.real}

    def contains(self, real: str) -> bool:
        """Whether the real (resolved) path *real* is the prefix or under it."""
        return _under(self.real, real)

    def real_dir(self, directory: str) -> str | None:
        """The real path of the prefix-relative *directory*; None when it leads out.

        A directory that does not exist is its parent's real path joined with its name.
        """
        rel = prefix_relative(directory)
        if rel is None:
            return None
        try:
            return self._dirs[rel]
        except KeyError:
            pass
        parts = rel.split("/")
        known = len(parts) - 1
        while known and "/".join(parts[:known]) not in self._dirs:
            known -= 1
        key = "/".join(parts[:known])
        real = self._dirs[key]
        for part in parts[known:]:
            key = f"{key}/{part}" if key else part
            if real is not None:
                candidate = os.path.join(real, part)
                if os.path.islink(candidate):
                    resolved = os.path.realpath(candidate)
                    real = resolved if _under(self.real, resolved) else None
                else:
                    real = candidate
            self._dirs[key] = real
        return real

    def real_path(self, path: str) -> str | None:
        """The real path of prefix-relative *path*; None when it, or its directory, leads out."""
        rel = prefix_relative(path)
        if rel is None:
            return None
        directory, _, name = rel.rpartition("/")
        parent = self.real_dir(directory)
        if parent is None or not name:
            return parent
        full = os.path.join(parent, name)
        if not os.path.islink(full):
            return full
        resolved = os.path.realpath(full)
        return resolved if _under(self.real, resolved) else None

    def leads_outside(self, path: str) -> bool:
        """Whether prefix-relative *path* leads out of the prefix through a link."""
        return self.real_path(path) is None

    def open_dir(self, directory: str) -> int:
        """A descriptor of prefix-relative *directory*, reached without following a link.

        Raises:
            OutsideEnvironment: It leads out of the prefix.
            OSError: It is not there, or a part of it was replaced by a link since the check.
        """
        real = self.real_dir(directory)
        if real is None:
            raise OutsideEnvironment(directory)
        return self._walk(real)

    def _walk(self, real: str) -> int:
        fd = os.open(self.real, os.O_RDONLY | _O_DIRECTORY)
        tail = real[len(self.real) :].strip(os.sep)
        for part in tail.split(os.sep) if tail else ():
            try:
                inner = os.open(part, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW, dir_fd=fd)
            finally:
                os.close(fd)
            fd = inner
        return fd

    def open(self, path: str, flags: int = os.O_RDONLY) -> int:
        """Open prefix-relative *path* (non-blocking), following a link only when it stays in.

        Raises:
            OutsideEnvironment: It leads out of the prefix.
            OSError: It cannot be opened.
        """
        flags |= _O_NONBLOCK | _O_BINARY
        real = self.real_path(path)
        if real is None:
            raise OutsideEnvironment(path)
        if real == self.real:
            raise UnreadableFile(errno.EISDIR, "the environment itself", path)
        if not DIR_FD:
            return os.open(real, flags)
        directory, _, name = real.rpartition(os.sep)
        fd = self._walk(directory or os.sep)
        try:
            return os.open(name, flags | _O_NOFOLLOW, dir_fd=fd)
        finally:
            os.close(fd)

    def read_bytes(self, path: str, *, limit: int) -> bytes:
        """:func:`read_bytes` of prefix-relative *path*, its directories checked too.

        Raises:
            UnreadableFile: Not a regular file, larger than *limit*, or leading out.
            OSError: It cannot be read.
        """
        fd = self.open(path)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise UnreadableFile(errno.EINVAL, "not a regular file", path)
            if info.st_size > limit:
                raise UnreadableFile(errno.EFBIG, f"larger than {limit} bytes", path)
            return _read_fd(fd, limit, path)
        finally:
            os.close(fd)

    def sha256(self, path: str) -> str | None:
        """Hex SHA-256 of the regular file at prefix-relative *path*; None when not readable."""
        import hashlib  # OpenSSL's load is a tenth of start-up; a clean env may hash nothing

        digest = hashlib.sha256()
        try:
            fd = self.open(path)
        except (OSError, ValueError):
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            while block := os.read(fd, 1 << 20):
                digest.update(block)
        except OSError:
            return None
        finally:
            os.close(fd)
        return digest.hexdigest()

    def lstat(self, path: str) -> os.stat_result | None:
        """What is at prefix-relative *path* itself (not followed); None when nothing or outside."""
        rel = prefix_relative(path)
        if rel is None:
            return None
        directory, _, name = rel.rpartition("/")
        parent = self.real_dir(directory)
        if parent is None:
            return None
        try:
            return os.lstat(os.path.join(parent, name))
        except (OSError, ValueError):
            return None


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
