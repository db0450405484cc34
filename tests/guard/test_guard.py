"""The guard hooks inside real conda transactions (conda.testing's ``conda_cli``, local channel)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import NUMPY_1, NUMPY_2, PY
from tests.guard.conftest import requires_conda
from tests.support.envkit import site_packages, tree_hashes

pytestmark = requires_conda


@pytest.fixture
def touched(conda_envs):
    """conda env with numpy 1.26.4, over which pip force-reinstalled numpy 2.1.0."""
    kit = conda_envs.kit
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.add_package(
        "numpy", "1.26.5", modules={**NUMPY_1, "numpy/__init__.py": "# 1.26.5\n"}, noarch=False
    )
    kit.add_package("tool", "1.0", modules={"tool.py": ""})
    kit.wheel("numpy", "2.1.0", NUMPY_2)
    prefix = conda_envs.create("python", "pip", "numpy=1.26.4")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return prefix


def test_install_into_a_pip_touched_env_warns_on_stderr(conda_envs, touched):
    _out, err, code = conda_envs.run("install", touched, "tool", "-y")
    assert code == 0
    assert "conda-pipguard: numpy 2.1.0 (pip) shadows conda's numpy 1.26.4" in err
    assert "(1 Python package here is not from conda)" in err
    assert f"conda pipguard status -p {touched}" in err
    assert list(touched.glob("conda-meta/tool-1.0-*.json"))


def test_the_warning_shows_escape_sequences_escaped(conda_envs, touched):
    (metadata,) = site_packages(touched).glob("numpy-2.1.0.dist-info/METADATA")
    metadata.write_text(metadata.read_text().replace("Version: 2.1.0", "Version: 2.1.0\x1b[2J"))
    _out, err, code = conda_envs.run("install", touched, "tool", "-y", "--dry-run")
    assert code == 0
    assert "\x1b" not in err
    assert "conda-pipguard: numpy 2.1.0\\x1b[2J (pip) shadows conda's numpy 1.26.4" in err


def test_once_conda_put_its_files_back_the_line_says_stale_metadata(conda_envs, touched):
    """After ``conda install --force-reinstall numpy`` pip's dist-info lies: no "shadows"."""
    from conda_pipguard.core.disk.environment import load_environment
    from conda_pipguard.core.model.riskline import line_of_overlay
    from conda_pipguard.core.rules.analysis import analyze

    _, err, code = conda_envs.run("install", touched, "--force-reinstall", "numpy=1.26.4", "-y")
    assert code == 0, err
    assert "conda will reinstall numpy 1.26.4 over numpy 2.1.0 (pip)" in err  # not "replace"
    _, err, code = conda_envs.run("install", touched, "tool", "-y")
    assert code == 0, err
    line = (
        "conda-pipguard: numpy 2.1.0 (pip) is stale: conda's numpy 1.26.4 is back on disk, "
        "but pip still lists 2.1.0 (1 Python package here is not from conda)."
    )
    assert line in err
    assert "shadows" not in err
    # the full read (every record, the ledger) says the same, word for word
    full = load_environment(touched, include_user_site=False)
    assert line_of_overlay(full.target_flag, analyze(full).overlay) in err


def test_json_stays_clean(conda_envs, touched):
    out, err, code = conda_envs.run("install", touched, "tool", "-y", "--json")
    assert code == 0
    assert json.loads(out)["success"] is True
    assert "pipguard" not in err


def test_clean_env_and_mode_off_are_silent(conda_envs, touched, monkeypatch):
    clean = conda_envs.create("python", "pip")
    _, err, _ = conda_envs.run("install", clean, "tool", "-y")
    assert "pipguard" not in err
    monkeypatch.setenv("CONDA_PLUGINS_PIPGUARD_MODE", "off")
    from conda.base.context import reset_context

    reset_context()
    _, err, _ = conda_envs.run("install", touched, "tool", "-y")
    assert "pipguard" not in err


def test_dry_run_names_a_relink_over_pip_files(conda_envs, touched):
    _, err, code = conda_envs.run("update", touched, "numpy", "--dry-run")
    assert code == 0
    assert "conda-pipguard: this plan affects packages pip installed:" in err
    assert "conda will replace numpy 1.26.4 with 1.26.5 over numpy 2.1.0 (pip)" in err


def test_block_mode_refuses_before_anything_changes(conda_envs, touched, monkeypatch):
    from conda.base.context import reset_context

    from conda_pipguard.guard.errors import PipguardBlocked

    monkeypatch.setenv("CONDA_PLUGINS_PIPGUARD_MODE", "block")
    reset_context()
    before = tree_hashes(touched)
    out, _, excinfo = conda_envs.run("update", touched, "numpy", "-y", raises=PipguardBlocked)
    message = str(excinfo.value)
    assert "blocked this transaction" in message
    assert "numpy 2.1.0 (pip)" in message
    assert message.rstrip().endswith("to go ahead anyway.")
    assert f"conda pipguard fix -p {touched}" in message
    assert "Proceed" not in out
    assert tree_hashes(touched) == before


def test_block_mode_also_stops_explicit_installs_at_verify(conda_envs, touched, monkeypatch):
    """`conda install ./pkg.conda` does not solve: only the pre-transaction verify sees it."""
    from conda.base.context import reset_context
    from conda.exceptions import CondaMultiError

    kit = conda_envs.kit
    kit.index()
    (package,) = kit.channel.glob("linux-64/numpy-1.26.5-*.conda")
    monkeypatch.setenv("CONDA_PLUGINS_PIPGUARD_MODE", "block")
    reset_context()
    before = tree_hashes(touched)
    _, _, excinfo = conda_envs.cli(
        "install", "-p", touched, str(package), "-y", raises=(CondaMultiError, Exception)
    )
    assert "blocked this transaction" in str(excinfo.value)
    assert tree_hashes(touched) == before


def test_requires_dist_violated_by_the_plan(conda_envs):
    kit = conda_envs.kit
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.add_package("numpy", "2.0.0", modules={"numpy/__init__.py": "# 2\n"}, noarch=False)
    kit.wheel("oldapp", "1.0", {"oldapp.py": ""}, requires_dist=["numpy<2"])
    prefix = conda_envs.create("python", "pip", "numpy=1.26.4")
    kit.pip(prefix, "install", "oldapp")
    _, err, code = conda_envs.run("install", prefix, "numpy=2.0.0", "--dry-run")
    assert code == 0
    assert "oldapp 1.0 (pip) requires numpy<2 but the plan installs numpy 2.0.0" in err


def test_remove_of_a_package_pip_overwrote_is_named(conda_envs):
    kit = conda_envs.kit
    kit.add_package(
        "py-opencv", "4.8.0", dist_name="opencv", modules={"cv2/__init__.py": "# conda\n"}
    )
    kit.wheel("opencv-python", "4.9.0", {"cv2/__init__.py": "# pypi\n"})
    prefix = conda_envs.create("python", "pip", "py-opencv")
    kit.pip(prefix, "install", "opencv-python")
    _, err, code = conda_envs.run("remove", prefix, "py-opencv", "--dry-run")
    assert code == 0
    assert (
        "conda will remove py-opencv 4.8.0 and delete files that opencv-python 4.9.0 (pip) now owns"
    ) in err


def test_a_failing_hook_never_stops_conda(conda_envs, touched, monkeypatch):
    """Our own code made to fail (not conda's): the command gets one warning line in all."""
    from conda_pipguard.core.rules import impact
    from conda_pipguard.guard import envcache

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(envcache, "glance_of", boom)
    monkeypatch.setattr(impact, "impact", boom)  # the hooks import it when they run
    _, err, code = conda_envs.run("install", touched, "tool", "-y")
    assert code == 0
    assert list(touched.glob("conda-meta/tool-1.0-*.json"))
    warnings = [line for line in err.splitlines() if "check was skipped" in line]
    assert len(warnings) == 1
    assert all("RuntimeError: simulated bug" in line for line in warnings)
    assert "Traceback" not in err


def test_corrupt_metadata_does_not_stop_conda(conda_envs, touched):
    bad = touched / "lib" / f"python{PY}" / "site-packages" / "junk-1.0.dist-info"
    bad.mkdir()
    (bad / "METADATA").mkdir()  # unreadable as a file
    (bad / "RECORD").write_bytes(b"\xff\xfe not csv \x00")
    _, err, code = conda_envs.run("install", touched, "tool", "-y")
    assert code == 0
    assert "Traceback" not in err


def _set_mode(monkeypatch, value, tmp_path=None):
    """The mode by conda's variable, or (with *tmp_path*) as written in a ``.condarc``."""
    from conda.base.context import reset_context

    if tmp_path is None:
        monkeypatch.setenv("CONDA_PLUGINS_PIPGUARD_MODE", value)
    else:
        condarc = tmp_path / "condarc"
        condarc.write_text(f"plugins:\n  pipguard_mode: {json.dumps(value)}\n")
        monkeypatch.setenv("CONDARC", str(condarc))
    reset_context()


def test_mode_block_blocks(conda_envs, touched, monkeypatch):
    from conda_pipguard.guard.errors import PipguardBlocked

    _set_mode(monkeypatch, "block")
    _, _, excinfo = conda_envs.run("update", touched, "numpy", "-y", raises=PipguardBlocked)
    assert "blocked this transaction" in str(excinfo.value)


@pytest.mark.parametrize(
    ("value", "where"),
    [("blok", "variable"), ("BLOCK", "variable"), (" Block ", "condarc"), ("block ", "condarc")],
)
def test_an_invalid_mode_refuses_the_command_in_one_line(
    conda_envs, touched, monkeypatch, tmp_path, value, where
):
    """Taken exactly as written, as conda takes its own settings: no strip, no case folding.

    (conda strips a variable's value itself: the spaces are written in a ``.condarc``.)
    """
    from conda_pipguard.guard.errors import PipguardSettingError

    _set_mode(monkeypatch, value, tmp_path if where == "condarc" else None)
    before = tree_hashes(touched)
    _, _, excinfo = conda_envs.run("install", touched, "tool", "-y", raises=PipguardSettingError)
    message = str(excinfo.value)
    assert "\n" not in message.strip()
    assert "pipguard_mode" in message and "warn, block, off" in message
    assert tree_hashes(touched) == before


def test_block_mode_refuses_when_the_guard_itself_fails(conda_envs, touched, monkeypatch):
    from conda_pipguard.guard import envcache
    from conda_pipguard.guard.errors import PipguardBlocked

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(envcache, "glance_of", boom)
    _set_mode(monkeypatch, "block")
    before = tree_hashes(touched)
    _, _, excinfo = conda_envs.run("install", touched, "tool", "-y", raises=PipguardBlocked)
    message = str(excinfo.value).strip()
    assert "\n" not in message
    assert "refused this transaction" in message and "RuntimeError: simulated bug" in message
    assert tree_hashes(touched) == before
    assert not list(touched.glob("conda-meta/tool-1.0-*.json"))


def test_one_failure_is_one_line_with_the_advice_before_the_error(conda_envs, touched, monkeypatch):
    from conda_pipguard.guard import envcache

    def boom(*args, **kwargs):
        raise OSError("x" * 1000)

    monkeypatch.setattr(envcache, "glance_of", boom)
    _, err, code = conda_envs.run("install", touched, "tool", "-y")
    assert code == 0
    lines = [line for line in err.splitlines() if "pipguard" in line]
    assert len(lines) == 1, err
    advice, _, detail = lines[0].partition("(run with -vvv for the traceback): ")
    assert advice.startswith("conda-pipguard: warning: the pre-command check was skipped")
    assert detail.startswith("OSError: xxx") and detail.endswith("...")


def test_mode_off_and_no_lock_reads_nothing(conda_envs, touched, monkeypatch):
    """With nothing to check and no lock to keep, no hook reads the env (it would fail here)."""
    from conda_pipguard.guard import envcache, hooks

    def boom(*args, **kwargs):
        raise AssertionError("the env was read")

    monkeypatch.setattr(envcache, "glance_of", boom)
    monkeypatch.setattr(envcache, "layer_of", boom)
    monkeypatch.setattr(hooks, "_python_now", boom)
    _set_mode(monkeypatch, "off")
    _, err, code = conda_envs.run("install", touched, "tool", "-y")
    assert code == 0 and "pipguard" not in err
    assert list(touched.glob("conda-meta/tool-1.0-*.json"))


def test_one_look_at_the_env_per_transaction_and_no_full_read(conda_envs, touched, monkeypatch):
    """pre-command, post-solve and verify share one look; post-transaction drops it.

    None of them reads the whole env (every record): the look takes directory listings and the
    records of the packages involved.
    """
    from conda_pipguard.core.disk import environment
    from conda_pipguard.core.model import glance
    from conda_pipguard.guard import session

    looks, reads = [], []
    real_glance, real_load = glance.glance, environment.load_environment

    def counting_glance(*args, **kwargs):
        looks.append(args[0])
        return real_glance(*args, **kwargs)

    def counting_load(*args, **kwargs):
        reads.append(args[0])
        return real_load(*args, **kwargs)

    monkeypatch.setattr(glance, "glance", counting_glance)
    monkeypatch.setattr(environment, "load_environment", counting_load)
    _, err, code = conda_envs.run("install", touched, "tool", "-y")
    assert code == 0 and "shadows conda's numpy" in err
    assert len(looks) == 1
    assert reads == []
    assert session.current().glances == {}  # dropped after the transaction


def test_each_command_starts_its_own_session(conda_envs, touched, monkeypatch):
    """What one command learned (a failure already reported, its look) never reaches the next."""
    from conda_pipguard.guard import envcache, session

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(envcache, "glance_of", boom)
    sessions = []
    for _ in range(2):
        _, err, code = conda_envs.run("install", touched, "tool", "-y", "--dry-run")
        assert code == 0
        assert len([line for line in err.splitlines() if "check was skipped" in line]) == 1
        sessions.append(session.current())
    first, second = sessions
    assert first is not second and (first.command, second.command) == ("install", "install")
    assert first.warned and second.warned
