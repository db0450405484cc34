from __future__ import annotations

import pytest

from conda_pipguard.core.disk.records import PathMapper, parse_record

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


def test_paths_data_is_the_file_list_when_a_record_has_one():
    # conda unlinks by paths_data; ``files`` is read only for a record without it
    raw = {
        **CONDA_NOARCH,
        "files": ["site-packages/six.py", "site-packages/extra.py"],
        "paths_data": {"paths": [{"_path": "site-packages/six.py", "sha256": "ab"}]},
    }
    assert [f.path for f in parse_record(raw, "x", PathMapper(SP)).files] == [f"{SP}/six.py"]
    raw = {**CONDA_NOARCH, "files": ["site-packages/six.py"], "paths_data": {"paths": []}}
    assert [f.path for f in parse_record(raw, "x", PathMapper(SP)).files] == [f"{SP}/six.py"]
