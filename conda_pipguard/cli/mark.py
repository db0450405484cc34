"""``conda pipguard mark`` / ``unmark``: lock an environment against pip, or lift the lock."""

from __future__ import annotations

import argparse
import shlex
import sys

from ..core.environment import load_environment
from ..core.marker import MarkerAction, remove_marker, write_marker
from .common import Target, add_output_options, add_target_options, print_json, resolve_targets

MARK_SUMMARY = "Lock an environment against pip (PEP 668 EXTERNALLY-MANAGED)."
UNMARK_SUMMARY = "Lift the pip lock that `conda pipguard mark` put on an environment."


def configure_mark(parser: argparse.ArgumentParser, *, with_conda: bool = False) -> None:
    """Declare the options of ``mark``."""
    add_target_options(parser, with_conda=with_conda)
    add_output_options(parser, with_conda=with_conda, dry_run=True)


def configure_unmark(parser: argparse.ArgumentParser, *, with_conda: bool = False) -> None:
    """Declare the options of ``unmark``."""
    configure_mark(parser, with_conda=with_conda)
    parser.add_argument(
        "--force",
        action="store_true",
        help="Also remove a marker conda-pipguard did not write (never one a conda package owns).",
    )


def target_flag(target: Target) -> str:
    """How commands name *target*: ``-n NAME`` or ``-p PATH``."""
    return (
        f"-n {shlex.quote(target.name)}" if target.name else f"-p {shlex.quote(str(target.prefix))}"
    )


def _skipped(target: Target) -> MarkerAction:
    return MarkerAction(str(target.prefix), None, "skipped", "the environment has no Python")


def mark_one(target: Target, *, dry_run: bool) -> MarkerAction:
    """Write the marker into one environment."""
    env = load_environment(target.prefix, target.name, include_user_site=False)
    if env.python is None:
        return _skipped(target)
    return write_marker(env.prefix, env.python, target_flag(target), dry_run=dry_run)


def unmark_one(target: Target, *, dry_run: bool, force: bool) -> MarkerAction:
    """Remove the marker from one environment."""
    env = load_environment(target.prefix, target.name, include_user_site=False)
    if env.python is None:
        return _skipped(target)
    return remove_marker(env.prefix, env.python, records=env.records, force=force, dry_run=dry_run)


def _report(actions: list[MarkerAction], args: argparse.Namespace) -> int:
    if getattr(args, "json", False):
        print_json({"actions": [action.to_dict() for action in actions]})
    elif not getattr(args, "quiet", False):
        for action in actions:
            verb = f"would be {action.action}" if action.dry_run else action.action
            where = action.path or "-"
            sys.stdout.write(f"{action.prefix}: {where} {verb} ({action.reason})\n")
    return 0


def execute_mark(args: argparse.Namespace, *, with_conda: bool = False) -> int:
    """Run ``mark``."""
    dry_run = bool(getattr(args, "dry_run", False))
    targets = resolve_targets(args, with_conda=with_conda)
    return _report([mark_one(t, dry_run=dry_run) for t in targets], args)


def execute_unmark(args: argparse.Namespace, *, with_conda: bool = False) -> int:
    """Run ``unmark``."""
    dry_run = bool(getattr(args, "dry_run", False))
    force = bool(getattr(args, "force", False))
    targets = resolve_targets(args, with_conda=with_conda)
    return _report([unmark_one(t, dry_run=dry_run, force=force) for t in targets], args)
