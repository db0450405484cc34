"""``conda pipguard unmark``: lift the locks ``mark`` put on an environment.

Both go: the hard lock (our PEP 668 marker; with ``--force`` also one another tool wrote, never
one a conda package owns) and the soft lock, whose files are restored as they were before it.
"""

from __future__ import annotations

import argparse

from ..core.locks.results import LockAction
from .common import Target
from .host import Host
from .locking import add_lock_options, run_on_targets, skipped

SUMMARY = "Lift the pip locks that `conda pipguard mark` put on an environment."


def configure_parser(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``unmark``."""
    add_lock_options(
        parser,
        host,
        "--force",
        "Also remove a marker conda-pipguard did not write (never one a conda package owns).",
    )


def unmark_one(target: Target, *, dry_run: bool, force: bool) -> list[LockAction]:
    """Lift both locks from one environment.

    Raises:
        LockError: A lock file cannot be removed or restored.
    """
    from ..core.locks.writer import env_lock  # not at import: building the parser imports each verb

    with env_lock(target.prefix):
        return _unmark(target, dry_run=dry_run, force=force)


def _unmark(target: Target, *, dry_run: bool, force: bool) -> list[LockAction]:
    from ..core.disk.environment import load_environment, target_flag
    from ..core.locks.marker import remove_marker
    from ..core.locks.softremove import remove_soft_lock

    env = load_environment(target.prefix, target.name, include_user_site=False)
    if env.python is None:
        return [skipped(target, "hard")]
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


def execute(args: argparse.Namespace, host: Host) -> int:
    """Run ``unmark``."""
    dry_run = host.flags(args).dry_run
    force = bool(getattr(args, "force", False))
    targets = host.targets(args)
    return run_on_targets(
        host, args, targets, lambda t: unmark_one(t, dry_run=dry_run, force=force), "unmark"
    )
