"""Line-preserving edits of one pip configuration file: add our constraint, take it out again.

The file is read as pip reads it (a strict ``RawConfigParser``) to decide, and edited as text so
that comments, order, line endings and the user's other settings stay as they were.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import CannotLock
from .pipconfig import option_name

#: First words of the comment lines we add to pip.conf.
COMMENT = "# conda-pipguard soft lock"

_SECTION = re.compile(r"\[(?P<header>.+)\]")


@dataclass(frozen=True)
class _Option:
    section: str
    name: str
    first: int  # line of ``key = value``
    last: int  # last line holding part of its value


def _scan_ini(lines: Sequence[str]) -> tuple[dict[str, int], list[_Option]]:
    """Section header lines and options of an ini file, read as ``configparser`` reads it."""
    sections: dict[str, int] = {}
    options: list[_Option] = []
    section: str | None = None
    current: _Option | None = None
    indent = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        level = len(line) - len(line.lstrip())
        if current is not None and level > indent:
            current = _Option(current.section, current.name, current.first, index)
            options[-1] = current
            continue
        match = _SECTION.match(stripped)
        if match:
            section = match.group("header")
            sections.setdefault(section, index)
            current = None
            continue
        if section is None:
            continue
        current = _Option(
            section, option_name(re.split(r"[=:]", stripped, maxsplit=1)[0]), index, index
        )
        options.append(current)
        indent = level
    return sections, options


def parse(text: str, path: Path) -> configparser.RawConfigParser:
    """Check *text* reads as pip reads it (strict ``RawConfigParser``); return the parser.

    Raises:
        LockError: pip cannot read it either.
    """
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as err:
        first_line = str(err).splitlines()[0]
        raise CannotLock(
            "add the soft lock to",
            path,
            f"pip cannot read it either ({first_line})",
            "fix or remove it, then run `conda pipguard mark --soft` again",
        ) from None
    return parser


def constraint_tokens(parser: configparser.RawConfigParser, section: str) -> list[str]:
    """The whitespace-separated ``constraint`` values of one *section* of one file."""
    if not parser.has_section(section):
        return []
    return [
        token
        for key, value in parser.items(section)
        if option_name(key) == "constraint"
        for token in value.split()
    ]


def effective_constraints(text: str | None, path: Path) -> list[str]:
    """What pip takes as ``constraint`` for ``install`` from this one file's text alone."""
    if not text:
        return []
    parser = parse(text, path)
    return constraint_tokens(parser, "install") or constraint_tokens(parser, "global")


def add_constraint(
    text: str | None, ref: str, path: Path, inherited: Sequence[str] | None = None
) -> tuple[str, list[str]]:
    """Add *ref* to the ``[install] constraint`` of pip.conf *text*, keeping everything else.

    pip keeps one value per option and splits it on whitespace. A value the file sets already
    gets *ref* on a continuation line. A new ``[install] constraint`` (which overrides every
    ``constraint`` of the global and user configuration and ``[global]``) lists *inherited*,
    the constraints pip applied before, then *ref*: the caps in force stay in force.

    Args:
        text: The file's text (None or '' when absent).
        ref: How to name our constraints file.
        path: The file (for messages).
        inherited: What pip took as ``constraint`` for ``install`` before (default: this
            file's own ``[global] constraint``).

    Returns:
        The new text, and the lines added (for a surgical removal later).

    Raises:
        LockError: pip cannot read *text* (then we do not touch it).
    """
    parser = parse(text, path) if text else None
    if inherited is None:
        inherited = constraint_tokens(parser, "global") if parser is not None else []
    value = " ".join([*inherited, ref])
    if not text:
        added = [f"{COMMENT}: `conda pipguard unmark` removes it", "[install]"]
        added.append(f"constraint = {value}")
        return "".join(f"{line}\n" for line in added), added
    assert parser is not None
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    sections, options = _scan_ini(lines)
    install = [o for o in options if o.section == "install" and o.name == "constraint"]
    if install:
        # an empty value is skipped by pip: then what applied before came from elsewhere
        own = constraint_tokens(parser, "install")
        added = [f"    {ref if own else value}"]
        lines.insert(install[-1].last + 1, added[0] + "\n")
        return "".join(lines), added
    added = [f"{COMMENT}: `conda pipguard unmark` removes the next line", f"constraint = {value}"]
    if "install" in sections:
        at = sections["install"] + 1
        lines[at:at] = [f"{line}\n" for line in added]
        return "".join(lines), added
    added.insert(0, "[install]")
    block = "".join(f"{line}\n" for line in added)
    separator = "\n" if lines and lines[-1].strip() else ""
    return "".join(lines) + separator + block, added


def remove_constraint(text: str, ref_is_ours: Callable[[str], bool], added: Sequence[str]) -> str:
    """Take out of pip.conf *text* only what :func:`add_constraint` put there.

    Lines we added that are still there go (an ``[install]`` header only when no option is
    left under it); then every token naming our file is dropped from ``constraint`` values.
    """
    lines = text.splitlines(keepends=True)
    for line in reversed(added):
        if line == "[install]":
            continue
        for index in range(len(lines) - 1, -1, -1):
            if lines[index].rstrip("\r\n") == line:
                del lines[index]
                break
    _, options = _scan_ini(lines)
    drop: set[int] = set()
    for option in options:
        if option.name != "constraint":
            continue
        for index in range(option.first, option.last + 1):
            line = lines[index]
            body = line.rstrip("\r\n")
            ending = line[len(body) :]
            prefix, value = [*body.split("=", 1), ""][:2] if index == option.first else ("", body)
            kept = [token for token in value.split() if not ref_is_ours(token)]
            if len(kept) == len(value.split()):
                continue
            if index == option.first:
                lines[index] = f"{prefix}= {' '.join(kept)}".rstrip() + ending
            elif kept:
                lines[index] = body[: len(body) - len(body.lstrip())] + " ".join(kept) + ending
            else:
                drop.add(index)
        remaining = [i for i in range(option.first + 1, option.last + 1) if i not in drop]
        first_empty = not lines[option.first].split("=", 1)[-1].strip()
        if "[install]" in added and first_empty and not any(lines[i].strip() for i in remaining):
            drop.add(option.first)
    lines = [line for index, line in enumerate(lines) if index not in drop]
    if "[install]" in added:
        lines = _drop_empty_install(lines)
    return "".join(lines)


def _drop_empty_install(lines: list[str]) -> list[str]:
    sections, options = _scan_ini(lines)
    if "install" not in sections or any(o.section == "install" for o in options):
        return lines
    at = sections["install"]
    del lines[at]
    if at > 0 and at == len(lines) and not lines[at - 1].strip():
        del lines[at - 1]
    return lines
