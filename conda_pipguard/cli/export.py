"""``conda pipguard export``: an environment.yml that recreates the env without pip's damage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import CannotWrite
from ..core.printable import printable
from .host import Host

SUMMARY = "Write an environment.yml: conda's packages, and pip only for what conda lacks."


def configure_parser(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``export``."""
    host.add_target_options(parser)
    parser.add_argument(
        "-f", "--file", metavar="FILE", help="Write to FILE instead of standard output."
    )
    parser.add_argument(
        "--pinned",
        action="store_true",
        help="Pin every conda package to its exact version and build (default: the specs the "
        "user asked conda for, from conda-meta/history).",
    )
    parser.add_argument(
        "--all-pip",
        action="store_true",
        help="Also list the non-conda distributions that are only dependencies of others.",
    )


def execute(args: argparse.Namespace, host: Host) -> int:
    """Run ``export``: the YAML on stdout (or in ``--file``), notes on stderr."""
    from ..core.diagnosis import diagnose  # not at import: building the parser imports each verb
    from ..core.repair.export import export_spec, render_yaml

    (target,) = host.targets(args)[:1]
    diagnosis = diagnose(target.prefix, target.name)
    result = export_spec(
        diagnosis,
        pinned=bool(getattr(args, "pinned", False)),
        all_pip=bool(getattr(args, "all_pip", False)),
    )
    text = render_yaml(result.spec)
    for note in result.notes:
        sys.stderr.write(printable(f"note: {note}") + "\n")
    path = getattr(args, "file", None)
    if path:
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as err:
            raise CannotWrite(path, err) from None
        sys.stderr.write(f"wrote {path}\n")
    else:
        sys.stdout.write(text)
    return 0
