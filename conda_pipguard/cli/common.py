"""What every subcommand and both hosts share: the environment a command acts on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """An environment to act on.

    Attributes:
        prefix: Absolute path.
        name: Name, when known.
    """

    prefix: Path
    name: str | None = None
