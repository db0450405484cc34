"""Who owns what (core/model/ownership.py), asked directly.

The index of paths, the index of metadata directories and ``classify`` run on real environments
built by the kit (tests/support/envkit.py); what ``is_intact`` reads, and when, is shown on
plain directories where the file times are the test's to set.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from conda_pipguard.core.disk.containment import Within
from conda_pipguard.core.disk.distributions import Distribution
from conda_pipguard.core.disk.environment import load_environment
from conda_pipguard.core.disk.metafiles import RecordListing
from conda_pipguard.core.disk.names import name_keys
from conda_pipguard.core.disk.records import CondaRecord, RecordFile
from conda_pipguard.core.model.ledger import Ledger
from conda_pipguard.core.model.ownership import (
    Ownership,
    PathIndex,
    classify,
    counterparts,
    dist_dir_of,
    is_intact,
    project_key,
)
from tests.support.envkit import Dist, site_packages

#: A site-packages path for the plain-directory tests (nothing there runs Python).
SP = "lib/python3.11/site-packages"


@pytest.fixture
def env(kit) -> Path:
    """python, pip and ``py-tool``: one conda package shipping two Python distributions."""
    kit.add_package(
        "py-tool",
        "1.0",
        dist_name="Tool_Kit",
        modules={"toolkit/__init__.py": "VALUE = 1\n", "toolkit/core.py": "CORE = 1\n"},
        extra_dists=[Dist("toolkit-data", "1.0", {"toolkit_data.py": "DATA = 1\n"})],
    )
    return kit.create("env", ["python", "pip", "py-tool"], dialect="conda")


def rel(prefix: Path, path: Path) -> str:
    return path.relative_to(prefix).as_posix()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- PathIndex -------------------------------------------------------------------------------


def test_primed_and_whole_answers_agree_on_a_real_env(env):
    records = load_environment(env, include_user_site=False).records
    paths = [f.path for r in records for f in r.files]
    assert len(paths) > 1000  # python's stdlib, pip and py-tool
    asked = [*paths[::7], f"{SP}/not-listed.py", "bin/nothing"]
    primed = PathIndex(records)
    primed.prime(asked)
    whole = PathIndex(records)
    for path in asked:
        assert primed.owner(path) is whole.owner(path)
        assert primed.file(path) == whole.file(path)
    # a path asked about without priming makes the index whole: the answer is still right
    unprimed = paths[1]
    assert unprimed not in asked
    owner = next(r for r in records if any(f.path == unprimed for f in r.files))
    assert primed.owner(unprimed) is owner
    assert primed.owner(f"{SP}/not-listed.py") is None and primed.file("bin/nothing") is None


@pytest.mark.parametrize("primed", [True, False], ids=["primed", "whole"])
def test_the_later_record_owns_a_path_listed_twice(primed):
    only_a = RecordFile("bin/a-only", sha(b"x"), size=1)
    first = CondaRecord("a", "1", "0", files=(RecordFile("bin/tool", sha(b"a"), size=1), only_a))
    second = CondaRecord("b", "1", "0", files=(RecordFile("bin/tool", sha(b"b"), size=1),))
    index = PathIndex([first, second])
    if primed:
        index.prime(["bin/tool", "bin/a-only"])
    assert index.owner("bin/tool") is second
    assert index.file("bin/tool") == second.files[0]
    assert index.owner("bin/a-only") is first and index.file("bin/a-only") == only_a


# -- Ownership.of ----------------------------------------------------------------------------


def test_metadata_directories_owners_projects_and_files(env):
    records = {r.name: r for r in load_environment(env, include_user_site=False).records}
    tool, pip = records["py-tool"], records["pip"]
    sp = rel(env, site_packages(env))
    owners = Ownership.of(records.values())

    tool_dir, data_dir = f"{sp}/Tool_Kit-1.0.dist-info", f"{sp}/toolkit_data-1.0.dist-info"
    assert owners.dist_dir_owner[tool_dir] is tool
    assert owners.dist_dir_owner[data_dir] is tool
    assert owners.dist_dir_owner[f"{sp}/pip-{pip.version}.dist-info"] is pip
    assert not any(d.startswith(f"{sp}/toolkit/") for d in owners.dist_dir_owner)
    # by the projects the metadata directories spell, not by the conda package's name
    assert owners.provides["tool-kit"] == [tool]
    assert owners.provides["toolkit-data"] == [tool]
    assert "py-tool" not in owners.provides
    in_dir = [f for f in tool.files if f.path.startswith(f"{tool_dir}/")]
    assert {f.path.rsplit("/", 1)[1] for f in in_dir} >= {"METADATA", "RECORD", "INSTALLER"}
    assert owners.dist_dir_files[tool_dir] == in_dir
    # every path of every record is in the index of paths too
    assert owners.paths.owner(f"{sp}/toolkit/core.py") is tool


def test_one_package_linking_a_project_twice_is_listed_once():
    files = (
        RecordFile(f"{SP}/dup-1.0.dist-info/METADATA"),
        RecordFile(f"{SP}/dup-1.0.egg-info"),  # an old egg-info file of the same project
    )
    record = CondaRecord("dup", "1.0", "0", files=files)
    owners = Ownership.of([record])
    assert owners.provides == {"dup": [record]}
    assert set(owners.dist_dir_owner) == {f"{SP}/dup-1.0.dist-info", f"{SP}/dup-1.0.egg-info"}


# -- dist_dir_of, project_key, name_keys -----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"{SP}/tool-1.0.dist-info/RECORD", f"{SP}/tool-1.0.dist-info"),
        (f"{SP}/tool-1.0.dist-info", f"{SP}/tool-1.0.dist-info"),
        (f"{SP}/tool-1.0-py3.11.egg-info/PKG-INFO", f"{SP}/tool-1.0-py3.11.egg-info"),
        (f"{SP}/tool-1.0-py3.11.egg-info", f"{SP}/tool-1.0-py3.11.egg-info"),  # a file
        (f"{SP}/tool-1.0.dist-info/licenses/a.egg-info", f"{SP}/tool-1.0.dist-info"),
        (f"{SP}/tool/__init__.py", None),
        (f"{SP}/tool/data.dist-info.txt", None),  # the suffix, not a name that contains it
        (f"{SP}/tool-1.0.egg-infox/PKG-INFO", None),
        ("", None),
    ],
)
def test_dist_dir_of(path, expected):
    assert dist_dir_of(path) == expected


@pytest.mark.parametrize(
    ("dist_dir", "key"),
    [
        (f"{SP}/numpy-1.26.4.dist-info", "numpy"),
        (f"{SP}/Tool_Kit-1.0.dist-info", "tool-kit"),
        (f"{SP}/zope.interface-6.0.dist-info", "zope-interface"),
        (f"{SP}/python_dateutil-2.8.2-py3.11.egg-info", "python-dateutil"),
        (f"{SP}/tool.egg-info", "tool"),  # no version in the name
        ("Tool-1.0.dist-info", "tool"),  # no directory before it
    ],
)
def test_project_key(dist_dir, key):
    assert project_key(dist_dir) == key


@pytest.mark.parametrize(
    ("conda_name", "keys"),
    [
        ("numpy", {"numpy"}),
        ("py-opencv", {"py-opencv", "opencv"}),
        ("python-dateutil", {"python-dateutil", "dateutil"}),
        ("Ruamel_Yaml", {"ruamel-yaml"}),
        ("python", {"python"}),  # nothing is left to stand for
    ],
)
def test_name_keys(conda_name, keys):
    assert name_keys(conda_name) == keys


# -- is_intact -------------------------------------------------------------------------------

METADATA = b"Metadata-Version: 2.1\nName: tool\nVersion: 1.0\n"
RECORD = b"tool/__init__.py,sha256=AAAA,6\ntool-1.0.dist-info/RECORD,,\n"
WHEEL = b"Wheel-Version: 1.0\n"


def linked(prefix: Path, *, hashes: bool = True) -> tuple[CondaRecord, Distribution]:
    """A distribution conda linked into *prefix*: its files, and the record listing them."""
    dist_dir = f"{SP}/tool-1.0.dist-info"
    files = {
        f"{SP}/tool/__init__.py": b"X = 1\n",
        f"{dist_dir}/INSTALLER": b"conda\n",
        f"{dist_dir}/METADATA": METADATA,
        f"{dist_dir}/RECORD": RECORD,
        f"{dist_dir}/WHEEL": WHEEL,
    }
    entries = []
    for path, data in files.items():
        (prefix / path).parent.mkdir(parents=True, exist_ok=True)
        (prefix / path).write_bytes(data)
        entries.append(RecordFile(path, sha(data) if hashes else None, "hardlink", len(data)))
    record = CondaRecord("tool", "1.0", "0", files=tuple(entries))
    dist = Distribution("tool", "1.0", dist_dir, listing=RecordListing(SP, RECORD.decode()))
    return record, dist


@pytest.fixture
def hashed_reads(monkeypatch) -> list[str]:
    """The files ``is_intact`` hashes (the real hash, counted)."""
    seen: list[str] = []
    real = Within.sha256

    def counting(self, path):
        seen.append(os.fspath(path).rsplit("/", 1)[-1])
        return real(self, path)

    monkeypatch.setattr(Within, "sha256", counting)
    return seen


def test_intact_until_another_installer_rewrites_a_signature_file(tmp_path, hashed_reads):
    record, dist = linked(tmp_path)
    assert is_intact(tmp_path, dist, record)
    assert sorted(hashed_reads) == ["INSTALLER", "METADATA", "RECORD"]  # not WHEEL
    (tmp_path / dist.path / "WHEEL").write_bytes(b"Wheel-Version: 9.9\nGenerator: other\n")
    assert is_intact(tmp_path, dist, record)  # WHEEL is not what a reinstall tells by
    (tmp_path / dist.path / "INSTALLER").write_bytes(b"pip\n")
    assert not is_intact(tmp_path, dist, record)
    (tmp_path / dist.path / "INSTALLER").unlink()
    assert not is_intact(tmp_path, dist, record)
    assert not is_intact(tmp_path, dist, record, since=time.time_ns())


def test_untouched_since_the_record_is_not_read(tmp_path, hashed_reads):
    record, dist = linked(tmp_path)
    since = time.time_ns() + 1_000_000_000  # conda wrote the record after linking the files
    assert is_intact(tmp_path, dist, record, since=since)
    assert hashed_reads == []


def test_a_same_size_rewrite_after_the_record_is_hashed_and_caught(tmp_path, hashed_reads):
    record, dist = linked(tmp_path)
    since = time.time_ns()
    time.sleep(0.05)  # the rewrite comes after conda wrote its record
    rewritten = RECORD.replace(b"AAAA", b"BBBB")
    assert len(rewritten) == len(RECORD)
    path = tmp_path / dist.path / "RECORD"
    path.unlink()
    path.write_bytes(rewritten)  # a new file, as installers write them
    assert not is_intact(tmp_path, dist, record, since=since)
    assert "RECORD" in hashed_reads


def test_a_file_hard_linked_from_a_cache_is_told_by_its_ctime(tmp_path, hashed_reads):
    """uv links files from its cache: their mtime is the cache's, older than the record."""
    record, dist = linked(tmp_path)
    cached = tmp_path / "uv-cache" / "RECORD"
    cached.parent.mkdir()
    cached.write_bytes(RECORD.replace(b"AAAA", b"CCCC"))
    since = time.time_ns()
    time.sleep(0.05)
    target = tmp_path / dist.path / "RECORD"
    target.unlink()
    os.link(cached, target)
    assert target.stat().st_mtime_ns < since < target.stat().st_ctime_ns
    assert not is_intact(tmp_path, dist, record, since=since)
    assert "RECORD" in hashed_reads


def test_a_size_change_is_caught_without_hashing(tmp_path, hashed_reads):
    record, dist = linked(tmp_path)
    since = time.time_ns() + 1_000_000_000
    (tmp_path / dist.path / "METADATA").write_bytes(METADATA + b"Summary: pip's\n")
    assert not is_intact(tmp_path, dist, record, since=since)
    assert "METADATA" not in hashed_reads


def test_without_hashes_the_record_must_list_every_file_of_the_distribution(tmp_path):
    record, dist = linked(tmp_path, hashes=False)
    assert is_intact(tmp_path, dist, record)
    (tmp_path / dist.path / "INSTALLER").write_bytes(b"pip\n")
    assert is_intact(tmp_path, dist, record)  # nothing to compare the content with
    bytecode = RECORD + b"tool/__pycache__/__init__.cpython-311.pyc,,\n"
    with_pyc = replace(dist, listing=RecordListing(SP, bytecode.decode()))
    assert is_intact(tmp_path, with_pyc, record)  # byte code is nobody's evidence
    extra = RECORD + b"tool/added_by_pip.py,sha256=BBBB,3\n"
    other = replace(dist, listing=RecordListing(SP, extra.decode()))
    assert not is_intact(tmp_path, other, record)
    assert is_intact(tmp_path, replace(dist, listing=None), record)  # no RECORD: no evidence


# -- classify and counterparts ---------------------------------------------------------------


def foreign_dist_info(prefix: Path, name: str, version: str) -> str:
    """A dist-info as an installer other than conda leaves it; its prefix-relative path."""
    directory = site_packages(prefix) / f"{name}-{version}.dist-info"
    directory.mkdir()
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    (directory / "METADATA").write_text(metadata)
    (directory / "INSTALLER").write_text("pip\n")
    (directory / "RECORD").write_text(f"{name}-{version}.dist-info/METADATA,,\n")
    return rel(prefix, directory)


def by_name(dists) -> list[str]:
    return sorted(d.name for d in dists)


def test_classify_a_fresh_env_is_all_conda(env):
    loaded = load_environment(env, include_user_site=False)
    conda, foreign = classify(loaded, Ownership.of(loaded.records), Ledger(env).record_time)
    assert by_name(conda) == ["Tool_Kit", "pip", "toolkit-data"]
    assert foreign == []


def test_classify_by_the_files_not_the_installer(env):
    foreign_dist_info(env, "extra", "2.0")
    installer = site_packages(env) / "toolkit_data-1.0.dist-info" / "INSTALLER"
    installer.unlink()
    installer.write_bytes(b"uv-pi\n")  # same size as "conda\n", written after the record
    loaded = load_environment(env, include_user_site=False)
    owners = Ownership.of(loaded.records)
    conda, foreign = classify(loaded, owners, Ledger(env).record_time)
    assert by_name(conda) == ["Tool_Kit", "pip"]
    assert by_name(foreign) == ["extra", "toolkit-data"]
    assert classify(loaded, owners) == (conda, foreign)  # hashing everything says the same
    # the record's time is what spares the hashing: a time after the rewrite trusts the file
    later = time.time_ns() + 1_000_000_000
    conda, foreign = classify(loaded, owners, lambda record: later)
    assert by_name(foreign) == ["extra"]


def test_counterparts_by_directory_then_by_project(env):
    foreign_dist_info(env, "tool_kit", "2.0")  # another copy of the project py-tool ships
    foreign_dist_info(env, "unrelated", "1.0")
    loaded = load_environment(env, include_user_site=False)
    owners = Ownership.of(loaded.records)
    tool = loaded.records_by_name["py-tool"]
    dists = {(d.name, d.version): d for d in loaded.distributions}
    assert counterparts(owners, dists["Tool_Kit", "1.0"]) == [tool]  # it owns the directory
    assert counterparts(owners, dists["tool_kit", "2.0"]) == [tool]  # same project
    assert counterparts(owners, dists["unrelated", "1.0"]) == []
