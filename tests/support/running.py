"""Run an environment's python, pip and uv isolated from the machine's and user's configuration."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.rattler_env import env_python

CONFIG_VAR_PREFIXES = ("PIP_", "UV_", "CONDA_", "MAMBA_", "PIXI_")
"""Variables that configure pip, uv or conda: no subprocess of the tests inherits them."""


_DROPPED_VARS = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PYTHONSTARTUP",
    "PYTHONDONTWRITEBYTECODE",  # the env's python writes __pycache__ as it would for a user
    "VIRTUAL_ENV",
)


GLOBAL_CONFIG_DIR = "xdg-config-dirs"
"""Directory under a kit HOME standing in for ``/etc/xdg``: ``XDG_CONFIG_DIRS`` of every
subprocess, so a test plants a *global* pip configuration at ``<home>/xdg-config-dirs/pip/pip.conf``
(see :func:`global_pip_conf`)."""


PIP_LAUNCHER = """\
import os, sys
from pip._internal.utils import appdirs
dirs = [d for d in os.environ.get("XDG_CONFIG_DIRS", "").split(os.pathsep) if d]
appdirs.site_config_dirs = lambda appname: [os.path.join(d, appname) for d in dirs]
from pip._internal.cli.main import main
sys.exit(main(sys.argv[1:]))
"""
"""``python -c PIP_LAUNCHER ARGS`` is ``python -m pip ARGS`` whose global configuration comes
only from ``XDG_CONFIG_DIRS``: pip otherwise always reads ``/etc/pip.conf`` too, which cannot be
turned off without turning off the env's own site ``pip.conf`` (``PIP_CONFIG_FILE=/dev/null``)."""


def pip_command(python: Path | str) -> list[str]:
    """The argv prefix that runs ``python``'s pip with the machine's ``/etc`` configs left out."""
    return [str(python), "-c", PIP_LAUNCHER]


def global_pip_conf(home: Path) -> Path:
    """Where a test plants the global pip configuration that subprocesses under ``home`` read."""
    return home / GLOBAL_CONFIG_DIR / "pip" / "pip.conf"


def _clean_python_env() -> dict[str, str]:
    """``os.environ`` without pip's, uv's and conda's variables and the host's Python setup."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(CONFIG_VAR_PREFIXES) and key not in _DROPPED_VARS
    }


def isolated_env(
    home: Path,
    *,
    find_links: Path | Sequence[Path] = (),
    user_site: bool = False,
    env_extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment for running an env's python and pip isolated from the host's configuration.

    Drops every ``PIP_*`` variable and ``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONUSERBASE``,
    ``PYTHONSTARTUP``, ``PYTHONDONTWRITEBYTECODE`` and ``VIRTUAL_ENV``, sets
    ``PIP_NO_INDEX``, ``PIP_DISABLE_PIP_VERSION_CHECK``, ``PIP_NO_INPUT`` and
    ``PIP_FIND_LINKS`` (an empty directory when none is given, which overrides find-links
    from any config file), points ``HOME``, ``XDG_CONFIG_HOME``, ``XDG_CACHE_HOME`` and
    ``XDG_CONFIG_DIRS`` (the global pip config, see :func:`global_pip_conf`) into ``home`` (so
    the user site is ``<home>/.local/...``), sets ``UV_NO_CONFIG=1`` and sets
    ``PYTHONNOUSERSITE=1`` unless ``user_site``. ``PIP_CONFIG_FILE`` is left unset: pip still
    reads the site config ``<prefix>/pip.conf``; :func:`run_python` runs pip through
    :data:`PIP_LAUNCHER` so that ``/etc/pip.conf`` is not read either.
    """
    links = [find_links] if isinstance(find_links, Path | str) else list(find_links)
    if not links:
        links = [home / "no-find-links"]
        links[0].mkdir(parents=True, exist_ok=True)
    env = _clean_python_env()
    env.update(
        {
            "PIP_NO_INDEX": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PIP_FIND_LINKS": " ".join(str(p) for p in links),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_DIRS": str(home / GLOBAL_CONFIG_DIR),
            "UV_NO_CONFIG": "1",
        }
    )
    if not user_site:
        env["PYTHONNOUSERSITE"] = "1"
    env.update(env_extra or {})
    (home / GLOBAL_CONFIG_DIR).mkdir(parents=True, exist_ok=True)
    return env


def default_home(prefix: Path) -> Path:
    """Fake HOME used for ``prefix`` when none is given: ``<prefix parent>/.<name>-home``."""
    home = prefix.parent / f".{prefix.name}-home"
    home.mkdir(parents=True, exist_ok=True)
    return home


def run_python(
    prefix: Path,
    *args: str | Path,
    check: bool = True,
    env_extra: Mapping[str, str] | None = None,
    user_site: bool = False,
    home: Path | None = None,
    find_links: Path | Sequence[Path] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``<prefix>/bin/python *args`` in :func:`isolated_env`, capturing text output.

    Args:
        prefix: The environment.
        *args: Arguments (paths are converted to strings).
        check: Raise ``AssertionError`` with stdout/stderr when the command fails.
        env_extra: Extra environment variables (applied last).
        user_site: Leave the user site enabled (``PYTHONNOUSERSITE`` unset).
        home: Fake HOME (default: :func:`default_home`).
        find_links: Directories/files for ``PIP_FIND_LINKS``.

    Returns:
        The completed process.

    Raises:
        AssertionError: ``check`` is set and the command failed.
    """
    env = isolated_env(
        home or default_home(prefix),
        find_links=find_links,
        user_site=user_site,
        env_extra=env_extra,
    )
    argv = list(map(str, args))
    if argv[:2] == ["-m", "pip"]:
        command = [*pip_command(env_python(prefix)), *argv[2:]]
    else:
        command = [str(env_python(prefix)), *argv]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def run_pip(
    prefix: Path,
    *args: str | Path,
    find_links: Path | Sequence[Path] = (),
    check: bool = True,
    env_extra: Mapping[str, str] | None = None,
    user_site: bool = False,
    home: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``<prefix>/bin/python -m pip *args`` offline, isolated from the host's pip config.

    See :func:`run_python` for the arguments and :func:`isolated_env` for the environment.
    """
    return run_python(
        prefix,
        "-m",
        "pip",
        *args,
        check=check,
        env_extra=env_extra,
        user_site=user_site,
        home=home,
        find_links=find_links,
    )


def offline_conda_settings(pkgs_dir: str, channels: str) -> dict[str, str]:
    """The ``CONDA_*`` settings every test's conda runs with: offline, classic solver, its own
    package cache, no pip auto-dependency, no global env registry, no update notices."""
    return {
        "CONDA_PKGS_DIRS": pkgs_dir,
        "CONDA_SOLVER": "classic",
        "CONDA_ADD_PIP_AS_PYTHON_DEPENDENCY": "false",
        "CONDA_REGISTER_ENVS": "false",
        "CONDA_NOTIFY_OUTDATED_CONDA": "false",
        "CONDA_AUTO_UPDATE_CONDA": "false",
        "CONDA_OFFLINE": "true",
        "CONDA_CHANNELS": channels,
    }
