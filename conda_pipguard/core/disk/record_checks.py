"""What is wrong in a conda record that is read anyway.

:mod:`.records` uses what it can of such a record and reports the rest as a
:class:`~.records.RecordProblem` (a ``corrupt-record`` finding): a field of the wrong type is
ignored; ``files`` and ``paths_data`` that do not list the same paths are united (a path one of
them drops is still conda's: a file pip replaced there must not vanish from the verdict).
"""

from __future__ import annotations

from typing import Any

#: Optional fields and the JSON type conda writes them with.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "files": (list,),
    "paths_data": (dict,),
    "depends": (list,),
    "constrains": (list,),
    "channel": (str,),
    "subdir": (str,),
    "noarch": (str, dict),
    "python_site_packages_path": (str,),
}
_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", int: "a number"}


def field_problems(raw: Any) -> list[str]:
    """What is of the wrong type in a record :func:`~.records.parse_record` accepts.

    The rest of the record is used.

    A ``depends`` given as a string would otherwise be read character by character, and the
    dependency error it hides would vanish without a word.
    """
    if not isinstance(raw, dict):
        return []
    problems = []
    for key, types in _FIELD_TYPES.items():
        value = raw.get(key)
        if value is not None and not isinstance(value, types):
            wanted = " or ".join(_JSON_TYPES.get(t, t.__name__) for t in types)
            problems.append(f"field {key!r} is {type(value).__name__}, not {wanted}")
    paths_data = raw.get("paths_data")
    if isinstance(paths_data, dict) and not isinstance(paths_data.get("paths", []), list):
        problems.append("field 'paths_data.paths' is not a list")
    for key in ("files", "depends"):
        value = raw.get(key)
        if isinstance(value, list) and not set(map(type, value)) <= {str}:
            problems.append(f"field {key!r} holds entries that are not strings")
    return problems


def lists_disagree(only_files: int, only_paths_data: int) -> tuple[str, str]:
    """What is wrong with a record whose ``files`` and ``paths_data`` differ, and what it means.

    Args:
        only_files: How many paths only ``files`` lists.
        only_paths_data: How many paths only ``paths_data`` lists.
    """
    counts = [
        f"{count} {'path' if count == 1 else 'paths'} only in {field!r}"
        for count, field in ((only_files, "files"), (only_paths_data, "paths_data"))
        if count
    ]
    return (
        f"has 'files' and 'paths_data' that disagree ({', '.join(counts)}); both were used",
        "conda removes a package by 'paths_data' and may leave the other files behind",
    )
