"""The guard's safety net (guard/safety.py) with conda's real context, settings and errors.

Hooks are stood in for by small functions decorated as the real hooks are; everything around
them is conda's: the context read from the environment, the plugin manager with our settings,
conda's own logging set-up, conda's error classes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from conda_pipguard.guard.safety import never_break_conda
from conda_pipguard.guard.session import start
from tests.guard.conftest import requires_conda

pytestmark = requires_conda

WARNING = "conda-pipguard: warning: the {hook} check was skipped{hint}: {detail}"
HINT = " (run with -vvv for the traceback)"


def failing(hook: str, error: BaseException, fail_closed: str | None = "raise"):
    @never_break_conda(hook, fail_closed=fail_closed)
    def run_hook(*args, **kwargs):
        raise error

    return run_hook


@pytest.fixture(autouse=True)
def command(plugin_manager) -> Iterator[None]:
    """A conda command starts (our settings registered with conda, the mode unset)."""
    start("install")
    yield
    start("install")


def set_context(monkeypatch, **variables: str) -> None:
    from conda.base.context import reset_context

    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    reset_context()


def warnings_in(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("conda-pipguard:")]


# -- warn mode: one line per command ---------------------------------------------------------


def test_one_warning_line_per_command_however_many_hooks_fail(capsys):
    hooks = [
        failing("pre-command", RuntimeError("first")),
        failing("post-solve", ValueError("second")),
        failing("pre-transaction", OSError(5, "third"), fail_closed="return"),
        failing("post-transaction", KeyError("fourth"), fail_closed=None),
    ]
    assert [hook() for hook in hooks] == [None, None, None, None]
    assert hooks[0]() is None  # the same hook failing again
    err = capsys.readouterr().err
    assert err.splitlines() == [
        WARNING.format(hook="pre-command", hint=HINT, detail="RuntimeError: first")
    ]
    assert "Traceback" not in err


def test_a_new_command_session_resets(capsys):
    failing("pre-command", RuntimeError("in the first command"))()
    failing("post-solve", RuntimeError("still the first"))()
    start("install")
    failing("post-solve", RuntimeError("in the second command"))()
    lines = warnings_in(capsys.readouterr().err)
    assert len(lines) == 2
    assert lines[0].endswith("RuntimeError: in the first command")
    assert lines[1] == WARNING.format(
        hook="post-solve", hint=HINT, detail="RuntimeError: in the second command"
    )


def test_a_long_error_is_one_short_line(capsys):
    failing("pre-command", RuntimeError("line one\nline two\t" + "x" * 1000))()
    (line,) = capsys.readouterr().err.splitlines()
    detail = line.split(f"{HINT}: ", 1)[1]
    assert detail.startswith("RuntimeError: line one line two x")
    assert len(detail) == 300 and detail.endswith("...")


def test_a_successful_hook_returns_its_value(capsys):
    @never_break_conda("post-solve")
    def hook(value: int) -> int:
        return value + 1

    assert hook(41) == 42
    assert hook.__name__ == "hook"
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("variable", ["CONDA_JSON", "CONDA_QUIET"])
def test_silent_under_json_and_quiet(monkeypatch, capsys, variable):
    set_context(monkeypatch, **{variable: "true"})
    assert failing("pre-command", RuntimeError("boom"))() is None
    assert capsys.readouterr().err == ""


def test_an_interrupt_is_never_swallowed():
    with pytest.raises(KeyboardInterrupt):
        failing("pre-command", KeyboardInterrupt())()


# -- the traceback, at debug only ------------------------------------------------------------


@pytest.fixture
def conda_logging() -> Iterator[None]:
    """Put back the loggers conda's own set-up changes (handlers, levels, propagation)."""
    names = ("", "conda", "requests", "requests.packages.urllib3", "conda_pipguard")
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.level, logger.propagate)
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def conda_command_logging() -> None:
    """What conda's CLI does with its loggers before it runs a command."""
    from conda.cli.main import init_loggers

    init_loggers()


def test_the_traceback_only_at_debug(monkeypatch, capsys, conda_logging):
    conda_command_logging()
    failing("post-solve", RuntimeError("quiet"))()
    err = capsys.readouterr().err
    assert warnings_in(err) == [
        WARNING.format(hook="post-solve", hint=HINT, detail="RuntimeError: quiet")
    ]
    assert "Traceback" not in err

    set_context(monkeypatch, CONDA_VERBOSITY="3")  # -vvv
    conda_command_logging()
    start("install")
    failing("post-solve", RuntimeError("loud"))()
    err = capsys.readouterr().err
    assert warnings_in(err) == [
        WARNING.format(hook="post-solve", hint="", detail="RuntimeError: loud")
    ]
    assert "Traceback (most recent call last)" in err
    assert "in run_hook" in err and "RuntimeError: loud" in err


# -- block mode: a failure refuses -----------------------------------------------------------


@pytest.mark.parametrize("mode", ["block", "BLOCK", "blok"], ids=["block", "case", "unreadable"])
def test_in_block_mode_a_failure_refuses_by_raising(monkeypatch, capsys, mode):
    from conda.exceptions import CondaError

    from conda_pipguard.guard.errors import PipguardBlocked, PipguardCheckFailed

    set_context(monkeypatch, CONDA_PLUGINS_PIPGUARD_MODE=mode)
    cause = RuntimeError("record unreadable")
    with pytest.raises(PipguardCheckFailed) as caught:
        failing("post-solve", cause)()
    refusal = caught.value
    assert isinstance(refusal, PipguardBlocked) and isinstance(refusal, CondaError)
    assert refusal.__cause__ is cause
    message = str(refusal)
    assert "its post-solve check failed" in message
    assert message.endswith("The error: RuntimeError: record unreadable")
    assert "\n" not in message
    assert capsys.readouterr().err == ""  # the refusal is the one line conda prints


def test_when_the_mode_cannot_be_asked_a_failure_refuses(monkeypatch):
    """Our own bug in reading the mode (not conda's refusal of a value) fails closed too."""
    from conda_pipguard.guard import settings
    from conda_pipguard.guard.errors import PipguardCheckFailed

    def broken() -> bool:
        raise AttributeError("settings bug")

    monkeypatch.setattr(settings, "block_intended", broken)
    with pytest.raises(PipguardCheckFailed):
        failing("post-solve", RuntimeError("boom"))()


def test_in_block_mode_verify_returns_the_refusal(monkeypatch):
    from conda_pipguard.guard.errors import PipguardCheckFailed

    set_context(monkeypatch, CONDA_PLUGINS_PIPGUARD_MODE="block")
    refusal = failing("pre-transaction", RuntimeError("boom"), fail_closed="return")()
    assert isinstance(refusal, PipguardCheckFailed)  # conda's Action.verify returns errors
    assert "its pre-transaction check failed" in str(refusal)


def test_after_the_transaction_even_block_mode_only_warns(monkeypatch, capsys):
    set_context(monkeypatch, CONDA_PLUGINS_PIPGUARD_MODE="block")
    assert failing("post-transaction", RuntimeError("late"), fail_closed=None)() is None
    assert warnings_in(capsys.readouterr().err) == [
        WARNING.format(hook="post-transaction", hint=HINT, detail="RuntimeError: late")
    ]


def test_warn_mode_never_refuses(monkeypatch, capsys):
    set_context(monkeypatch, CONDA_PLUGINS_PIPGUARD_MODE="warn")
    assert failing("post-solve", RuntimeError("boom"))() is None
    assert failing("pre-transaction", RuntimeError("boom"), fail_closed="return")() is None
    assert len(warnings_in(capsys.readouterr().err)) == 1


# -- our own refusals pass through -----------------------------------------------------------


def test_a_deliberate_block_passes_through_in_any_mode(monkeypatch, capsys):
    from conda_pipguard.guard.errors import PipguardBlocked

    set_context(monkeypatch, CONDA_PLUGINS_PIPGUARD_MODE="warn")
    block = PipguardBlocked(["numpy 2.1.0 (pip) would be overwritten"], "-n env")
    with pytest.raises(PipguardBlocked) as caught:
        failing("post-solve", block)()
    assert caught.value is block
    assert failing("pre-transaction", block, fail_closed="return")() is block
    assert capsys.readouterr().err == ""
    # after the transaction nothing can be refused: it is one warning like any failure
    assert failing("post-transaction", block, fail_closed=None)() is None
    (line,) = warnings_in(capsys.readouterr().err)
    assert line.startswith("conda-pipguard: warning: the post-transaction check was skipped")
