"""Run pip (and conda-pipguard) with a planted global pip configuration, never the machine's.

pip reads its global configuration from ``$XDG_CONFIG_DIRS/pip`` and ``/etc`` (see
``pip._internal.utils.appdirs.site_config_dirs``); ``/etc/pip.conf`` cannot be turned off
without losing the site ``pip.conf`` too. So pip runs through a tiny launcher that makes
``site_config_dirs`` return only a test directory, then calls pip's ``main``. conda-pipguard's
own CLI runs through the same kind of launcher, with
:func:`conda_pipguard.core.locks.pipconfig.global_config_dirs` pointed at that directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from conda_pipguard.core.locks.pipconfig import PipConfigFiles

from .envkit import isolated_env, run_python

PIP_LAUNCHER = """\
import sys
from pip._internal.utils import appdirs
planted = sys.argv.pop(1)
appdirs.site_config_dirs = lambda appname: [planted] if planted else []
from pip._internal.cli.main import main
sys.exit(main())
"""

#: pip's effective ``constraint`` for ``pip install``, as its own option parser computes it.
PIP_CONSTRAINTS_PROBE = """\
import sys
from pip._internal.utils import appdirs
planted = sys.argv.pop(1)
appdirs.site_config_dirs = lambda appname: [planted] if planted else []
from pip._internal.commands import create_command
options, _ = create_command("install").parse_args([])
print("\\n".join(options.constraints))
"""

PIPGUARD_LAUNCHER = """\
import sys
from pathlib import Path
from conda_pipguard.core.locks import pipconfig
planted = sys.argv.pop(1)
pipconfig.global_config_dirs = lambda environ: [Path(planted)] if planted else []
from conda_pipguard.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def run_pip_planted(
    prefix: Path,
    global_dir: Path | None,
    *args: str | Path,
    check: bool = True,
    env_extra: Mapping[str, str] | None = None,
    home: Path | None = None,
    find_links: Path | Sequence[Path] = (),
) -> subprocess.CompletedProcess[str]:
    """``<prefix>/bin/python -m pip *args`` with *global_dir* as pip's only global config dir."""
    return run_python(
        prefix,
        "-c",
        PIP_LAUNCHER,
        str(global_dir or ""),
        *args,
        check=check,
        env_extra=env_extra,
        home=home,
        find_links=find_links,
    )


def pip_constraints(
    prefix: Path,
    global_dir: Path | None,
    *,
    env_extra: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> list[str]:
    """What real pip in *prefix* takes as ``constraint`` for ``pip install``."""
    done = run_python(
        prefix,
        "-c",
        PIP_CONSTRAINTS_PROBE,
        str(global_dir or ""),
        env_extra=env_extra,
        home=home,
    )
    return done.stdout.split()


def pipguard_env(home: Path, env_extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables for a conda-pipguard subprocess: isolated, no ``UV_*``/``CONDA_*`` leaking."""
    env = {
        key: value
        for key, value in isolated_env(home).items()
        if not key.startswith(("UV_", "CONDA_", "PIP_"))
    }
    env.update(env_extra or {})
    return env


def run_pipguard_planted(
    global_dir: Path | None,
    *args: str | Path,
    home: Path,
    env_extra: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``python -m conda_pipguard *args`` (this venv's Python) with a planted global config."""
    command = [sys.executable, "-c", PIPGUARD_LAUNCHER, str(global_dir or ""), *map(str, args)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=pipguard_env(home, env_extra),
        check=False,
        cwd=os.getcwd(),
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{command} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def planted_files(
    prefix: Path, global_dir: Path | None, home: Path, environ: Mapping[str, str] | None = None
) -> PipConfigFiles:
    """The locations pip uses in :func:`run_pip_planted`, for the in-process readers."""
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), **(environ or {})}
    return PipConfigFiles.for_prefix(prefix, env, global_dirs=[global_dir] if global_dir else [])
