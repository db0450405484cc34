"""conda-facing errors: one ``CondaError`` base, printed by conda as one line (or one block).

Each class builds its message from what happened, as conda's own errors do; the raise sites
pass facts, not sentences.
"""

from __future__ import annotations

from collections.abc import Sequence

from conda.exceptions import CondaError

from ..core.errors import PipguardError
from ..core.printable import printable

#: How every refusal ends: the one way past it, for this command only.
_GO_AHEAD = "rerun this one command with CONDA_PLUGINS_PIPGUARD_MODE=warn to go ahead anyway"


class CondaPipguardError(CondaError):
    """An error of conda-pipguard inside conda; ``return_code`` follows the core's exit code."""

    def __init__(self, message: str, return_code: int = 1) -> None:
        super().__init__(message)
        self.return_code = return_code

    @classmethod
    def from_core(cls, err: PipguardError) -> CondaPipguardError:
        """Wrap a core error, keeping its message and exit code."""
        return cls(printable(str(err)), err.exit_code)


class PipguardBlocked(CondaPipguardError):
    """``pipguard_mode: block`` refused a transaction that would break non-conda packages.

    Args:
        impacts: What the transaction would do, one rendered line (or two) per impact.
        target: How commands name the env (``-n NAME`` / ``-p PATH``).
    """

    def __init__(self, impacts: Sequence[str], target: str) -> None:
        lines = [
            "conda-pipguard blocked this transaction: it would break packages pip installed "
            "(pipguard_mode: block). Nothing was changed.",
            *impacts,
            f"Repair first with `conda pipguard fix {printable(target)}`, or {_GO_AHEAD}.",
        ]
        super().__init__("\n".join(lines))


class PipguardCheckFailed(PipguardBlocked):
    """In block mode, a check that failed refuses the transaction: never fail open.

    A block like any other (what the transaction would do is unknown), in one line.

    Args:
        hook: Which of the guard's checks failed.
        detail: The failure, in one short line.
    """

    def __init__(self, hook: str, detail: str) -> None:
        CondaPipguardError.__init__(
            self,
            f"conda-pipguard refused this transaction (pipguard_mode: block): its {hook} check "
            "failed, so what the transaction does to pip's packages is unknown. Nothing was "
            f"changed; {_GO_AHEAD}. The error: {detail}",
        )


class PipguardSettingError(CondaPipguardError):
    """A ``pipguard_`` setting has a value conda-pipguard cannot act on; the command is refused.

    Args:
        reason: What is wrong with it (naming the valid values).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"conda-pipguard cannot run: {reason}")
