"""How the locks change files: inside the prefix only, atomically, rolled back, one at a time.

* :func:`inside` resolves a prefix-relative path and refuses one whose directory leads out of
  the prefix (a symlinked ``etc`` or stdlib directory): nothing outside is written or deleted.
* :func:`atomic_write` replaces a file through a temporary file and a rename.
* :func:`apply` applies several :class:`Change` s and puts every file back when one fails.
* :func:`env_lock` is the inter-process lock of one env: every read-modify-write of the marker,
  ``pip.conf``, ``conda-meta/state``, the constraints file and the ledger holds it, so any
  interleaving of ``mark``, ``mark --soft``, ``unmark`` and the post-transaction refresh ends
  as some sequential order would. It locks ``conda-meta`` itself on POSIX (``flock`` on the
  directory: no file is created) and ``conda-meta/.pipguard.lock`` on Windows (``msvcrt``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..disk.safeio import is_within
from ..errors import CannotLock, LinkRefused, LockError, NotARegularFile, OutsidePrefix

#: The directory whose lock serialises the lock changes of an env.
LOCK_DIR = "conda-meta"
_WINDOWS_LOCK_FILE = ".pipguard.lock"

_held = threading.local()


def real_prefix(prefix: Path) -> str:
    """The prefix with symlinks resolved (the reference of every inside check)."""
    return os.path.realpath(prefix)


def is_inside(prefix: Path, path: Path) -> bool:
    """Whether *path*, with symlinks resolved, lies inside *prefix* (also resolved)."""
    return is_within(prefix, path)


def inside(prefix: Path, rel: str) -> Path:
    """``prefix / rel``, checked to stay inside *prefix* once its directory is resolved.

    The last component is not resolved: a symlink there is replaced or removed by the writers,
    never followed. A missing directory is checked through its nearest existing parent.

    Raises:
        LockError: The path leads out of the prefix.
    """
    path = Path(prefix) / rel
    parent = path.parent
    while not os.path.lexists(parent) and parent != parent.parent and parent != Path(prefix):
        parent = parent.parent
    if ".." in Path(rel).parts or not is_inside(prefix, parent):
        raise OutsidePrefix(path, prefix)
    return path


def status_of(path: Path) -> os.stat_result | None:
    """What is at *path* itself (a symbolic link is not followed); None when nothing is.

    Raises:
        LockError: It cannot be read.
    """
    try:
        return path.lstat()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CannotLock("read", path, err) from None


def read_head(path: Path, size: int) -> bytes | None:
    """The first *size* bytes of *path*; None when it went away since it was looked at.

    Raises:
        LockError: It cannot be read.
    """
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CannotLock("read", path, err) from None


def read_bytes(path: Path, *, cap: int = 16 << 20) -> bytes | None:
    """A regular file's bytes (at most *cap*); None when absent.

    Raises:
        LockError: A symlink or a non-regular file is there (never followed), or it is too big
            or unreadable.
    """
    info = status_of(path)
    if info is None:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise LinkRefused(path, "Replace it with a copy of the file, then run the command again")
    if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
        raise NotARegularFile(path)
    data = read_head(path, cap + 1)
    return None if data is None else data[:cap]


def mode_of(path: Path, default: int = 0o644) -> int:
    """The permission bits of *path*, or *default* when it cannot be read."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return default


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace *path* with *data*: a temporary file in the same directory, then a rename.

    Readers see the old content or the new one, never a part. A symlink at *path* is replaced,
    never followed. On any failure the temporary file is removed and *path* is untouched.

    Raises:
        OSError: The directory is not writable (or another system error).
    """
    import tempfile  # (shutil, random, hashlib): only a write pays for it

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _sync_dir(path.parent)


def _sync_dir(directory: Path) -> None:
    """Make a rename in *directory* durable (best effort: not every platform allows it)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_error(path: Path, err: OSError, fix: str) -> LockError:
    """A one-line error for a failed write or removal of *path*, ending with *fix*."""
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = f"the environment is read-only for you ({err.strerror or err})"
        return CannotLock("change", path, why, fix)
    return CannotLock("change", path, err)


@dataclass(frozen=True)
class Change:
    """One file to write (``data``) or delete (``data is None``), prefix-relative."""

    rel: str
    data: bytes | None
    mode: int = 0o644


def apply(prefix: Path, changes: Sequence[Change], fix: str) -> None:
    """Apply *changes* in order; on any failure put back every file already changed.

    Every path is checked inside *prefix* before anything is changed.

    Raises:
        LockError: A path leads out of the prefix, or a change failed (everything is as before).
    """
    paths = [inside(prefix, change.rel) for change in changes]
    done: list[tuple[Path, bytes | None, int]] = []
    made_dirs: list[Path] = []
    failed = Path(prefix)
    try:
        for change, path in zip(changes, paths, strict=True):
            failed = path
            old = read_bytes(path)
            old_mode = mode_of(path, change.mode) if old is not None else change.mode
            if change.data is None:
                if old is not None:
                    path.unlink()
                    done.append((path, old, old_mode))
                continue
            if not path.parent.is_dir():
                missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
                path.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.extend(sorted(missing, key=lambda p: len(p.parts), reverse=True))
                inside(prefix, change.rel)  # what was made is inside too
            atomic_write(path, change.data, mode=change.mode)
            done.append((path, old, old_mode))
    except OSError as err:
        _undo(done, made_dirs)
        raise write_error(failed, err, fix) from None
    except LockError:
        _undo(done, made_dirs)
        raise


def _undo(done: Sequence[tuple[Path, bytes | None, int]], made_dirs: Sequence[Path]) -> None:
    for path, old, mode in reversed(done):
        with contextlib.suppress(OSError):
            if old is None:
                path.unlink()
            else:
                atomic_write(path, old, mode=mode)
    for directory in made_dirs:
        with contextlib.suppress(OSError):
            directory.rmdir()


def remove_empty_dirs(prefix: Path, rels: Sequence[str]) -> None:
    """Remove each of *rels* that is an empty directory inside *prefix* (deepest first)."""
    for rel in sorted(set(rels), key=lambda r: len(Path(r).parts), reverse=True):
        with contextlib.suppress(OSError, LockError):
            path = inside(prefix, rel)
            if not path.is_symlink() and is_inside(prefix, path):
                path.rmdir()


# --------------------------------------------------------------------------- the env lock


@contextlib.contextmanager
def env_lock(prefix: Path) -> Iterator[None]:
    """Hold the inter-process lock of *prefix* (re-entrant within one thread).

    Waits while another process holds it. An env whose ``conda-meta`` cannot be opened is
    not locked (nothing of ours can be written there either; the writers say why).
    """
    key = real_prefix(prefix)
    held: dict[str, int] = getattr(_held, "prefixes", None) or {}
    _held.prefixes = held
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    handle = _acquire(Path(prefix) / LOCK_DIR)
    held[key] = 1
    try:
        yield
    finally:
        held.pop(key, None)
        if handle is not None:
            _release(handle)


def _acquire(directory: Path) -> int | None:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            fd = os.open(directory / _WINDOWS_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return None
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return fd
            except OSError:  # LK_LOCK gives up after 10 s; keep waiting
                continue
    import fcntl

    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        return None
    return fd


def _release(fd: int) -> None:
    try:
        if os.name == "nt":  # pragma: no cover
            import msvcrt

            with contextlib.suppress(OSError):
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
