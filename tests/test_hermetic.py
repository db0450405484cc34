"""The suite is hermetic: no pip, uv or conda configuration of the machine or user decides a result.

The session fixture ``hermetic_environment`` (tests/conftest.py) and the kit's pip launcher
(``envkit.PIP_LAUNCHER``) do the isolating; these tests show that they do, including on a
machine whose global and user configuration is hostile to the suite's expectations.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HAVE_CONDA
from tests.support.envkit import CACHE_ENV_VAR, global_pip_conf
from tests.support.machine_users import HOMES_VAR

HOSTILE_PIP_CONF = """\
[global]
constraint = {constraints}
find-links = {links}
index-url = http://127.0.0.1:9/simple
[install]
constraint = {constraints}
"""

#: Tests whose expectations a leaked configuration would break: pip config listings, pip
#: installs of versions the hostile constraints forbid, status through conda.
SENSITIVE_TESTS = [
    "tests/core/locks/test_softlock.py::test_unmark_after_the_user_edited_takes_out_only_our_part",
    "tests/core/test_user_story.py::test_force_reinstall_from_pypi_breaks_the_env",
    "tests/core/pipcheck/test_pip_check.py::test_a_replacement_is_named_before_pip_writes",
]
CONDA_SENSITIVE_TESTS = ["tests/guard/test_subcommand.py::test_user_story_through_conda"]


def test_kit_pip_loads_no_configuration_file_of_the_machine(kit):
    prefix = kit.create("env", ["python", "pip"])
    listed = kit.pip(prefix, "config", "debug").stdout
    loaded = [
        line.split(",")[0].strip()
        for line in listed.splitlines()
        if line.strip().endswith("exists: True")
    ]
    assert all(Path(path).is_relative_to(kit.root) for path in loaded), listed


def test_a_planted_global_pip_configuration_reaches_kit_pip(kit):
    prefix = kit.create("env", ["python", "pip"])
    conf = global_pip_conf(kit.home)
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text("[global]\ntimeout = 7\n")
    assert "global.timeout='7'" in kit.pip(prefix, "config", "list").stdout


def _hostile_machine(root: Path) -> dict[str, str]:
    """An environment whose global, user and variable configuration contradicts the suite."""
    constraints = root / "constraints.txt"
    constraints.write_text("numpy<1\nsix<0\n")
    links = root / "links"
    links.mkdir()
    home = root / "home"
    xdg = root / "etc-xdg"
    conf = HOSTILE_PIP_CONF.format(constraints=constraints, links=links)
    for path in (xdg / "pip" / "pip.conf", home / ".config" / "pip" / "pip.conf"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(conf)
    (home / ".condarc").write_text(
        "channels: [file:///nonexistent/channel]\nsolver: libmamba\noffline: false\n"
        "plugins:\n  pipguard_mode: off\n"
    )
    uv_conf = home / ".config" / "uv" / "uv.toml"
    uv_conf.parent.mkdir(parents=True)
    uv_conf.write_text(f'constraint-dependencies = ["numpy<1"]\nfind-links = ["{links}"]\n')
    env = dict(os.environ)
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CONFIG_DIRS": str(xdg),
            "PIP_CONSTRAINT": str(constraints),
            "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
            "PIP_FIND_LINKS": str(links),
            "PIP_BREAK_SYSTEM_PACKAGES": "1",
            "UV_CONSTRAINT": str(constraints),
            "CONDA_CHANNELS": "file:///nonexistent/channel",
            "CONDA_PLUGINS_PIPGUARD_MODE": "block",
            CACHE_ENV_VAR: os.environ[CACHE_ENV_VAR],  # reuse the built packages: only speed
        }
    )
    return env


def test_the_suite_passes_on_a_machine_with_hostile_configuration(tmp_path):
    tests = SENSITIVE_TESTS + (CONDA_SENSITIVE_TESTS if HAVE_CONDA else [])
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*pytest, "--basetemp", str(tmp_path / "basetemp"), *tests],
        env=_hostile_machine(tmp_path),
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_no_environments_txt_of_the_machine_reaches_conda(tmp_path):
    """A home of the machine's whose ``.conda/environments.txt`` lists another env.

    conda reads that file in ``$HOME``, and run as root in every home the user database lists:
    the planted env must not show in ``conda pipguard status --all``, nor the file be rewritten.
    """
    if not HAVE_CONDA:
        pytest.skip("conda is not importable here")
    other = tmp_path / "another-env"
    (other / "conda-meta").mkdir(parents=True)
    (other / "conda-meta" / "history").write_text("")
    home = tmp_path / "home"
    registry = home / ".conda" / "environments.txt"
    registry.parent.mkdir(parents=True)
    registry.write_text(f"{other}\n/no/such/env\n")
    before = registry.read_text()
    env = {**os.environ, "HOME": str(home), HOMES_VAR: str(home)}
    pytest_run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    plugin = ["-p", "tests.support.machine_users", "--basetemp", str(tmp_path / "basetemp")]
    result = subprocess.run(
        [*pytest_run, *plugin, "tests/guard/test_status_all.py"],
        env=env,
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
    assert registry.read_text() == before  # conda did not even clean it
