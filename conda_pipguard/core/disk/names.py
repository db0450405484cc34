"""Python project names as PEP 503 compares them.

``packaging.utils.canonicalize_name`` does the same, but importing it brings in
``packaging.tags`` (``platform``, ``logging``, ``sysconfig``): a cost every ``status`` and every
conda command the guard hooks would pay for one regular expression.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[-_.]+")


def canonicalize_name(name: str) -> str:
    """*name* normalized: runs of ``-``, ``_`` and ``.`` become one ``-``, all lower case."""
    return _SEPARATORS.sub("-", name).lower()
