"""An egg-info's file list and ``requires.txt``, through :mod:`importlib.metadata`.

Imported only when an egg-info without RECORD is met: ``importlib.metadata`` knows the
places old setuptools wrote these (``installed-files.txt``, ``SOURCES.txt``, ``requires.txt``
with its sections), and costs a tenth of the scanner's start-up, which dist-infos never need.
"""

from __future__ import annotations

import os
from importlib import metadata as importlib_metadata
from pathlib import Path

from .metafiles import MetadataDir


class _SafeDistribution(importlib_metadata.Distribution):
    """An ``importlib.metadata`` distribution whose files are read by a :class:`MetadataDir`."""

    def __init__(self, meta: MetadataDir) -> None:
        self._meta = meta

    def read_text(self, filename: str) -> str | None:
        """The file's text, or None when missing or refused."""
        return self._meta.read_text(filename)

    def locate_file(self, path: str | os.PathLike[str]) -> Path:
        """Listed paths are relative to the directory holding the egg-info."""
        return self._meta.path.parent / path


def egg_files(meta: MetadataDir) -> tuple[str, ...] | None:
    """The paths an egg-info lists (relative to its site-packages), or None when it lists none."""
    files = _SafeDistribution(meta).files
    return None if files is None else tuple(item.as_posix() for item in files)


def egg_requires(meta: MetadataDir) -> tuple[str, ...]:
    """An egg-info's requirements (``requires.txt``, its sections as markers)."""
    return tuple(_SafeDistribution(meta).requires or ())
