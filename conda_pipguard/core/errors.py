"""Every error of the pure core: one base, and classes that build their one line from facts.

The conda side wraps them (:mod:`conda_pipguard.guard.errors`); the standalone command prints
the line and exits with :attr:`PipguardError.exit_code`. A raise site passes what happened
(the path, the reason, what to do); the wording lives here, once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable


def _reason(err: OSError | str) -> str:
    return err if isinstance(err, str) else (err.strerror or str(err))


class PipguardError(Exception):
    """Base of every error conda-pipguard reports to the user as one line.

    Attributes:
        exit_code: The process exit code for this error (2: the target or arguments are wrong).
    """

    exit_code = 1


# -- the target ----------------------------------------------------------------------------


class NotACondaEnvironment(PipguardError):
    """The target directory is not a conda environment.

    Args:
        prefix: The target.
        exists: Whether the directory exists (then it has no ``conda-meta``).
    """

    exit_code = 2

    def __init__(self, prefix: str | os.PathLike[str], *, exists: bool) -> None:
        self.prefix = os.fspath(prefix)
        if exists:
            super().__init__(f"{self.prefix} is not a conda environment (no conda-meta directory)")
        else:
            super().__init__(f"{self.prefix} does not exist or is not a directory")


class EnvironmentNotFound(PipguardError):
    """No environment of that name is known.

    Args:
        name: The name asked for.
    """

    exit_code = 2

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no environment named {name!r} is known; give its path with -p PREFIX")


class EnvironmentFrozen(PipguardError):
    """A verb would change a frozen environment (CEP 22) and the override was not given.

    Args:
        prefix: The environment.
        freeze: How the freeze describes itself (its file and reason).
        flag: The flag that overrides it.
        verb: What would have been done (``mark``, ``fix``...).
    """

    def __init__(self, prefix: str | os.PathLike[str], freeze: str, flag: str, verb: str) -> None:
        self.prefix = os.fspath(prefix)
        super().__init__(
            f"{self.prefix} is {freeze}: nothing was changed. Add {flag} to {verb} it anyway, "
            "at your own risk."
        )


class UsageError(PipguardError):
    """Options that cannot go together, or a step the command cannot take as asked.

    Args:
        problem: What is wrong.
        fix: What to do instead.
    """

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}: {fix}")


class CannotWrite(PipguardError):
    """A file the user asked for (an export) cannot be written.

    Args:
        path: The file.
        err: Why.
    """

    def __init__(self, path: str | os.PathLike[str], err: OSError | str) -> None:
        self.path = os.fspath(path)
        super().__init__(f"cannot write {self.path}: {_reason(err)}")


class InvalidSetting(PipguardError):
    """A setting has a value conda-pipguard cannot act on: refused, never guessed at.

    Args:
        name: The setting (or the variable that sets it).
        value: Its value.
        valid: The values it takes.
    """

    exit_code = 2

    def __init__(self, name: str, value: str, valid: Iterable[str]) -> None:
        super().__init__(f"{name} is {value!r}; use one of: {', '.join(valid)}")


# -- the checked pip install -------------------------------------------------------------


class PipArgumentError(PipguardError):
    """pip's arguments ask for something a checked install cannot do.

    Args:
        problem: What, and what to do instead.
    """

    exit_code = 2


class CannotCheck(PipguardError):
    """The install cannot be checked (no pip, pip's refusal, a wheel that cannot be read).

    Nothing was written in the env; the exit code is 2.

    Args:
        reason: Why, in one line.
        output: What pip printed, when pip was the one who refused.
        returncode: pip's exit code then (None when pip did not refuse, or was stopped).
    """

    exit_code = 2

    def __init__(self, reason: str, output: str = "", returncode: int | None = None) -> None:
        super().__init__(reason)
        self.output = output
        self.returncode = returncode


class InstallRefused(PipguardError):
    """The checked install would harm conda's packages and was not let through.

    Args:
        reason: What it would harm, and the way through (or why there is none).
    """


# -- repair --------------------------------------------------------------------------------


class RepairError(PipguardError):
    """The repair cannot start or cannot go on; the message says what was (not) changed."""


class PackagesUnavailable(RepairError):
    """conda cannot get the packages the repair would reinstall; nothing was changed.

    Args:
        specs: The ``name=version=build`` specs asked for.
        reason: conda's own line.
        hint: What the user can do about it.
    """

    def __init__(self, specs: Iterable[str], reason: str, hint: str) -> None:
        self.specs = tuple(specs)
        super().__init__(
            f"conda cannot get {', '.join(self.specs)}: {reason}; nothing was changed ({hint})"
        )


# -- locks ---------------------------------------------------------------------------------


class LockError(PipguardError):
    """A lock cannot be written or removed (read-only env, symlink, outside the prefix)."""


class OutsidePrefix(LockError):
    """A path's directory resolves outside the environment: never written or deleted.

    Args:
        path: The path.
        prefix: The environment.
    """

    def __init__(self, path: str | os.PathLike[str], prefix: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        super().__init__(
            f"{os.path.dirname(self.path)} resolves outside {os.fspath(prefix)}; "
            "conda-pipguard never writes or deletes outside the environment"
        )


class LinkRefused(LockError):
    """A symbolic link is where a lock file goes or is: never followed.

    Args:
        path: The link.
        fix: What to do instead ('' for none).
    """

    def __init__(self, path: str | os.PathLike[str], fix: str = "") -> None:
        self.path = os.fspath(path)
        tail = f". {fix}" if fix else ""
        super().__init__(f"{self.path} is a symbolic link; conda-pipguard does not follow it{tail}")


class NotARegularFile(LockError):
    """Something other than a regular file (of reasonable size) is where a lock file is.

    Args:
        path: The path.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        super().__init__(f"{self.path} is not a regular file of reasonable size; remove it by hand")


class CannotLock(LockError):
    """A lock file cannot be read, understood, written or removed (everything is as before).

    Args:
        action: What was to be done, as in "cannot *action* PATH" (``read``, ``change``, ``add
            the soft lock to``, ...).
        path: The file.
        why: What stands in the way (an ``OSError``, or a line).
        fix: What the user can do about it ('' for nothing to say).
    """

    def __init__(
        self, action: str, path: str | os.PathLike[str], why: OSError | str, fix: str = ""
    ) -> None:
        self.path = os.fspath(path)
        tail = f"; {fix}" if fix else ""
        super().__init__(f"cannot {action} {self.path}: {_reason(why)}{tail}")
