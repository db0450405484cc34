"""Decide whether a version satisfies a conda dependency, with or without conda.

With conda importable the glue passes a matcher that asks conda's own ``MatchSpec``
(:func:`conda_pipguard.guard.matcher.conda_matcher`). Without conda, :func:`match_depends`
evaluates this documented subset of conda's version-spec syntax, comparing versions as
PEP 440 versions:

* operators ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``~=`` and a bare version (equality, with
  conda's zero padding: ``1.2`` equals ``1.2.0``);
* ``=1.2`` and ``1.2.*`` (prefix match), ``*`` (anything);
* ``,`` (and) and ``|`` (or), ``and`` binding tighter, no parentheses.

Anything else (build-string constraints are ignored; regular expressions, parentheses, versions
that are not PEP 440) returns None: *not evaluated*, never a guess.

Every version the core compares is parsed here, by :func:`parse_version` (bounded: a "version"
of thousands of digits is not one), for conda's specs and for PEP 440 specifiers
(:func:`specifier_allows`) alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

#: ``(depends entry, installed version) -> True/False, or None when not evaluated``.
Matcher = Callable[[str, str], "bool | None"]

_OPERATOR = re.compile(r"^(==|!=|<=|>=|~=|<|>|=)?\s*(.+)$")


def split_depends(entry: str) -> tuple[str, str]:
    """Split a record's ``depends`` entry into name and version spec (``numpy >=1.23,<2``)."""
    parts = entry.strip().split()
    if not parts:
        return "", ""
    name = parts[0].split("::")[-1]
    return name, parts[1] if len(parts) > 1 else ""


#: Longer version strings are not versions anyone published: not parsed (the digits of a
#: 5,000-digit "version" would not even convert to an int).
MAX_VERSION_LENGTH = 128


def parse_version(text: object) -> Version | None:
    """*text* as a PEP 440 version, or None when it is not one (or not a short string)."""
    if not isinstance(text, str) or len(text) > MAX_VERSION_LENGTH:
        return None
    # packaging is imported by the first version parsed: a hook whose plan names no package
    # of the env's non-conda distributions never imports it
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except (InvalidVersion, ValueError):
        return None


def specifier_allows(specifier: SpecifierSet, version: str) -> bool | None:
    """Whether *version* satisfies PEP 440 *specifier* (pre-releases allowed).

    None when not evaluated: *version*, or a version the specifier names, is not one
    :func:`parse_version` takes (thousands of digits raise ``ValueError`` in packaging).
    """
    parsed = parse_version(version)
    if parsed is None:
        return None
    try:
        return specifier.contains(parsed, prereleases=True)
    except ValueError:  # InvalidVersion included
        return None


def _prefix_match(installed: Version, prefix: str) -> bool | None:
    """Whether *installed* starts with the release *prefix* (``1.26`` of ``1.26.*``), as conda's.

    conda pads a shorter version with zeros and reads a pre-, post- or dev-release tag as part
    of the segment it follows: ``1.26.0rc1`` starts with ``1.26``. Whether ``1.26rc1`` starts
    with ``1.26.0`` depends on how it was spelled, which a parsed version no longer says: that,
    and a prefix that is not a plain release, is not evaluated.
    """
    wanted = parse_version(prefix)
    if wanted is None or _tagged(wanted) or wanted.local:
        return None
    if installed.epoch != wanted.epoch:
        return False
    size, written = len(wanted.release), len(installed.release)
    if written >= size:
        return installed.release[:size] == wanted.release
    if installed.release != wanted.release[:written]:
        return False
    if _tagged(installed):
        return None
    return not any(wanted.release[written:])  # 1.26 starts with 1.26.0


def _tagged(version: Version) -> bool:
    """Whether *version* carries a pre-, post- or dev-release tag."""
    return bool(version.pre) or version.post is not None or version.dev is not None


def _term(installed: Version, term: str) -> bool | None:
    term = term.strip()
    if term in ("", "*"):
        return True
    match = _OPERATOR.match(term)
    if match is None:
        return None
    operator, text = match.group(1) or "", match.group(2).strip()
    if text.endswith(".*"):
        if operator not in ("", "=", "=="):
            return None
        return _prefix_match(installed, text[:-2])
    if operator == "=":
        return _prefix_match(installed, text)
    if any(char in text for char in "*()^$"):
        return None
    wanted = parse_version(text)
    if wanted is None:
        return None
    compare: dict[str, Callable[[], bool]] = {
        "": lambda: installed == wanted,
        "==": lambda: installed == wanted,
        "!=": lambda: installed != wanted,
        "<": lambda: installed < wanted,
        "<=": lambda: installed <= wanted,
        ">": lambda: installed > wanted,
        ">=": lambda: installed >= wanted,
        "~=": lambda: installed >= wanted and _prefix_match(installed, _compatible(wanted)),
    }
    return compare[operator]()


def _compatible(wanted: Version) -> str:
    release = wanted.release[:-1] if len(wanted.release) > 1 else wanted.release
    epoch = f"{wanted.epoch}!" if wanted.epoch else ""
    return epoch + ".".join(str(part) for part in release)


def match_version(spec: str, version: str) -> bool | None:
    """Whether *version* satisfies the conda version *spec*; None when not evaluated."""
    installed = parse_version(version)
    if installed is None or "(" in spec:
        return None
    any_unknown = False
    for alternative in spec.split("|"):
        results = [_term(installed, term) for term in alternative.split(",")]
        if False in results:
            continue
        if None in results:
            any_unknown = True
            continue
        return True
    return None if any_unknown else False


def match_depends(entry: str, version: str) -> bool | None:
    """Whether *version* satisfies a ``depends`` entry (its build part is ignored)."""
    _, spec = split_depends(entry)
    return match_version(spec, version) if spec else True
