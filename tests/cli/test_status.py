"""``conda-pipguard status`` through the standalone entry point, on real envs."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run, run_json
from tests.support.envkit import site_packages


@pytest.fixture
def envs(numpy_channel, registry, monkeypatch):
    """A clean env and a broken one, both registered; NO_COLOR unset, HOME the kit's."""
    kit = numpy_channel
    monkeypatch.delenv("NO_COLOR", raising=False)
    clean = kit.create("clean", ["python", "pip"], dialect="conda")
    broken = kit.create("broken", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(broken, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    registry(clean, broken)
    return clean, broken


def test_text_report_and_default_exit_code(envs, capsys):
    _, broken = envs
    code, out, err = run(capsys, "status", "-p", str(broken))
    assert code == 0 and err == ""
    lines = out.splitlines()
    # known only by path here (no conda root above it), so it is named by its path
    assert lines[0] == f"{broken}: broken"
    assert "pip lock: absent" in lines[1]
    assert lines[2].split()[:2] == ["error", "shadowed"]
    assert lines[3].strip().startswith("fix: ")
    assert "\033[" not in out  # not a terminal: no colour


@pytest.mark.parametrize(
    ("level", "clean_code", "broken_code"), [("error", 0, 1), ("warning", 0, 1), ("info", 0, 1)]
)
def test_fail_on(envs, capsys, level, clean_code, broken_code):
    clean, broken = envs
    assert run(capsys, "status", "-p", str(clean), "--fail-on", level)[0] == clean_code
    assert run(capsys, "status", "-p", str(broken), "--fail-on", level)[0] == broken_code


def test_fail_on_ignores_lower_severities(numpy_channel, capsys):
    kit = numpy_channel
    prefix = kit.create("env", ["python", "pip"], dialect="conda")
    kit.wheel("requests", "2.32.3", {"requests/__init__.py": ""})
    kit.pip(prefix, "install", "requests")  # pip-only: information
    assert run(capsys, "status", "-p", str(prefix), "--fail-on", "warning")[0] == 0
    assert run(capsys, "status", "-p", str(prefix), "--fail-on", "info")[0] == 1


def test_by_name_and_all(envs, capsys):
    clean, broken = envs
    code, data = run_json(capsys, "status", "-n", "clean")
    assert (code, data["prefix"], data["name"], data["verdict"]) == (
        0,
        str(clean),
        "clean",
        "clean",
    )
    code, data = run_json(capsys, "status", "--all")
    assert code == 0
    assert {(e["prefix"], e["verdict"]) for e in data["environments"]} == {
        (str(clean), "clean"),
        (str(broken), "broken"),
    }
    code, out, _ = run(capsys, "status", "--all")
    assert out.rstrip().endswith("2 environments: 1 broken, 1 clean")


def test_default_target_is_the_active_env(envs, capsys, monkeypatch):
    _, broken = envs
    monkeypatch.setenv("CONDA_PREFIX", str(broken))
    code, data = run_json(capsys, "status")
    assert (code, data["prefix"]) == (0, str(broken))


@pytest.mark.parametrize("target", ["not-an-env", "missing"])
def test_not_a_conda_env_is_one_line_and_exit_2(tmp_path, capsys, target):
    path = tmp_path / target
    if target == "not-an-env":
        path.mkdir()
    code, out, err = run(capsys, "status", "-p", str(path))
    assert code == 2 and out == ""
    assert err.startswith("conda-pipguard: error: ") and err.count("\n") == 1


def test_unknown_name_is_exit_2(registry, capsys):
    registry()
    code, _, err = run(capsys, "status", "-n", "nope")
    assert code == 2 and "no environment named 'nope'" in err


def test_status_never_writes(envs, capsys):
    from tests.support.envkit import tree_hashes

    _, broken = envs
    before = tree_hashes(broken)
    run(capsys, "status", "-p", str(broken))
    run(capsys, "status", "-p", str(broken), "--json")
    assert tree_hashes(broken) == before


def test_colour_only_on_a_terminal_and_never_with_no_color(envs, monkeypatch):
    import io

    from conda_pipguard.core.report import use_colour

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert use_colour(Terminal()) is True
    assert use_colour(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "")
    assert use_colour(Terminal()) is False


def test_python_module_entry_point(envs):
    import subprocess
    import sys

    clean, _ = envs
    result = subprocess.run(
        [sys.executable, "-m", "conda_pipguard", "status", "-p", str(clean)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{clean}: clean")


def test_out_of_memory_is_one_line_not_a_traceback(envs, capsys, monkeypatch):
    """The last guard behind the caps (tests/core/test_hostile.py runs files as large as they
    allow under a 1 GiB address space): whatever still exhausts memory is said in one line."""

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("conda_pipguard.cli.status.diagnose", exhausted)
    code, out, err = run(capsys, "status", "-p", str(envs[1]))
    assert (code, out) == (1, "")
    assert err.startswith("conda-pipguard: error: out of memory") and err.count("\n") == 1


ESC = "\x1b"


def test_escape_sequences_from_the_env_are_never_printed_raw(envs, numpy_channel, capsys):
    """METADATA names and versions, a conda record and a history command holding escapes."""
    _, broken = envs
    numpy_channel.wheel("tinyweb", "1.0", {"tinyweb.py": ""})
    numpy_channel.pip(broken, "install", "tinyweb")
    for name, old, new in (
        ("numpy-2.1.0", "Version: 2.1.0", "Version: 2.1.0\x1b[2J\x1b[H"),
        ("tinyweb-1.0", "Name: tinyweb", "Name: tinyweb\x1b]0;pwned\x07"),
    ):
        (metadata,) = site_packages(broken).glob(f"{name}.dist-info/METADATA")
        metadata.write_text(metadata.read_text().replace(old, new))
    (record,) = (broken / "conda-meta").glob("numpy-1.26.4-*.json")
    data = json.loads(record.read_text())
    data["version"] = "1.26.4\x1b[8m"
    data["channel"] = "https://x/\x1b[31mred"
    record.write_text(json.dumps(data))
    history = broken / "conda-meta" / "history"
    history.write_text(
        history.read_text() + "==> 2026-01-01 00:00:00 <==\n# cmd: conda install \x9b2J\r\n"
    )
    target = ["-p", str(broken)]
    for argv in (
        ["status", *target],
        ["status", "--all"],
        ["history", *target],
        ["fix", *target, "--dry-run"],
        ["mark", *target, "--dry-run"],
        ["export", *target],
    ):
        _, out, err = run(capsys, *argv)
        shown = out + err
        assert ESC not in shown and "\x9b" not in shown and "\x07" not in shown, argv
    _, out, _ = run(capsys, "status", *target)
    assert "numpy 2.1.0\\x1b[2J\\x1b[H (pip) shadows conda's numpy 1.26.4\\x1b[8m" in out
    assert "tinyweb\\x1b]0;pwned\\x07 1.0 (pip)" in out
    _, out, _ = run(capsys, "history", *target)
    assert "conda install \\x9b2J" in out
    _, out, _ = run(capsys, "status", *target, "--json")
    assert ESC in "".join(json.loads(out)["findings"][0]["message"])  # JSON escapes its own way


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_goes_to_stdout(flag):
    import subprocess
    import sys
    from importlib.metadata import version

    result = subprocess.run(
        [sys.executable, "-m", "conda_pipguard", flag],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"conda-pipguard {version('conda-pipguard')}\n"
