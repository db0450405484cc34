"""Every message where a count meets a noun reads right with 1 and with 2 ("1 file", "2 files").

The messages are rendered with counts 1 and 2: the pure ones directly, the rules' on a real env.
A scan of the sources keeps a bare ``{n} files`` from coming back.
"""

from __future__ import annotations

import ast
import re
from itertools import pairwise
from pathlib import Path

import pytest

import conda_pipguard
from conda_pipguard.cli.envreport import verify_line
from conda_pipguard.core.incident.timeline import _replace_text
from conda_pipguard.core.locks.softholds import WRITTEN, Hold, held_sentence
from conda_pipguard.core.model.riskline import risk_text
from conda_pipguard.core.plurals import agree, count_of
from conda_pipguard.core.repair.steps import remove_files_step
from conda_pipguard.core.rules.findings import Finding, PathCounts
from conda_pipguard.core.rules.impact import _collide
from tests.support.envkit import site_packages

PACKAGE = Path(conda_pipguard.__file__).parent
#: Where messages for people are written.
SOURCES = ("cli", "guard", "core/rules", "core/repair", "core/locks", "core/incident", "core")
#: Nouns the messages count.
NOUNS = (
    "files",
    "paths",
    "pins",
    "packages",
    "conda packages",
    "Python packages",
    "distributions",
    "non-conda distributions",
    "commands",
    "environments",
    "modules",
    "records",
    "problems",
    "copies",
    "dependencies",
)
_BARE = re.compile(rf"^ ({'|'.join(NOUNS)})\b")
#: A name that holds a count.
_COUNT = re.compile(r"count|number|total|missing|listed|deleted|overwritten|identical|failed|^n$")


def _a_count(expression: ast.expr) -> bool:
    if isinstance(expression, ast.Call):
        return isinstance(expression.func, ast.Name) and expression.func.id == "len"
    if isinstance(expression, ast.BinOp):
        return _a_count(expression.left) or _a_count(expression.right)
    name = getattr(expression, "attr", None) or getattr(expression, "id", "")
    return bool(_COUNT.search(name))


def bare_counts(path: Path, root: Path = PACKAGE) -> list[str]:
    """``{expression} <plural noun>`` in the f-strings of *path*, unless count_of spelled it."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.JoinedStr):
            continue
        for value, after in pairwise(node.values):
            if (
                isinstance(value, ast.FormattedValue)
                and _a_count(value.value)
                and isinstance(after, ast.Constant)
                and isinstance(after.value, str)
                and _BARE.match(after.value)
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_bare_count_before_a_plural_noun():
    files = sorted({p for d in SOURCES for p in (PACKAGE / d).glob("*.py")})
    assert len(files) > 40
    assert [hit for path in files for hit in bare_counts(path)] == []


def test_the_scan_sees_a_bare_count(tmp_path):
    planted = tmp_path / "rule.py"
    body = 'f"{n} files, {len(x)} pins, {x} files", f"{count_of(n, \'file\')}"'
    planted.write_text(f"def f(n, x):\n    return {body}\n")
    assert [hit.split(": ", 1)[0] for hit in bare_counts(planted, tmp_path)] == ["rule.py:2"] * 2


def test_count_of_and_agree():
    assert [count_of(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert [count_of(n, "dependency") for n in (1, 2)] == ["1 dependency", "2 dependencies"]
    assert [agree(n, "is", "are") for n in (1, 2)] == ["is", "are"]


@pytest.mark.parametrize(
    ("count", "said"),
    [
        (1, "the 1 conda package"),
        (2, "the 2 conda packages"),
    ],
)
def test_soft_lock_sentence(count, said):
    assert held_sentence(WRITTEN, count).endswith(f"may add packages but not change {said}")
    never = (Hold("pip", "never"), Hold("uv", "never"))
    assert held_sentence(never, count) == (
        f"neither pip nor uv is held by the {count_of(count, 'pin')}"
    )


def test_verify_line():
    line = lambda packages, failed: verify_line(  # noqa: E731
        {"ran": True, "packages": packages, "failed": failed}
    )
    assert line(1, 0) == "  verify: the 1 conda package involved imports; results not checked"
    assert line(2, 0) == "  verify: the 2 conda packages involved import; results not checked"
    assert line(1, 1) == "  verify: 1 of the 1 conda package involved fails to import"
    assert line(2, 1) == "  verify: 1 of the 2 conda packages involved fails to import"
    assert line(2, 2) == "  verify: 2 of the 2 conda packages involved fail to import"


def test_repair_and_hook_texts():
    step = remove_files_step("python", "/env", ["a"], "why", "numpy's leftovers")
    assert step.summary == "remove numpy's leftovers (1 path under /env)"
    step = remove_files_step("python", "/env", ["a", "b"], "why", "numpy's leftovers")
    assert step.summary == "remove numpy's leftovers (2 paths under /env)"
    assert [_collide(1), _collide(2)] == ["1 file collides", "2 files collide"]
    one, two = risk_text("-n x", ["a"], None), risk_text("-n x", ["a", "b"], None)
    assert "1 Python package here is from pip (a)" in one
    assert "2 Python packages here are from pip (a, b)" in two


@pytest.mark.parametrize("count", [1, 2])
def test_history_texts(count):
    finding = Finding(
        "shadowed",
        "",
        distribution="numpy",
        version="2.1.0",
        conda_package="numpy",
        conda_version="1.26.4",
        paths=PathCounts(count, 0, 0),
    )
    assert _replace_text(finding) == (
        f"replaced conda's numpy 1.26.4 ({count_of(count, 'file')} overwritten, 0 deleted)"
    )
    clobbered = Finding(
        "clobbered", "", conda_package="numpy", conda_version="1", paths=PathCounts(count, 0, 0)
    )
    assert _replace_text(clobbered) == f"overwrote {count_of(count, 'file')} of conda's numpy 1"


def test_rule_messages_on_a_real_env(kit, scan):
    kit.wheel("onefile", "1.0", {"onefile.py": ""})
    kit.wheel("twofiles", "1.0", {"twofiles/__init__.py": "", "twofiles/more.py": ""})
    prefix = kit.create("env", ["python", "pip"])
    kit.pip(prefix, "install", "onefile", "twofiles")
    site = site_packages(prefix)
    (site / "onefile.py").unlink()
    (site / "twofiles" / "more.py").unlink()
    (site / "twofiles" / "__init__.py").unlink()
    messages = {f.distribution: f.message for f in scan(prefix).analysis.findings}
    assert messages["onefile"].startswith(
        "onefile 1.0 (pip) is incomplete: 1 of the 1 file its RECORD lists is gone"
    )
    assert messages["twofiles"].startswith(
        "twofiles 1.0 (pip) is incomplete: 2 of the 2 files its RECORD lists are gone"
    )
