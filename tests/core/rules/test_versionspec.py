from __future__ import annotations

import pytest

from conda_pipguard.core.locks.pins import Pin
from conda_pipguard.core.rules.versionspec import (
    match_depends,
    match_version,
    specifier_allows,
    split_depends,
)


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        (">=1.23,<2", "1.26.4", True),
        (">=1.23,<2", "2.1.0", False),
        (">=1.23.5,<2.0a0", "2.0.0rc1", False),
        ("<2.0a0", "1.26.4", True),
        ("1.26.*", "1.26.4", True),
        ("1.26.*", "1.27.0", False),
        ("=1.26", "1.26.4", True),
        ("1.26", "1.26.0", True),
        ("1.26", "1.26.4", False),
        ("==2.1.0", "2.1.0", True),
        ("!=2.1.0", "2.1.0", False),
        ("~=1.2.3", "1.2.9", True),
        ("~=1.2.3", "1.3.0", False),
        ("<1.0|>=2", "2.1", True),
        ("<1.0|>=2", "1.5", False),
        (">=1,<2|>=3", "3.1", True),
        ("*", "9", True),
        # a pre-release tag belongs to the segment it follows: 1.26.0rc1 starts with 1.26
        ("1.26.*", "1.26.0rc1", True),
        ("=1.26", "1.26rc1", True),
        ("2.*", "2.0.0.dev1", True),
        ("=1.26.0", "1.26", True),
        ("=1.26.0", "1.27rc1", False),
        ("1.*", "1!1.0", False),  # another epoch
        ("~=1!1.26", "1!1.27", True),
    ],
)
def test_subset_of_conda_version_specs(spec, version, expected):
    assert match_version(spec, version) is expected


@pytest.mark.parametrize(
    ("spec", "version"),
    [
        ("^1\\.2.*$", "1.2.0"),
        (">=1.0", "not-a-version"),
        ("(>=1,<2)|>3", "1.5"),
        (">=1.2.3_1", "1"),
        ("=1.26.0", "1.26rc1"),  # conda's answer depends on how 1.26rc1 was spelled
        ("=1.26rc1", "1.26.0"),  # a prefix that is not a plain release
    ],
)
def test_unsupported_syntax_is_not_evaluated(spec, version):
    assert match_version(spec, version) is None


def test_depends_entries():
    assert split_depends("numpy >=1.23,<2 *_cp311") == ("numpy", ">=1.23,<2")
    assert split_depends("conda-forge::numpy") == ("numpy", "")
    assert match_depends("numpy", "2.1.0") is True
    assert match_depends("numpy >=1.23,<2.0a0 py311*", "2.1.0") is False


@pytest.mark.parametrize(
    ("specifier", "version", "expected"),
    [
        (">=1.23,<2", "1.26.4", True),
        (">=1.23,<2", "2.1.0", False),
        (">=1", "2.0.0rc1", True),  # pre-releases allowed: an installed version is what it is
        (">=1", "9" * 5000, None),  # not a version: not evaluated
        (">=" + "9" * 5000, "1.0", None),  # nor is the specifier's
        ("==1.0", "not a version", None),
    ],
)
def test_specifier_allows_or_abstains(specifier, version, expected):
    from packaging.specifiers import SpecifierSet

    assert specifier_allows(SpecifierSet(specifier), version) is expected


def test_a_pin_of_a_version_that_does_not_parse_is_spelled_with_three_equals():
    assert Pin("x", "9" * 5000).requirement == "x===" + "9" * 5000
    assert Pin("x", "1.0").requirement == "x==1.0"
