"""conda-facing errors: ``CondaError`` subclasses, printed by conda as one line."""

from __future__ import annotations

from conda.exceptions import CondaError

from ..core.errors import PipguardError
from ..core.printable import printable


class CondaPipguardError(CondaError):
    """An error of ``conda pipguard``; ``return_code`` follows the core error's exit code."""

    def __init__(self, message: str, return_code: int = 1) -> None:
        super().__init__(message)
        self.return_code = return_code

    @classmethod
    def from_core(cls, err: PipguardError) -> CondaPipguardError:
        """Wrap a core error, keeping its message and exit code."""
        return cls(printable(str(err)), err.exit_code)


class PipguardBlocked(CondaError):
    """``pipguard_mode: block`` refused a transaction that would break non-conda packages.

    The message lists what would break and ends with the commands that let the user go on.
    """


class PipguardSettingError(CondaError):
    """A ``pipguard_`` setting has a value conda-pipguard cannot act on; the command is refused.

    The message is one line naming the valid values.
    """
