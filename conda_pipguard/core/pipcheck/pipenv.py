"""Which pip runs, with what environment and where it may write: the user's pip, in this env.

The env's own pip when it has one (``PREFIX/bin/python -m pip``), otherwise the pip beside
conda-pipguard pointed at the env's interpreter (``--python``). Either reads the user's pip
configuration as pip does (global, user, the env's ``pip.conf`` with the soft lock's
constraints, ``PIP_*`` variables, the env's ``conda env config vars``): the check is worth
something only if pip resolves as it would for the user.

pip's cache and temporary files go into the check's own scratch directory, which is always
removed: the only place outside the env a checked install writes.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..disk.python import PythonLayout
from ..errors import CannotCheck
from ..locks.pipconfig import PipConfig, PipConfigFiles, is_true
from .child import ChildResult, run_child

#: Seconds a pip run may take by default (a resolution that downloads and builds is slow).
DEFAULT_TIMEOUT = 900.0
#: pip settings that would send the install elsewhere than the env, and what they do.
_ELSEWHERE = {
    "target": "installs into another directory",
    "prefix": "installs into another prefix",
    "root": "installs under another root",
    "user": "installs into the user site directory",
    "python": "runs pip for another interpreter",
}


def pip_launcher(python: str) -> list[str]:
    """How the env's own pip is run: ``python -m pip`` (the one seam tests replace)."""
    return [python, "-m", "pip"]


def interpreter(prefix: Path) -> Path | None:
    """The env's Python, or None."""
    for candidate in (prefix / "bin" / "python", prefix / "python.exe"):
        if candidate.exists():
            return candidate
    return None


def has_pip(prefix: Path, layout: PythonLayout) -> bool:
    """Whether pip is installed in the env's site-packages (one directory listing)."""
    try:
        with os.scandir(prefix / layout.site_packages) as listing:
            return any(
                entry.name.startswith("pip-") and entry.name.endswith(".dist-info")
                for entry in listing
            )
    except OSError:
        return False


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """The check's own temporary directory, removed whatever happens."""
    path = Path(tempfile.mkdtemp(prefix="conda-pipguard-pip-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Pip:
    """A pip to run for one env.

    Attributes:
        command: The argv that runs it (``python -m pip``, or ours with ``--python``).
        python: The env's interpreter.
        own: It is the env's own pip.
        environ: Its whole environment.
        cwd: Its working directory (the user's: requirements may be relative paths).
        timeout: Seconds each run may take.
    """

    command: tuple[str, ...]
    python: str
    own: bool
    environ: Mapping[str, str] = field(repr=False)
    cwd: str
    timeout: float = DEFAULT_TIMEOUT

    def run(self, *args: str) -> ChildResult:
        """``pip ARGS``, bounded in time and output."""
        return run_child(
            [*self.command, *args], env=self.environ, timeout=self.timeout, cwd=self.cwd
        )


def pip_environ(
    env_vars: Mapping[str, str], scratch: Path, environ: Mapping[str, str]
) -> dict[str, str]:
    """The user's variables, the env's ``conda env config vars`` over them, and our scratch.

    ``PIP_PYTHON`` is dropped (the env's interpreter is the one), no prompt may wait for input,
    and pip's cache and temporary files go to *scratch*.
    """
    merged = {key: value for key, value in environ.items() if key != "PIP_PYTHON"}
    merged.update(env_vars)
    for name in ("cache", "tmp"):
        (scratch / name).mkdir(exist_ok=True)
    merged.update(
        {
            "PIP_NO_INPUT": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_CACHE_DIR": str(scratch / "cache"),
            "TMPDIR": str(scratch / "tmp"),
            "TEMP": str(scratch / "tmp"),
            "TMP": str(scratch / "tmp"),
        }
    )
    return merged


def refuse_elsewhere(prefix: Path, environ: Mapping[str, str]) -> None:
    """Refuse when pip's configuration sends installs out of the env (``user = true``...).

    Raises:
        CannotCheck: Naming the setting and where it comes from.
    """
    config = PipConfig.load(PipConfigFiles.for_prefix(prefix, environ))
    for option, what in _ELSEWHERE.items():
        setting = config.setting(option, "install", environ)
        value = setting.value.strip()
        if value and (option != "user" or is_true(value)):
            raise CannotCheck(
                f"pip's configuration sets {option} ({setting.source}): pip {what}; a checked "
                "install goes into the environment only"
            )


def find_pip(
    prefix: Path,
    layout: PythonLayout,
    scratch: Path,
    *,
    env_vars: Mapping[str, str],
    environ: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT,
    cwd: str | None = None,
) -> Pip:
    """The pip that checks and installs into the env at *prefix* (read cheaply: no analysis).

    Args:
        prefix: The env.
        layout: Its Python.
        scratch: The check's directory.
        env_vars: The env's ``conda env config vars``.
        environ: The user's variables.
        timeout: Seconds each pip run may take.
        cwd: Where pip runs (default: here).

    Raises:
        CannotCheck: The env has no interpreter, there is no pip to run, or pip's
            configuration sends installs elsewhere.
    """
    python = interpreter(prefix)
    if python is None:
        raise CannotCheck(f"{prefix} has no Python: there is nothing pip could install into")
    variables = pip_environ(env_vars, scratch, environ)
    refuse_elsewhere(prefix, variables)
    where = os.getcwd() if cwd is None else cwd
    if has_pip(prefix, layout):
        command = tuple(pip_launcher(str(python)))
        return Pip(command, str(python), True, variables, where, timeout)
    if importlib.util.find_spec("pip") is None:
        raise CannotCheck(
            f"{prefix} has no pip, and there is none beside conda-pipguard: install pip with "
            f"conda first (conda install -p {prefix} pip)"
        )
    command = (sys.executable, "-m", "pip", "--python", str(python))
    return Pip(command, str(python), False, variables, where, timeout)
