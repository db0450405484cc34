"""``conda pipguard``: the conda subcommand around the shared CLI.

conda builds its whole parser on every command (``conda config`` and ``conda info`` included) and
calls each plugin's ``configure_parser`` while doing so. So this subcommand declares none: conda
then hands it the rest of the command line (a "greedy" plugin subcommand), and the parser, with
every module behind it, is built only when ``conda pipguard`` actually runs.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Sequence

SUMMARY = "Show, prevent and repair what pip did to conda environments."


def build_parser() -> argparse.ArgumentParser:
    """The ``conda pipguard`` parser, with conda's own option helpers."""
    from ..cli.main import configure_parser
    from .host import CondaHost

    parser = argparse.ArgumentParser(prog="conda pipguard", description=SUMMARY)
    configure_parser(parser, CondaHost())
    return parser


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse *argv* on top of conda's own parsed options, and let conda's context see the result.

    conda has already read its global flags (``--json``, ``-v``...) from the whole command line;
    starting from its namespace keeps them, and re-initialising ``context`` with ours makes
    ``-n/-p``, ``--json``, ``--dry-run`` and ``-y`` count as they do for conda's own commands.
    """
    from conda.base.context import context

    base = copy.copy(getattr(context, "_argparse_args", None) or argparse.Namespace())
    for leftover in ("_args", "_plugin_subcommand"):
        if hasattr(base, leftover):
            delattr(base, leftover)
    args = build_parser().parse_args(list(argv), namespace=base)
    context.__init__(argparse_args=args)
    return args


def execute(argv: Sequence[str] | argparse.Namespace) -> int:
    """Run a ``conda pipguard`` subcommand; core errors become ``CondaError``s.

    conda passes the arguments after ``pipguard`` as a tuple (a namespace when there are none).
    """
    from ..cli.main import run
    from ..core.errors import PipguardError
    from .errors import CondaPipguardError
    from .host import CondaHost

    args = parse(() if isinstance(argv, argparse.Namespace) else argv)
    try:
        return run(args, CondaHost())
    except PipguardError as err:
        raise CondaPipguardError.from_core(err) from err
