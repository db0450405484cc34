"""Never break conda: a failing hook prints one warning line and conda goes on.

A hook runs inside every ``conda install``; a bug of ours, a corrupt record or an unreadable
file must not stop the user's command. Only a deliberate block (:class:`PipguardBlocked`)
propagates. The traceback is shown at debug verbosity (``-vvv``) only.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("conda_pipguard")


def quiet() -> bool:
    """Whether conda was asked for machine output or silence (``--json``, ``--quiet``)."""
    from conda.base.context import context

    return bool(context.json or context.quiet)


def say(lines: list[str]) -> None:
    """Print guard output to stderr, unless conda is in ``--json``/``--quiet`` mode."""
    if lines and not quiet():
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()


def never_break_conda(hook: str) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Run a hook so that any failure other than a deliberate block becomes one warning line."""

    def decorate(function: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            from .errors import PipguardBlocked

            try:
                return function(*args, **kwargs)
            except PipguardBlocked:
                raise
            except Exception as err:
                from conda.base.context import context

                log.debug("conda-pipguard %s failed", hook, exc_info=True)
                if not context.json:
                    detail = f"{type(err).__name__}: {err}".splitlines()[0][:200]
                    hint = "" if context.debug else " (run with -vvv for the traceback)"
                    sys.stderr.write(
                        f"conda-pipguard: warning: the {hook} check was skipped: {detail}{hint}\n"
                    )
                return None

        return wrapper

    return decorate
