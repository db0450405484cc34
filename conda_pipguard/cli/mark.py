"""``conda pipguard mark`` / ``unmark``: lock an environment against pip, or lift the lock.

Two locks, two layers:

* ``mark`` writes the hard lock, a PEP 668 ``EXTERNALLY-MANAGED`` marker: pip and uv refuse
  every install. A soft lock already there stays, so that even
  ``pip install --break-system-packages`` cannot replace conda's packages.
* ``mark --soft`` writes the soft lock: pip and uv may add packages conda does not have, but
  cannot upgrade, downgrade or replace conda's. Asking for it on a hard-locked env means
  "let pip add packages again": our hard marker goes (a foreign one stays, and is reported).
* ``unmark`` lifts both.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable

from ..core.environment import load_environment, target_flag
from ..core.errors import PipguardError
from ..core.locks.marker import remove_marker, write_marker
from ..core.locks.results import LockAction
from ..core.locks.soft import conda_owned, write_soft_lock
from ..core.locks.softremove import remove_soft_lock
from ..core.locks.writer import env_lock
from .common import Target
from .host import Host

MARK_SUMMARY = "Lock an environment against pip (PEP 668 marker, or --soft pins)."
UNMARK_SUMMARY = "Lift the pip locks that `conda pipguard mark` put on an environment."


def configure_mark(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``mark``."""
    host.add_target_options(parser, many=True)
    host.add_output_options(parser, dry_run=True)
    parser.add_argument(
        "--soft",
        action="store_true",
        help=(
            "Soft lock: pip may add packages conda does not have, but not upgrade, downgrade "
            "or replace conda's (pins named in the env's pip.conf and PIP_/UV_CONSTRAINT)."
        ),
    )


def configure_unmark(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``unmark``."""
    host.add_target_options(parser, many=True)
    host.add_output_options(parser, dry_run=True)
    parser.add_argument(
        "--force",
        action="store_true",
        help="Also remove a marker conda-pipguard did not write (never one a conda package owns).",
    )


def _skipped(target: Target, lock: str) -> LockAction:
    return LockAction(
        str(target.prefix), None, "skipped", "the environment has no Python", lock=lock
    )


def mark_one(target: Target, *, dry_run: bool, soft: bool = False) -> list[LockAction]:
    """Lock one environment: the hard marker, or with *soft* the soft lock.

    The env lock is held throughout, so that concurrent ``mark``/``unmark`` runs and conda's
    post-transaction refresh each see the env as another left it.

    Raises:
        LockError: A lock file cannot be written (nothing is left half-written).
    """
    with env_lock(target.prefix):
        return _mark(target, dry_run=dry_run, soft=soft)


def _mark(target: Target, *, dry_run: bool, soft: bool) -> list[LockAction]:
    env = load_environment(target.prefix, target.name, include_user_site=False)
    if env.python is None:
        return [_skipped(target, "soft" if soft else "hard")]
    flag = target_flag(target.prefix, target.name)
    if not soft:
        return [write_marker(env.prefix, env.python, flag, dry_run=dry_run)]
    owned = conda_owned(env)
    actions = [
        write_soft_lock(env.prefix, flag, env=env, conda_distributions=owned, dry_run=dry_run)
    ]
    # The soft lock first, then our hard marker goes: the env is never unlocked in between.
    hard = remove_marker(env.prefix, env.python, records=env.records, dry_run=dry_run, target=flag)
    if hard.action == "removed":
        actions.append(
            dataclasses.replace(hard, reason="replaced by the soft lock: pip may add packages")
        )
    elif hard.action == "skipped":
        actions.append(
            dataclasses.replace(
                hard, reason=f"{hard.reason}; pip still refuses every install while it is there"
            )
        )
    return actions


def unmark_one(target: Target, *, dry_run: bool, force: bool) -> list[LockAction]:
    """Lift both locks from one environment.

    Raises:
        LockError: A lock file cannot be removed or restored.
    """
    with env_lock(target.prefix):
        return _unmark(target, dry_run=dry_run, force=force)


def _unmark(target: Target, *, dry_run: bool, force: bool) -> list[LockAction]:
    env = load_environment(target.prefix, target.name, include_user_site=False)
    if env.python is None:
        return [_skipped(target, "hard")]
    flag = target_flag(target.prefix, target.name)
    actions = [
        remove_marker(
            env.prefix, env.python, records=env.records, force=force, dry_run=dry_run, target=flag
        )
    ]
    soft = remove_soft_lock(env.prefix, dry_run=dry_run, target=flag)
    if soft is not None:
        actions.append(soft)
    return actions


def _text(action: LockAction) -> str:
    verb = f"would be {action.action}" if action.dry_run else action.action
    where = f" ({action.path})" if action.path else ""
    return f"{action.prefix}: {action.lock} lock {verb}{where}: {action.reason}\n"


def _run(
    host: Host,
    args: argparse.Namespace,
    targets: list[Target],
    one: Callable[[Target], list[LockAction]],
) -> int:
    """Act on every target; with several, an error on one does not stop the others.

    Returns:
        0, or 1 when an environment failed (its error is reported, one line each); a dry run
        ends as the host ends it.
    """
    actions: list[LockAction] = []
    errors: list[tuple[Target, PipguardError]] = []
    for target in targets:
        try:
            actions += one(target)
        except PipguardError as err:
            if len(targets) == 1:
                raise
            errors.append((target, err))
    flags = host.flags(args)
    if flags.json:
        host.print_json(
            {
                "actions": [action.to_dict() for action in actions],
                "errors": [{"prefix": str(t.prefix), "error": str(err)} for t, err in errors],
            }
        )
    elif not flags.quiet:
        for action in actions:
            sys.stdout.write(_text(action))
    for target, err in errors:
        sys.stderr.write(f"conda-pipguard: error: {target.prefix}: {err}\n")
    if errors:
        return 1
    return host.dry_run_done() if flags.dry_run else 0


def execute_mark(args: argparse.Namespace, host: Host) -> int:
    """Run ``mark``."""
    dry_run = host.flags(args).dry_run
    soft = bool(getattr(args, "soft", False))
    targets = host.targets(args)
    return _run(host, args, targets, lambda t: mark_one(t, dry_run=dry_run, soft=soft))


def execute_unmark(args: argparse.Namespace, host: Host) -> int:
    """Run ``unmark``."""
    dry_run = host.flags(args).dry_run
    force = bool(getattr(args, "force", False))
    targets = host.targets(args)
    return _run(host, args, targets, lambda t: unmark_one(t, dry_run=dry_run, force=force))
