"""Python project names as PEP 503 compares them, and the conda package names that stand for them.

``packaging.utils.canonicalize_name`` does the same, but importing it brings in
``packaging.tags`` (``platform``, ``logging``, ``sysconfig``): a cost every ``status`` and every
conda command the guard hooks would pay for one regular expression.

A conda package named like a Python project (``numpy``), or with conda's ``py-``/``python-``
prefix (``py-opencv``), may stand for it when no file tells: :func:`name_keys` maps a conda
name to those projects, :func:`conda_names_for` maps back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_SEPARATORS = re.compile(r"[-_.]+")


def canonicalize_name(name: str) -> str:
    """*name* normalized: runs of ``-``, ``_`` and ``.`` become one ``-``, all lower case."""
    return _SEPARATORS.sub("-", name).lower()


def is_canonical(name: str) -> bool:
    """Whether *name* is its own :func:`canonicalize_name` (without the regular expression)."""
    return "_" not in name and "." not in name and "--" not in name and name == name.lower()


def name_keys(conda_name: str) -> set[str]:
    """Python project names a conda package name may stand for, when no files tell.

    ``py-opencv`` -> ``opencv``, ``python-dateutil`` -> ``dateutil``, and the name itself.
    """
    candidates = {conda_name, conda_name.removeprefix("py-"), conda_name.removeprefix("python-")}
    return {canonicalize_name(candidate) for candidate in candidates}


def conda_names_for(names: Mapping[str, str]) -> Callable[[str], list[str]]:
    """The inverse of :func:`name_keys` over conda package *names*.

    Args:
        names: Conda package name -> what orders them (its record's file name).

    Returns:
        A function from a canonical project name to the packages of *names* whose
        :func:`name_keys` hold it, in order. A canonical package name is found by lookup; only
        the others (``typing_extensions``, ``ruamel.yaml``) are indexed.
    """
    joined = "\0".join(names)
    if "--" in joined or joined != joined.lower():  # rare: test every name
        maybe = [name for name in names if not is_canonical(name)]
    else:
        maybe = [name for name in names if "_" in name or "." in name]
    odd: dict[str, list[str]] = {}  # what the names that are not canonical stand for
    for name in maybe:
        for key in name_keys(name):
            odd.setdefault(key, []).append(name)
    prefixed: dict[str, list[str]] = {}  # what the canonical py-/python- names stand for
    for name in [name for name in names if name.startswith(("py-", "python-"))]:
        for key in name_keys(name) - {name}:
            if f"py-{key}" == name or f"python-{key}" == name:
                prefixed.setdefault(key, []).append(name)

    def of(key: str) -> list[str]:
        found = [key] if key in names else []
        if key in prefixed:
            found += prefixed[key]
        if key in odd:
            found = sorted({*found, *odd[key]}, key=names.__getitem__)
        elif len(found) > 1:
            found.sort(key=names.__getitem__)
        return found

    return of
