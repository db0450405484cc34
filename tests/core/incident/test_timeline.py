"""``history``: one timeline from conda's log and the non-conda installs, on real envs."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conda_pipguard.core.disk.distributions import Distribution
from conda_pipguard.core.disk.environment import Environment
from conda_pipguard.core.disk.history import parse_history
from conda_pipguard.core.incident.provenance import Stamp, parse_history_time
from conda_pipguard.core.incident.timeline import GROUP_WINDOW, build_timeline
from tests.cli.conftest import run, run_json


def _wait_past(seconds: float) -> None:
    """Let the clock move on, so that the next step's times differ from this one's."""
    time.sleep(seconds)


def test_a_real_incident_in_order_with_broken_since_at_the_replacement(numpy_channel, capsys):
    kit = numpy_channel
    kit.add_package("six", "1.16.0", modules={"six.py": "# six\n"})
    kit.wheel("requests", "2.32.3", {"requests/__init__.py": ""})
    prefix = kit.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")
    _wait_past(1.1)
    kit.pip(prefix, "install", "requests")
    _wait_past(GROUP_WINDOW + 0.5)  # a separate pip command, not part of the same install
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    _wait_past(1.1)
    kit.install(prefix, ["six"], dialect="conda")

    code, data = run_json(capsys, "history", "-p", str(prefix))
    assert code == 0
    events = data["events"]
    assert [e["source"] for e in events] == ["conda", "pip", "pip", "conda"]
    assert events[0]["command"].startswith(f"conda create -p {prefix}")
    assert "numpy 1.26.4" in events[0]["linked"] and "scipy 1.11.4" in events[0]["linked"]
    assert events[1]["summary"] == (
        "pip installed requests 2.32.3 (requested) from an index, and 0 dependencies"
    )
    assert events[1]["effects"] == []
    assert events[2]["summary"].startswith("pip installed numpy 2.1.0 (requested) from an index")
    assert [effect["kind"] for effect in events[2]["effects"]] == [
        "shadowed",
        "conda-dependency-broken",
    ]
    assert events[2]["effects"][0]["text"].startswith("replaced conda's numpy 1.26.4 (")
    assert events[2]["effects"][1]["text"] == ("broke conda's scipy (need numpy >=1.23.5,<2.0a0)")
    assert events[3]["command"].startswith(f"conda install -p {prefix}")
    assert events[3]["linked"] == ["six 1.16.0"]
    assert data["broken_since"] == 2
    assert data["headline"].startswith("broken since ")
    assert data["headline"].endswith(", when pip replaced numpy")
    assert data["unattributed"] == []

    code, out, _ = run(capsys, "history", "-p", str(prefix))
    lines = out.splitlines()
    assert lines[0] == f"{prefix}: {data['headline']}"
    assert sum("<- broken from here" in line for line in lines) == 1
    assert any("pip installed numpy 2.1.0" in line and "<- broken" in line for line in lines)


def test_history_never_writes(numpy_channel, capsys):
    from tests.support.envkit import tree_hashes

    kit = numpy_channel
    prefix = kit.create("env", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    before = tree_hashes(prefix)
    run(capsys, "history", "-p", str(prefix))
    run(capsys, "history", "-p", str(prefix), "--json")
    assert tree_hashes(prefix) == before


# --- the pure merge, with times given


HISTORY = """==> 2026-11-20 10:00:00 <==
# cmd: conda create -n lab numpy
+conda-forge/linux-64::numpy-1.26.4-py311_0
==> 2026-11-20 12:00:00 <==
# cmd: conda install -n lab six
+conda-forge/noarch::six-1.16.0-pyhd8ed1ab_0
"""


def _dist(name: str, version: str, *, requested: bool = False, installer: str = "pip"):
    path = f"lib/python3.11/site-packages/{name}-{version}.dist-info"
    return Distribution(name, version, path, installer=installer, requested=requested)


def _at(clock: str) -> float:
    stamp = parse_history_time(f"2026-11-20 {clock}")
    assert stamp is not None
    return stamp


def _timeline(dists, stamps):
    env = Environment(prefix=Path("/envs/lab"), name="lab", history=parse_history(HISTORY))
    return build_timeline(env, [], dists, stamps, "pip-touched")


def test_one_install_is_one_event_and_a_conda_change_or_a_pause_splits_them():
    a, b = _dist("requests", "2.32.3", requested=True), _dist("idna", "3.7")
    c, d = _dist("attrs", "24.1.0", requested=True), _dist("rich", "13.0", requested=True)
    u = _dist("uvthing", "1.0", requested=True, installer="uv")
    stamps = {
        b.path: Stamp(_at("11:00:00")),
        a.path: Stamp(_at("11:00:03")),  # same pip command: dependency first, then requested
        u.path: Stamp(_at("11:00:05")),  # another installer: another event
        c.path: Stamp(_at("11:30:00")),  # a pause: another command
        d.path: Stamp(_at("12:00:05")),  # after conda's 12:00 change
    }
    timeline = _timeline([a, b, c, d, u], stamps)
    assert [(e.source, [x["name"] for x in e.distributions]) for e in timeline.events] == [
        ("conda", []),
        ("pip", ["idna", "requests"]),
        ("uv", ["uvthing"]),
        ("pip", ["attrs"]),
        ("conda", []),
        ("pip", ["rich"]),
    ]
    assert timeline.events[1].summary == (
        "pip installed requests 2.32.3 (requested) from an index, and 1 dependency: idna 3.7"
    )
    assert timeline.broken_since is None
    assert timeline.headline == "pip-touched: nothing here broke conda's packages"


def test_unknown_times_are_said_and_listed_last():
    a = _dist("requests", "2.32.3", requested=True)
    b = _dist("old", "0.1", requested=True)
    stamps = {
        a.path: Stamp(None, "its metadata cannot be read (Permission denied)"),
        b.path: Stamp(_at("11:00:00"), "its metadata was changed again at 2026-11-20 11:30"),
    }
    timeline = _timeline([a, b], stamps)
    assert [e.source for e in timeline.events] == ["conda", "pip", "conda", "pip"]
    last = timeline.events[-1]
    assert last.when is None and last.to_dict()["time"] is None
    assert last.notes == ("requests: its metadata cannot be read (Permission denied)",)
    assert timeline.events[1].notes == ("old: its metadata was changed again at 2026-11-20 11:30",)
    assert "events of unknown time are listed last" in timeline.notes
    json.dumps(timeline.to_dict())  # JSON-ready


def test_a_dependent_conda_linked_later_is_that_conda_command_s_doing():
    from conda_pipguard.core.rules.findings import Finding, PathCounts

    history = parse_history(
        "==> 2026-11-20 10:00:00 <==\n# cmd: conda create -n lab numpy scipy\n"
        "+c/linux-64::numpy-1.26.4-0\n+c/linux-64::scipy-1.11.4-0\n"
        "==> 2026-11-20 12:00:00 <==\n# cmd: conda install -n lab pandas\n"
        "+c/linux-64::pandas-2.2.2-0\n"
    )
    numpy = _dist("numpy", "2.1.0", requested=True)
    pip = {"distribution": "numpy", "version": "2.1.0", "installer": "pip"}
    findings = [
        Finding(
            "shadowed",
            "numpy 2.1.0 (pip) shadows conda's numpy 1.26.4",
            conda_package="numpy",
            conda_version="1.26.4",
            paths=PathCounts(2, 5, 1),
            location=numpy.path,
            **pip,
        ),
        *(
            Finding(
                "conda-dependency-broken",
                f"conda's {name} requires {need}",
                conda_package=name,
                conda_version=version,
                details={"requirement": need},
                **pip,
            )
            for name, version, need in (
                ("scipy", "1.11.4", "numpy >=1.23.5,<2.0a0"),
                ("pandas", "2.2.2", "numpy >=1.22.4,<2.0a0"),
            )
        ),
    ]
    env = Environment(prefix=Path("/envs/lab"), name="lab", history=history)
    stamps = {numpy.path: Stamp(_at("11:00:00"))}
    timeline = build_timeline(env, findings, [numpy], stamps, "broken")
    assert [[x.text for x in e.effects] for e in timeline.events] == [
        [],
        [
            "replaced conda's numpy 1.26.4 (2 files overwritten, 5 deleted)",
            "broke conda's scipy (need numpy >=1.23.5,<2.0a0)",
        ],
        [
            "linked conda's pandas over numpy 2.1.0 (pip), which does not fit "
            "(need numpy >=1.22.4,<2.0a0)"
        ],
    ]
    assert timeline.broken_since == 1
    assert timeline.headline == "broken since 2026-11-20 11:00, when pip replaced numpy"
    assert timeline.unattributed == ()
