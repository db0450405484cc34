"""conda's ``MatchSpec`` as the version matcher of the analysis."""

from __future__ import annotations

from ..core.rules.versionspec import MAX_VERSION_LENGTH, Matcher


def conda_matcher() -> Matcher | None:
    """A version matcher backed by conda's ``MatchSpec``; None when conda is not importable."""
    try:
        from conda.exceptions import CondaError
        from conda.models.match_spec import MatchSpec
    except ImportError:
        return None

    def matcher(entry: str, version: str) -> bool | None:
        if len(version) > MAX_VERSION_LENGTH:
            return None  # not a version anyone published: not evaluated, as without conda
        try:
            version_spec = MatchSpec(entry).version  # the build part is not ours to judge
            return True if version_spec is None else bool(version_spec.match(version))
        except (CondaError, ValueError, TypeError):
            return None

    return matcher
