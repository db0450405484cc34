"""conda's entry point into conda-pipguard: hook implementations only.

conda imports this module on every command, so it does no I/O and imports nothing heavy: each
hook imports what it needs when conda calls it.
"""

from __future__ import annotations

from collections.abc import Iterator

from conda.plugins import hookimpl
from conda.plugins.types import CondaSubcommand


@hookimpl
def conda_subcommands() -> Iterator[CondaSubcommand]:
    """``conda pipguard status|mark|unmark|fix|export``."""
    from .guard import subcommand

    yield CondaSubcommand(
        name="pipguard",
        summary=subcommand.SUMMARY,
        action=subcommand.execute,
        configure_parser=subcommand.configure_parser,
    )
