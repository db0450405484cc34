"""Options and target resolution shared by the subcommands.

Every subcommand's ``configure_parser(parser, with_conda=...)`` declares its options: inside conda
it reuses conda's own ``-n/-p``, ``--json``, ``--dry-run`` and ``-y`` helpers; standalone it
declares look-alikes. ``resolve_targets`` turns the parsed options into prefixes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.environment import guess_name, running_prefix
from ..core.locate import known_prefixes, prefix_of_name


@dataclass(frozen=True)
class Target:
    """An environment to act on.

    Attributes:
        prefix: Absolute path.
        name: Name, when known.
    """

    prefix: Path
    name: str | None = None


def add_target_options(parser: argparse.ArgumentParser, *, with_conda: bool) -> None:
    """``-n/-p`` (conda's own inside conda) and ``--all``."""
    if with_conda:
        from conda.cli.helpers import add_parser_prefix

        add_parser_prefix(parser)
    else:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("-n", "--name", help="Name of the environment.")
        group.add_argument(
            "-p", "--prefix", metavar="PATH", help="Full path to the environment location."
        )
    parser.add_argument(
        "--all", action="store_true", dest="all_envs", help="Every environment conda knows."
    )


def add_output_options(
    parser: argparse.ArgumentParser, *, with_conda: bool, dry_run: bool = False, yes: bool = False
) -> None:
    """``--json``, ``-q`` (and ``--dry-run``/``-y`` when asked): conda's helpers inside conda."""
    if with_conda:
        from conda.cli.helpers import add_output_and_prompt_options, add_parser_json

        if dry_run or yes:
            add_output_and_prompt_options(parser)
        else:
            add_parser_json(parser)
        return
    parser.add_argument("--json", action="store_true", help="Report as JSON on stdout.")
    parser.add_argument("-q", "--quiet", action="store_true", help="Do not print progress.")
    if dry_run:
        parser.add_argument(
            "-d", "--dry-run", action="store_true", help="Only show what would be done."
        )
    if yes:
        parser.add_argument("-y", "--yes", action="store_true", help="Do not ask for confirmation.")


def _conda_targets(args: argparse.Namespace) -> list[Target]:
    from ..guard.context import conda_targets

    return conda_targets(all_envs=getattr(args, "all_envs", False))


def resolve_targets(args: argparse.Namespace, *, with_conda: bool) -> list[Target]:
    """The environments the options name; default: the active env, else this interpreter's.

    Raises:
        EnvironmentNotFound: ``-n NAME`` names no known environment.
    """
    if with_conda:
        return _conda_targets(args)
    if getattr(args, "all_envs", False):
        return [Target(prefix, guess_name(prefix)) for prefix in known_prefixes()]
    if getattr(args, "prefix", None):
        prefix = Path(os.path.abspath(os.path.expanduser(args.prefix)))
        return [Target(prefix, guess_name(prefix))]
    if getattr(args, "name", None):
        prefix = prefix_of_name(args.name)
        return [Target(prefix, args.name)]
    prefix = running_prefix()
    return [Target(prefix, guess_name(prefix))]


def print_json(data: Any) -> None:
    """Write *data* as JSON to stdout."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def is_quiet(args: argparse.Namespace) -> bool:
    """``--json`` or ``--quiet``: nothing but the result."""
    return bool(getattr(args, "json", False) or getattr(args, "quiet", False))
