"""Never break conda, never fail open: what a failing hook does.

A hook runs inside every ``conda install``; a bug of ours, a corrupt record or an unreadable
file must not stop the user's command: in ``warn`` mode the first failure of a conda command
prints one warning line (the traceback at debug verbosity, ``-vvv``; nothing under ``--json``
or ``--quiet``, like every warning of ours) and conda goes on. When the user asked for
``block`` (or the mode cannot be read), a failure before the transaction refuses it instead,
in one line: a guard that cannot check must not let the transaction through.
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
        from ..core.printable import printable_lines  # not at import: see plugin.py

        sys.stderr.write(printable_lines(lines) + "\n")
        sys.stderr.flush()


#: A failure's own text is cut to this many characters; it comes last, after the advice.
_DETAIL = 300


def _detail(err: BaseException) -> str:
    from ..core.printable import printable

    text = printable(" ".join(f"{type(err).__name__}: {err}".split()))
    return text if len(text) <= _DETAIL else text[: _DETAIL - 3] + "..."


def _refusal(hook: str, err: BaseException) -> Exception:
    from .errors import PipguardCheckFailed

    return PipguardCheckFailed(hook, _detail(err))


def never_break_conda(
    hook: str, *, fail_closed: str | None = "raise"
) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Run a hook so that a failure is one warning line per command, or a refusal in block mode.

    Args:
        hook: The hook's name, for the messages.
        fail_closed: How the hook refuses in ``block`` mode (or with a mode that cannot be
            read): ``raise`` the refusal, ``return`` it (conda's ``Action.verify``), or None for
            hooks that run after the transaction, where refusing would only roll conda back.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return function(*args, **kwargs)
            except Exception as err:
                # imported only when something failed: a hook that works pays nothing for it
                from .errors import CondaPipguardError

                refusal: Exception | None = None
                if isinstance(err, CondaPipguardError):
                    if fail_closed == "return":
                        return err  # type: ignore[return-value]
                    if fail_closed == "raise":
                        raise
                else:
                    log.debug("conda-pipguard %s failed", hook, exc_info=True)
                    refusal = _refusal(hook, err) if fail_closed and _block_intended() else None
                failure: Exception = err
            if refusal is not None:
                if fail_closed == "return":
                    return refusal  # type: ignore[return-value]
                raise refusal from failure
            _warn_once(hook, failure)
            return None

        return wrapper

    return decorate


def _block_intended() -> bool:
    from . import settings

    try:
        return settings.block_intended()
    except Exception:
        log.debug("conda-pipguard cannot read its mode", exc_info=True)
        return True


def _warn_once(hook: str, err: BaseException) -> None:
    from conda.base.context import context

    from .session import current

    session = current()  # the command's first failure, and only that one, is reported
    if session.warned or quiet():
        return
    session.warned = True
    hint = "" if context.debug else " (run with -vvv for the traceback)"
    sys.stderr.write(
        f"conda-pipguard: warning: the {hook} check was skipped{hint}: {_detail(err)}\n"
    )
