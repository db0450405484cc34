r"""Text from an environment, made safe to print: control characters shown escaped.

Names, versions, paths and commands come from files someone else wrote (records, ``METADATA``,
``RECORD``, the history); printed raw, an escape sequence in one can retitle the terminal,
clear the screen or hide an ``error`` line, and a newline or carriage return can forge or
overwrite one. Every text renderer passes what it prints through :func:`printable`, line by
line: C0 and C1 control characters (newline included, inside a line), DEL, and the Unicode
controls that reorder text are shown as ``\x1b``, ``\n``, ``\u202e``. JSON escapes on its own.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """*text* with its control characters escaped; unchanged (the same object) without any.

    Applying it twice gives the same text: what it writes holds no control character.
    """
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def printable_lines(lines: list[str]) -> str:
    """*lines*, each made printable, joined with newlines."""
    return "\n".join(map(printable, lines))
