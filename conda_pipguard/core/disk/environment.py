"""Read a conda environment from disk into plain data: records, history, Python, distributions.

Everything here reads; nothing writes. The result, :class:`Environment`, is what the analysis
works on, and the only place that touches the file system for it.
"""

from __future__ import annotations

import gc
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import safeio
from .distributions import Debris, Distribution, conda_develop_paths, scan_site_packages
from .history import History, read_history
from .kept_records import kept_records, split_record_name
from .python import PythonLayout, layout_from_disk, layout_from_records, other_site_packages
from .records import (
    CondaRecord,
    PathMapper,
    RecordProblem,
    read_all_records,
    read_named_records,
    read_records,
)

#: What ``conda env config vars unset`` leaves in ``conda-meta/state``.
_UNSET_MARK = "***unset***"


@dataclass(frozen=True)
class SiteDir:
    """Distributions found in one site-packages directory.

    Attributes:
        path: Prefix-relative path (absolute for the user site directory).
        distributions: What is installed there.
    """

    path: str
    distributions: tuple[Distribution, ...] = ()


@dataclass(frozen=True)
class Environment:
    """A conda environment as found on disk.

    Attributes:
        prefix: Absolute path.
        name: Environment name, or None for an env known only by path.
        python: Layout of the env's Python, or None when it has none.
        records: Readable conda records.
        record_problems: Records that could not be read.
        history: Parsed ``conda-meta/history``.
        distributions: Distributions in the env's own site-packages.
        debris: Leftovers and broken metadata found in site-packages.
        other_sites: Site-packages of Pythons the env no longer has.
        user_site: The user site directory the env's Python imports first, if it has any
            distributions and is enabled.
        conda_develop: Source directories added with ``conda develop``.
        env_vars: Variables set with ``conda env config vars``.
    """

    prefix: Path
    name: str | None = None
    python: PythonLayout | None = None
    records: tuple[CondaRecord, ...] = ()
    record_problems: tuple[RecordProblem, ...] = ()
    history: History = field(default_factory=History)
    distributions: tuple[Distribution, ...] = ()
    debris: tuple[Debris, ...] = ()
    other_sites: tuple[SiteDir, ...] = ()
    user_site: SiteDir | None = None
    conda_develop: tuple[str, ...] = ()
    env_vars: dict[str, str] = field(default_factory=dict)

    @property
    def records_by_name(self) -> dict[str, CondaRecord]:
        """Records keyed by package name."""
        return {record.name: record for record in self.records}

    @property
    def display_name(self) -> str:
        """The name, or the prefix when the env has none."""
        return self.name or str(self.prefix)

    @property
    def target_flag(self) -> str:
        """How a command names this env: ``-n NAME`` or ``-p PATH``, quoted for a shell."""
        return target_flag(self.prefix, self.name)


def target_flag(prefix: Path, name: str | None) -> str:
    """``-n NAME`` for a named env, else ``-p PATH``, quoted for a shell."""
    return f"-n {shlex.quote(name)}" if name else f"-p {shlex.quote(str(prefix))}"


def guess_name(prefix: Path) -> str | None:
    """The name conda would show for *prefix*: ``base`` or the directory under ``envs/``."""
    if prefix.parent.name == "envs" and (prefix.parent.parent / "conda-meta").is_dir():
        return prefix.name
    if (prefix / "envs").is_dir() and (prefix / "condabin").is_dir():
        return "base"
    return None


def read_env_vars(prefix: Path) -> dict[str, str]:
    """Variables stored by ``conda env config vars set`` (``conda-meta/state``)."""
    try:
        state = safeio.load_json(
            prefix / "conda-meta" / "state", limit=safeio.SMALL_LIMIT, root=str(prefix)
        )
    except (OSError, ValueError):
        return {}
    env_vars = state.get("env_vars") if isinstance(state, dict) else None
    if not isinstance(env_vars, dict):
        return {}
    return {str(key): str(value) for key, value in env_vars.items() if value != _UNSET_MARK}


def user_site_dir(python: PythonLayout, environ: dict[str, str] | None = None) -> Path | None:
    """The user site-packages directory *python* would put on ``sys.path``, or None."""
    environ = dict(os.environ if environ is None else environ)
    if environ.get("PYTHONNOUSERSITE"):
        return None
    version = python.version.replace(".", "")
    if python.windows:
        base = environ.get("PYTHONUSERBASE") or (
            str(Path(environ["APPDATA"]) / "Python") if environ.get("APPDATA") else None
        )
        return Path(base) / f"Python{version}" / "site-packages" if base else None
    base = environ.get("PYTHONUSERBASE") or (
        str(Path(environ["HOME"]) / ".local") if environ.get("HOME") else None
    )
    if not base:
        return None
    suffix = "t" if python.free_threaded else ""
    return Path(base) / "lib" / f"python{python.version}{suffix}" / "site-packages"


def _has_interpreter(prefix: Path) -> bool:
    return (prefix / "python.exe").exists() or (prefix / "bin" / "python").exists()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a read allocates its many small objects.

    The records and RECORDs of an env are tens of thousands of tuples and strings, none in a
    cycle: the collector would walk the growing heap again and again for nothing (a fifth of
    the read). Its state is restored after, also inside conda's process.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_environment(
    prefix: str | os.PathLike[str],
    name: str | None = None,
    *,
    include_user_site: bool = True,
    environ: dict[str, str] | None = None,
    metadata: bool = True,
) -> Environment:
    """Read the conda environment at *prefix*.

    Args:
        prefix: Path of the environment.
        name: Its name, when the caller knows it (conda does); guessed otherwise.
        include_user_site: Also read the user site directory.
        environ: The process environment to take ``HOME``/``PYTHONNOUSERSITE`` from.
        metadata: Read the distributions' metadata. False is the cheap read of the hooks:
            distributions from directory names only, no other site-packages, no user site.

    Raises:
        NotACondaEnvironment: *prefix* has no ``conda-meta``.
    """
    with collector_paused():
        return _load(Path(os.path.abspath(prefix)), name, include_user_site, environ, metadata)


def python_layout(root: Path) -> PythonLayout | None:
    """The env's Python, from its ``python`` record alone (from its directories without one)."""
    python = layout_from_records(read_named_records(root, ("python", "python_abi")), root)
    if python is None and _has_interpreter(root):
        python = layout_from_disk(root)
    return python


def _load(
    root: Path,
    name: str | None,
    include_user_site: bool,
    environ: dict[str, str] | None,
    metadata: bool,
) -> Environment:
    # The python record alone first: its layout maps the noarch paths of the others, which are
    # then read one at a time (all the decoded JSON at once would be the peak of the process).
    python = python_layout(root)
    mapper = PathMapper(
        python.site_packages if python else None, python.scripts if python else "bin"
    )
    records, problems = read_all_records(root, mapper)
    history = read_history(root)
    # Our copies of records conda list/export deleted, while conda still has them linked.
    live = {record.name for record in records} | {
        parts[0]
        for problem in problems
        if (parts := split_record_name(problem.record_path.rsplit("/", 1)[-1]))
    }
    kept, kept_problems = read_records(kept_records(root, live, history.current()), mapper)
    records = (*records, *kept)
    problems = [*problems, *kept_problems]

    distributions: list[Distribution] = []
    debris: list[Debris] = []
    develop: list[str] = []
    if python is not None:
        distributions, debris = scan_site_packages(root, python.site_packages, metadata=metadata)
        develop = conda_develop_paths(root, python.site_packages)
    others = []
    for site in other_site_packages(root, python) if metadata else ():
        dists, more_debris = scan_site_packages(root, site)
        debris.extend(more_debris)
        if dists:
            others.append(SiteDir(site, tuple(dists)))

    env_vars = read_env_vars(root)
    user_site = None
    if include_user_site and metadata and python is not None:
        merged = dict(os.environ if environ is None else environ)
        merged.update(env_vars)
        user_dir = user_site_dir(python, merged)
        if user_dir is not None and user_dir.is_dir():
            dists, _ = scan_site_packages(user_dir.parent, user_dir.name)
            if dists:
                user_site = SiteDir(str(user_dir), tuple(dists))

    return Environment(
        prefix=root,
        name=name if name is not None else guess_name(root),
        python=python,
        records=records,
        record_problems=tuple(problems),
        history=history,
        distributions=tuple(distributions),
        debris=tuple(debris),
        other_sites=tuple(others),
        user_site=user_site,
        conda_develop=tuple(develop),
        env_vars=env_vars,
    )


def running_prefix() -> Path:
    """The default target: the active env (``CONDA_PREFIX``), else this interpreter's prefix."""
    active = os.environ.get("CONDA_PREFIX")
    return Path(active) if active else Path(sys.prefix)
