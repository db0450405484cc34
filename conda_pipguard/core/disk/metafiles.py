"""Bounded, non-blocking reads of a distribution's metadata files (through :mod:`.safeio`).

A package author's files can be anything: a FIFO, a link to ``/dev/zero``, a RECORD line over
the csv module's field limit, bytes that are not UTF-8. None of it may hang the scan or hide
the distribution; what is refused is read as missing and said.

Nothing here imports :mod:`email` or :mod:`importlib.metadata` (together a third of the
scanner's start-up): the headers of ``METADATA`` are read by :func:`parse_headers`, RECORD as the
CSV it is, and only an egg-info's other listings go through ``importlib.metadata``
(:mod:`.eggmeta`, imported when one is met).
"""

from __future__ import annotations

import base64
import binascii
import csv
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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


#: A field is read at most this many times (``Requires-Dist`` of real packages: a few hundred).
MAX_VALUES = 5_000


def parse_headers(text: str, max_values: int = MAX_VALUES) -> dict[str, list[str]]:
    """The header fields of ``METADATA``/``PKG-INFO`` (RFC 822 style), by lower-cased name.

    Reads as :mod:`email`'s parser does with ``headersonly``: fields up to the first blank line
    (or the first line that is not a field), a folded line continuing the field before it. A
    field given more than *max_values* times keeps its first *max_values* values: a METADATA
    of hundreds of thousands of requirements costs a pass over its lines, not their objects.
    """
    fields: dict[str, list[str]] = {}
    values: list[str] | None = None
    for line in _lines(text):
        if line[:1] in (" ", "\t"):
            if values is None:
                break
            if values:
                values[-1] = f"{values[-1]}\n{line}"
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or " " in name:
            break
        values = fields.setdefault(name.lower(), [])
        if len(values) < max_values:
            values.append(value.lstrip(" \t"))
        else:
            values = []  # past the bound: neither kept nor continued
    return fields


def _lines(text: str) -> Iterator[str]:
    """``text.splitlines()`` a line at a time, not as one list of them all."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end + 1
        yield from text[start:end].splitlines()
        start = end


def first(fields: dict[str, list[str]], name: str) -> str | None:
    """The first value of header *name* (lower-case), or None."""
    values = fields.get(name)
    return values[0] if values else None


class RecordEntry(NamedTuple):
    """A file a distribution's ``RECORD`` lists (a named tuple: tens of thousands per env).

    Attributes:
        path: Prefix-relative POSIX path.
        digest: The ``sha256=`` value of RECORD as written (urlsafe base64, undecoded: most
            are never compared), or None.
        size: The size RECORD gives, or None.
    """

    path: str
    digest: str | None = None
    size: int | None = None

    @property
    def sha256(self) -> str | None:
        """The hex digest, decoded on demand; None when RECORD has none or it is malformed."""
        return b64_to_hex(self.digest) if self.digest else None


def b64_to_hex(value: str) -> str | None:
    """RECORD's urlsafe base64 digest (padding optional) as hex; None when malformed."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True)
class RecordListing:
    """What a distribution's RECORD (or an egg-info's file list) says, parsed on first use.

    Most distributions of an env are conda's own, whose RECORD the analysis never needs once
    their metadata proved intact: keeping the text and parsing it on demand spares tens of
    thousands of entries per env.

    Attributes:
        site_packages: The prefix-relative directory RECORD's paths are relative to.
        text: A dist-info's RECORD.
        paths: An egg-info's listed paths, when it has no RECORD.
    """

    site_packages: str
    text: str | None = None
    paths: tuple[str, ...] = ()

    def entries(self) -> tuple[RecordEntry, ...]:
        """The listed files, prefix-relative; absolute ones and ones leading out are left out."""
        rows = csv_rows(self.text) if self.text is not None else [[path] for path in self.paths]
        site_packages = self.site_packages
        entries = []
        normpath = posixpath.normpath
        for row in rows:
            rel = row[0]
            if rel.startswith("/") or rel[1:3] == ":/" or "\0" in rel:
                continue  # absolute: outside the prefix as far as the analysis goes; NUL: none
            path = f"{site_packages}/{rel}"
            if ".." in rel or "./" in rel or "//" in rel:
                path = normpath(path)
                if path.startswith("../") or posixpath.isabs(path):
                    continue
            digest = row[1] if len(row) > 1 else ""
            size = row[2] if len(row) > 2 else ""
            entries.append(
                RecordEntry(
                    path,
                    digest[7:] if digest.startswith("sha256=") else None,
                    int(size) if size.isdigit() and len(size) < 19 else None,
                )
            )
        return tuple(entries)


#: Files of a dist-info/egg-info read in full, and the most bytes each may hold.
_LIMITS = {"RECORD": safeio.DIST_RECORD_LIMIT, "METADATA": safeio.METADATA_LIMIT}
_LIMITS["PKG-INFO"] = safeio.METADATA_LIMIT
_LIMITS["SOURCES.txt"] = _LIMITS["installed-files.txt"] = safeio.DIST_RECORD_LIMIT


class MetadataDir:
    """A dist-info/egg-info directory whose files are read through :mod:`.safeio`.

    A missing file is None; an unreadable one (FIFO, device, too large, a link out of the
    prefix) is recorded in :attr:`unreadable` and also read as None, so one bad file never hides
    the rest. Text is UTF-8, undecodable bytes replaced.

    Args:
        path: The directory.
        root: The prefix, out of which no link is followed.
    """

    def __init__(self, path: Path, root: str) -> None:
        self.path = path
        self._dir = str(path)
        self._root = root
        self.unreadable: dict[str, str] = {}

    def read_text(self, filename: str) -> str | None:
        """The file's text, or None when missing or refused."""
        try:
            return safeio.read_text(
                f"{self._dir}/{filename}",
                limit=_LIMITS.get(filename, safeio.SMALL_LIMIT),
                root=self._root,
                errors="replace",
            )
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as err:
            self.unreadable[filename] = err.strerror or str(err)
            return None


def read_small(path: Path, root: Path | None = None) -> str | None:
    """A small optional file's text; None when missing or unreadable (FIFO, directory, ...)."""
    try:
        return safeio.read_text(
            path, limit=safeio.SMALL_LIMIT, root=str(root) if root else None, errors="replace"
        )
    except OSError:
        return None
