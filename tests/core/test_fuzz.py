"""Fuzzing every reader with hypothesis: whatever bytes an environment holds, no crash.

Fixed seed (``derandomize``) and a bounded number of examples, so CI runs the same cases in
seconds. Inputs that once found a bug are kept as ``@example``s and in tests/core/test_hostile.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conda_pipguard.core.diagnosis import diagnose
from conda_pipguard.core.disk.history import parse_history
from conda_pipguard.core.report import render_text, to_json
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
