"""CEP 22 frozen environments: ``conda-meta/frozen``, read as conda reads it.

conda (25.5 and later) refuses to change an environment that holds ``conda-meta/frozen``
unless ``--override-frozen`` is given (``protect_frozen_envs: false`` in ``.condarc`` does the
same). The file is a marker; when it has content, that is JSON whose ``message`` says why
(conda's ``PrefixData.is_frozen`` and ``assert_not_frozen``). Every verb of ours that would
change an environment asks :func:`read_freeze` first and, when it is frozen, changes nothing
and says so in one line (:func:`refuse_if_frozen`); ``status`` shows the freeze. When the user
overrides the freeze, the repair's own conda commands carry the flag too
(:func:`~..repair.plan.override_frozen`):
conda would refuse them otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import EnvironmentFrozen
from .safeio import SMALL_LIMIT, UnreadableFile, loads_json, read_text

#: The marker, prefix-relative.
FROZEN_FILE = "conda-meta/frozen"
#: The flag that lets a command change a frozen environment (conda's own name for it).
OVERRIDE = "--override-frozen"
#: A freeze message is shown on one line, cut to this many characters.
_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class Freeze:
    """The freeze of an environment.

    Attributes:
        message: Why it is frozen, on one line ('' when the file gives no reason, or its
            reason cannot be read: the environment is frozen all the same, as for conda).
    """

    message: str = ""

    def to_dict(self) -> dict[str, str]:
        """The ``frozen`` object of ``status --json``."""
        return {"path": FROZEN_FILE, "message": self.message}

    def describe(self) -> str:
        """``frozen (conda-meta/frozen: "reason")``."""
        reason = f': "{self.message}"' if self.message else ""
        return f"frozen ({FROZEN_FILE}{reason})"


def read_freeze(prefix: str | os.PathLike[str]) -> Freeze | None:
    """The freeze of *prefix*, or None when it is not frozen.

    Frozen means ``conda-meta/frozen`` is a file (a link to one counts, as for conda). Its
    reason is read boundedly, inside the prefix only; a reason that cannot be read, or is not
    JSON with a string ``message``, leaves the environment frozen without a reason.
    """
    root = os.fspath(prefix)
    path = os.path.join(root, *FROZEN_FILE.split("/"))
    if not os.path.isfile(path):
        return None
    try:
        text = read_text(path, limit=SMALL_LIMIT, root=root)
        data = loads_json(text) if text.strip() else {}
    except (UnreadableFile, OSError, ValueError):
        return Freeze()
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str):
        return Freeze()
    one_line = " ".join(message.split())
    if len(one_line) > _MESSAGE_CHARS:
        one_line = one_line[: _MESSAGE_CHARS - 3] + "..."
    return Freeze(one_line)


def refuse_if_frozen(prefix: str | os.PathLike[str], *, override: bool, verb: str) -> None:
    """Stop *verb* before it changes *prefix* when that environment is frozen.

    Args:
        prefix: The environment.
        override: ``--override-frozen`` was given (or conda's ``protect_frozen_envs`` is off).
        verb: What would have been done, for the message (``mark``, ``fix``...).

    Raises:
        EnvironmentFrozen: *prefix* is frozen and *override* is false; one line that gives
            the freeze's reason and the flag.
    """
    if override:
        return
    freeze = read_freeze(prefix)
    if freeze is not None:
        raise EnvironmentFrozen(prefix, freeze.describe(), OVERRIDE, verb)
