"""``conda-meta`` by file name: the one listing every reader of the records starts from."""

from __future__ import annotations

import itertools
import json

import pytest

from conda_pipguard.core.disk.condameta import (
    CondaMeta,
    conda_meta_dir,
    split_dist,
    split_record_name,
)
from conda_pipguard.core.disk.history import HistoryDist
from conda_pipguard.core.disk.names import conda_names_for, name_keys
from conda_pipguard.core.disk.python import discover
from conda_pipguard.core.disk.records import PathMapper, read_records
from conda_pipguard.core.errors import NotACondaEnvironment
from tests.core.disk.test_records import CONDA_NOARCH, RATTLER_NOARCH, SP


def write(prefix, records):
    """*records* (file name -> JSON object or raw text) into ``prefix/conda-meta``."""
    meta = prefix / "conda-meta"
    meta.mkdir(exist_ok=True)
    for file_name, record in records.items():
        text = record if isinstance(record, str) else json.dumps(record)
        (meta / file_name).write_text(text)
    return prefix


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("numpy-1.26.4-py311_0", ("numpy", "1.26.4", "py311_0")),
        ("python-dateutil-2.9.0-pyhd_0", ("python-dateutil", "2.9.0", "pyhd_0")),
        ("numpy-1.26.4", None),
        ("numpy--0", None),
        ("-1-0", None),
    ],
)
def test_one_split_for_record_names_and_history_lines(text, parts):
    assert split_dist(text) == parts
    assert split_record_name(f"{text}.json") == parts
    assert split_record_name(text) is None  # not a record file
    found = HistoryDist.parse(f"conda-forge::{text}")
    assert (found and (found.name, found.version, found.build)) == (parts or None)


def test_index_by_file_name_reads_and_parses_on_demand(tmp_path):
    prefix = write(
        tmp_path,
        {
            "six-1.16.0-pyh_0.json": CONDA_NOARCH,
            "tool-1.0-0.json": RATTLER_NOARCH,
            "history": "",
            "notes.txt": "",
        },
    )
    meta = CondaMeta(prefix)
    assert meta.listed == ["six-1.16.0-pyh_0.json", "tool-1.0-0.json"]
    assert meta.files == {"six": "six-1.16.0-pyh_0.json", "tool": "tool-1.0-0.json"}
    assert meta.versions == {"six": "1.16.0", "tool": "1.0"}
    assert meta.parsed == ()  # nothing read yet
    assert meta.mentions("six", "six.py") and not meta.mentions("six", "numpy")
    six = meta.record("six", PathMapper(SP))
    assert f"{SP}/six.py" in {f.path for f in six.files}
    assert meta.record("six", PathMapper(None)) is six  # parsed once
    assert meta.parsed == (six,)


def test_every_problem_of_the_full_read_is_reported(tmp_path):
    prefix = write(
        tmp_path,
        {
            "six-1.16.0-0.json": RATTLER_NOARCH,
            "broken-1-0.json": "{not json",
            "odd-1-0.json": "[1, 2]",
            "deep-1-0.json": "[" * 100_000 + "]" * 100_000,
        },
    )
    records, problems = CondaMeta(prefix).read_all(PathMapper(SP))
    assert [r.name for r in records] == ["six"]
    reasons = {p.record_path: p.reason for p in problems}
    assert "not valid JSON" in reasons["conda-meta/broken-1-0.json"]
    assert "not valid JSON" in reasons["conda-meta/deep-1-0.json"]
    assert "not a package record" in reasons["conda-meta/odd-1-0.json"]
    # the same records and problems, decoded first, then parsed (the kept copies' way)
    decoded = dict(CondaMeta(prefix).decoded())
    again, more = read_records(
        {rel: raw for rel, raw in decoded.items() if isinstance(raw, (dict, list))},
        PathMapper(SP),
    )
    assert again == records and [p.record_path for p in more] == ["conda-meta/odd-1-0.json"]


def test_not_an_environment(tmp_path):
    with pytest.raises(NotACondaEnvironment, match="no conda-meta"):
        conda_meta_dir(tmp_path)
    with pytest.raises(NotACondaEnvironment, match="does not exist"):
        conda_meta_dir(tmp_path / "nope")
    with pytest.raises(OSError):
        CondaMeta(tmp_path)


def test_named_records_are_checked_and_can_leave_their_files_out(tmp_path):
    python = {
        "name": "python",
        "version": "3.11.9",
        "build": "h_0",
        "files": ["bin/python3.11", "lib/python3.11/os.py"],
    }
    prefix = write(
        tmp_path,
        {
            "python-3.11.9-h_0.json": python,
            "python-dateutil-2.9.0-pyhd_0.json": {**CONDA_NOARCH, "name": "python-dateutil"},
            "python_abi-3.11-5_cp311.json": "{not json",  # skipped, not fatal
        },
    )
    meta = CondaMeta(prefix)
    found = meta.named(("python", "python_abi"))
    assert list(found) == ["python"]
    assert [f.path for f in found["python"].files] == ["bin/python3.11", "lib/python3.11/os.py"]
    assert meta.named(("python",), files=False)["python"].files == ()
    assert meta.parsed == ()  # named records are not kept


def test_a_windows_python_is_told_without_its_file_list(tmp_path):
    python = {
        "name": "python",
        "version": "3.12.1",
        "build": "h_0",
        "files": ["Lib/os.py"],
        "paths_data": {"paths": [{"_path": "Lib/os.py"}, {"_path": "python.exe"}]},
    }
    prefix = write(tmp_path, {"python-3.12.1-h_0.json": python})
    layout = discover(CondaMeta(prefix))
    assert layout.windows and layout.site_packages == "Lib/site-packages"
    # paths_data is the file list conda reads: a python.exe only in ``files`` does not count
    python["paths_data"]["paths"] = [{"_path": "Lib/os.py"}]
    python["files"] = ["python.exe"]
    write(tmp_path, {"python-3.12.1-h_0.json": python})
    assert not discover(CondaMeta(prefix)).windows
    # a name spelt with JSON escapes is still found (the bytes do not say python.exe)
    python["paths_data"]["paths"] = [{"_path": "Lib/os.py"}, {"_path": "PYTHON.EXE"}]
    python["files"] = ["Lib/os.py"]
    text = json.dumps(python).replace("PYTHON.EXE", "PYTHON\\u002eEXE")
    write(tmp_path, {"python-3.12.1-h_0.json": text})
    assert b"python.exe" not in (prefix / "conda-meta/python-3.12.1-h_0.json").read_bytes().lower()
    assert discover(CondaMeta(prefix)).windows


def test_conda_names_for_is_the_inverse_of_name_keys():
    names = [
        "numpy",
        "py-opencv",
        "python-dateutil",
        "dateutil",
        "typing_extensions",
        "typing-extensions",
        "ruamel.yaml",
        "py_foo",
        "PyYAML",
        "a--b",
        "_libgcc_mutex",
        "python-py-x",
        "py-x",
    ]
    order = {name: f"{name}-1-0.json" for name in names}
    of = conda_names_for(order)
    keys = set(itertools.chain.from_iterable(map(name_keys, names))) | {"missing", "foo"}
    for key in keys:
        expected = sorted((n for n in names if key in name_keys(n)), key=order.__getitem__)
        assert of(key) == expected, key
    assert of("dateutil") == ["dateutil", "python-dateutil"]
    assert of("foo") == []  # py_foo is not py-foo: conda's prefix is spelt with a dash
