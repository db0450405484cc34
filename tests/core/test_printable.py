"""Control characters from an environment's files are shown escaped, never sent to the terminal."""

from __future__ import annotations

import pytest

from conda_pipguard.core.printable import printable, printable_lines


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("numpy 2.1.0", "numpy 2.1.0"),
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # retitles the window
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # clears the screen
        ("ok\rerror", "ok\\rerror"),  # overwrites the line
        ("a\nerror   shadowed: forged", "a\\nerror   shadowed: forged"),  # forges one
        ("\x9b31m", "\\x9b31m"),  # the 8-bit CSI
        ("abc\u202edcba", "abc\\u202edcba"),  # reorders what follows
        ("caf\xe9 \u00fc\u4e2d", "caf\xe9 \u00fc\u4e2d"),  # letters are letters
        ("tab\there\x00\x7f", "tab\\there\\x00\\x7f"),
    ],
)
def test_control_characters_are_escaped(text, shown):
    assert printable(text) == shown
    assert printable(printable(text)) == shown


def test_text_without_them_is_the_same_object_and_lines_are_joined():
    text = "nothing to escape"
    assert printable(text) is text
    assert printable_lines(["a\x1b", "b"]) == "a\\x1b\nb"
