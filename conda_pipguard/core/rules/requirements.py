"""``Requires-Dist`` read as pip reads it: markers evaluated, extras only when asked for.

:mod:`packaging.requirements` is imported on the first requirement read, not with this module:
with its markers (``packaging.tags``, ``platform``, ``logging``, ``subprocess``) it weighs as
much as the rest of the scanner's start-up, and an env whose distributions are all conda's
never needs it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..disk.names import canonicalize_name

if TYPE_CHECKING:
    from packaging.requirements import Requirement

#: Longer requirements are not read (real ones are under a few hundred characters).
MAX_LENGTH = 4096
#: The project name a PEP 508 requirement starts with.
_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def requirement_key(text: str) -> str | None:
    """The canonical project name *text* requires, read without parsing the rest.

    The cheap test before :func:`needed`: an env's distributions state thousands of
    requirements, of which a scan wants the few that name a given set of projects.
    """
    match = _NAME.match(text)
    return canonicalize_name(match.group(1)) if match else None


def needed(text: str, markers: Mapping[str, str] | None) -> Requirement | None:
    """The requirement *text* states, or None when it does not apply here.

    A requirement guarded by ``extra == "..."`` applies only when that extra was requested,
    which no installer records: it never applies. Other markers are evaluated against the env's
    Python (*markers*); without them (no Python) a requirement with a marker does not apply.
    """
    from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
    from packaging.requirements import Requirement

    if len(text) > MAX_LENGTH:
        return None
    try:
        requirement = Requirement(text)
    except ValueError:  # InvalidRequirement
        return None
    marker = requirement.marker
    if marker is None:
        return requirement
    if markers is None:
        return None
    try:
        return requirement if marker.evaluate({**markers, "extra": ""}) else None
    except (ValueError, UndefinedComparison, UndefinedEnvironmentName):
        return None  # InvalidMarker, or a version in it of thousands of digits
