"""The one containment check: nothing is read, hashed or opened through a link leading out."""

from __future__ import annotations

import os
import stat

import pytest

from conda_pipguard.core.disk.containment import DIR_FD, OutsideEnvironment, Within
from conda_pipguard.core.disk.safeio import UnreadableFile


@pytest.fixture
def linked_prefix(tmp_path):
    """A prefix with a directory link out of it, one inside it, and a file link out."""
    outside = tmp_path / "outside"
    (outside / "tree").mkdir(parents=True)
    (outside / "keep.txt").write_text("secret\n")
    prefix = tmp_path / "env"
    (prefix / "pkg" / "real").mkdir(parents=True)
    (prefix / "pkg" / "real" / "mod.py").write_text("x = 1\n")
    (prefix / "pkg" / "out").symlink_to(outside, target_is_directory=True)
    (prefix / "pkg" / "in").symlink_to("real", target_is_directory=True)
    (prefix / "pkg" / "file.py").symlink_to(outside / "keep.txt")
    return prefix


def test_within_resolves_directories_and_refuses_links_out(linked_prefix):
    within = Within(linked_prefix)
    real = os.path.realpath(linked_prefix)
    assert within.real_dir("pkg/in") == f"{real}/pkg/real"
    assert within.real_dir("pkg/out") is None
    assert within.real_dir("pkg/out/tree") is None
    assert within.real_dir("pkg/missing/deeper") == f"{real}/pkg/missing/deeper"
    assert within.real_path("pkg/in/mod.py") == f"{real}/pkg/real/mod.py"
    for path in ("pkg/out/keep.txt", "pkg/out", "pkg/out/", "pkg/file.py", "../env/pkg", "/etc"):
        assert within.leads_outside(path), path
    assert within.leads_outside("pkg/a\0b/c") and within.leads_outside("a/" * 3000)
    assert not within.leads_outside("pkg/in/mod.py")
    assert not within.leads_outside("pkg/./real/../real/mod.py")


def test_within_never_reads_or_hashes_through_a_link_out(linked_prefix):
    within = Within(linked_prefix)
    assert within.read_bytes("pkg/in/mod.py", limit=100) == b"x = 1\n"
    assert within.sha256("pkg/in/mod.py") is not None
    for path in ("pkg/out/keep.txt", "pkg/file.py"):
        with pytest.raises(OutsideEnvironment, match="leads outside the environment"):
            within.read_bytes(path, limit=100)
        assert within.sha256(path) is None
    assert within.lstat("pkg/out/keep.txt") is None  # not even stated through the link
    assert stat.S_ISLNK(within.lstat("pkg/file.py").st_mode)  # the link itself is inside
    with pytest.raises(OutsideEnvironment):
        within.open_dir("pkg/out")


def test_within_reads_neither_a_fifo_nor_a_device(linked_prefix):
    os.mkfifo(linked_prefix / "pkg" / "fifo")
    (linked_prefix / "pkg" / "zero").symlink_to("/dev/zero")
    within = Within(linked_prefix)
    with pytest.raises(UnreadableFile, match="not a regular file"):
        within.read_bytes("pkg/fifo", limit=100)
    assert within.sha256("pkg/fifo") is None
    with pytest.raises(OutsideEnvironment):
        within.read_bytes("pkg/zero", limit=100)


@pytest.mark.skipif(not DIR_FD, reason="directories are walked by descriptor on POSIX")
def test_a_directory_swapped_for_a_link_after_the_check_is_not_followed(linked_prefix, tmp_path):
    within = Within(linked_prefix)
    assert within.real_dir("pkg/real") is not None  # checked, and remembered
    real = linked_prefix / "pkg" / "real"
    real.rename(linked_prefix / "pkg" / "moved")
    real.symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(OSError):
        within.read_bytes("pkg/real/keep.txt", limit=100)
