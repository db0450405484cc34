"""The registry of finding kinds: one row each, and the README's table says the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conda_pipguard.core.rules.findings import Finding, sort_findings
from conda_pipguard.core.rules.kinds import KINDS, ORDER, Repair, Severity, Verify

README = Path(__file__).parents[3] / "README.md"


def readme_kinds() -> dict[str, str]:
    """``kind -> severity`` from the README's Findings table."""
    section = README.read_text(encoding="utf-8").split("## Findings", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z-]+)` \| (error|warning|info) \|", section, re.M))


def test_the_readme_table_lists_every_kind_with_its_severity():
    assert readme_kinds() == {name: str(kind.severity) for name, kind in KINDS.items()}


def test_a_finding_takes_its_severity_and_its_row_from_the_registry():
    finding = Finding("stale-metadata", "m")
    assert finding.level is Severity.WARNING
    assert finding.row is KINDS["stale-metadata"]
    assert Finding("shadowed", "pip over pip", severity=Severity.WARNING).level is Severity.WARNING


def test_findings_sort_by_severity_then_by_the_registry_order():
    made = [Finding(name, name) for name in reversed(KINDS)]
    names = [f.kind for f in sort_findings(made)]
    by_severity = sorted(KINDS, key=lambda name: (-KINDS[name].severity, ORDER[name]))
    assert names == by_severity


def test_informational_kinds_are_never_imported_by_verify_nor_acted_on():
    for kind in KINDS.values():
        if kind.severity is Severity.INFO:
            assert kind.verify is Verify.NONE, kind.name
            assert kind.repair in (Repair.LEAVE, Repair.SUGGEST), kind.name


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="no-such-kind"):
        Finding("no-such-kind", "m")
