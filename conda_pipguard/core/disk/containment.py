"""The one check that a prefix-relative path stays in the prefix, every link resolved.

A path is inside the prefix when its directory, every link resolved, is inside the prefix's real
path, and (when it is itself a link) so is what it points to. Whatever removes, hashes or reads a
path a record or a ``RECORD`` names goes through :class:`Within`; a path that fails it is
reported (:data:`LEADS_OUTSIDE`), never touched. Files are opened as :mod:`.safeio` opens them:
non-blocking, regular files only, bounded.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import stat

from .safeio import UnreadableFile, check_regular, is_under, read_fd

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
#: Whether directories can be walked by descriptor (POSIX), so that no link is followed
#: between the check and the use; elsewhere the checked real path is used as it is.
DIR_FD = os.open in os.supports_dir_fd and os.unlink in os.supports_dir_fd and bool(_O_NOFOLLOW)

#: How a path refused by :class:`Within` is reported.
LEADS_OUTSIDE = "leads outside the environment through a link"


class OutsideEnvironment(UnreadableFile):
    """A prefix-relative path whose directory, or which itself, leads out through a link."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EXDEV, LEADS_OUTSIDE, path)


#: What ``normpath`` would change: empty, ``.`` or ``..`` components, a trailing slash.
_UNUSUAL = re.compile(r"(^|/)\.{1,2}(/|$)|//|/$|^$")
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
    if not _UNUSUAL.search(path):
        return path  # already normal: most paths a record lists
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
        return is_under(self.real, real)

    def real_dir(self, directory: str) -> str | None:
        """The real path of the prefix-relative *directory*; None when it leads out.

        A directory that does not exist is its parent's real path joined with its name.
        """
        try:
            return self._dirs[directory]  # asked before, as it is spelled
        except KeyError:
            pass
        rel = prefix_relative(directory)
        if rel is None:
            return None
        try:
            return self._dirs.setdefault(directory, self._dirs[rel])
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
                    real = resolved if is_under(self.real, resolved) else None
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
        return resolved if is_under(self.real, resolved) else None

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
        """:func:`~.safeio.read_bytes` of prefix-relative *path*, its directories checked too.

        Raises:
            UnreadableFile: Not a regular file, larger than *limit*, or leading out.
            OSError: It cannot be read.
        """
        fd = self.open(path)
        try:
            check_regular(fd, limit, path)
            return read_fd(fd, limit, path)
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
