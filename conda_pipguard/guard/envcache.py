"""One read of the target environment per conda command, shared by the guard's hooks.

pre-command, post-solve and verify all look at the same env before anything changes it: the
first reads it (cheaply: records and directory names, no distribution metadata) and the others
reuse that read and the ownership index built on it. The post-transaction hook drops it, since
the transaction has just changed the env, and so does the next command's pre-command.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.environment import Environment
    from ..core.impact import PipLayer

#: realpath of the prefix -> (mtime of its conda-meta, the layer read for it).
_layers: dict[str, tuple[int, PipLayer]] = {}


def layer_of(prefix: str | os.PathLike[str]) -> PipLayer | None:
    """The shared read of *prefix*; None when it is not a conda environment."""
    key = os.path.realpath(prefix)
    try:
        stamp = os.stat(os.path.join(key, "conda-meta")).st_mtime_ns
    except OSError:
        return None
    cached = _layers.get(key)
    if cached is not None and cached[0] == stamp:  # no record came or went since the read
        return cached[1]
    from ..core.environment import load_environment
    from ..core.impact import PipLayer
    from .context import target_of

    env = load_environment(prefix, target_of(prefix).name, include_user_site=False, metadata=False)
    layer = PipLayer(env)
    _layers[key] = (stamp, layer)
    return layer


def env_of(prefix: str | os.PathLike[str]) -> Environment | None:
    """The shared cheap read of *prefix*'s environment; None when it is not one."""
    layer = layer_of(prefix)
    return layer.env if layer is not None else None


def forget() -> None:
    """Drop every read: the env changed (after a transaction) or a new command starts."""
    _layers.clear()
