"""``conda pipguard mark``: lock an environment against pip.

Two locks, two layers:

* ``mark`` writes the hard lock, a PEP 668 ``EXTERNALLY-MANAGED`` marker: pip and uv refuse
  every install. A soft lock already there stays, so that even
  ``pip install --break-system-packages`` cannot replace conda's packages.
* ``mark --soft`` writes the soft lock: pip and uv may add packages conda does not have, but
  cannot upgrade, downgrade or replace conda's -- pip always (it reads the env's pip.conf), uv
  only in the activated env (it reads ``UV_CONSTRAINT``, which activation sets). Asking for it
  on a hard-locked env means "let pip add packages again": our hard marker goes (a foreign one
  stays, and is reported).

``unmark`` (:mod:`.unmark`) lifts both.
"""

from __future__ import annotations

import argparse
import dataclasses

from ..core.locks.results import LockAction
from .common import Target
from .host import Host
from .locking import add_lock_options, run_on_targets, skipped

SUMMARY = "Lock an environment against pip (PEP 668 marker, or --soft pins)."


def configure_parser(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``mark``."""
    add_lock_options(
        parser,
        host,
        "--soft",
        "Soft lock: pip may add packages conda does not have, but not upgrade, downgrade "
        "or replace conda's. pip is held always (the env's pip.conf names the pins), uv only "
        "in the activated env (UV_CONSTRAINT, set by conda activate).",
    )


def mark_one(target: Target, *, dry_run: bool, soft: bool = False) -> list[LockAction]:
    """Lock one environment: the hard marker, or with *soft* the soft lock.

    The env lock is held throughout, so that concurrent ``mark``/``unmark`` runs and conda's
    post-transaction refresh each see the env as another left it.

    Raises:
        LockError: A lock file cannot be written (nothing is left half-written).
    """
    from ..core.locks.writer import env_lock  # not at import: building the parser imports each verb

    with env_lock(target.prefix):
        return _mark(target, dry_run=dry_run, soft=soft)


def _mark(target: Target, *, dry_run: bool, soft: bool) -> list[LockAction]:
    from ..core.disk.environment import load_environment, target_flag
    from ..core.locks.marker import remove_marker, write_marker
    from ..core.locks.soft import conda_owned, write_soft_lock

    env = load_environment(target.prefix, target.name, include_user_site=False)
    if env.python is None:
        return [skipped(target, "soft" if soft else "hard")]
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


def execute(args: argparse.Namespace, host: Host) -> int:
    """Run ``mark``."""
    dry_run = host.flags(args).dry_run
    soft = bool(getattr(args, "soft", False))
    targets = host.targets(args)
    return run_on_targets(
        host, args, targets, lambda t: mark_one(t, dry_run=dry_run, soft=soft), "mark"
    )
