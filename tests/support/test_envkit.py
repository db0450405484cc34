"""Smoke tests of the environment kit: real interpreters, real records, real pip."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import pytest

from . import envkit
from .envkit import Dist, EnvKit

_METADATA_SCRIPT = """
import importlib.metadata, json, sys
dist = importlib.metadata.distribution(sys.argv[1])
info = {"version": dist.version, "installer": dist.read_text("INSTALLER"), "path": str(dist._path)}
print(json.dumps(info))
"""


@pytest.fixture
def kit(tmp_path: Path) -> EnvKit:
    return EnvKit(tmp_path)


def _site(kit: EnvKit) -> str:
    return kit.host.site_packages_rel


def _python_record_file(kit: EnvKit) -> str:
    return f"python-{kit.host.version}-{envkit.PYTHON_BUILD}.json"


def _add_foo_and_bar(kit: EnvKit) -> None:
    kit.add_package(
        "foo", "1.0", modules={"foo/__init__.py": "X = 1\n"}, entry_points=["foo = foo:main"]
    )
    kit.add_package("bar", "2.0", modules={"bar.py": "Y = 2\n"}, noarch=False, depends=["foo"])


def _metadata(kit: EnvKit, prefix: Path, dist: str) -> dict[str, str]:
    return json.loads(kit.python(prefix, "-c", _METADATA_SCRIPT, dist).stdout)


def _history_lines(prefix: Path, mark: str) -> list[str]:
    lines = (prefix / "conda-meta" / "history").read_text().splitlines()
    return [line[1:] for line in lines if line.startswith(mark)]


def test_make_wheel_is_valid(tmp_path: Path) -> None:
    wheel = envkit.make_wheel(
        tmp_path,
        "my-pkg",
        "0.1",
        {"my_pkg/__init__.py": "A = 1\n"},
        requires_dist=["foo>=1"],
        extra_metadata={"Summary": "demo"},
        entry_points={"console_scripts": {"my-cmd": "my_pkg:main"}},
    )
    assert wheel.name == "my_pkg-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        record = archive.read("my_pkg-0.1.dist-info/RECORD").decode()
        metadata = archive.read("my_pkg-0.1.dist-info/METADATA").decode()
        for path, digest, size in csv.reader(record.splitlines()):
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode()
            assert int(size) == len(data)
    assert "Requires-Dist: foo>=1" in metadata
    assert "Summary: demo" in metadata


def test_env_python_is_a_real_interpreter(kit: EnvKit) -> None:
    prefix = kit.create("env", ["python"])
    code = "import os, sys; print(sys.prefix); print(sys.base_prefix); print(os.__file__)"
    out = kit.python(prefix, "-c", code).stdout.splitlines()
    assert out[:2] == [str(prefix), str(prefix)]
    assert out[2].startswith(str(prefix / kit.host.stdlib_rel))
    assert not (prefix / "pyvenv.cfg").exists()
    sys_path = kit.python(prefix, "-c", "import sys; print('\\n'.join(sys.path[1:]))").stdout
    assert all(p.startswith(str(prefix)) for p in sys_path.split())


def test_rattler_dialect_records(kit: EnvKit) -> None:
    _add_foo_and_bar(kit)
    prefix = kit.create("env", ["python", "pip", "bar"])
    site = _site(kit)
    records = {r["name"]: r for r in envkit.read_records(prefix).values()}
    assert set(records) == {"python", "pip", "foo", "bar"}
    assert all(r["files"] for r in records.values())
    foo_paths = [p["_path"] for p in records["foo"]["paths_data"]["paths"]]
    assert f"{site}/foo/__init__.py" in foo_paths  # rattler: prefix-relative even for noarch
    assert f"{site}/foo/__init__.py" in records["foo"]["files"]
    assert "bin/foo" in records["foo"]["files"]
    assert records["bar"]["requested_specs"] == ["bar"]
    assert records["foo"]["requested_specs"] == []


def test_conda_dialect_records_and_history(kit: EnvKit) -> None:
    _add_foo_and_bar(kit)
    prefix = kit.create("env", ["python", "pip", "bar"], dialect="conda")
    site = _site(kit)
    records = {r["name"]: r for r in envkit.read_records(prefix).values()}
    foo = records["foo"]
    paths = {p["_path"]: p for p in foo["paths_data"]["paths"]}
    assert "site-packages/foo/__init__.py" in paths
    assert f"{site}/foo/__init__.py" in foo["files"]
    tag = sys.implementation.cache_tag
    assert f"{site}/foo/__pycache__/__init__.{tag}.pyc" in foo["files"]
    assert paths["bin/foo"]["path_type"] == "unix_python_entry_point"
    for entry in foo["paths_data"]["paths"]:
        if entry["path_type"] == "hardlink":
            assert entry["sha256_in_prefix"] == entry["sha256"]
    assert foo["requested_spec"] == "None"
    assert records["bar"]["requested_spec"] == "bar"
    assert records["bar"]["channel"] == f"{kit.channel_url}/{kit.host.subdir}"
    linked = _history_lines(prefix, "+")
    assert sorted(linked) == sorted(envkit.dist_str(r) for r in records.values())
    assert f"{kit.channel_url}/noarch::foo-1.0-0" in linked
    assert not (prefix / "CACHEDIR.TAG").exists()


def test_conda_dialect_install_and_remove(kit: EnvKit) -> None:
    _add_foo_and_bar(kit)
    kit.add_package("baz", "3.0", modules={"baz/__init__.py": ""})
    prefix = kit.create("env", ["python", "foo"], dialect="conda")
    python_record = prefix / "conda-meta" / _python_record_file(kit)
    before = python_record.read_text()
    kit.install(prefix, ["baz"], dialect="conda")
    kit.remove(prefix, ["foo"], dialect="conda")
    assert not (prefix / _site(kit) / "foo").exists()
    assert not (prefix / "bin" / "foo").exists()
    assert python_record.read_text() == before
    assert f"{kit.channel_url}/noarch::baz-3.0-0" in _history_lines(prefix, "+")
    assert _history_lines(prefix, "-") == [f"{kit.channel_url}/noarch::foo-1.0-0"]


def test_pip_from_conda_package(kit: EnvKit) -> None:
    prefix = kit.create("env", ["python", "pip"])
    assert kit.pip(prefix, "--version").stdout.startswith("pip ")
    assert _metadata(kit, prefix, "pip")["installer"] == "conda\n"
    envkit.set_installer(prefix, "pip", "pip")
    assert _metadata(kit, prefix, "pip")["installer"] == "pip\n"


def test_pip_installs_wheel_over_conda_env(kit: EnvKit) -> None:
    _add_foo_and_bar(kit)
    prefix = kit.create("env", ["python", "pip", "foo"], dialect="conda")
    wheel = kit.wheel(
        "qux",
        "0.1",
        {"qux/__init__.py": "def main():\n    print('qux!')\n"},
        requires_dist=["foo>=1"],
        entry_points={"console_scripts": {"qux": "qux:main"}},
    )
    kit.pip(prefix, "install", wheel)
    meta = _metadata(kit, prefix, "qux")
    assert meta["version"] == "0.1"
    assert meta["installer"] == "pip\n"
    assert meta["path"].startswith(str(prefix / _site(kit)))
    assert (prefix / "bin" / "qux").read_text().startswith(f"#!{prefix}/bin/python")


def test_pip_is_isolated_but_reads_site_config(kit: EnvKit) -> None:
    prefix = kit.create("env", ["python", "pip"], dialect="conda")
    debug = kit.pip(prefix, "config", "debug").stdout
    assert f"{prefix}/pip.conf" in debug
    assert str(kit.home) in debug
    assert str(Path.home()) not in debug.replace(str(kit.home), "")
    kit.wheel("qux", "0.1", {"qux.py": ""})
    kit.wheel("qux", "0.2", {"qux.py": ""})
    constraints = prefix / "constraints.txt"
    constraints.write_text("qux==0.1\n")
    (prefix / "pip.conf").write_text(f"[global]\nconstraint = {constraints}\n")
    kit.pip(prefix, "install", "qux")
    assert _metadata(kit, prefix, "qux")["version"] == "0.1"


def test_externally_managed_blocks_pip(kit: EnvKit) -> None:
    prefix = kit.create("env", ["python", "pip"], dialect="conda")
    marker = envkit.stdlib_dir(prefix) / "EXTERNALLY-MANAGED"
    marker.write_text("[externally-managed]\nError=managed by conda\n")
    wheel = kit.wheel("qux", "0.1", {"qux.py": ""})
    result = kit.pip(prefix, "install", wheel, check=False)
    assert result.returncode != 0
    assert "externally-managed-environment" in result.stdout + result.stderr


def test_python_package_layouts(kit: EnvKit) -> None:
    kit.add_package(
        "old-style",
        "1.0",
        modules={"old_style.py": ""},
        egg_info=True,
        installer=None,
        extra_dists=[Dist("extra-dist", "0.5", {"extra_dist.py": ""}, installer="conda")],
    )
    kit.add_package("archy", "2.0", dist_name="Archy-Dist", modules={"archy.py": ""}, noarch=False)
    prefix = kit.create("env", ["python", "old-style", "archy"])
    site = prefix / _site(kit)
    egg_info = f"old_style-1.0-py{kit.host.short_version}.egg-info"
    assert (site / egg_info / "PKG-INFO").is_file()
    assert _metadata(kit, prefix, "old-style")["version"] == "1.0"
    assert _metadata(kit, prefix, "extra-dist")["installer"] == "conda\n"
    archy = _metadata(kit, prefix, "Archy-Dist")
    assert archy["path"] == str(site / "Archy_Dist-2.0.dist-info")
    record = (site / "Archy_Dist-2.0.dist-info" / "RECORD").read_text()
    assert "archy.py,sha256=" in record


def test_python_site_packages_path(tmp_path: Path) -> None:
    kit = EnvKit(tmp_path, site_packages_path=True)
    kit.add_package("foo", "1.0", modules={"foo/__init__.py": ""})
    prefix = kit.create("env", ["python", "foo"])
    python = envkit.python_record(prefix)
    assert python is not None
    assert python["build"] == envkit.PYTHON_BUILD_SITE_PACKAGES_PATH
    assert python["python_site_packages_path"] == _site(kit)
    assert (prefix / _site(kit) / "foo" / "__init__.py").is_file()
