"""The soft lock keeps every cap already in force (issue #9 §3), checked with real pip 23.2.1.

pip keeps one ``constraint`` value: the env's ``pip.conf`` that ``mark --soft`` writes replaces
a ``constraint`` of the global or user configuration, and an activated ``PIP_CONSTRAINT`` /
``UV_CONSTRAINT`` replaces the shell's. Each test plants its own global configuration (pip runs
through a launcher: the machine's ``/etc/pip.conf`` and ``/etc/xdg/pip`` never decide a result).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conda_pipguard.core.diagnosis import diagnose
from conda_pipguard.core.disk.activation import Activation, read_env_vars
from conda_pipguard.core.locks.soft import constraint_ref, write_soft_lock
from conda_pipguard.core.locks.softremove import remove_soft_lock
from conda_pipguard.core.locks.softstatus import soft_lock_status
from conda_pipguard.core.repair.export import export_spec
from tests.support.pipconf import planted_files, run_pip_planted

TARGET = "-n story"
STATE = b'{"env_vars": {"MY_VAR": "1"}}'


@pytest.fixture
def story(numpy_channel):
    """numpy 1.26.4 from conda; tinydep 1.0 and 0.5 and numpy 2.1.0 as wheels."""
    kit = numpy_channel
    kit.wheel("tinydep", "1.0", {"tinydep.py": "VERSION = '1.0'\n"})
    kit.wheel("tinydep", "0.5", {"tinydep.py": "VERSION = '0.5'\n"})
    prefix = kit.create("story", ["python", "pip", "numpy"], dialect="conda")
    (prefix / "conda-meta" / "state").write_bytes(STATE)
    return prefix


@pytest.fixture
def global_dir(tmp_path) -> Path:
    """A planted global pip configuration directory (empty at first)."""
    path = tmp_path / "global-pip"
    path.mkdir()
    return path


def cap(directory: Path, name: str, line: str = "tinydep<=0.5") -> Path:
    path = directory / name
    path.write_text(f"{line}\n")
    return path


def pip(kit, prefix, global_dir, *args, env_extra=None, check=False):
    return run_pip_planted(
        prefix,
        global_dir,
        *args,
        find_links=[kit.wheels],
        home=kit.home,
        env_extra=env_extra,
        check=check,
    )


def refused_by(done, constraint: str) -> bool:
    return done.returncode != 0 and f"(constraint) {constraint}" in done.stdout + done.stderr


def mark(kit, prefix, global_dir, environ=None):
    environ = {"HOME": str(kit.home), **(environ or {})}
    files = planted_files(prefix, global_dir, kit.home, environ)
    return write_soft_lock(prefix, TARGET, environ=environ, pip_files=files)


def status(kit, prefix, global_dir, environ=None):
    environ = {"HOME": str(kit.home), **(environ or {})}
    env_vars = read_env_vars(prefix)
    files = planted_files(prefix, global_dir, kit.home, {**environ, **env_vars})
    activation = Activation(environ, env_vars)
    return soft_lock_status(prefix, (), activation=activation, pip_files=files)


def test_a_global_cap_still_refuses_under_the_soft_lock(numpy_channel, story, global_dir):
    kit, prefix = numpy_channel, story
    caps = cap(global_dir, "caps.txt")
    (global_dir / "pip.conf").write_text(f"[global]\nconstraint = {caps}\n")
    assert refused_by(pip(kit, prefix, global_dir, "install", "tinydep==1.0"), "tinydep<=0.5")

    # what the soft lock wrote before this fix, [install] constraint = ours, lifts the cap:
    (prefix / "pip.conf").write_text(f"[install]\nconstraint = {constraint_ref(prefix)}\n")
    (prefix / "etc" / "conda-pipguard").mkdir(parents=True)
    (prefix / "etc" / "conda-pipguard" / "constraints.txt").write_text("numpy==1.26.4\n")
    lifted = pip(kit, prefix, global_dir, "install", "--dry-run", "tinydep==1.0")
    assert "Would install tinydep-1.0" in lifted.stdout
    (prefix / "pip.conf").unlink()
    shutil.rmtree(prefix / "etc")

    assert mark(kit, prefix, global_dir).action == "written"
    assert (prefix / "pip.conf").read_text().splitlines()[-1] == (
        f"constraint = {caps} {constraint_ref(prefix)}"
    )
    activated = read_env_vars(prefix)
    assert activated["PIP_CONSTRAINT"] == f"{caps} {constraint_ref(prefix)}"
    for env_extra in (None, activated):
        done = pip(kit, prefix, global_dir, "install", "tinydep==1.0", env_extra=env_extra)
        assert refused_by(done, "tinydep<=0.5"), done.stdout + done.stderr
        done = pip(kit, prefix, global_dir, "install", "numpy==2.1.0", env_extra=env_extra)
        assert refused_by(done, "numpy==1.26.4"), done.stdout + done.stderr
    pip(kit, prefix, global_dir, "install", "tinydep", check=True)
    assert any(prefix.glob("lib/python3*/site-packages/tinydep-0.5.dist-info"))
    assert status(kit, prefix, global_dir).overrides == ()
    pip(kit, prefix, global_dir, "uninstall", "-y", "tinydep", check=True)

    assert remove_soft_lock(prefix).action == "removed"
    assert not (prefix / "pip.conf").exists()
    assert (prefix / "conda-meta" / "state").read_bytes() == STATE
    assert not (prefix / "etc").exists()


def test_user_caps_and_the_shells_variables_are_kept(numpy_channel, story, global_dir, tmp_path):
    kit, prefix = numpy_channel, story
    user_conf = kit.home / ".config" / "pip" / "pip.conf"
    user_conf.parent.mkdir(parents=True)
    user_caps = cap(tmp_path, "user-caps.txt")
    user_conf.write_text(f"[install]\nconstraint = {user_caps}\n")
    shell_caps = cap(tmp_path, "shell-caps.txt", "tinydep<0.9")
    uv_caps = cap(tmp_path, "uv-caps.txt", "tinydep<0.8")
    shell = {"PIP_CONSTRAINT": str(shell_caps), "UV_CONSTRAINT": str(uv_caps)}

    mark(kit, prefix, global_dir, shell)
    ours = constraint_ref(prefix)
    activated = read_env_vars(prefix)
    assert (activated["PIP_CONSTRAINT"], activated["UV_CONSTRAINT"]) == (
        f"{shell_caps} {ours}",
        f"{uv_caps} {ours}",
    )
    # pip.conf keeps the user's cap; activation keeps the shell's
    done = pip(kit, prefix, global_dir, "install", "tinydep==1.0")
    assert refused_by(done, "tinydep<=0.5"), done.stdout
    done = pip(kit, prefix, global_dir, "install", "tinydep==1.0", env_extra={**shell, **activated})
    assert refused_by(done, "tinydep<0.9"), done.stdout
    done = pip(kit, prefix, global_dir, "install", "numpy==2.1.0", env_extra={**shell, **activated})
    assert refused_by(done, "numpy==1.26.4"), done.stdout
    lock = status(kit, prefix, global_dir, shell)
    assert (lock.bypassed_by, lock.overrides) == ((), ())
    # a shell cap set after the lock is replaced on activation: status says so
    later = cap(tmp_path, "later-caps.txt")
    (line,) = status(kit, prefix, global_dir, {**shell, "PIP_CONSTRAINT": str(later)}).overrides
    assert line == (
        f"PIP_CONSTRAINT of this shell ({later}) is replaced by the soft lock's on activation; "
        f"keep it: conda pipguard mark --soft {TARGET}"
    )

    remove_soft_lock(prefix)
    assert not (prefix / "pip.conf").exists()
    assert (prefix / "conda-meta" / "state").read_bytes() == STATE


def test_status_reports_a_cap_added_after_the_lock_and_mark_keeps_it(
    numpy_channel, story, global_dir, scan
):
    kit, prefix = numpy_channel, story
    mark(kit, prefix, global_dir)
    caps = cap(global_dir, "caps.txt")
    (global_dir / "pip.conf").write_text(f"[global]\nconstraint = {caps}\n")
    # it is real: the env's pip.conf silently lifts the new global cap
    lifted = pip(kit, prefix, global_dir, "install", "--dry-run", "tinydep==1.0")
    assert "Would install tinydep-1.0" in lifted.stdout
    (line,) = status(kit, prefix, global_dir).overrides
    assert line == (
        f"constraint {caps} of {global_dir / 'pip.conf'} is overridden by the soft lock's "
        f"pip.conf and PIP_CONSTRAINT; keep it: conda pipguard mark --soft {TARGET}"
    )

    again = mark(kit, prefix, global_dir)
    assert (again.action, again.reason) == (
        "written",
        "soft lock repaired or brought up to date: pip (always: the env's pip.conf) and uv "
        "(only in the activated env: UV_CONSTRAINT) may add packages but not change the 2 "
        "conda packages",
    )
    assert status(kit, prefix, global_dir).overrides == ()
    assert read_env_vars(prefix)["PIP_CONSTRAINT"] == f"{caps} {constraint_ref(prefix)}"
    for env_extra in (None, read_env_vars(prefix)):
        done = pip(kit, prefix, global_dir, "install", "tinydep==1.0", env_extra=env_extra)
        assert refused_by(done, "tinydep<=0.5"), done.stdout
    assert mark(kit, prefix, global_dir).action == "unchanged"

    caps.unlink()  # the constraints file the lock keeps naming is gone: pip refuses everything
    (line,) = status(kit, prefix, global_dir).overrides
    assert line.startswith(f"constraints file {caps} that the soft lock keeps naming does not")
    broken = pip(kit, prefix, global_dir, "install", "tinydep")
    assert broken.returncode != 0 and "Could not open requirements file" in broken.stderr

    remove_soft_lock(prefix)
    assert not (prefix / "pip.conf").exists()
    assert (prefix / "conda-meta" / "state").read_bytes() == STATE


def test_export_leaves_the_soft_locks_variables_out(numpy_channel, story, global_dir, scan):
    kit, prefix = numpy_channel, story
    state = prefix / "conda-meta" / "state"
    state.write_text(json.dumps({"env_vars": {"MY_VAR": "1", "UV_CONSTRAINT": "/mine.txt"}}))
    mark(kit, prefix, global_dir)
    assert set(read_env_vars(prefix)) == {"MY_VAR", "PIP_CONSTRAINT", "UV_CONSTRAINT"}
    diagnosis = diagnose(prefix, environ={"HOME": str(kit.home), "PATH": ""})
    assert export_spec(diagnosis).spec.variables == {"MY_VAR": "1", "UV_CONSTRAINT": "/mine.txt"}
