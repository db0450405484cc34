"""What one conda command learned: made by its pre-command, passed along to its other hooks.

conda calls each hook on its own (pre-command, post-solve, the transaction actions,
post-command), with only its own arguments. A :class:`GuardSession` carries what they share
within one command: the look at the target env, what the post-solve already said, the
variables set for conda's own pip step, whether a failure was reported. The pre-command starts
one; every other hook takes the running one and hands it to what it calls. The next command's
pre-command starts afresh, so nothing leaks from one command to the next (tests and the
benchmark run many in one process).

Imported by every hooked conda command, whatever ``pipguard_mode`` says: a plain class, no
dataclass to build at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.model.glance import Glance


class GuardSession:
    """The state of one conda command, as the guard's hooks learn it.

    Args:
        command: conda's name of the command (``install``, ``env_update``, ...); '' when no
            pre-command ran (a hook of a command the guard does not start on).

    Attributes:
        command: The command.
        warned: Whether a failure of a hook was reported (one warning line per command).
        reported: (distribution, conda package) pairs the post-solve named, so that verify
            adds only what is new (file-level collisions of an explicit install, say).
        saved_environ: Variables set for conda's own pip step, with the values they had
            (None: unset); the post-command puts them back.
        glances: realpath of a prefix -> (mtime of its ``conda-meta``, the look taken of it).
    """

    __slots__ = ("command", "glances", "reported", "saved_environ", "warned")

    def __init__(self, command: str = "") -> None:
        self.command = command
        self.warned = False
        self.reported: set[tuple[str | None, str | None]] = set()
        self.saved_environ: dict[str, str | None] = {}
        self.glances: dict[str, tuple[int, Glance]] = {}


_running: GuardSession | None = None  # the command under way


def start(command: str) -> GuardSession:
    """A new command starts (its pre-command): a fresh session, the running one from now on."""
    global _running
    _running = GuardSession(command)
    return _running


def current() -> GuardSession:
    """The running command's session (one is started when no pre-command ran)."""
    return _running if _running is not None else start("")
