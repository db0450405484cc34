"""Bounded, non-blocking reads of a distribution's metadata files (through :mod:`.safeio`).

A package author's files can be anything: a FIFO, a link to ``/dev/zero``, a RECORD line over
the csv module's field limit, bytes that are not UTF-8. None of it may hang the scan or hide
the distribution; what is refused is read as missing and said.
"""

from __future__ import annotations

import csv
import os
from importlib import metadata as importlib_metadata
from pathlib import Path

from . import safeio


def csv_rows(text: str) -> list[list[str]]:
    """The rows of a RECORD, leaving out a line CSV cannot read rather than the whole file.

    A NUL byte, or a field over the csv module's size limit, makes such a line.
    """
    lines = text.splitlines()
    try:
        return [row for row in csv.reader(lines) if row]
    except csv.Error:
        pass
    rows = []
    for line in lines:
        try:
            rows.extend(row for row in csv.reader([line]) if row)
        except csv.Error:
            continue
    return rows


#: Files of a dist-info/egg-info read in full, and the most bytes each may hold.
_LIMITS = {"RECORD": safeio.DIST_RECORD_LIMIT, "METADATA": safeio.METADATA_LIMIT}
_LIMITS["PKG-INFO"] = safeio.METADATA_LIMIT
_LIMITS["SOURCES.txt"] = _LIMITS["installed-files.txt"] = safeio.DIST_RECORD_LIMIT


class SafeDistribution(importlib_metadata.Distribution):
    """An ``importlib.metadata`` distribution read through :mod:`.safeio`.

    A missing file is None, as importlib expects; an unreadable one (FIFO, device, too large,
    a link out of the prefix) is recorded in :attr:`unreadable` and also read as None, so one
    bad file never hides the rest. Text is UTF-8, undecodable bytes replaced.
    """

    def __init__(self, path: Path, root: str) -> None:
        self._path = path
        self._root = root
        self.unreadable: dict[str, str] = {}

    def read_text(self, filename: str) -> str | None:
        """The file's text, or None when missing or refused."""
        try:
            return safeio.read_text(
                self._path / filename,
                limit=_LIMITS.get(filename, safeio.SMALL_LIMIT),
                root=self._root,
                errors="replace",
            )
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as err:
            self.unreadable[filename] = err.strerror or str(err)
            return None

    def locate_file(self, path: str | os.PathLike[str]) -> Path:
        """Paths in RECORD are relative to the directory holding the dist-info."""
        return self._path.parent / path


def read_small(path: Path, root: Path | None = None) -> str | None:
    """A small optional file's text; None when missing or unreadable (FIFO, directory, ...)."""
    try:
        return safeio.read_text(
            path, limit=safeio.SMALL_LIMIT, root=str(root) if root else None, errors="replace"
        )
    except OSError:
        return None
