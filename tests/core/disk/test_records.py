from __future__ import annotations

import json

import pytest

from conda_pipguard.core.disk.records import PathMapper, parse_record, read_records

SP = "lib/python3.11/site-packages"

CONDA_NOARCH = {
    "name": "six",
    "version": "1.16.0",
    "build": "pyh6c4a22f_0",
    "channel": "https://conda.anaconda.org/conda-forge/noarch",
    "subdir": "noarch",
    "noarch": "python",
    "depends": ["python"],
    "files": [f"{SP}/six.py", f"{SP}/__pycache__/six.cpython-311.pyc"],
    "paths_data": {
        "paths_version": 1,
        "paths": [
            {
                "_path": "site-packages/six.py",
                "path_type": "hardlink",
                "sha256": "a" * 64,
                "sha256_in_prefix": "b" * 64,
                "size_in_bytes": 1,
            },
            {"_path": f"{SP}/__pycache__/six.cpython-311.pyc", "path_type": "pyc_file"},
        ],
    },
}

RATTLER_NOARCH = {
    **CONDA_NOARCH,
    "noarch": {"type": "python"},
    "files": [f"{SP}/six.py"],
    "paths_data": {
        "paths_version": 1,
        "paths": [{"_path": f"{SP}/six.py", "path_type": "hardlink", "sha256": "a" * 64}],
    },
}


def _files(record):
    return {f.path: (f.sha256, f.path_type) for f in record.files}


def test_conda_dialect_noarch_paths_are_mapped_to_the_prefix():
    record = parse_record(CONDA_NOARCH, "conda-meta/six.json", PathMapper(SP))
    files = _files(record)
    # sha256_in_prefix (what is on disk) wins over sha256 (what was in the package)
    assert files[f"{SP}/six.py"] == ("b" * 64, "hardlink")
    assert files[f"{SP}/__pycache__/six.cpython-311.pyc"] == (None, "pyc_file")
    assert len(files) == 2


def test_rattler_dialect_is_already_prefix_relative():
    record = parse_record(RATTLER_NOARCH, "conda-meta/six.json", PathMapper(SP))
    assert record.noarch == "python"
    assert _files(record) == {f"{SP}/six.py": ("a" * 64, "hardlink")}


def test_prefix_replaced_file_without_sha256_in_prefix_has_no_expected_hash():
    raw = {
        "name": "tool",
        "version": "1",
        "build": "0",
        "paths_data": {
            "paths": [
                {
                    "_path": "bin/tool",
                    "sha256": "c" * 64,
                    "prefix_placeholder": "/opt/placeholder",
                    "file_mode": "text",
                }
            ]
        },
    }
    assert _files(parse_record(raw, "r", PathMapper(SP))) == {"bin/tool": (None, "hardlink")}


def test_files_only_records_and_scripts_mapping():
    raw = {
        "name": "x",
        "version": "1",
        "build": "0",
        "noarch": "python",
        "files": ["python-scripts/x", "site-packages/x.py"],
    }
    files = _files(parse_record(raw, "r", PathMapper(SP, "bin")))
    assert set(files) == {"bin/x", f"{SP}/x.py"}


@pytest.mark.parametrize("raw", [[], {"name": "x"}, {"name": 1, "version": "1", "build": "0"}])
def test_non_records_are_rejected(raw):
    with pytest.raises(ValueError):
        parse_record(raw, "r", PathMapper(SP))


def test_wrong_typed_file_lists_are_skipped_not_iterated():
    raw = {**CONDA_NOARCH, "files": "lib/x.py", "paths_data": {"paths": {"_path": "x"}}}
    assert parse_record(raw, "conda-meta/six.json", PathMapper(SP)).files == ()
    raw = {**CONDA_NOARCH, "files": [5, None, f"{SP}/six.py"], "paths_data": {"paths": [3, {}]}}
    (only,) = parse_record(raw, "conda-meta/six.json", PathMapper(SP)).files
    assert (only.path, only.sha256, only.path_type) == (f"{SP}/six.py", None, "hardlink")


def test_wrong_typed_path_entry_fields_are_read_as_unknown_never_raise():
    entries = [
        {"_path": "lib/a.so", "path_type": ["hardlink"], "sha256": "ab", "size_in_bytes": 3},
        {"_path": "lib/b.so", "path_type": "hardlink", "sha256": 7, "size_in_bytes": True},
        {"_path": "lib/c.so", "path_type": {}, "size_in_bytes": "3"},
    ]
    raw = {"name": "odd", "version": "1", "build": "0", "paths_data": {"paths": entries}}
    a, b, c = parse_record(raw, "conda-meta/odd-1-0.json", PathMapper(SP)).files
    assert (a.path_type, a.sha256, a.size) == ("['hardlink']", "ab", None)
    assert (b.path_type, b.sha256, b.size) == ("hardlink", None, None)
    assert (c.path, c.path_type, c.size) == ("lib/c.so", "hardlink", None)


def test_conda_records_list_the_same_paths_twice_and_are_read_as_they_are():
    records, problems = read_records({"conda-meta/six.json": CONDA_NOARCH}, PathMapper(SP))
    assert problems == []
    assert [(f.path, f.sha256) for f in records[0].files] == [
        (f"{SP}/six.py", "b" * 64),
        (f"{SP}/__pycache__/six.cpython-311.pyc", None),
    ]


def test_files_and_paths_data_that_disagree_are_united_and_reported():
    """A path one list drops is still conda's: paths_data (with hashes) first, then files."""
    raw = {
        **CONDA_NOARCH,
        "files": ["site-packages/six.py", "site-packages/extra.py"],
        "paths_data": {
            "paths": [
                {"_path": "site-packages/six.py", "sha256": "ab"},
                {"_path": "site-packages/only_here.py"},
            ]
        },
    }
    records, problems = read_records({"conda-meta/six.json": raw}, PathMapper(SP))
    assert [(f.path, f.sha256) for f in records[0].files] == [
        (f"{SP}/six.py", "ab"),
        (f"{SP}/only_here.py", None),
        (f"{SP}/extra.py", None),
    ]
    (problem,) = problems
    assert problem.reason == (
        "has 'files' and 'paths_data' that disagree (1 path only in 'files', 1 path only in "
        "'paths_data'); both were used"
    )
    assert "conda removes a package by 'paths_data'" in problem.consequence


@pytest.mark.parametrize(
    ("files", "paths"),
    [
        (["site-packages/six.py"], []),  # no paths_data entries: files is the list
        ([], [{"_path": "site-packages/six.py"}]),  # no files: paths_data is
    ],
)
def test_one_list_alone_is_not_a_disagreement(files, paths):
    raw = {**CONDA_NOARCH, "files": files, "paths_data": {"paths": paths}}
    records, problems = read_records({"conda-meta/six.json": raw}, PathMapper(SP))
    assert [f.path for f in records[0].files] == [f"{SP}/six.py"] and problems == []


def test_a_record_nested_too_deep_is_a_problem_not_a_crash(tmp_path):
    from conda_pipguard.core.disk.condameta import CondaMeta

    meta = tmp_path / "conda-meta"
    meta.mkdir()
    (meta / "deep-1-0.json").write_text("[" * 100_000 + "]" * 100_000)
    (meta / "six-1.16.0-pyh_0.json").write_text(json.dumps(CONDA_NOARCH))
    records, problems = CondaMeta(tmp_path).read_all(PathMapper(SP))
    assert [r.name for r in records] == ["six"]
    assert [p.record_path for p in problems] == ["conda-meta/deep-1-0.json"]
    assert "not valid JSON" in problems[0].reason
