"""conda's ``MatchSpec`` as the version matcher (guard/matcher.py), against the core's own.

``status`` inside conda asks conda's ``MatchSpec``; the standalone program asks
``core/rules/versionspec.py``, which evaluates a documented subset of conda's syntax and says
``None`` (not evaluated) for the rest. Within that subset both must give one answer.
"""

from __future__ import annotations

import pytest

from conda_pipguard.core.rules.versionspec import match_depends
from conda_pipguard.guard.matcher import conda_matcher
from tests.guard.conftest import requires_conda

pytestmark = requires_conda


@pytest.fixture(scope="module")
def conda_says():
    matcher = conda_matcher()
    assert matcher is not None  # conda is importable here
    return matcher


@pytest.mark.parametrize(
    ("entry", "version", "expected"),
    [
        ("numpy >=1.23.5,<2.0a0", "1.26.4", True),
        ("numpy >=1.23.5,<2.0a0", "1.23.5", True),
        ("numpy >=1.23.5,<2.0a0", "1.23.4", False),
        ("numpy >=1.23.5,<2.0a0", "2.0.0rc1", False),  # <2.0a0 keeps 2.0's pre-releases out
        ("numpy >=1.23.5,<2.0a0", "2.1.0", False),
        ("numpy 1.26.*", "1.26.4", True),
        ("numpy 1.26.*", "1.26", True),
        ("numpy 1.26.*", "1.26.0rc1", True),
        ("numpy 1.26.*", "1.26.0.dev1", True),
        ("numpy 1.26.*", "1.27.0", False),
        ("numpy 1.26.*", "1.260", False),
        ("numpy 1.26.*", "1!1.26.0", False),  # another epoch
        ("numpy =1.26", "1.26.4", True),
        ("numpy =1.26", "1.26rc1", True),
        ("numpy =1.26", "1.27", False),
        ("numpy =1.26.0", "1.26", True),  # zero padding
        ("numpy =1.26.0", "1.27rc1", False),
        ("numpy 1.26.4", "1.26.4.0", True),
        ("numpy 1.26.4", "1.26.5", False),
        ("numpy ==1.26.4", "1.26.4", True),
        ("numpy !=2.1.0", "2.1.0", False),
        ("numpy !=2.1.0", "2.1", False),
        ("numpy !=2.1.0", "2.1.1", True),
        ("numpy ~=1.2.3", "1.2.9", True),
        ("numpy ~=1.2.3", "1.3.0", False),
        ("numpy <1.0|>=2", "2.1", True),
        ("numpy <1.0|>=2", "1.5", False),
        ("numpy >=1.23,<2 py311_0", "1.26.4", True),  # the build string is not a version's
        ("numpy >=1.23,<2 py311_0", "2.1.0", False),
        ("numpy 1.26.4 *_0", "1.26.4", True),
        ("numpy 1.26.4 *_0", "1.26.5", False),
        ("conda-forge::numpy >=1.23", "1.26.4", True),
        ("numpy", "2.1.0", True),
    ],
)
def test_both_matchers_agree(conda_says, entry, version, expected):
    assert conda_says(entry, version) is expected
    assert match_depends(entry, version) is expected


@pytest.mark.parametrize(
    ("entry", "version", "conda", "ours"),
    [
        ("numpy >=1.0", "1.0@x", None, None),  # neither reads it as a version
        ("numpy >=1.0", "", None, None),
        ("numpy >=1.0[", "1.5", None, None),  # nor this as a spec
        ("numpy (>=1,<2)|>3", "1.5", None, None),
        ("numpy >=1.0", "not-a-version", False, None),  # conda orders any string
        ("numpy >=1.0", "1.26_0", True, None),  # conda's own version syntax
        ("numpy >=1.2.3_1", "1", False, None),
        ("numpy ^1\\.2\\..*$", "1.2.0", True, None),  # a regular expression
        ("numpy =1.26.0", "1.26rc1", False, None),  # conda's answer depends on the spelling
    ],
)
def test_what_each_says_for_what_it_cannot_parse(conda_says, entry, version, conda, ours):
    assert conda_says(entry, version) is conda
    assert match_depends(entry, version) is ours


def test_a_version_no_one_published_is_not_evaluated_and_never_raises(conda_says):
    for version in ("1" * 5000, "1." * 3000, "\x00", "v" * 200):
        assert match_depends(f"numpy >={version}", "1.0") is None
        assert match_depends("numpy >=1.0", version) is None
        assert conda_says("numpy >=1.0", version) in (True, False, None)
        assert conda_says(f"numpy >={version}", "1.0") in (True, False, None)


#: Where PEP 440 (the core) and conda order versions differently: both answers are given, and
#: neither matcher may say None to hide it. Reported to the project, not decided here.
ORDERED_DIFFERENTLY = [
    # a local version: above 1.26.0 for PEP 440, below it for conda
    ("numpy >=1.26", "1.26.0+cu118", False, True),
    ("numpy <=1.26", "1.26.0+cu118", True, False),
    # a dev release of 2.0: before 2.0a0 for PEP 440, after it for conda
    ("numpy >=1.23.5,<2.0a0", "2.0.0.dev1", False, True),
]


@pytest.mark.parametrize(("entry", "version", "conda", "ours"), ORDERED_DIFFERENTLY)
def test_versions_the_two_order_differently(conda_says, entry, version, conda, ours):
    assert conda_says(entry, version) is conda
    assert match_depends(entry, version) is ours


SPECS = [
    "1.26.*", "=1.26", "=1.26.0", "=1.26.0.0", "1.26.0.*", "1.*", "2.*", "=1", "1.26", "1.26.0",
    "==1.26.0", "!=1.26.0", "!=1.26.*", ">=1.26", ">1.26", "<=1.26", "<1.27", "<2",
    ">=1.23.5,<2.0a0", "~=1.26.0", "~=1.26", ">=1.26|<1", "1.26.*,!=1.26.1", "=1!1.26",
    "~=1!1.26", "=1.26rc1", "1.27.*",
]  # fmt: skip
VERSIONS = [
    "1", "1.26", "1.26.0", "1.26.0.0", "1.26.1", "1.26.5", "1.27.0", "1.25.9", "0.9", "2.0",
    "1.26.0rc1", "1.26rc1", "1.26a1", "1.26.0a1", "1.26.1rc1", "1.27rc1", "1.27.0b1", "2.0a0",
    "2.0.0rc1", "1.26.0.dev1", "1.26.0.dev0", "1.26.dev1", "1.26.0.post1", "1.26.post1",
    "1.26post1", "1!1.0", "1!1.26.3", "1!1.27", "1.26_0",
]  # fmt: skip


def test_where_the_core_answers_it_answers_as_conda_does(conda_says):
    """Every spec of the subset against versions around its edges (pre, post, dev, epoch)."""
    known = {(entry, version) for entry, version, _, _ in ORDERED_DIFFERENTLY}
    answered = 0
    wrong = []
    for spec in SPECS:
        for version in VERSIONS:
            entry = f"numpy {spec}"
            ours = match_depends(entry, version)
            if ours is None or (entry, version) in known:
                continue
            answered += 1
            if ours is not conda_says(entry, version):
                wrong.append((spec, version, ours))
    assert wrong == []
    assert answered > len(SPECS) * len(VERSIONS) * 3 // 4  # not by saying None to everything
