"""The file ledger on a plain directory: what it decides, and how little it reads to decide it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from conda_pipguard.core.disk.distributions import RecordEntry
from conda_pipguard.core.disk.records import CondaRecord, RecordFile
from conda_pipguard.core.model.ledger import Content, Ledger

SP = "lib/python3.11/site-packages"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def linked(prefix: Path, files: dict[str, bytes]) -> tuple[CondaRecord, dict[str, RecordFile]]:
    """Files linked, then the record written (as conda does), an hour in the past."""
    entries = {}
    for rel, data in files.items():
        path = prefix / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entries[rel] = RecordFile(rel, sha(data), "hardlink", len(data))
    record_path = prefix / "conda-meta" / "pkg-1.0-0.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text("{}")
    past = record_path.stat().st_mtime - 3600
    for directory in {(prefix / rel).parent for rel in files}:
        os.utime(directory, (past - 1, past - 1))
    os.utime(record_path, (past, past))
    record = CondaRecord(
        "pkg", "1.0", "0", files=tuple(entries.values()), record_path="conda-meta/pkg-1.0-0.json"
    )
    return record, entries


def test_untouched_directories_are_not_even_listed(tmp_path):
    record, files = linked(tmp_path, {f"{SP}/pkg/a.py": b"a = 1\n", f"{SP}/pkg/b.py": b"b\n"})
    ledger = Ledger(tmp_path)
    assert {ledger.conda_state(record, f) for f in files.values()} == {Content.CONDA}
    assert ledger.hashed == 0 and ledger._listings == {}


def test_a_replaced_file_is_altered_by_size_then_by_hash(tmp_path):
    record, files = linked(tmp_path, {f"{SP}/pkg/a.py": b"a = 1\n", f"{SP}/pkg/b.py": b"b\n"})
    a, b = files.values()
    (tmp_path / a.path).unlink()  # pip unlinks, then writes
    (tmp_path / a.path).write_bytes(b"a = 22\n")
    ledger = Ledger(tmp_path)
    assert ledger.conda_state(record, a) is Content.ALTERED
    assert ledger.conda_state(record, b) is Content.CONDA
    assert ledger.hashed == 1  # a: the size told; b: same size, hashed (changed since? no)
    (tmp_path / a.path).unlink()
    (tmp_path / a.path).write_bytes(b"a = 2\n")  # same size, other bytes
    assert Ledger(tmp_path).conda_state(record, a) is Content.ALTERED
    (tmp_path / b.path).unlink()
    assert Ledger(tmp_path).conda_state(record, b) is Content.MISSING


def test_dist_state_tells_conda_dist_both_and_altered(tmp_path):
    _, files = linked(tmp_path, {f"{SP}/pkg/same.py": b"x\n", f"{SP}/pkg/mod.py": b"conda\n"})
    same, mod = files.values()
    ledger = Ledger(tmp_path)
    entry = RecordEntry(mod.path, b64(b"pypi!\n"), 6)
    assert ledger.dist_state(entry, mod) is Content.CONDA  # sizes differ: conda's is there
    assert ledger.dist_state(RecordEntry(same.path, b64(b"x\n"), 2), same) is Content.BOTH
    (tmp_path / mod.path).write_bytes(b"pypi!\n")
    assert Ledger(tmp_path).dist_state(entry, mod) is Content.DIST
    (tmp_path / mod.path).write_bytes(b"other\n")  # same size as both, neither's bytes
    assert Ledger(tmp_path).dist_state(entry, mod) is Content.ALTERED
    assert Ledger(tmp_path).dist_state(RecordEntry(f"{SP}/gone.py"), None) is Content.MISSING
    assert Ledger(tmp_path).dist_state(RecordEntry(same.path), None) is Content.PRESENT


def test_nothing_behind_a_directory_link_out_is_listed_or_hashed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.py").write_bytes(b"a = 1\n")
    prefix = tmp_path / "env"
    linked(prefix, {f"{SP}/pkg/b.py": b"b\n"})
    (prefix / SP / "pkg" / "out").symlink_to(outside, target_is_directory=True)
    conda_file = RecordFile(f"{SP}/pkg/out/a.py", sha(b"a = 1\n"), "hardlink", 6)
    ledger = Ledger(prefix)
    assert ledger.listing(f"{SP}/pkg/out") is None
    assert ledger.digest(f"{SP}/pkg/out/a.py") is None
    assert ledger.dist_state(RecordEntry(conda_file.path), conda_file) is Content.MISSING
    assert not ledger.untouched_since(f"{SP}/pkg/out", 1 << 62)
    assert ledger.listing(f"{SP}/pk\0g") is None  # a NUL byte: no such directory, no ValueError
