"""``conda-meta/frozen`` (CEP 22) read as conda reads it, in one line, and never blocking."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from conda_pipguard.core.disk.frozen import Freeze, read_freeze, refuse_if_frozen
from conda_pipguard.core.errors import EnvironmentFrozen
from conda_pipguard.core.repair.plan import RepairPlan, override_frozen
from conda_pipguard.core.repair.steps import Step


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from tests.support.envkit import EnvKit

    kit = EnvKit(tmp_path_factory.mktemp("frozen"))
    return kit.create("env", ["python"], dialect="conda")


@pytest.fixture
def frozen(env):
    path = env / "conda-meta" / "frozen"
    yield path
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        os.rmdir(path) if path.is_dir() else path.unlink()


#: File content -> the message read from it ('' for no reason, None for not frozen).
CASES = {
    "": "",
    "{}": "",
    '{"message": "managed by the lab image; ask IT"}': "managed by the lab image; ask IT",
    '{"message": "line one\\n   line two"}': "line one line two",
    '{"message": 42}': "",
    "[1, 2]": "",
    "not json": "",
}


@pytest.mark.parametrize(("content", "message"), CASES.items())
def test_the_reason_on_one_line(env, frozen, content, message):
    frozen.write_text(content)
    assert read_freeze(env) == Freeze(message)


def test_not_frozen(env):
    assert read_freeze(env) is None
    refuse_if_frozen(env, override=False, verb="mark")  # nothing to refuse


def test_a_long_reason_is_cut(env, frozen):
    frozen.write_text(json.dumps({"message": "x" * 1000}))
    freeze = read_freeze(env)
    assert freeze is not None and len(freeze.message) == 300 and freeze.message.endswith("...")


def test_a_directory_or_fifo_is_no_freeze_and_never_blocks(env, frozen):
    frozen.mkdir()
    assert read_freeze(env) is None  # conda: Path.is_file()
    frozen.rmdir()
    os.mkfifo(frozen)
    assert read_freeze(env) is None


def test_a_link_out_of_the_env_freezes_without_being_read(env, frozen, tmp_path):
    outside = tmp_path / "secret"
    outside.write_text('{"message": "read from outside"}')
    frozen.symlink_to(outside)
    assert read_freeze(env) == Freeze("")


def test_refusal_is_one_line_with_the_reason_and_the_flag(env, frozen):
    frozen.write_text('{"message": "pinned by CI"}')
    with pytest.raises(EnvironmentFrozen) as caught:
        refuse_if_frozen(env, override=False, verb="fix")
    assert str(caught.value) == (
        f'{env} is frozen (conda-meta/frozen: "pinned by CI"): nothing was changed. '
        "Add --override-frozen to fix it anyway, at your own risk."
    )
    refuse_if_frozen(env, override=True, verb="fix")


def test_an_overridden_repair_passes_the_flag_to_condas_commands_only(env, frozen):
    steps = (
        Step("check", ("conda", "install", "--download-only"), "get"),
        Step("pip-uninstall", ("python", "-m", "pip", "uninstall", "-y", "numpy"), "remove"),
        Step("conda-reinstall", ("conda", "install", "-y"), "put back"),
    )
    plan = RepairPlan(prefix=env, verdict="broken", steps=steps)
    assert override_frozen(plan) is plan  # not frozen: unchanged
    frozen.write_text("")
    argvs = [step.argv for step in override_frozen(plan).steps]
    assert argvs == [
        ("conda", "install", "--download-only", "--override-frozen"),
        steps[1].argv,
        ("conda", "install", "-y", "--override-frozen"),
    ]


@pytest.mark.conda
@pytest.mark.skipif(importlib.util.find_spec("conda") is None, reason="needs conda importable")
@pytest.mark.parametrize("content", list(CASES))
def test_frozen_as_conda_says(env, frozen, content):
    """conda's PrefixData says frozen exactly when we do, with the same reason.

    conda fails with a traceback on a reason that is not JSON with a string ``message``; such
    an environment is frozen all the same, and we say so without a reason.
    """
    from conda.core.prefix_data import PrefixData
    from conda.exceptions import EnvironmentIsFrozenError

    frozen.write_text(content)
    data = PrefixData(str(env))
    freeze = read_freeze(env)
    assert data.is_frozen() and freeze is not None
    try:
        data.assert_not_frozen()
    except EnvironmentIsFrozenError as err:
        said = " ".join(str(err).split())
    except (ValueError, AttributeError):
        assert freeze == Freeze("") and content not in ("", "{}")
        return
    if freeze.message:
        assert f"Reason: {freeze.message} You can " in said  # "bypass" (26), "ignore" (25.5)
    else:
        assert "Reason" not in said
