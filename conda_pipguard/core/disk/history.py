"""Read ``conda-meta/history``, the append-only log of what conda linked and unlinked.

It outlives the records: ``conda list`` (through conda's PyPI interoperability loader) deletes the
record of a package whose dist-info pip replaced, but the history still says that conda linked
that package and never unlinked it.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import safeio
from .condameta import split_dist

_HEADER = re.compile(r"^==>\s*(?P<date>.+?)\s*<==\s*$")
_SPECS = re.compile(r"^#\s*(?P<kind>update|remove|neutered)\s+specs:\s*(?P<specs>.*)$")
_CMD = re.compile(r"^#\s*cmd:\s*(?P<cmd>.*)$")
_SPEC_NAME = re.compile(r"^\s*(?:[^:\s]+::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)")
_HISTORY_TIME = "%Y-%m-%d %H:%M:%S"


def parse_history_time(text: str) -> float | None:
    """Seconds since the epoch of a history header (local time); None when unreadable."""
    try:
        return time.mktime(time.strptime(text.strip(), _HISTORY_TIME))
    except (ValueError, OverflowError):
        return None


def clone_source(cmd: str | None) -> str | None:
    """The ``SRC`` of a ``conda create ... --clone SRC`` command line (as history keeps it).

    conda writes ``sys.argv`` joined by spaces, so a source path with spaces is cut at the first
    one; None when the command is not a clone.
    """
    words = (cmd or "").split()
    for index, word in enumerate(words):
        if word == "--clone" and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--clone="):
            return word.partition("=")[2] or None
    return None


@dataclass(frozen=True)
class HistoryDist:
    """A package as conda's history names it (``channel::name-version-build``).

    Attributes:
        channel: Channel name or URL ('' when the line had none).
        name: Package name.
        version: Package version.
        build: Build string.
    """

    channel: str
    name: str
    version: str
    build: str

    @classmethod
    def parse(cls, text: str) -> HistoryDist | None:
        """Parse ``[channel::]name-version-build``; None when it is not of that form."""
        channel, _, dist = text.strip().rpartition("::")
        parts = split_dist(dist)
        return None if parts is None else cls(channel, *parts)

    @property
    def dist_str(self) -> str:
        """``name-version-build``."""
        return f"{self.name}-{self.version}-{self.build}"


@dataclass(frozen=True)
class Revision:
    """One ``==> date <==`` block of the history.

    Attributes:
        date: The date as written.
        cmd: The command line, when recorded.
        linked: Packages linked by this revision.
        unlinked: Packages unlinked by this revision.
        update_specs: Specs the user asked for.
        remove_specs: Specs the user asked to remove.
        neutered_specs: Specs conda relaxed.
    """

    date: str
    cmd: str | None = None
    linked: tuple[HistoryDist, ...] = ()
    unlinked: tuple[HistoryDist, ...] = ()
    update_specs: tuple[str, ...] = ()
    remove_specs: tuple[str, ...] = ()
    neutered_specs: tuple[str, ...] = ()


@dataclass(frozen=True)
class History:
    """The parsed history of one environment.

    Attributes:
        revisions: All revisions, oldest first.
        problems: Lines that could not be understood (reported, never fatal).
    """

    revisions: tuple[Revision, ...] = ()
    problems: tuple[str, ...] = field(default=())

    def current(self) -> dict[str, HistoryDist]:
        """Replay the log: the packages conda believes are linked now, by name."""
        state: dict[str, HistoryDist] = {}
        for revision in self.revisions:
            for dist in revision.unlinked:
                state.pop(dist.name, None)
            for dist in revision.linked:
                state[dist.name] = dist
        return state

    def cloned(self) -> tuple[str, float | None] | None:
        """``(SRC, when)`` when the env was made by ``conda create --clone SRC``, else None.

        The first revision says so: its command line, and its time (the clone's files conda
        does not track were copied just before).
        """
        first = self.revisions[0] if self.revisions else None
        source = clone_source(first.cmd) if first is not None else None
        return (source, parse_history_time(first.date)) if first and source else None

    def requested_specs(self) -> dict[str, str]:
        """The specs the user asked for and did not remove later, by package name."""
        specs: dict[str, str] = {}
        for revision in self.revisions:
            for spec in (*revision.update_specs, *revision.neutered_specs):
                name = spec_name(spec)
                if name:
                    specs[name] = spec
            for spec in revision.remove_specs:
                specs.pop(spec_name(spec) or "", None)
        return specs


def spec_name(spec: str) -> str | None:
    """The package name of a match-spec string (``conda-forge::numpy>=1`` -> ``numpy``)."""
    match = _SPEC_NAME.match(spec)
    return match.group("name") if match else None


#: Longer spec lists are split on commas instead of parsed as a Python literal (conda writes
#: a few hundred characters; a pathological line must not exhaust the parser).
_MAX_SPECS_LITERAL = 64 * 1024


def _parse_specs(text: str) -> tuple[str, ...]:
    text = text.strip()
    if not text:
        return ()
    try:
        if len(text) > _MAX_SPECS_LITERAL:
            raise ValueError("too long to be a Python literal")
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        value = [part.strip() for part in text.strip("[]").split(",")]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(item).strip().strip("'\"") for item in value if str(item).strip())


class _RevisionBuilder:
    def __init__(self, date: str) -> None:
        self.date = date
        self.cmd: str | None = None
        self.linked: list[HistoryDist] = []
        self.unlinked: list[HistoryDist] = []
        self.specs: dict[str, tuple[str, ...]] = {}

    def build(self) -> Revision:
        return Revision(
            date=self.date,
            cmd=self.cmd,
            linked=tuple(self.linked),
            unlinked=tuple(self.unlinked),
            update_specs=self.specs.get("update", ()),
            remove_specs=self.specs.get("remove", ()),
            neutered_specs=self.specs.get("neutered", ()),
        )


#: What one history may hold once parsed: revisions, distinct package lines and spec strings,
#: and references to them (a package line or a spec). A history past these (tens of times the
#: longest real ones, which a file under the 256 MiB cap can be) is not read, as an unreadable
#: one, and its parse stops there: memory and time stay bounded whatever it holds.
MAX_REVISIONS = 50_000
MAX_DISTINCT = 200_000
MAX_REFERENCES = 2_000_000
#: Lines that cannot be understood are reported up to this many, then counted.
MAX_PROBLEMS = 20


class _TooLarge(Exception):
    """The history holds more than the parse keeps."""


class _Parse:
    """The state of one parse: the revisions so far, and each distinct string made once."""

    def __init__(self) -> None:
        self.revisions: list[Revision] = []
        self.problems: list[str] = []
        self.unreadable = 0
        self.current: _RevisionBuilder | None = None
        self.dists: dict[str, HistoryDist | None] = {}
        self.strings: dict[str, str] = {}
        self.references = 0

    def check(self) -> None:
        if self.references > MAX_REFERENCES:
            raise _TooLarge(f"more than {MAX_REFERENCES:,} entries")
        if len(self.dists) + len(self.strings) > MAX_DISTINCT:
            raise _TooLarge(f"more than {MAX_DISTINCT:,} distinct packages and specs")

    def dist(self, body: str) -> HistoryDist | None:
        try:
            return self.dists[body]
        except KeyError:
            value = self.dists[body] = HistoryDist.parse(body)
            return value

    def intern(self, values: tuple[str, ...]) -> tuple[str, ...]:
        strings = self.strings
        return tuple(strings.setdefault(value, value) for value in values)

    def start(self, date: str) -> _RevisionBuilder:
        self.finish()
        if len(self.revisions) >= MAX_REVISIONS:
            raise _TooLarge(f"more than {MAX_REVISIONS:,} revisions")
        self.check()
        self.current = _RevisionBuilder(date)
        return self.current

    def finish(self) -> None:
        if self.current is not None:
            self.revisions.append(self.current.build())
            self.current = None

    def line(self, number: int, line: str) -> None:
        current = self.current
        first = line[0]
        if first in "+-":
            self.package(number, line, current or self.start(""))
        elif first == "#":
            current = current or self.start("")
            if match := _CMD.match(line):
                current.cmd = match.group("cmd")
            elif match := _SPECS.match(line):
                specs = self.intern(_parse_specs(match.group("specs")))
                self.references += len(specs)
                current.specs[match.group("kind")] = specs
        elif first == "=" and (header := _HEADER.match(line)):
            self.start(header.group("date"))
        else:
            self.package(number, line, current or self.start(""))

    def package(self, number: int, line: str, current: _RevisionBuilder) -> None:
        sign, body = (line[0], line[1:]) if line[0] in "+-" else ("+", line)
        dist = self.dist(body)
        self.references += 1
        if not self.references & 0xFFFF:
            self.check()
        if dist is None:
            self.unreadable += 1
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(f"line {number}: {line[:80]!r} is not a package")
        elif sign == "+":
            current.linked.append(dist)
        else:
            current.unlinked.append(dist)


def parse_history(lines: str | Iterable[str]) -> History:
    """Parse a ``conda-meta/history`` file: its text, or its lines as they are read.

    A history larger than the parse keeps (see :data:`MAX_REVISIONS`) is an empty history with
    the reason in ``problems``, like an unreadable one.
    """
    parse = _Parse()
    try:
        for number, raw_line in enumerate(
            lines.splitlines() if isinstance(lines, str) else lines, start=1
        ):
            line = raw_line.strip()
            if line:
                parse.line(number, line)
        parse.finish()
        parse.check()
    except _TooLarge as err:
        return History(problems=(f"conda-meta/history is too large to read: {err}",))
    problems = parse.problems
    if parse.unreadable > len(problems):
        more = parse.unreadable - len(problems)
        problems.append(f"and {more:,} more lines that are not packages")
    return History(tuple(parse.revisions), tuple(problems))


def read_history(prefix: Path) -> History:
    """Read ``<prefix>/conda-meta/history`` line by line; an absent file is an empty history.

    An unreadable or undecodable file is an empty history with the reason in ``problems``.
    """
    path = prefix / "conda-meta" / "history"
    lines = safeio.read_lines(path, limit=safeio.HISTORY_LIMIT, root=str(prefix / "conda-meta"))
    try:
        return parse_history(lines)
    except FileNotFoundError:
        return History()
    except OSError as err:
        return History(problems=(f"conda-meta/history cannot be read: {err.strerror or err}",))
    finally:
        lines.close()
