"""The locks kept right by conda's transaction hooks (issues #3 and #6), with real conda."""

from __future__ import annotations

import pytest

from conda_pipguard.core.locks.softfiles import CONSTRAINTS
from tests.conftest import NUMPY_1
from tests.guard.conftest import requires_conda
from tests.support.envkit import other_python

pytestmark = requires_conda

MARKER = "EXTERNALLY-MANAGED"


def _settings(monkeypatch, **values):
    from conda.base.context import reset_context

    for name, value in values.items():
        monkeypatch.setenv(f"CONDA_PLUGINS_PIPGUARD_{name.upper()}", value)
    reset_context()


def _pip_refused(kit, prefix):
    kit.wheel("pypionly", "1.0", {"pypionly.py": ""})
    result = kit.pip(prefix, "install", "pypionly", check=False)
    return result.returncode != 0 and "externally-managed-environment" in result.stderr


def test_python_upgrade_moves_our_marker(conda_envs):
    kit = conda_envs.kit
    newer = other_python()
    if newer is None:
        pytest.skip("no second CPython minor version on this machine to upgrade to")
    prefix = conda_envs.create("python=" + kit.host.version, "pip")
    _, _, code = conda_envs.cli("pipguard", "mark", "-p", prefix)
    assert code == 0
    old = prefix / "lib" / f"python{kit.host.short_version}" / MARKER
    assert old.is_file()

    kit.add_python(newer)
    _, err, code = conda_envs.run("install", prefix, f"python={newer.version}", "-y")
    assert code == 0, err
    new = prefix / "lib" / f"python{newer.short_version}" / MARKER
    assert new.is_file() and not old.exists()
    assert _pip_refused(kit, prefix)  # the new interpreter honours the moved marker


def test_auto_mark_on_create(conda_envs, monkeypatch):
    _settings(monkeypatch, auto_mark="all")
    prefix = conda_envs.create("python", "pip")
    assert (prefix / "lib" / f"python{conda_envs.kit.host.short_version}" / MARKER).is_file()
    assert _pip_refused(conda_envs.kit, prefix)
    conda_envs.kit.add_conda_package("data", "1.0", files={"share/data.txt": "x"})
    no_python = conda_envs.create("data")  # no Python: nothing to lock, nothing written
    assert not list(no_python.glob(f"lib/python3*/{MARKER}"))
    assert not (no_python / "lib").exists()


def test_auto_mark_base_leaves_other_envs_alone(conda_envs, monkeypatch):
    _settings(monkeypatch, auto_mark="base")
    prefix = conda_envs.create("python", "pip")
    assert not list(prefix.glob(f"lib/python3*/{MARKER}"))


def test_env_create_with_pip_section_in_auto_marked_env(conda_envs, monkeypatch, tmp_path):
    kit = conda_envs.kit
    _settings(monkeypatch, auto_mark="all")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    wheel = kit.wheel("pypionly", "1.0", {"pypionly.py": "VALUE = 1\n"})
    kit.index()
    env_file = tmp_path / "environment.yml"
    env_file.write_text(
        f"name: withpip\nchannels:\n  - {kit.channel_url}\ndependencies:\n  - python\n  - pip\n"
        f"  - pip:\n    - {wheel}\n"
    )
    prefix = conda_envs.path_factory()
    _, err, code = conda_envs.cli("env", "create", "-p", prefix, "-f", env_file)
    assert code in (0, None), err
    site = prefix / "lib" / f"python{kit.host.short_version}"
    assert (site / "site-packages" / "pypionly.py").is_file()  # conda's pip step worked
    assert (site / MARKER).is_file()  # and the env ends locked
    assert _pip_refused(kit, prefix)
    import os

    assert "PIP_BREAK_SYSTEM_PACKAGES" not in os.environ  # only during that command


def test_soft_lock_pins_follow_conda_transactions(conda_envs):
    kit = conda_envs.kit
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.add_package(
        "numpy", "1.26.5", modules={**NUMPY_1, "numpy/__init__.py": "# .5\n"}, noarch=False
    )
    prefix = conda_envs.create("python", "pip", "numpy=1.26.4")
    _, err, code = conda_envs.cli("pipguard", "mark", "--soft", "-p", prefix)
    assert code == 0, err
    constraints = prefix / CONSTRAINTS
    assert "numpy==1.26.4" in constraints.read_text().splitlines()

    _, err, code = conda_envs.run("install", prefix, "numpy=1.26.5", "-y")
    assert code == 0, err
    lines = constraints.read_text().splitlines()
    assert "numpy==1.26.5" in lines and "numpy==1.26.4" not in lines


def test_soft_auto_mark(conda_envs, monkeypatch):
    _settings(monkeypatch, auto_mark="all", auto_mark_soft="true")
    prefix = conda_envs.create("python", "pip")
    assert (prefix / CONSTRAINTS).is_file()
    assert not list(prefix.glob(f"lib/python3*/{MARKER}"))
