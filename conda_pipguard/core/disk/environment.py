"""Read a conda environment from disk into plain data: records, history, Python, distributions.

Everything here reads; nothing writes. The result, :class:`Environment`, is what the analysis
works on, and the only place that touches the file system for it.
"""

from __future__ import annotations

import gc
import os
import shlex
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .condameta import CondaMeta, conda_meta_dir, split_record_name
from .distributions import Debris, Distribution, conda_develop_paths, scan_site_packages
from .history import History, read_history
from .python import PythonLayout, discover, other_site_packages
from .records import CondaRecord, PathMapper, RecordProblem, read_records

if TYPE_CHECKING:  # not for the hooks' glance, which builds an Environment and reads no state
    from .activation import Activation


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


def user_site_dir(python: PythonLayout, environ: Mapping[str, str] | None = None) -> Path | None:
    """The user site-packages directory *python* would put on ``sys.path``, or None."""
    environ = os.environ if environ is None else environ
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
    activation: Activation | None = None,
    metadata: bool = True,
) -> Environment:
    """Read the conda environment at *prefix*.

    Args:
        prefix: Path of the environment.
        name: Its name, when the caller knows it (conda does); guessed otherwise.
        include_user_site: Also read the user site directory.
        activation: The environment of a process in the activated env, to take its variables
            and ``HOME``/``PYTHONNOUSERSITE`` from (default: this process's, and the env's).
        metadata: Read the distributions' metadata. False is the cheap read of the hooks:
            distributions from directory names only, no other site-packages, no user site.

    Raises:
        NotACondaEnvironment: *prefix* has no ``conda-meta``.
    """
    from .activation import Activation

    root = Path(os.path.abspath(prefix))
    with collector_paused():
        return _load(root, name, include_user_site, activation or Activation.of(root), metadata)


def _load(
    root: Path,
    name: str | None,
    include_user_site: bool,
    activation: Activation,
    metadata: bool,
) -> Environment:
    # The python record alone first: its layout maps the noarch paths of the others, which are
    # then read one at a time (all the decoded JSON at once would be the peak of the process).
    conda_meta_dir(root)
    meta = CondaMeta(root)
    python = discover(meta)
    mapper = PathMapper(
        python.site_packages if python else None, python.scripts if python else "bin"
    )
    records, problems = meta.read_all(mapper)
    history = read_history(root)
    # Our copies of records conda list/export deleted, while conda still has them linked.
    live = {record.name for record in records} | {
        parts[0]
        for problem in problems
        if (parts := split_record_name(problem.record_path.rsplit("/", 1)[-1]))
    }
    from .kept_records import kept_records  # not for the hooks' glance, which reads no copy

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

    user_site = None
    if include_user_site and metadata and python is not None:
        user_dir = user_site_dir(python, activation.merged)
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
        env_vars=dict(activation.env_vars),
    )


def running_prefix() -> Path:
    """The default target: the active env (``CONDA_PREFIX``), else this interpreter's prefix."""
    active = os.environ.get("CONDA_PREFIX")
    return Path(active) if active else Path(sys.prefix)
