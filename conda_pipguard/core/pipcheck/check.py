"""A pip install checked against conda's packages before anything is written.

The whole check, in order: pip resolves without writing (:mod:`.resolution`) while the env is
analysed as ``status`` analyses it; every resolved file is fetched as a wheel into a scratch
directory (:mod:`.fetch`) and read without extracting (:mod:`.wheelfile`); the env as it would
be after the install (:mod:`.planned`) is analysed by the same rules, and what that adds is
the impact (:mod:`.impact`). Nothing here writes to the env: :mod:`.install` does, with exactly
these wheels, when the caller decides to.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..disk.activation import Activation
from ..disk.condameta import CondaMeta, conda_meta_dir
from ..disk.environment import Environment, collector_paused, load_environment
from ..disk.python import discover
from ..errors import CannotCheck
from ..locks.marker import LockStatus, read_status
from ..model.ledger import Ledger
from ..rules.analysis import Analysis, analyze
from ..rules.versionspec import Matcher
from .arguments import PipArguments
from .fetch import fetch
from .impact import PipImpact, compare
from .pipenv import DEFAULT_TIMEOUT, Pip, find_pip, scratch_dir
from .planned import after_install
from .resolution import Planned, resolve
from .wheelfile import WheelFile, read_wheel


@dataclass(frozen=True)
class Replacement:
    """What a planned project replaces in the env.

    Attributes:
        version: The installed version pip uninstalls.
        conda: That copy is conda's.
    """

    version: str
    conda: bool


@dataclass(frozen=True)
class CheckedInstall:
    """A pip install, checked: what pip would install, as wheels at hand, and its impact.

    Attributes:
        env: The env now.
        arguments: pip's arguments.
        planned: What pip would install, in pip's order.
        wheels: The wheel of each, in the same order.
        before: The analysis of the env now.
        after: The analysis of the env after the install.
        impact: What the install adds or worsens, and what it resolves.
        marker: The env's lock state.
        pip: The pip that resolved, and installs.
        scratch: The check's directory (removed when the check's context ends).
    """

    env: Environment
    arguments: PipArguments
    planned: tuple[Planned, ...]
    wheels: tuple[WheelFile, ...]
    before: Analysis
    after: Analysis | None
    impact: PipImpact
    marker: LockStatus
    pip: Pip
    scratch: Path

    @property
    def locked(self) -> bool:
        """The env carries our hard marker."""
        return self.marker.state == "pipguard"

    def replaces(self, item: Planned) -> Replacement | None:
        """The installed copy *item* replaces, if any."""
        conda = {dist.path for dist in self.before.conda_distributions}
        for dist in self.env.distributions:
            if dist.key == item.key:
                return Replacement(dist.version, dist.path in conda)
        return None


@contextmanager
def checked_install(
    prefix: str | os.PathLike[str],
    arguments: PipArguments,
    *,
    name: str | None = None,
    matcher: Matcher | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cwd: str | None = None,
) -> Iterator[CheckedInstall]:
    """Check ``pip install ARGUMENTS`` in the env at *prefix*; the wheels live in the context.

    pip starts first, from what a cheap look finds (the env's Python, its pip, its config
    vars), and resolves in its process while a thread of this one reads and analyses the env:
    the two overlap, and pip's start-up and resolution are most of a check.

    Args:
        prefix: The env.
        arguments: pip's ``install`` arguments.
        name: The env's name, when known.
        matcher: conda's version matcher (None: the core's).
        environ: The user's variables (default: this process's).
        timeout: Seconds each pip run may take.
        cwd: Where pip runs (default: here; requirements may be relative paths).

    Raises:
        NotACondaEnvironment: *prefix* is not a conda env.
        CannotCheck: pip refused, or a file cannot be fetched or read; nothing was written.
    """
    environ = dict(os.environ if environ is None else environ)
    root = Path(os.path.abspath(prefix))
    conda_meta_dir(root)  # NotACondaEnvironment, as status says it
    layout = discover(CondaMeta(root))
    if layout is None:
        raise CannotCheck(f"{root} has no Python: there is nothing pip could install into")
    activation = Activation.of(root, environ)
    env_vars = dict(activation.env_vars)
    marker = read_status(root, layout, activation=activation)
    ledger = Ledger(root)

    def read_and_analyse() -> tuple[Environment, Analysis]:
        env = load_environment(root, name, activation=activation)
        with collector_paused():
            return env, analyze(env, matcher, ledger=ledger)

    with scratch_dir() as scratch:
        pip = find_pip(
            root, layout, scratch, env_vars=env_vars, environ=environ, timeout=timeout, cwd=cwd
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(read_and_analyse)
            planned = resolve(pip, arguments, scratch, foreign_marker=marker.state == "foreign")
            env, before = reading.result()
        wheels: tuple[WheelFile, ...] = ()
        after = None
        impact = PipImpact()
        if planned:
            assert env.python is not None
            files = fetch(pip, planned, arguments, scratch)
            wheels = tuple(
                read_wheel(files[item.key], env.python, root=str(scratch)) for item in planned
            )
            for wheel, item in zip(wheels, planned, strict=True):
                if wheel.key != item.key:
                    raise CannotCheck(
                        f"{wheel.path.name} holds {wheel.name}, not {item.name} as pip resolved"
                    )
            hypothetical, planned_ledger = after_install(
                env,
                ledger,
                list(zip(wheels, planned, strict=True)),
                ignore_installed=arguments.ignore_installed,
            )
            with collector_paused():
                after = analyze(hypothetical, matcher, ledger=planned_ledger)
            impact = compare(before, after)
        yield CheckedInstall(
            env, arguments, planned, wheels, before, after, impact, marker, pip, scratch
        )
