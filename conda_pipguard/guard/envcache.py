"""One look at the target environment per conda command, shared by the guard's hooks.

pre-command, post-solve and verify all look at the same env before anything changes it. The
first takes a :class:`~..core.model.glance.Glance` of it (directory listings, and only the
records and metadata files that decide something); the others reuse it and add the records of
the packages their plan names. The post-transaction hook drops it, since the transaction has
just changed the env, and so does the next command's pre-command.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..core.model.glance import Glance
    from ..core.rules.impact import PipLayer

#: realpath of the prefix -> (mtime of its conda-meta, the glance taken of it).
_glances: dict[str, tuple[int, Glance]] = {}


def glance_of(prefix: str | os.PathLike[str]) -> Glance | None:
    """The shared look at *prefix*; None when it is not a conda environment."""
    key = os.path.realpath(prefix)
    try:
        stamp = os.stat(os.path.join(key, "conda-meta")).st_mtime_ns
    except OSError:
        return None
    cached = _glances.get(key)
    if cached is not None and cached[0] == stamp:  # no record came or went since the look
        return cached[1]
    from ..core.model.glance import glance
    from .context import target_of

    try:
        found = glance(prefix, target_of(prefix).name)
    except (FileNotFoundError, NotADirectoryError):  # gone since the stat above
        return None
    _glances[key] = (stamp, found)
    return found


def layer_of(prefix: str | os.PathLike[str], names: Iterable[str]) -> PipLayer | None:
    """What the impact of a plan of packages *names* needs of *prefix*; None when not an env.

    The shared look plus the installed records of *names* and of the non-conda distributions'
    projects (see :func:`~..core.rules.impact.impact`): no other record is read.
    """
    seen = glance_of(prefix)
    if seen is None:
        return None
    from ..core.rules.impact import PipLayer

    return PipLayer(seen.env, seen.records_for(names), seen.foreign)


def forget() -> None:
    """Drop every look: the env changed (after a transaction) or a new command starts."""
    _glances.clear()
