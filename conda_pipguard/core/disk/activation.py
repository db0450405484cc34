"""What pip and uv see in an activated env: the process environment, then the env's variables.

``conda env config vars set`` keeps variables in ``conda-meta/state``; ``conda activate`` sets
them over the shell's (``conda env config vars unset`` leaves :data:`UNSET` there: activation
sets nothing for that name). The user site directory, what bypasses a lock and what the soft
lock overrides all depend on the two together; a diagnosis builds one :class:`Activation` and
every reader takes it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import safeio

#: Where ``conda env config vars`` keeps the env's variables, prefix-relative.
ENV_STATE = "conda-meta/state"
#: What ``conda env config vars unset`` leaves: activation sets nothing for that name.
UNSET = "***unset***"


def state_variables(state: Any) -> dict[str, str]:
    """The variables activation sets, from the decoded ``conda-meta/state`` (else {})."""
    env_vars = state.get("env_vars") if isinstance(state, dict) else None
    if not isinstance(env_vars, dict):
        return {}
    return {str(key): str(value) for key, value in env_vars.items() if value != UNSET}


def read_env_vars(prefix: Path) -> dict[str, str]:
    """Variables stored by ``conda env config vars set`` (``conda-meta/state``; {} if none)."""
    try:
        state = safeio.load_json(prefix / ENV_STATE, limit=safeio.SMALL_LIMIT, root=str(prefix))
    except (OSError, ValueError):
        return {}
    return state_variables(state)


@dataclass(frozen=True)
class Activation:
    """The environment of a process run in the activated env.

    Attributes:
        environ: The process environment (the shell's, before activation).
        env_vars: The env's ``conda env config vars``, which activation sets over it.
    """

    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    env_vars: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, prefix: Path, environ: Mapping[str, str] | None = None) -> Activation:
        """*environ* (default: this process's) with *prefix*'s variables."""
        return cls(dict(os.environ if environ is None else environ), read_env_vars(prefix))

    @cached_property
    def merged(self) -> dict[str, str]:
        """The variables with the env activated: the env's win."""
        return {**self.environ, **self.env_vars}
