"""``Requires-Dist`` read as pip reads it (issue #10 §5): extras only when asked for."""

from __future__ import annotations

import pytest

from conda_pipguard.core.rules.requirements import needed
from tests.conftest import PY

MARKERS = {"python_version": "3.11", "sys_platform": "linux", "platform_system": "Linux"}


@pytest.mark.parametrize(
    ("text", "applies"),
    [
        ("tabulate>=0.9", True),
        ('tabulate>=0.9; extra == "output-formatting"', False),
        ('tabulate; extra == "all" and python_version >= "3.9"', False),
        ('tomli; python_version < "3.11"', False),
        ('tomli; python_version >= "3.11"', True),
        ('pysocks; sys_platform == "win32" or extra == "socks"', False),
        ("not a requirement !!", False),
    ],
)
def test_requirement_applies_as_pip_decides(text, applies):
    assert (needed(text, MARKERS) is not None) is applies


def test_without_a_python_only_unconditional_requirements_apply():
    assert needed("six", None) is not None
    assert needed('six; python_version >= "3"', None) is None


def test_pip_only_names_each_dependent_once_and_ignores_extras(numpy_channel, scan):
    kit = numpy_channel
    prefix = kit.create("env", ["python", "pip"], dialect="conda")
    kit.wheel("tabulate", "0.9.0", {"tabulate.py": ""})
    kit.wheel(
        "pandaslike",
        "2.2.2",
        {"pandaslike.py": ""},
        requires_dist=['tabulate>=0.9; extra == "output-formatting"', 'tabulate; extra == "all"'],
    )
    kit.wheel("tinyproj", "1.0", {"tinyproj.py": ""}, requires_dist=["tabulate", "tabulate>=0.8"])
    kit.pip(prefix, "install", "--no-deps", "tabulate", "pandaslike", "tinyproj")
    (tabulate,) = [f for f in scan(prefix).analysis.findings if f.distribution == "tabulate"]
    # once, and not pandaslike: its requirements are for extras nobody asked for
    assert tabulate.details["required_by"] == ["tinyproj"]
    assert "installed on request" in tabulate.message
    (prefix / f"lib/python{PY}/site-packages/tabulate-0.9.0.dist-info/REQUESTED").unlink()
    (tabulate,) = [f for f in scan(prefix).analysis.findings if f.distribution == "tabulate"]
    assert tabulate.details["required_by"] == ["tinyproj"]
    assert "a dependency of tinyproj)" in tabulate.message
