"""English plurals for the nouns and verbs messages use (``1 file``, ``2 files are``)."""

from __future__ import annotations


def count_of(number: int, noun: str) -> str:
    """``1 file``, ``2 files``: English plurals for the nouns messages use."""
    if number == 1:
        return f"1 {noun}"
    plural = f"{noun[:-1]}ies" if noun.endswith("y") else f"{noun}s"
    return f"{number} {plural}"


def agree(number: int, one: str, many: str) -> str:
    """The word that agrees with *number*: ``agree(1, "is", "are")`` is ``is``."""
    return one if number == 1 else many
