"""pip's configuration as conda-pipguard reads it equals what real pip's option parser makes of it.

Every scenario plants a global configuration (never the machine's ``/etc/pip.conf`` or
``/etc/xdg/pip``), a user one under a fake HOME, a site ``pip.conf``, ``PIP_CONFIG_FILE`` and
``PIP_CONSTRAINT``, then compares :meth:`PipConfig.setting` with the ``constraints`` option
pip 23.2.1 computes for ``pip install``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conda_pipguard.core.locks import pipconfig
from conda_pipguard.core.locks.pipconfig import PipConfig, PipConfigFiles, global_config_dirs
from tests.conftest import MACHINE_GLOBAL_CONFIG_DIRS
from tests.support.bounded import call_bounded
from tests.support.pipconf import pip_constraints, planted_files

SCENARIOS = {
    "nothing": {},
    "global only, two files in one value": {"global": "[global]\nconstraint = g1 g2\n"},
    "user [install] beats global [global]": {
        "global": "[global]\nconstraint = g\n",
        "user": "[install]\nconstraint = u\n",
    },
    "site [install] replaces global [install]": {
        "global": "[install]\nconstraint = g\n",
        "site": "[install]\nconstraint = s1\n    s2\n",
    },
    "[install] anywhere beats [global] of the site": {
        "global": "[install]\nconstraint = g\n",
        "site": "[global]\nconstraint = s\n",
    },
    "an empty site value hides the global key and is skipped": {
        "global": "[install]\nconstraint = g\n[global]\nconstraint = gg\n",
        "site": "[install]\nconstraint =\n",
    },
    "PIP_CONFIG_FILE beats the site and hides the user file": {
        "user": "[install]\nconstraint = u\n",
        "site": "[install]\nconstraint = s\n",
        "env_file": "[install]\nconstraint = e\n",
    },
    "PIP_CONFIG_FILE's [global] loses to the site's [install]": {
        "site": "[install]\nconstraint = s\n",
        "env_file": "[global]\nconstraint = e\n",
    },
    "PIP_CONSTRAINT beats every file": {
        "global": "[install]\nconstraint = g\n",
        "site": "[install]\nconstraint = s\n",
        "variable": "v1 v2",
    },
    "PIP_CONFIG_FILE=/dev/null turns every file off": {
        "global": "[global]\nconstraint = g\n",
        "site": "[install]\nconstraint = s\n",
        "env_file": None,
    },
    "key spellings pip normalises": {
        "global": "[global]\n--CONSTRAINT = g\n",
        "user": "[global]\nConstraint = u\n",
    },
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from tests.support.envkit import EnvKit

    kit = EnvKit(tmp_path_factory.mktemp("pipconfig"))
    return kit.create("env", ["python", "pip"], dialect="conda")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_constraint_is_what_real_pip_takes(env, tmp_path, name):
    scenario = SCENARIOS[name]
    home = tmp_path / "home"
    global_dir = tmp_path / "global"
    global_dir.mkdir()
    site = env / "pip.conf"
    site.unlink(missing_ok=True)
    files = {
        "global": global_dir / "pip.conf",
        "user": home / ".config" / "pip" / "pip.conf",
        "site": site,
        "env_file": tmp_path / "env.conf",
    }
    environ: dict[str, str] = {}
    try:
        for kind, path in files.items():
            if kind in scenario:
                path.parent.mkdir(parents=True, exist_ok=True)
                if scenario[kind] is None:
                    environ["PIP_CONFIG_FILE"] = os.devnull
                else:
                    path.write_text(scenario[kind])
                    if kind == "env_file":
                        environ["PIP_CONFIG_FILE"] = str(path)
        if "variable" in scenario:
            environ["PIP_CONSTRAINT"] = scenario["variable"]
        ours = PipConfig.load(planted_files(env, global_dir, home, environ))
        expected = pip_constraints(env, global_dir, env_extra=environ, home=home)
        assert ours.setting("constraint", environ=environ).tokens == expected
    finally:
        site.unlink(missing_ok=True)


def test_the_machine_locations_are_pips(monkeypatch):
    if os.name == "nt" or os.uname().sysname == "Darwin":
        pytest.skip("the POSIX layout is checked here")
    monkeypatch.setattr(pipconfig, "global_config_dirs", MACHINE_GLOBAL_CONFIG_DIRS)
    environ = {"HOME": "/home/u", "XDG_CONFIG_DIRS": "/a:/b"}
    files = PipConfigFiles.for_prefix(Path("/envs/x"), environ)
    assert files.global_files == (
        Path("/a/pip/pip.conf"),
        Path("/b/pip/pip.conf"),
        Path("/etc/pip.conf"),
    )
    assert files.user_files == (Path("/home/u/.pip/pip.conf"), Path("/home/u/.config/pip/pip.conf"))
    assert files.site_file == Path("/envs/x/pip.conf")
    assert global_config_dirs({}) == [Path("/etc/xdg/pip"), Path("/etc")]


def _hostile(path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


@pytest.mark.parametrize("hostile", ["fifo", "dev-zero"])
@pytest.mark.parametrize("place", ["global", "user", "site", "env_file"])
def test_a_fifo_or_dev_zero_among_pips_files_is_not_read(tmp_path, place, hostile):
    prefix, home, global_dir = tmp_path / "env", tmp_path / "home", tmp_path / "global"
    paths = {
        "global": global_dir / "pip.conf",
        "user": home / ".config" / "pip" / "pip.conf",
        "site": prefix / "pip.conf",
        "env_file": tmp_path / "env.conf",
    }
    _hostile(paths[place], hostile)
    good = paths["global" if place == "site" else "site"]
    good.parent.mkdir(parents=True, exist_ok=True)
    good.write_text("[install]\nbreak-system-packages = true\n")
    environ = {"HOME": str(home)}
    if place == "env_file":
        environ["PIP_CONFIG_FILE"] = str(paths["env_file"])
    files = PipConfigFiles.for_prefix(prefix, environ, global_dirs=[global_dir])
    assert paths[place] in (*files.global_files, *files.user_files, files.site_file, files.env_file)
    setting = call_bounded(pipconfig.break_system_packages, files)
    assert setting is not None and setting.source == str(good)
