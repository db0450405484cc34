"""Errors of the pure core; the conda glue re-raises them as ``CondaError`` subclasses."""

from __future__ import annotations


class PipguardError(Exception):
    """Base of every error conda-pipguard reports to the user as one line.

    Attributes:
        exit_code: The process exit code for this error (2: the target or arguments are wrong).
    """

    exit_code = 1


class NotACondaEnvironment(PipguardError):
    """The target directory is not a conda environment."""

    exit_code = 2


class EnvironmentNotFound(PipguardError):
    """No environment of that name is known."""

    exit_code = 2
