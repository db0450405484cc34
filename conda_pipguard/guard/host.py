"""``CondaHost``: the subcommands as conda's own commands behave.

The options are conda's (``add_parser_prefix``, ``add_parser_json``,
``add_output_and_prompt_options``), every flag is read from conda's ``context`` (so ``CONDA_JSON``,
``CONDA_ALWAYS_YES``, ``.condarc`` count as for ``conda install``), JSON goes through conda's
``stdout_json``, the question through ``confirm_yn``, and conda's conventions end the command:
a missing environment is conda's ``EnvironmentLocationNotFound`` or
``DirectoryNotACondaEnvironmentError``, ``--json`` means yes, and a dry run ends in ``DryRunExit``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from ..cli.common import Target
from ..cli.host import OFFLINE_HELP, Flags, add_all_option
from ..core.rules.versionspec import Matcher
from .context import conda_targets
from .matcher import conda_matcher


def conda_launcher() -> tuple[str, ...]:
    """How to run conda in a subprocess: this interpreter's ``-m conda``.

    The ``conda`` script next to the interpreter may be the one pip generates, which refuses most
    commands; ``python -m conda`` always works.
    """
    return (sys.executable, "-m", "conda")


class CondaHost:
    """``conda pipguard``: conda's options, context, output, prompts, errors and exits."""

    def add_target_options(self, parser: argparse.ArgumentParser, *, many: bool = False) -> None:
        """The ``-n/-p`` of conda's own commands, and ``--all`` when *many*."""
        from conda.cli.helpers import add_parser_prefix

        add_parser_prefix(parser)
        if many:
            add_all_option(parser)

    def add_output_options(
        self, parser: argparse.ArgumentParser, *, dry_run: bool = False, yes: bool = False
    ) -> None:
        """The ``--json``/``-q``/``-v`` group of conda, with ``-d``/``-y`` when asked."""
        from conda.cli.helpers import add_output_and_prompt_options, add_parser_json

        if dry_run or yes:
            add_output_and_prompt_options(parser)
        else:
            add_parser_json(parser)

    def add_offline_option(self, parser: argparse.ArgumentParser) -> None:
        """``--offline``, unset by default: ``context`` decides (``CONDA_OFFLINE``, .condarc)."""
        from conda.common.constants import NULL

        parser.add_argument("--offline", action="store_true", default=NULL, help=OFFLINE_HELP)

    def add_frozen_option(self, parser: argparse.ArgumentParser) -> None:
        """The ``--override-frozen`` of conda (it sets ``context.protect_frozen_envs``)."""
        from conda.cli.helpers import add_parser_frozen_env

        add_parser_frozen_env(parser)

    def flags(self, args: argparse.Namespace) -> Flags:
        """The flags from ``context`` (unset options are NULL in *args*); ``--json`` means yes.

        A frozen environment may be changed when conda's ``protect_frozen_envs`` is off:
        ``--override-frozen``, or ``protect_frozen_envs: false`` in ``.condarc``.
        """
        from conda.base.context import context

        return Flags(
            json=bool(context.json),
            quiet=bool(context.quiet),
            dry_run=bool(context.dry_run),
            yes=bool(context.always_yes or context.json),
            offline=bool(context.offline),
            override_frozen=not context.protect_frozen_envs,
        )

    def targets(self, args: argparse.Namespace) -> list[Target]:
        """The env conda resolves from ``-n/-p`` (or the active one, else base), or all it knows.

        Raises:
            EnvironmentLocationNotFound: The one target does not exist.
            DirectoryNotACondaEnvironmentError: It exists but is not a conda environment.
        """
        return conda_targets(all_envs=bool(getattr(args, "all_envs", False)))

    def matcher_factory(self) -> Callable[[], Matcher | None]:
        """conda_matcher: a module-level function, so it pickles into ``--jobs`` workers."""
        return conda_matcher

    def conda_launcher(self) -> tuple[str, ...]:
        """This interpreter's ``-m conda``."""
        return conda_launcher()

    def print_json(self, data: Any) -> None:
        """Through ``stdout_json`` (conda's JSON reporter backend), and a newline."""
        from conda.cli.common import stdout_json

        stdout_json(data)
        sys.stdout.write("\n")

    def confirm(self, question: str, default: bool = False) -> bool:
        """Ask with ``confirm_yn`` (default no unless *default*): ``CondaSystemExit`` on no."""
        from conda.reporters import confirm_yn

        return confirm_yn(question, default="yes" if default else "no", dry_run=False)

    def guard_mode(self) -> str:
        """``pipguard_mode`` from conda's settings.

        Raises:
            PipguardSettingError: The value is none of the modes.
        """
        from .settings import mode

        return mode()

    def dry_run_done(self) -> int:
        """A dry run ends as conda's commands end it.

        Raises:
            DryRunExit: Always (exit code 0 under conda's exception handler).
        """
        from conda.exceptions import DryRunExit

        raise DryRunExit()
