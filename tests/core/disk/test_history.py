from __future__ import annotations

import pytest

from conda_pipguard.core.disk import history as history_module
from conda_pipguard.core.disk.history import (
    HistoryDist,
    clone_source,
    parse_history,
    parse_history_time,
    read_history,
    spec_name,
)

HISTORY = """\
==> 2024-05-01 10:00:00 <==
# cmd: conda create -n demo python numpy scipy
# conda version: 25.5.1
+conda-forge::numpy-1.26.4-py311h0_0
+conda-forge::python-3.11.7-h0_0
+https://conda.anaconda.org/conda-forge/linux-64::scipy-1.11.4-py311h0_0
# update specs: ['python', 'numpy', "scipy[version='>=1.11']"]
==> 2024-05-02 10:00:00 <==
# cmd: conda remove -n demo scipy
-https://conda.anaconda.org/conda-forge/linux-64::scipy-1.11.4-py311h0_0
# remove specs: ["scipy"]
==> 2024-05-03 10:00:00 <==
# cmd: conda update numpy
-conda-forge::numpy-1.26.4-py311h0_0
+conda-forge::numpy-1.26.5-py311h0_0
# update specs: ["numpy>=1.26.5"]
"""


def test_replay_gives_what_conda_believes_is_linked():
    history = parse_history(HISTORY)
    current = history.current()
    assert sorted(current) == ["numpy", "python"]
    assert current["numpy"] == HistoryDist("conda-forge", "numpy", "1.26.5", "py311h0_0")
    assert history.revisions[0].cmd == "conda create -n demo python numpy scipy"
    assert history.problems == ()


def test_url_channels_keep_their_colons():
    dist = HistoryDist.parse(
        "https://conda.anaconda.org/conda-forge/linux-64::scipy-1.11.4-py311h0_0"
    )
    assert dist is not None
    assert dist.channel == "https://conda.anaconda.org/conda-forge/linux-64"
    assert dist.dist_str == "scipy-1.11.4-py311h0_0"


def test_requested_specs_follow_updates_and_removals():
    specs = parse_history(HISTORY).requested_specs()
    assert specs == {"python": "python", "numpy": "numpy>=1.26.5"}


def test_old_unsigned_lines_and_garbage():
    history = parse_history("==> 2015 <==\nnumpy-1.9.0-py27_0\nthis is not a package\n")
    assert history.current()["numpy"].version == "1.9.0"
    assert len(history.problems) == 1
    assert "line 3" in history.problems[0]


def test_spec_name():
    assert spec_name("conda-forge::numpy>=1.2") == "numpy"
    assert spec_name("python_abi 3.11.* *_cp311") == "python_abi"
    assert spec_name("  ") is None


def test_absent_and_unreadable_history(tmp_path):
    (tmp_path / "conda-meta").mkdir()
    assert read_history(tmp_path).revisions == ()
    (tmp_path / "conda-meta" / "history").mkdir()  # a directory cannot be read as a file
    history = read_history(tmp_path)
    assert history.revisions == ()
    assert "cannot be read" in history.problems[0]


def test_read_line_by_line_it_is_the_same_history(tmp_path):
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "history").write_text(HISTORY.replace("\n", "\r\n"))
    assert read_history(tmp_path) == parse_history(HISTORY)


def test_a_repeated_line_is_one_object_and_problems_are_counted():
    line = "+conda-forge::numpy-1.26.4-py311h0_0"
    text = "".join(f"==> 2024-05-0{i} <==\n{line}\nnot a package {i}\n" for i in range(1, 10))
    history = parse_history(text * 5)
    assert len({id(r.linked[0]) for r in history.revisions}) == 1
    assert len(history.problems) == 21
    assert history.problems[-1] == "and 25 more lines that are not packages"


@pytest.mark.parametrize(
    ("cap", "text", "reason"),
    [
        ("MAX_REVISIONS", "==> 2024 <==\n+a-1-0\n" * 11, "more than 10 revisions"),
        ("MAX_DISTINCT", "".join(f"+p{i}-1-0\n" for i in range(12)), "more than 10 distinct"),
        ("MAX_REFERENCES", "+p-1-0\n" * 11, "more than 10 entries"),
    ],
)
def test_a_history_past_what_the_parse_keeps_is_not_read(monkeypatch, cap, text, reason):
    monkeypatch.setattr(history_module, cap, 10)
    history = parse_history(text)
    assert history.revisions == ()
    (problem,) = history.problems
    assert problem.startswith("conda-meta/history is too large to read: ") and reason in problem


def test_a_clone_is_known_by_its_first_revision():
    assert clone_source("/opt/conda/bin/conda create -n b --clone a -y") == "a"
    assert clone_source("conda create -p /x --clone=/envs/a") == "/envs/a"
    assert clone_source("conda create -n b numpy") is None
    assert clone_source(None) is None
    text = "==> 2026-11-30 09:34:00 <==\n# cmd: conda create -n b --clone /envs/a\n+c::numpy-1-0\n"
    later = "==> 2026-11-30 10:00:00 <==\n# cmd: conda create -n c --clone b\n"
    assert parse_history(text).cloned() == ("/envs/a", parse_history_time("2026-11-30 09:34:00"))
    assert parse_history(text + later).cloned()[0] == "/envs/a"  # only the first revision
    assert parse_history(later.replace("--clone b", "numpy")).cloned() is None
    assert parse_history("").cloned() is None
