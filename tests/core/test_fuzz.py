"""Fuzzing every reader with hypothesis: whatever bytes an environment holds, no crash.

Also the paths ``RECORD`` lists (scanned, hashed, planned for removal), versions through the
rules and the impact, and the hook paths (the pre-command's look, the kept record copies).

Fixed seed (``derandomize``) and a bounded number of examples, so CI runs the same cases in
seconds. Inputs that once found a bug are kept as ``@example``s and in tests/core/test_hostile.py.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conda_pipguard.core.diagnosis import diagnose
from conda_pipguard.core.disk.environment import load_environment
from conda_pipguard.core.disk.history import parse_history
from conda_pipguard.core.model.glance import glance
from conda_pipguard.core.repair.build import build_plan, render_plan
from conda_pipguard.core.report import render_text, to_json
from conda_pipguard.core.rules.impact import PlannedPackage, impact
from conda_pipguard.core.rules.versionspec import match_depends, match_version, split_depends

FUZZ = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SP = "lib/python3.11/site-packages"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
version_text = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[0-9][0-9.]{0,40}(a|b|rc|post|dev)?[0-9]{0,5}", fullmatch=True),
    st.just("1" * 5000),
)
spec_text = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[a-z]{1,8}( [<>=!~,.*|0-9a-z]{0,30})?( [a-z0-9_*]{1,10})?", fullmatch=True),
)


@FUZZ
@given(spec=spec_text, version=version_text)
@example(spec="numpy >=1.23.5,<2.0a0", version="9" * 5000)
@example(spec="x " + "(" * 5000, version="1.0")
def test_version_specs_answer_or_abstain(spec, version):
    assert match_version(spec, version) in (True, False, None)
    assert match_depends(spec, version) in (True, False, None)
    name, rest = split_depends(spec)
    assert isinstance(name, str) and isinstance(rest, str)


history_lines = st.lists(
    st.one_of(
        st.text(max_size=60),
        st.from_regex(
            r"==> 20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] <==",
            fullmatch=True,
        ),
        st.from_regex(r"[+-][a-z-]{1,10}::[a-z]{1,8}-[0-9.]{1,6}-[a-z0-9_]{1,6}", fullmatch=True),
        st.builds(lambda s: f"# update specs: {s}", st.text(max_size=40)),
        st.builds(lambda s: f"# cmd: conda {s}", st.text(max_size=40)),
    ),
    max_size=20,
)


@FUZZ
@given(lines=history_lines)
@example(lines=["==> 2026-01-01 00:00:00 <==", "# update specs: [" + "[" * 50_000 + "]"])
def test_history_parses_anything(lines):
    history = parse_history("\n".join(lines))
    history.current()
    history.requested_specs()


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _prefix(root: Path) -> Path:
    """A minimal conda prefix: a python record and one noarch package with a dist-info."""
    prefix = root / "env"
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    python = {
        "name": "python",
        "version": "3.11.7",
        "build": "h0_0_cpython",
        "build_number": 0,
        "files": ["bin/python3.11"],
        "depends": [],
        "subdir": "linux-64",
    }
    (meta / "python-3.11.7-h0_0_cpython.json").write_text(json.dumps(python))
    (prefix / SP).mkdir(parents=True)
    return prefix


records = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values | st.just("tool"),
        "version": json_values | version_text,
        "build": json_values,
        "files": json_values | st.just([f"{SP}/tool.py", f"{SP}/tool-1.0.dist-info/METADATA"]),
        "paths_data": json_values
        | st.just({"paths": [{"_path": f"{SP}/tool.py", "sha256": "0" * 64, "size_in_bytes": 1}]}),
        "depends": json_values | st.just(["python >=3.11"]),
        "noarch": json_values,
        "channel": json_values,
        "requested_spec": json_values,
    },
)
dist_files = st.fixed_dictionaries(
    {},
    optional={
        "METADATA": st.binary(max_size=200)
        | st.builds(
            lambda v: f"Metadata-Version: 2.1\nName: tool\nVersion: {v}\n".encode(), version_text
        ),
        "RECORD": st.binary(max_size=300)
        | st.builds(lambda n: f"tool.py,sha256={n},1\n".encode(), st.text(max_size=20)),
        "INSTALLER": st.binary(max_size=20),
        "REQUESTED": st.binary(max_size=5),
        "direct_url.json": st.binary(max_size=80)
        | st.builds(lambda v: json.dumps(v).encode(), json_values),
    },
)


@FUZZ
@given(record=records, files=dist_files, history=st.binary(max_size=300))
def test_diagnose_survives_any_record_and_metadata(tmp_path_factory, record, files, history):
    prefix = _prefix(tmp_path_factory.mktemp("fuzz"))
    (prefix / "conda-meta" / "tool-1.0-0.json").write_text(json.dumps(record))
    (prefix / "conda-meta" / "history").write_bytes(history)
    for name, content in files.items():
        _write(prefix / SP / "tool-1.0.dist-info" / name, content)
    diagnosis = diagnose(prefix, environ={"HOME": os.fspath(prefix), "PATH": ""})
    render_text(diagnosis, colour=False)
    json.loads(to_json([diagnosis], many=False))


def _dist_info(prefix: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    path = prefix / SP / f"{name}-{version}.dist-info"
    for file_name, content in files.items():
        _write(path / file_name, content)
    return path


def _conda_record(prefix: Path, name: str, version: str, files: list[str]) -> None:
    record = {"name": name, "version": version, "build": "0", "files": files, "depends": []}
    (prefix / "conda-meta" / f"{name}-{version}-0.json").write_text(json.dumps(record))


record_paths = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet="ab/.\\\0 \n,:~", max_size=30),
        st.sampled_from(
            [".", "..", "./", "/", "tool/", "tool/../..", "../../bin/x", "tool/\0/x.py"]
        ),
        st.just("a/" * 3000),
    ),
    max_size=8,
)


@FUZZ
@given(paths=record_paths)
@example(paths=["tool/a\0b/c.py", "tool.py"])
@example(paths=["tool/evil/keep.txt", "tool/evil", "tool/evil/", "."])
def test_record_paths_never_crash_the_scan_or_the_plan(tmp_path_factory, paths):
    """RECORD paths of pip's copy over conda's: scanned, hashed, planned for removal, shown."""
    prefix = _prefix(tmp_path_factory.mktemp("fuzz"))
    _conda_record(prefix, "tool", "1.0", [f"{SP}/tool.py", f"{SP}/tool/evil/keep.txt"])
    _write(prefix / SP / "tool.py", b"# pip's\n")
    rows = "".join(f'"{p}",sha256=AAAA,5\n'.replace('"', "") for p in paths if "\n" not in p)
    _dist_info(prefix, "tool", "2.0", {"INSTALLER": b"pip\n", "METADATA": b"Name: tool\n"})
    _write(prefix / SP / "tool-2.0.dist-info" / "RECORD", f"tool.py,,\n{rows}".encode())
    outside = tmp_path_factory.mktemp("outside")
    (outside / "keep.txt").write_text("sentinel")
    (prefix / SP / "tool").mkdir(exist_ok=True)
    (prefix / SP / "tool" / "evil").symlink_to(outside, target_is_directory=True)
    diagnosis = diagnose(prefix, environ={"HOME": os.fspath(prefix), "PATH": ""})
    render_text(diagnosis, colour=False)
    json.loads(to_json([diagnosis], many=False))
    plan = build_plan(diagnosis, python=sys.executable)
    render_plan(plan)
    json.dumps(plan.to_dict())
    removals = [step for step in plan.steps if step.action == "remove-files"]
    assert all(f"{SP}/tool/evil/keep.txt" not in step.argv for step in removals)
    assert (outside / "keep.txt").read_text() == "sentinel"


@FUZZ
@given(installed=version_text, wanted=version_text, planned=version_text)
@example(installed="1" * 5000, wanted="1.0", planned="2.0")
@example(installed="1.0", wanted="9" * 5000, planned="9" * 5000)
def test_dependency_versions_through_the_rules_and_the_impact(
    tmp_path_factory, installed, wanted, planned
):
    """Any version, installed, required or planned: the rules and the impact answer."""
    prefix = _prefix(tmp_path_factory.mktemp("fuzz"))
    metadata = f"Metadata-Version: 2.1\nName: dep\nVersion: {installed}\n".replace("\r", "")
    _dist_info(prefix, "dep", "1.0", {"INSTALLER": b"pip\n", "METADATA": metadata.encode()})
    requires = f"Requires-Dist: dep>={wanted}\nRequires-Dist: dep (=={wanted})\n"
    app = f"Metadata-Version: 2.1\nName: app\nVersion: 1.0\n{requires}".replace("\r", "")
    _dist_info(
        prefix, "app", "1.0", {"INSTALLER": b"pip\n", "METADATA": app.encode("utf-8", "replace")}
    )
    _conda_record(prefix, "dep", "1.0", [f"{SP}/dep-1.0.dist-info/METADATA"])
    diagnosis = diagnose(prefix, environ={"HOME": os.fspath(prefix), "PATH": ""})
    render_text(diagnosis, colour=False)
    env = load_environment(prefix, include_user_site=False)
    old, new = PlannedPackage("dep", "1.0", "0"), PlannedPackage("dep", planned, "0")
    for item in impact(env, [old], [new]):
        assert item.message and isinstance(item.fix, str)


kept_copy = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.builds(lambda r: json.dumps(r).encode(), records),
)


@FUZZ
@given(record=records, files=dist_files, copy=kept_copy, history=st.binary(max_size=200))
@example(
    record={"name": "tool", "version": "1.0", "files": [f"{SP}/tool-1.0.dist-info/RECORD"]},
    files={"INSTALLER": b"conda\n"},
    copy=b"{",
    history=b"+defaults::tool-1.0-0\n",
)
def test_the_hook_paths_survive_anything(tmp_path_factory, record, files, copy, history):
    """The pre-command's look and kept copies, and the status read of those copies."""
    from conda_pipguard.guard.kept_records import drop_stale_copies, keep_records  # no conda in it

    prefix = _prefix(tmp_path_factory.mktemp("fuzz"))
    (prefix / "conda-meta" / "tool-1.0-0.json").write_text(json.dumps(record))
    (prefix / "conda-meta" / "history").write_bytes(history)
    _dist_info(prefix, "tool", "2.0", files)
    kept = prefix / "conda-meta" / ".pipguard-records"
    _write(kept / "tool-1.0-0.json", copy)
    _write(kept / "other-1.0-0.json", copy)
    seen = glance(prefix)
    seen.risk_line()
    seen.records_for(["tool", "python"])
    keep_records(prefix)
    drop_stale_copies(prefix)
    (prefix / "conda-meta" / "tool-1.0-0.json").unlink()  # as conda list deletes it
    _write(kept / "tool-1.0-0.json", copy)
    diagnosis = diagnose(prefix, environ={"HOME": os.fspath(prefix), "PATH": ""})
    render_text(diagnosis, colour=False)
