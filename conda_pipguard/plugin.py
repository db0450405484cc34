"""conda's entry point into conda-pipguard: hook implementations only.

conda imports this module on every command, so it does no I/O and imports nothing heavy: each
hook imports what it needs when conda calls it.
"""

from __future__ import annotations

from collections.abc import Iterator

from conda.plugins import hookimpl
from conda.plugins.types import (
    CondaPostCommand,
    CondaPostSolve,
    CondaPostTransactionAction,
    CondaPreCommand,
    CondaPreTransactionAction,
    CondaSetting,
    CondaSubcommand,
)


@hookimpl
def conda_subcommands() -> Iterator[CondaSubcommand]:
    """``conda pipguard status|mark|unmark|fix|export``, parsed only when it runs."""
    from .guard import subcommand

    yield CondaSubcommand(name="pipguard", summary=subcommand.SUMMARY, action=subcommand.execute)


@hookimpl
def conda_settings() -> Iterator[CondaSetting]:
    """``pipguard_mode``, ``pipguard_auto_mark``, ``pipguard_auto_mark_soft``."""
    from .guard.settings import conda_settings

    yield from conda_settings()


def _pre_command(command: str) -> None:
    from .guard.hooks import pre_command

    pre_command(command)


def _post_command(command: str) -> None:
    from .guard.hooks import post_command

    post_command(command)


def _post_solve(repodata_fn: str, unlink_precs: tuple, link_precs: tuple) -> None:
    from .guard.hooks import post_solve

    post_solve(repodata_fn, unlink_precs, link_precs)


#: conda's names of the commands that change an environment (26.7 calls ``env create`` create).
_MUTATING = {
    "install",
    "create",
    "update",
    "upgrade",
    "remove",
    "uninstall",
    "env_create",
    "env_update",
}


def _keep_evidence(command: str) -> None:
    from .guard.kept_records import keep_evidence

    keep_evidence(command)


#: conda's commands that load the env with its PyPI loader, which deletes pip-replaced records.
_LOADS_PYPI = {"list", "export", "env_export"}


@hookimpl
def conda_pre_commands() -> Iterator[CondaPreCommand]:
    """One warning before conda changes an env pip has touched; keep what conda list deletes."""
    yield CondaPreCommand(name="pipguard-warn", action=_pre_command, run_for=_MUTATING)
    yield CondaPreCommand(name="pipguard-evidence", action=_keep_evidence, run_for=_LOADS_PYPI)


@hookimpl
def conda_post_commands() -> Iterator[CondaPostCommand]:
    """Undo the per-command environment the pre-command set for conda's pip step."""
    yield CondaPostCommand(name="pipguard-restore", action=_post_command, run_for=_MUTATING)


@hookimpl
def conda_post_solves() -> Iterator[CondaPostSolve]:
    """What this plan does to pip's packages, before "Proceed ([y]/n)?"."""
    yield CondaPostSolve(name="pipguard-impact", action=_post_solve)


@hookimpl
def conda_pre_transaction_actions() -> Iterator[CondaPreTransactionAction]:
    """Exact file collisions, after extraction and before any file changes."""
    from .guard.actions import PipguardVerify

    yield CondaPreTransactionAction(name="pipguard-verify", action=PipguardVerify)


@hookimpl
def conda_post_transaction_actions() -> Iterator[CondaPostTransactionAction]:
    """Keep the pip locks right after the transaction."""
    from .guard.actions import PipguardLocks

    yield CondaPostTransactionAction(name="pipguard-locks", action=PipguardLocks)


@hookimpl
def conda_health_checks() -> Iterator[object]:
    """``conda doctor``'s ``pipguard`` check (with a fixer on conda >= 26.1)."""
    from .guard.doctor import health_checks

    yield from health_checks()


@hookimpl
def conda_environment_exporters() -> Iterator[object]:
    """``conda export --format pipguard`` (conda >= 25.7; nothing on older conda)."""
    from .guard.exporter import environment_exporters

    yield from environment_exporters()
