"""Remove the files a repair plan lists, never through a link that leads out of the prefix.

The ``remove-files`` step of a repair (an env without pip, or stale pip metadata) runs this
module as ``python -I -m conda_pipguard.core.repair.removefiles PREFIX PATH...``. Every prefix-
relative path goes through :class:`~..disk.containment.Within`: its directory, every link
resolved, must lie in the prefix, and so must what it points to when it is a link. It is then
removed through a descriptor of its directory without following it: a link is removed as a link,
a directory is emptied by descriptor without ever entering a link. A path that leads out is left
alone and said on stderr (``not touched: PATH (leads outside the environment through a link)``);
the plan already leaves such paths out (:func:`refused`), so one met here means the environment
changed after the plan, and the command exits with 1. Byte code of a removed module goes with
it, then the directories left empty, up to the prefix.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Iterable, Sequence

from ..disk.containment import DIR_FD, LEADS_OUTSIDE, Within, prefix_relative
from ..printable import printable

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)

#: What :func:`remove` did with a path.
REMOVED, ABSENT, OUTSIDE = "removed", "absent", "outside"


def refused(within: Within, paths: Iterable[str]) -> tuple[str, ...]:
    """The *paths* a removal must not touch: the prefix itself, or leading out of it."""
    return tuple(path for path in paths if not prefix_relative(path) or within.leads_outside(path))


def remove(within: Within, path: str) -> str:
    """Remove prefix-relative *path* (a tree when it is a directory) without leaving the prefix.

    Returns:
        ``removed``, ``absent`` (nothing was there), or ``outside`` (refused, not touched).

    Raises:
        OSError: It could not be removed (then some of a tree may be gone).
    """
    rel = prefix_relative(path)
    if not rel or within.leads_outside(rel):
        return OUTSIDE
    directory, _, name = rel.rpartition("/")
    if not DIR_FD:
        return _remove_by_path(within, directory, name)
    try:
        fd = within.open_dir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return ABSENT
    try:
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return ABSENT
        if stat.S_ISDIR(info.st_mode):
            _remove_tree(fd, name)
        else:
            os.unlink(name, dir_fd=fd)
            if name.endswith(".py"):
                _remove_bytecode(fd, name[:-3])
    finally:
        os.close(fd)
    return REMOVED


def _remove_tree(parent: int, name: str) -> None:
    """Remove directory *name* of *parent* and all it holds, by descriptor, depth first.

    Every directory is opened with ``O_NOFOLLOW``: a link inside is removed, never entered.
    """
    frames: list[tuple[int, str, int, list[str]]] = []

    def enter(dir_fd: int, child: str) -> None:
        fd = os.open(child, _DIR_FLAGS, dir_fd=dir_fd)
        subdirs = []
        try:
            with os.scandir(fd) as entries:
                found = list(entries)
            for entry in found:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.name)
                else:
                    os.unlink(entry.name, dir_fd=fd)
        except OSError:
            os.close(fd)
            raise
        frames.append((dir_fd, child, fd, subdirs))

    try:
        enter(parent, name)
        while frames:
            dir_fd, child, fd, subdirs = frames[-1]
            if subdirs:
                enter(fd, subdirs.pop())
                continue
            frames.pop()
            os.close(fd)
            os.rmdir(child, dir_fd=dir_fd)
    finally:
        for _, _, fd, _ in frames:
            os.close(fd)


def _remove_bytecode(dir_fd: int, stem: str) -> None:
    """Remove ``__pycache__/STEM.*.pyc`` next to a removed module (not through a link)."""
    try:
        cache = os.open("__pycache__", _DIR_FLAGS, dir_fd=dir_fd)
    except OSError:
        return
    try:
        for name in os.listdir(cache):
            if name.startswith(f"{stem}.") and name.endswith(".pyc"):
                os.unlink(name, dir_fd=cache)
    finally:
        os.close(cache)


def _remove_by_path(within: Within, directory: str, name: str) -> str:
    """Where directories cannot be walked by descriptor: the checked real path, as it is."""
    parent = within.real_dir(directory)
    if parent is None:
        return OUTSIDE
    path = os.path.join(parent, name)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
        if name.endswith(".py"):
            cache = os.path.join(parent, "__pycache__")
            for pyc in os.listdir(cache) if os.path.isdir(cache) else ():
                if pyc.startswith(f"{name[:-3]}.") and pyc.endswith(".pyc"):
                    os.unlink(os.path.join(cache, pyc))
    else:
        return ABSENT
    return REMOVED


def prune(within: Within, directories: Iterable[str]) -> None:
    """Remove *directories* (prefix-relative) left empty, and their parents, up to the prefix."""
    for directory in sorted(set(directories), key=len, reverse=True):
        while directory and _remove_empty(within, directory):
            directory = directory.rpartition("/")[0]


def _remove_empty(within: Within, directory: str) -> bool:
    """``rmdir`` of prefix-relative *directory* (never of a link); whether it is gone."""
    parent, _, name = directory.rpartition("/")
    if not DIR_FD:
        real = within.real_dir(parent)
        if real is None or os.path.islink(os.path.join(real, name)):
            return False
        try:
            os.rmdir(os.path.join(real, name))
        except OSError:
            return False
        return True
    try:
        fd = within.open_dir(parent)
    except OSError:
        return False
    try:
        os.rmdir(name, dir_fd=fd)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def remove_paths(prefix: str, paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Remove *paths* of *prefix*; what is left empty after them too.

    Returns:
        The paths refused (leading out of the prefix), and one line per path that could not
        be removed.
    """
    within = Within(prefix)
    left_out: list[str] = []
    failed: list[str] = []
    emptied: set[str] = set()
    for path in paths:
        try:
            outcome = remove(within, path)
        except OSError as err:
            failed.append(f"cannot remove {path}: {err.strerror or err}")
            continue
        if outcome == OUTSIDE:
            left_out.append(path)
        elif outcome == REMOVED:
            directory = (prefix_relative(path) or "").rpartition("/")[0]
            emptied.update((directory, f"{directory}/__pycache__" if directory else "__pycache__"))
    prune(within, emptied)
    return left_out, failed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m conda_pipguard.core.repair.removefiles PREFIX PATH...``; 1 when one was left."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stderr.write(
            "usage: python -m conda_pipguard.core.repair.removefiles PREFIX [PATH...]\n"
        )
        return 2
    left_out, failed = remove_paths(args[0], args[1:])
    for path in left_out:
        sys.stderr.write(printable(f"not touched: {path} ({LEADS_OUTSIDE})") + "\n")
    for line in failed:
        sys.stderr.write(printable(line) + "\n")
    return 1 if left_out or failed else 0


if __name__ == "__main__":
    sys.exit(main())
