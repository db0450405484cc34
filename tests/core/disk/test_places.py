"""The post-transaction hook's cheap looks: may this env carry a lock, or records we kept?"""

from __future__ import annotations

import pytest

from conda_pipguard.core.disk.places import (
    EVIDENCE_DIR,
    MARKER_NAME,
    STATE_DIR,
    config_basename,
    has_kept_records,
    may_hold_lock,
)
from conda_pipguard.core.locks.marker import has_hard_marker
from conda_pipguard.core.locks.softfiles import is_soft_locked


@pytest.mark.parametrize(
    "planted",
    [
        f"lib/python3.12/{MARKER_NAME}",
        f"Lib/{MARKER_NAME}",
        f"{STATE_DIR}/soft-lock.json",
        config_basename(),
    ],
)
def test_any_lock_file_means_the_readers_must_look(tmp_path, planted):
    (tmp_path / "conda-meta").mkdir()
    assert not may_hold_lock(tmp_path)
    path = tmp_path / planted
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")
    assert may_hold_lock(tmp_path)


def test_a_prefix_with_glob_characters_is_read_literally(tmp_path):
    prefix = tmp_path / "env[1]*"
    (prefix / "lib" / "python3.11").mkdir(parents=True)
    assert not may_hold_lock(prefix)
    (prefix / "lib" / "python3.11" / MARKER_NAME).write_text("x\n")
    assert may_hold_lock(prefix) and has_hard_marker(prefix)


def test_never_false_where_the_lock_readers_find_a_lock(tmp_path):
    # the cheap look may say "maybe" wrongly, never "no" wrongly
    (tmp_path / "lib" / "python3.11").mkdir(parents=True)
    for planted in (f"lib/python3.11/{MARKER_NAME}", f"{STATE_DIR}/soft-lock.json"):
        (tmp_path / planted).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / planted).write_text("{}\n")
        assert may_hold_lock(tmp_path)
        assert has_hard_marker(tmp_path) or is_soft_locked(tmp_path)


def test_kept_records_are_looked_for_where_the_evidence_keeps_them(tmp_path):
    from conda_pipguard.core.disk.kept_records import kept_records

    (tmp_path / "conda-meta").mkdir()
    assert not has_kept_records(tmp_path)
    (tmp_path / "conda-meta" / EVIDENCE_DIR).mkdir()
    assert has_kept_records(tmp_path)
    assert kept_records(tmp_path, set(), {}) == {}
