"""The one seam between the subcommands and the program that runs them.

Every subcommand is written once, against :class:`Host`: it declares its options through the host,
reads its flags and targets from the host, and leaves the conventions of output, prompts, errors
and ``--dry-run`` to it. Two hosts exist:

* :class:`StandaloneHost` (here): ``conda-pipguard`` / ``python -m conda_pipguard``, with argparse
  look-alikes of conda's options, its own output and its own exit codes.
* ``CondaHost`` (:mod:`conda_pipguard.guard.host`): ``conda pipguard``, with conda's option
  helpers, ``context``, prompts, errors and ``DryRunExit``. Only that host imports conda;
  nothing under ``cli/`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..core.disk.environment import guess_name, running_prefix
from ..core.disk.locate import known_prefixes, prefix_of_name
from ..core.errors import InvalidSetting
from ..core.rules.versionspec import Matcher
from .common import Target


@dataclass(frozen=True)
class Flags:
    """The output and prompt options of one command, as the host reads them.

    Attributes:
        json: Report as JSON.
        quiet: Print nothing but the result.
        dry_run: Show what would be done, change nothing.
        yes: Do not ask for confirmation.
        offline: conda must not use the network.
        override_frozen: Change a frozen environment all the same (``--override-frozen``).
    """

    json: bool = False
    quiet: bool = False
    dry_run: bool = False
    yes: bool = False
    offline: bool = False
    override_frozen: bool = False

    @property
    def silent(self) -> bool:
        """``--json`` or ``--quiet``: nothing but the result."""
        return self.json or self.quiet


class Host(Protocol):
    """What a subcommand needs from the program that runs it."""

    def add_target_options(self, parser: argparse.ArgumentParser, *, many: bool = False) -> None:
        """``-n/-p`` (and ``--all`` when *many*)."""

    def add_output_options(
        self, parser: argparse.ArgumentParser, *, dry_run: bool = False, yes: bool = False
    ) -> None:
        """``--json``, ``-q`` (and ``--dry-run``/``-y`` when asked)."""

    def add_offline_option(self, parser: argparse.ArgumentParser) -> None:
        """``--offline``."""

    def add_frozen_option(self, parser: argparse.ArgumentParser) -> None:
        """``--override-frozen``: change an environment marked frozen (CEP 22) all the same."""

    def flags(self, args: argparse.Namespace) -> Flags:
        """The output and prompt options in effect."""

    def targets(self, args: argparse.Namespace) -> list[Target]:
        """The environments the options name (one unless ``--all``)."""

    def matcher_factory(self) -> Callable[[], Matcher | None]:
        """A picklable function returning the version matcher (None: the core's own)."""

    def conda_launcher(self) -> tuple[str, ...] | None:
        """How to run conda in a subprocess, or None when it cannot be run."""

    def print_json(self, data: Any) -> None:
        """Write *data* as JSON to stdout."""

    def confirm(self, question: str, default: bool = False) -> bool:
        """Ask *question* (an empty answer is *default*); False (or the host's exit) on no."""

    def dry_run_done(self) -> int:
        """End a ``--dry-run`` that showed what it would do: an exit code, or the host's exit."""

    def guard_mode(self) -> str:
        """``pipguard_mode``: ``warn``, ``block`` or ``off``."""


def no_matcher() -> Matcher | None:
    """The standalone matcher factory: the core's own version matching."""
    return None


def print_json(data: Any) -> None:
    """Write *data* as JSON to stdout, indented."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def confirm_on_terminal(question: str, default: bool = False) -> bool:
    """Ask on the terminal; an empty answer is *default*, no input at all is no."""
    try:
        answer = input(f"{question}? {'[Y/n]' if default else '[y/N]'} ").strip().lower()
    except EOFError:
        return False
    return default if not answer else answer in ("y", "yes")


class StandaloneHost:
    """``conda-pipguard``: argparse look-alikes of conda's options, its own output and exits."""

    def add_target_options(self, parser: argparse.ArgumentParser, *, many: bool = False) -> None:
        """``-n/-p`` as a mutually exclusive pair, ``--all`` when *many*."""
        group = parser.add_mutually_exclusive_group()
        group.add_argument("-n", "--name", help="Name of the environment.")
        group.add_argument(
            "-p", "--prefix", metavar="PATH", help="Full path to the environment location."
        )
        if many:
            add_all_option(parser)

    def add_output_options(
        self, parser: argparse.ArgumentParser, *, dry_run: bool = False, yes: bool = False
    ) -> None:
        """``--json``, ``-q``, and ``-d/--dry-run``, ``-y/--yes`` when asked."""
        parser.add_argument("--json", action="store_true", help="Report as JSON on stdout.")
        parser.add_argument("-q", "--quiet", action="store_true", help="Do not print progress.")
        if dry_run:
            parser.add_argument(
                "-d", "--dry-run", action="store_true", help="Only show what would be done."
            )
        if yes:
            parser.add_argument(
                "-y", "--yes", action="store_true", help="Do not ask for confirmation."
            )

    def add_offline_option(self, parser: argparse.ArgumentParser) -> None:
        """``--offline``, off by default."""
        parser.add_argument("--offline", action="store_true", help=OFFLINE_HELP)

    def add_frozen_option(self, parser: argparse.ArgumentParser) -> None:
        """``--override-frozen``, as conda's own commands spell it."""
        parser.add_argument("--override-frozen", action="store_true", help=OVERRIDE_FROZEN_HELP)

    def flags(self, args: argparse.Namespace) -> Flags:
        """The flags from the parsed options (absent ones are off)."""
        names = ("json", "quiet", "dry_run", "yes", "offline", "override_frozen")
        return Flags(*(bool(getattr(args, name, False)) for name in names))

    def targets(self, args: argparse.Namespace) -> list[Target]:
        """The environments the options name; default: the active env, else this interpreter's.

        Raises:
            EnvironmentNotFound: ``-n NAME`` names no known environment.
        """
        if getattr(args, "all_envs", False):
            return [Target(prefix, guess_name(prefix)) for prefix in known_prefixes()]
        if getattr(args, "prefix", None):
            prefix = Path(os.path.abspath(os.path.expanduser(args.prefix)))
            return [Target(prefix, guess_name(prefix))]
        if getattr(args, "name", None):
            return [Target(prefix_of_name(args.name), args.name)]
        prefix = running_prefix()
        return [Target(prefix, guess_name(prefix))]

    def matcher_factory(self) -> Callable[[], Matcher | None]:
        """No conda to ask: the core matches versions itself."""
        return no_matcher

    def conda_launcher(self) -> tuple[str, ...] | None:
        """``$CONDA_EXE`` when set, else None."""
        exe = os.environ.get("CONDA_EXE")
        return (exe,) if exe else None

    def print_json(self, data: Any) -> None:
        """Indented JSON and a newline."""
        print_json(data)

    def confirm(self, question: str, default: bool = False) -> bool:
        """Ask on the terminal."""
        return confirm_on_terminal(question, default)

    def dry_run_done(self) -> int:
        """A dry run ends as a success."""
        return 0

    def guard_mode(self) -> str:
        """``CONDA_PLUGINS_PIPGUARD_MODE`` (what conda reads too; no ``.condarc`` here).

        Taken exactly as written, as conda takes its settings.

        Raises:
            InvalidSetting: The value is not a mode (a typo must not turn the guard off).
        """
        value = os.environ.get(MODE_VARIABLE) or "warn"
        if value not in MODES:
            raise InvalidSetting(MODE_VARIABLE, value, MODES)
        return value


#: The modes of ``pipguard_mode``, and the variable that sets it outside conda.
MODES = ("warn", "block", "off")
MODE_VARIABLE = "CONDA_PLUGINS_PIPGUARD_MODE"

#: Help of ``--offline``, the same for both hosts.
OFFLINE_HELP = "Let conda use only its package cache and local channels."
#: Help of the standalone ``--override-frozen`` (conda's own words for its flag).
OVERRIDE_FROZEN_HELP = (
    "DANGEROUS. Use at your own risk. Ignore protections if the environment is frozen."
)


def add_all_option(parser: argparse.ArgumentParser) -> None:
    """``--all``: every environment conda knows (both hosts)."""
    parser.add_argument(
        "--all", action="store_true", dest="all_envs", help="Every environment conda knows."
    )
