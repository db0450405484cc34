"""The soft lock: pip may add PyPI-only packages but may not replace conda's (placeholder)."""

from __future__ import annotations

from pathlib import Path


def is_soft_locked(prefix: Path) -> bool:
    """Whether *prefix* carries our soft lock."""
    return False
