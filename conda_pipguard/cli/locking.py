"""What ``mark`` and ``unmark`` share: acting on each environment, and telling what was done."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..core.errors import PipguardError
from ..core.locks.results import LockAction
from ..core.printable import printable
from .common import Target
from .host import Host


def add_lock_options(
    parser: argparse.ArgumentParser, host: Host, flag: str, help_text: str
) -> None:
    """``mark``'s and ``unmark``'s options: targets (several), output, dry run, frozen, *flag*."""
    host.add_target_options(parser, many=True)
    host.add_output_options(parser, dry_run=True)
    host.add_frozen_option(parser)
    parser.add_argument(flag, action="store_true", help=help_text)


def skipped(target: Target, lock: str) -> LockAction:
    """The action of an environment without Python: nothing to lock or unlock."""
    return LockAction(
        str(target.prefix), None, "skipped", "the environment has no Python", lock=lock
    )


def _text(action: LockAction) -> str:
    verb = f"would be {action.action}" if action.dry_run else action.action
    where = f" ({action.path})" if action.path else ""
    return printable(f"{action.prefix}: {action.lock} lock {verb}{where}: {action.reason}") + "\n"


def run_on_targets(
    host: Host,
    args: argparse.Namespace,
    targets: list[Target],
    one: Callable[[Target], list[LockAction]],
    verb: str,
) -> int:
    """Act on every target; with several, an error on one does not stop the others.

    A frozen environment is refused first (without ``--override-frozen``), as *verb* would
    change it.

    Returns:
        0, or 1 when an environment failed (its error is reported, one line each); a dry run
        ends as the host ends it.
    """
    from ..core.disk.frozen import refuse_if_frozen

    flags = host.flags(args)
    actions: list[LockAction] = []
    errors: list[tuple[Target, PipguardError]] = []
    for target in targets:
        try:
            refuse_if_frozen(target.prefix, override=flags.override_frozen, verb=verb)
            actions += one(target)
        except PipguardError as err:
            if len(targets) == 1:
                raise
            errors.append((target, err))
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
        sys.stderr.write(printable(f"conda-pipguard: error: {target.prefix}: {err}") + "\n")
    if errors:
        return 1
    return host.dry_run_done() if flags.dry_run else 0
