"""Nothing outside the prefix is written or deleted by the locks (issue #12 §2).

Every path the locks write or delete is resolved and checked inside the prefix: the marker,
pip.conf, ``conda-meta/state``, the constraints file, the ledger and its copies, on ``mark``,
``mark --soft``, ``unmark``, ``unmark --force`` and the post-transaction sync.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conda_pipguard.core.disk.environment import load_environment
from conda_pipguard.core.disk.python import PythonLayout
from conda_pipguard.core.errors import LockError
from conda_pipguard.core.locks.marker import (
    MARKER_NAME,
    remove_marker,
    render,
    sync_hard_marker,
    write_marker,
)
from conda_pipguard.core.locks.soft import write_soft_lock
from conda_pipguard.core.locks.softfiles import LEDGER, STATE_DIR
from conda_pipguard.core.locks.softremove import remove_soft_lock

TARGET = "-n env"


@pytest.fixture
def env(kit):
    prefix = kit.create("env", ["python", "pip"], dialect="conda")
    shutil.rmtree(prefix / "etc", ignore_errors=True)
    return prefix


def tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under *root* (symlinks as their target), for "nothing changed"."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" in path.parts:
            continue
        if path.is_symlink():
            found[rel] = f"-> {path.readlink()}"
        elif path.is_file():
            found[rel] = path.read_bytes()
        else:
            found[rel] = "dir"
    return found


def soft(prefix: Path, **kwargs):
    return write_soft_lock(prefix, TARGET, environ={}, **kwargs)


@pytest.mark.parametrize("link", ["etc", STATE_DIR])
def test_mark_soft_refuses_a_state_dir_that_leads_out(env, tmp_path, link):
    outside = tmp_path / "outside"
    outside.mkdir()
    (env / link).parent.mkdir(parents=True, exist_ok=True)
    (env / link).symlink_to(outside)
    before, outside_before = tree(env), tree(outside)
    with pytest.raises(LockError, match="resolves outside"):
        soft(env)
    assert (tree(env), tree(outside)) == (before, outside_before)
    # the command says it in one line and exits 1
    code, out, err = run_cli("mark", "--soft", "-p", str(env))
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "resolves outside" in err
    assert (tree(env), tree(outside)) == (before, outside_before)


def run_cli(*argv: str) -> tuple[int, str, str]:
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from conda_pipguard.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_unmark_refuses_a_state_dir_moved_out_after_mark(env, tmp_path):
    soft(env)
    outside = tmp_path / "outside"
    shutil.move(env / "etc", outside)
    (env / "etc").symlink_to(outside)
    before, outside_before = tree(env), tree(outside)
    with pytest.raises(LockError, match="resolves outside"):
        remove_soft_lock(env)
    assert (tree(env), tree(outside)) == (before, outside_before)


def test_a_hostile_ledger_cannot_make_unmark_remove_other_dirs(env, tmp_path):
    soft(env)
    victim = tmp_path / "victim"
    victim.mkdir()
    ledger = json.loads((env / LEDGER).read_text())
    ledger["created_dirs"] += [str(victim), "../victim", "etc/../../victim"]
    (env / LEDGER).write_text(json.dumps(ledger))
    remove_soft_lock(env)
    assert victim.is_dir()
    assert not (env / "etc").exists()


def test_unmark_never_deletes_a_marker_through_a_stdlib_dir_symlinked_out(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "lib").mkdir(parents=True)
    (prefix / "conda-meta").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / MARKER_NAME).write_text(render(TARGET))  # even one with our stamp
    (prefix / "lib" / "python3.99").symlink_to(elsewhere)
    layout = PythonLayout.build("3.99")

    for force in (False, True):
        action = remove_marker(prefix, layout, force=force)
        assert (action.action, action.reason) == (
            "skipped",
            "lib/python3.99 resolves outside the environment",
        )
    assert sync_hard_marker(prefix, PythonLayout.build("3.98"), TARGET) == []
    assert sync_hard_marker(prefix, None, TARGET) == []
    with pytest.raises(LockError, match="resolves outside"):
        write_marker(prefix, layout, TARGET)
    assert (elsewhere / MARKER_NAME).read_text() == render(TARGET)


def test_unmark_force_on_a_real_env_with_its_stdlib_symlinked_out(env, tmp_path):
    layout = load_environment(env).python
    stdlib = env / layout.stdlib
    outside = tmp_path / "stdlib"
    shutil.move(stdlib, outside)
    stdlib.symlink_to(outside)
    (outside / MARKER_NAME).write_text("[externally-managed]\nError=the distro's\n")
    code, out, _ = run_cli("unmark", "--force", "-p", str(env))
    assert code == 0
    assert "resolves outside the environment" in out
    assert (outside / MARKER_NAME).exists()


def test_python_site_packages_path_leading_out_is_ignored_and_reported(kit, tmp_path, scan):
    kit_env = kit.create("env", ["python"], dialect="conda")
    record_path = next((kit_env / "conda-meta").glob("python-3*.json"))
    record = json.loads(record_path.read_text())
    outside = tmp_path / "system-site"
    (outside / "evil-1.0.dist-info").mkdir(parents=True)
    (outside / "evil-1.0.dist-info" / "METADATA").write_text("Name: evil\nVersion: 1.0\n")
    (kit_env / "lib" / "escape").symlink_to(outside)
    for value in (str(outside), "../../system-site", "lib/escape"):
        record["python_site_packages_path"] = value
        record_path.write_text(json.dumps(record))
        diagnosis = scan(kit_env)
        python = diagnosis.to_dict()["python"]
        assert python["ignored_site_packages"] == value
        assert python["site_packages"] == f"lib/python{python['version']}/site-packages"
        assert not any(d.name == "evil" for d in diagnosis.env.distributions)
