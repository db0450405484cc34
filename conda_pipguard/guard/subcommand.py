"""``conda pipguard``: the conda subcommand around the shared CLI."""

from __future__ import annotations

import argparse

from ..cli.main import configure_parser as _configure
from ..cli.main import run
from ..core.errors import PipguardError

SUMMARY = "Show, prevent and repair what pip did to conda environments."


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Build the ``conda pipguard`` parser with conda's own option helpers."""
    from .host import CondaHost

    _configure(parser, CondaHost())


def execute(args: argparse.Namespace) -> int:
    """Run a ``conda pipguard`` subcommand; core errors become ``CondaError``s."""
    from .errors import CondaPipguardError
    from .host import CondaHost

    try:
        return run(args, CondaHost())
    except PipguardError as err:
        raise CondaPipguardError.from_core(err) from err
