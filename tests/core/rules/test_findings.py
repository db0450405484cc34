"""Findings carry the objects the analysis held: repair and export act on those, not on names.

The references are not part of the JSON contract, nor of a finding's equality or repr.
"""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest

from conda_pipguard.core.repair.build import build_plan
from conda_pipguard.core.repair.export import export_spec
from conda_pipguard.core.rules.findings import Finding


@pytest.fixture
def shadowed_story(numpy_channel):
    prefix = numpy_channel.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")
    numpy_channel.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return prefix


def only(diagnosis, kind):
    (finding,) = [f for f in diagnosis.analysis.findings if f.kind == kind]
    return finding


def test_rules_hand_over_the_objects_they_looked_at(shadowed_story, scan):
    diagnosis = scan(shadowed_story)
    env = diagnosis.env
    shadowed = only(diagnosis, "shadowed")
    assert shadowed.dist is next(d for d in env.distributions if d.path == shadowed.location)
    assert shadowed.record is env.records_by_name["numpy"]
    assert shadowed.layer is not None and shadowed.layer.dist is shadowed.dist
    assert shadowed.history_dist is None
    broken = only(diagnosis, "conda-dependency-broken")
    assert broken.record is env.records_by_name["scipy"]
    assert broken.dist is shadowed.dist


def test_references_stay_out_of_json_equality_and_repr(shadowed_story, scan):
    diagnosis = scan(shadowed_story)
    finding = only(diagnosis, "shadowed")
    bare = dataclasses.replace(finding, dist=None, record=None, layer=None)
    assert bare == finding
    assert repr(bare) == repr(finding)
    assert json.dumps(bare.to_dict()) == json.dumps(finding.to_dict())
    assert pickle.loads(pickle.dumps(finding)).record == finding.record


def test_repair_acts_on_the_references_not_on_the_names(shadowed_story, scan):
    """The same finding without its objects names the same package, yet nothing is acted on."""
    diagnosis = scan(shadowed_story)
    assert [r.spec for r in build_plan(diagnosis).reinstalls] == ["numpy=1.26.4=0"]
    findings = tuple(
        dataclasses.replace(f, dist=None, record=None, layer=None)
        for f in diagnosis.analysis.findings
    )
    bare = dataclasses.replace(
        diagnosis, analysis=dataclasses.replace(diagnosis.analysis, findings=findings)
    )
    plan = build_plan(bare)
    assert plan.reinstalls == () and plan.steps == ()
    assert "shadowed" in [s.kind for s in plan.suggestions]


def test_a_deleted_record_is_referenced_from_history(shadowed_story, scan, numpy_channel):
    (record,) = (shadowed_story / "conda-meta").glob("numpy-1.26.4-*.json")
    record.unlink()
    diagnosis = scan(shadowed_story)
    finding = only(diagnosis, "shadowed")
    assert finding.record is None
    assert finding.history_dist is not None
    assert (finding.history_dist.name, finding.history_dist.build) == ("numpy", "0")
    assert finding.to_dict()["details"] == {"record_missing": True}
    pinned = export_spec(diagnosis, pinned=True).spec.dependencies
    assert "numpy=1.26.4=0" in pinned


def test_a_finding_built_by_hand_has_no_references():
    finding = Finding("debris", "x: left over", "rm -r x", location="x")
    assert (finding.dist, finding.record, finding.history_dist, finding.layer) == (None,) * 4
