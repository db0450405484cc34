"""Channel names as ``-c`` takes them, from what records and conda's history store."""

from __future__ import annotations

import re

#: The platform subdirectories a channel URL in a record or in the history may end with.
KNOWN_SUBDIRS = frozenset(
    {
        "noarch",
        "emscripten-wasm32",
        "freebsd-64",
        "linux-32",
        "linux-64",
        "linux-aarch64",
        "linux-armv6l",
        "linux-armv7l",
        "linux-ppc64",
        "linux-ppc64le",
        "linux-riscv64",
        "linux-s390x",
        "osx-64",
        "osx-arm64",
        "wasi-wasm32",
        "win-32",
        "win-64",
        "win-arm64",
        "zos-z",
    }
)
_ANACONDA_ORG = re.compile(r"^https?://conda\.anaconda\.org/(?P<name>[^/]+(?:/label/[^/]+)?)$")
_DEFAULTS = re.compile(r"^https?://repo\.anaconda\.com/pkgs/(?:main|r|msys2)$")
_NOT_A_CHANNEL = {"", "<unknown>", "pypi", "@"}


def channel_name(channel: str, subdir: str = "") -> str | None:
    """The channel a record or a history line names, as ``-c`` and ``channels:`` take it.

    ``https://conda.anaconda.org/conda-forge/linux-64`` -> ``conda-forge``;
    ``https://repo.anaconda.com/pkgs/main/noarch`` -> ``defaults``;
    ``file:///srv/chan/noarch`` -> ``file:///srv/chan``; names stay names. None when the record
    names no real channel (``<unknown>``, ``pypi``).
    """
    text = channel.strip().rstrip("/")
    if text in _NOT_A_CHANNEL:
        return None
    last = text.rsplit("/", 1)[-1]
    if "/" in text and (last == subdir or last in KNOWN_SUBDIRS):
        text = text[: -len(last) - 1]
    if match := _ANACONDA_ORG.match(text):
        return match.group("name")
    if _DEFAULTS.match(text):
        return "defaults"
    return text or None
