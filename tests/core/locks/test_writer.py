"""The locks' only writer (core/locks/writer.py): inside the prefix, atomic, rolled back, serial.

Plain directories stand for the prefix: what is tested is how paths resolve and files change,
which needs no conda package and no Python in the env.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conda_pipguard.core.errors import LockError
from conda_pipguard.core.locks.writer import (
    Change,
    apply,
    atomic_write,
    env_lock,
    inside,
    read_bytes,
)
from tests.core.locks.test_marker import read_only


@pytest.fixture
def prefix(tmp_path) -> Path:
    root = tmp_path / "env"
    (root / "conda-meta").mkdir(parents=True)
    return root


@pytest.fixture
def outside(tmp_path) -> Path:
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    return directory


def tree(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry under *root*: a file's bytes and mode, a directory's mode."""
    found = {}
    for path in sorted(root.rglob("*")):
        data = path.read_bytes() if path.is_file() else None
        found[path.relative_to(root).as_posix()] = (data, path.stat().st_mode & 0o7777)
    return found


def finishes(call: Callable[[], object], seconds: float = 10.0) -> object:
    """Run *call* in a thread; fail (instead of hanging the suite) if it blocks."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")


# -- inside ----------------------------------------------------------------------------------


def test_inside_gives_the_path_under_the_prefix_even_before_its_directories_exist(prefix):
    assert inside(prefix, "etc/pip.conf") == prefix / "etc" / "pip.conf"
    assert inside(prefix, "new/deeper/file") == prefix / "new" / "deeper" / "file"


@pytest.mark.parametrize("rel", ["../escape", "etc/../../escape", "etc/../etc/pip.conf"])
def test_dot_dot_is_refused_even_when_it_would_land_inside(prefix, rel):
    (prefix / "etc").mkdir()
    with pytest.raises(LockError, match="resolves outside"):
        inside(prefix, rel)


def test_an_absolute_path_is_refused(prefix, outside):
    with pytest.raises(LockError, match="resolves outside"):
        inside(prefix, str(outside / "pip.conf"))


def test_a_parent_symlink_leading_out_is_refused(prefix, outside):
    (prefix / "etc").symlink_to(outside, target_is_directory=True)
    with pytest.raises(LockError, match="resolves outside"):
        inside(prefix, "etc/pip.conf")
    # a directory not made yet is checked through its nearest existing parent: the link
    with pytest.raises(LockError, match="resolves outside"):
        inside(prefix, "etc/conda/activate.d/pipguard.sh")
    assert list(outside.iterdir()) == []


def test_links_that_stay_inside_are_followed_and_the_last_component_never(prefix, outside):
    (prefix / "real-etc").mkdir()
    (prefix / "etc").symlink_to(prefix / "real-etc", target_is_directory=True)
    assert inside(prefix, "etc/pip.conf") == prefix / "etc" / "pip.conf"
    # the file itself may be a link out: the writers replace it, never write through it
    (prefix / "pip.conf").symlink_to(outside / "users.conf")
    assert inside(prefix, "pip.conf") == prefix / "pip.conf"
    # the prefix itself may be reached through a link
    alias = prefix.parent / "alias"
    alias.symlink_to(prefix, target_is_directory=True)
    assert inside(alias, "etc/pip.conf") == alias / "etc" / "pip.conf"


# -- read_bytes ------------------------------------------------------------------------------


def test_read_bytes_of_a_file_and_of_nothing(prefix):
    (prefix / "pip.conf").write_bytes(b"[global]\n")
    assert read_bytes(prefix / "pip.conf") == b"[global]\n"
    assert read_bytes(prefix / "absent.conf") is None


def test_read_bytes_refuses_a_symlink_even_to_a_file_inside(prefix):
    (prefix / "real.conf").write_bytes(b"[global]\n")
    (prefix / "pip.conf").symlink_to(prefix / "real.conf")
    with pytest.raises(LockError, match="symbolic link"):
        read_bytes(prefix / "pip.conf")


def test_read_bytes_refuses_a_fifo_without_blocking(prefix):
    fifo = prefix / "pip.conf"
    os.mkfifo(fifo)
    with pytest.raises(LockError, match="not a regular file"):
        finishes(lambda: read_bytes(fifo))


def test_read_bytes_refuses_a_directory_and_a_file_over_the_cap(prefix):
    (prefix / "etc").mkdir()
    with pytest.raises(LockError, match="not a regular file"):
        read_bytes(prefix / "etc")
    (prefix / "pip.conf").write_bytes(b"x" * 11)
    with pytest.raises(LockError, match="not a regular file of reasonable size"):
        read_bytes(prefix / "pip.conf", cap=10)
    assert read_bytes(prefix / "pip.conf", cap=11) == b"x" * 11


# -- atomic_write and apply ------------------------------------------------------------------


@pytest.fixture
def lock_files(prefix) -> Path:
    """What the locks change: pip.conf (private mode), a marker to delete, a state file."""
    (prefix / "pip.conf").write_bytes(b"# the user's\n[global]\ntimeout = 60\n")
    (prefix / "pip.conf").chmod(0o600)
    (prefix / "lib").mkdir()
    (prefix / "lib" / "EXTERNALLY-MANAGED").write_bytes(b"[externally-managed]\n")
    (prefix / "conda-meta" / "state").write_bytes(b'{"env_vars": {}}')
    return prefix


def changes(last: Change) -> list[Change]:
    """A write over a file, a write in directories not made yet, a deletion, then *last*."""
    return [
        Change("pip.conf", b"[global]\nconstraint = x\n"),
        Change("etc/pipguard/deeper/constraints.txt", b"numpy==1.26.4\n"),
        Change("lib/EXTERNALLY-MANAGED", None),
        last,
    ]


def test_a_failed_atomic_write_leaves_no_temporary_file(prefix):
    target = prefix / "pip.conf"
    target.mkdir()
    (target / "keep").write_bytes(b"")  # a directory that a rename cannot replace
    with pytest.raises(OSError):
        atomic_write(target, b"[global]\n")
    assert sorted(p.name for p in prefix.iterdir()) == ["conda-meta", "pip.conf"]
    assert [p.name for p in target.iterdir()] == ["keep"]


def test_apply_changes_every_file(lock_files):
    apply(lock_files, changes(Change("conda-meta/state", b"{}", mode=0o640)), "fix it")
    assert (lock_files / "pip.conf").read_bytes() == b"[global]\nconstraint = x\n"
    constraints = lock_files / "etc" / "pipguard" / "deeper" / "constraints.txt"
    assert constraints.read_bytes() == b"numpy==1.26.4\n"
    assert not (lock_files / "lib" / "EXTERNALLY-MANAGED").exists()
    assert (lock_files / "conda-meta" / "state").stat().st_mode & 0o777 == 0o640


def test_a_failed_write_puts_every_file_back(lock_files):
    read_only_dir = lock_files / "conda-meta"
    before = tree(lock_files)
    with read_only(read_only_dir), pytest.raises(LockError) as caught:
        apply(lock_files, changes(Change("conda-meta/state", b"{}")), "ask its owner")
    message = str(caught.value)
    assert "read-only for you" in message and message.endswith("ask its owner")
    assert "\n" not in message
    assert tree(lock_files) == before  # contents, modes, no new directory, no temporary file


def test_a_directory_where_a_file_should_go_puts_every_file_back(lock_files):
    (lock_files / "conda-meta" / "state").unlink()
    (lock_files / "conda-meta" / "state").mkdir()
    before = tree(lock_files)
    with pytest.raises(LockError, match="not a regular file"):
        apply(lock_files, changes(Change("conda-meta/state", b"{}")), "fix it")
    assert tree(lock_files) == before


def test_every_path_is_checked_before_anything_changes(lock_files, outside):
    (lock_files / "etc").symlink_to(outside, target_is_directory=True)
    before = tree(lock_files)
    inode = (lock_files / "pip.conf").stat().st_ino
    with pytest.raises(LockError, match="resolves outside"):
        apply(lock_files, changes(Change("conda-meta/state", b"{}")), "fix it")
    assert tree(lock_files) == before
    assert (lock_files / "pip.conf").stat().st_ino == inode  # not even written and put back
    assert list(outside.iterdir()) == []


# -- env_lock --------------------------------------------------------------------------------

WAITER = """\
import pathlib, sys, time
from conda_pipguard.core.locks.writer import env_lock
prefix = pathlib.Path(sys.argv[1])
(prefix / "waiting").touch()
with env_lock(prefix):
    (prefix / "got").write_text(repr(time.time()))
"""


def wait_for(path: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def test_a_second_process_waits_for_the_lock(prefix):
    with env_lock(prefix):
        child = subprocess.Popen([sys.executable, "-c", WAITER, str(prefix)])
        try:
            wait_for(prefix / "waiting")
            time.sleep(0.5)  # ample time to take a lock that is free
            assert not (prefix / "got").exists()
            released = time.time()
        except BaseException:
            child.kill()
            raise
    assert child.wait(timeout=60) == 0
    assert float((prefix / "got").read_text()) >= released


def test_the_lock_is_reentrant_within_a_thread_and_released_after(prefix):
    def nested() -> None:
        with env_lock(prefix), env_lock(prefix):
            pass

    finishes(nested)
    # released: another process takes it at once
    subprocess.run([sys.executable, "-c", WAITER, str(prefix)], check=True, timeout=60)
    assert (prefix / "got").exists()


def test_an_env_without_conda_meta_is_not_locked(tmp_path):
    def take() -> str:
        with env_lock(tmp_path):
            return "held"

    assert finishes(take) == "held"
    assert list(tmp_path.iterdir()) == []  # no lock file made in its place
