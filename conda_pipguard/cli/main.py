"""The parser both entry points share, and the standalone ``conda-pipguard`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.errors import PipguardError
from ..core.printable import printable
from . import export, fix, history, mark, pip, status, unmark
from .host import Host, StandaloneHost


class _VersionAction(argparse.Action):
    """``--version``: looks the version up only when asked (conda builds this parser often)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object):
        from .. import __version__

        # stdout, as argparse's own version action and ``conda --version`` print it
        sys.stdout.write(f"conda-pipguard {__version__}\n")
        sys.stdout.flush()
        parser.exit()


@dataclass(frozen=True)
class Command:
    """One subcommand: its summary, options and action."""

    name: str
    summary: str
    configure: Callable[..., None]
    execute: Callable[..., int]


COMMANDS: tuple[Command, ...] = (
    Command("status", status.SUMMARY, status.configure_parser, status.execute),
    Command("mark", mark.SUMMARY, mark.configure_parser, mark.execute),
    Command("unmark", unmark.SUMMARY, unmark.configure_parser, unmark.execute),
    Command("fix", fix.SUMMARY, fix.configure_parser, fix.execute),
    Command("export", export.SUMMARY, export.configure_parser, export.execute),
    Command("history", history.SUMMARY, history.configure_parser, history.execute),
    Command("pip", pip.SUMMARY, pip.configure_parser, pip.execute),
)


def configure_parser(parser: argparse.ArgumentParser, host: Host) -> None:
    """Add the subcommands to *parser* (conda's ``pipguard`` parser, or the standalone one)."""
    parser.add_argument("-V", "--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND", required=True)
    for command in COMMANDS:
        child = sub.add_parser(command.name, help=command.summary, description=command.summary)
        command.configure(child, host)
        child.set_defaults(_execute=command.execute)


def build_parser() -> argparse.ArgumentParser:
    """The standalone parser."""
    parser = argparse.ArgumentParser(
        prog="conda-pipguard",
        description="Stop pip from silently breaking conda environments.",
    )
    configure_parser(parser, StandaloneHost())
    return parser


def run(args: argparse.Namespace, host: Host) -> int:
    """Run the subcommand *args* selected, with *host*'s conventions."""
    return args._execute(args, host)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``conda-pipguard`` and ``python -m conda_pipguard``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args, StandaloneHost())
    except PipguardError as err:
        sys.stderr.write(printable(f"conda-pipguard: error: {err}") + "\n")
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except MemoryError:  # past every cap: one line, not a traceback
        sys.stderr.write(
            "conda-pipguard: error: out of memory reading the environment (a file in it is "
            "larger than this machine can read)\n"
        )
        return 1
