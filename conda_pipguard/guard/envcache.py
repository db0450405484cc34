"""One look at the target environment per conda command, kept in the command's session.

pre-command, post-solve and verify all look at the same env before anything changes it. The
first takes a :class:`~..core.model.glance.Glance` of it (directory listings, and only the
records and metadata files that decide something) and keeps it in the
:class:`~.session.GuardSession`; the others reuse it and add the records of the packages their
plan names. The post-transaction hook drops it, since the transaction has just changed the env;
the next command starts with a new session.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..core.model.glance import Glance
    from ..core.rules.impact import PipLayer
    from .session import GuardSession


def glance_of(session: GuardSession, prefix: str | os.PathLike[str]) -> Glance | None:
    """The command's look at *prefix*; None when it is not a conda environment."""
    key = os.path.realpath(prefix)
    try:
        stamp = os.stat(os.path.join(key, "conda-meta")).st_mtime_ns
    except OSError:
        return None
    cached = session.glances.get(key)
    if cached is not None and cached[0] == stamp:  # no record came or went since the look
        return cached[1]
    from ..core.model.glance import glance
    from .context import target_of

    try:
        found = glance(prefix, target_of(prefix).name)
    except (FileNotFoundError, NotADirectoryError):  # gone since the stat above
        return None
    session.glances[key] = (stamp, found)
    return found


def layer_of(
    session: GuardSession, prefix: str | os.PathLike[str], names: Iterable[str]
) -> PipLayer | None:
    """What the impact of a plan of packages *names* needs of *prefix*.

    The command's look plus the installed records of *names* and of the non-conda
    distributions' projects (see :func:`~..core.rules.impact.impact`): no other record is read.
    None when *prefix* is not an env or holds no non-conda distribution (no plan touches any:
    the impact is not even imported).
    """
    seen = glance_of(session, prefix)
    if seen is None or not seen.foreign:
        return None
    from ..core.rules.impact import PipLayer

    return PipLayer(seen.env, seen.records_for(names), seen.foreign)
