"""The benchmark's local channel serves a generated env conda can solve; its fits are right.

The conda-install timings (``benchmarks/inconda.py``) run only in full benchmark runs; these
checks keep the channel they need from rotting between them: every record of the env's copy is
in the channel, every dependency has a provider, and the real package is what repodata says.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import channel  # noqa: E402
import genenv  # noqa: E402
import run  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[genenv.GeneratedEnv, Path, Path]:
    root = tmp_path_factory.mktemp("bench")
    env = genenv.generate(root / "env", 60)
    chan = channel.build_channel(root, env.prefix, env.records, env.plan[1][0])
    copy = channel.prepared_copy(env.prefix, chan, root / "copy")
    return env, chan, copy


def _repodata(chan: Path) -> dict[str, dict[str, object]]:
    packages = {}
    for subdir in ("linux-64", "noarch"):
        data = json.loads((chan / subdir / "repodata.json").read_text())
        assert data["info"]["subdir"] == subdir
        packages.update(data["packages.conda"])
    return packages


def _copy_records(copy: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((copy / "conda-meta").glob("*.json"))]


def test_every_record_of_the_copy_is_served_from_the_channel(served) -> None:
    env, chan, copy = served
    packages = _repodata(chan)
    records = _copy_records(copy)
    assert len(records) == env.records + len(channel.MISSING)
    for record in records:
        assert record["fn"] in packages, record["fn"]
        entry = packages[record["fn"]]
        assert (entry["name"], entry["version"], entry["build"]) == (
            record["name"],
            record["version"],
            record["build"],
        )
        assert record["channel"] == f"{chan.as_uri()}/{record['subdir']}"


def test_every_dependency_in_the_copy_and_the_channel_has_a_provider(served) -> None:
    _, chan, copy = served
    packages = _repodata(chan)
    installed = {record["name"] for record in _copy_records(copy)}
    served_names = {entry["name"] for entry in packages.values()}
    for entry in packages.values():
        for spec in entry["depends"]:
            name = spec.split()[0]
            assert name in installed and name in served_names, (entry["name"], spec)
    assert {channel.NEW, channel.TINY} <= served_names - installed


def test_the_real_package_matches_its_repodata(served) -> None:
    _, chan, _ = served
    entry = _repodata(chan)[f"{channel.TINY}-1.0-0.conda"]
    data = (chan / "noarch" / f"{channel.TINY}-1.0-0.conda").read_bytes()
    assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["size"])
    from conda_package_handling import api as cph_api

    out = chan.parent / "tiny-extracted"
    cph_api.extract(str(chan / "noarch" / f"{channel.TINY}-1.0-0.conda"), str(out))
    index = json.loads((out / "info" / "index.json").read_text())
    assert (index["name"], index["version"], index["subdir"]) == (channel.TINY, "1.0", "noarch")
    assert (out / "share" / channel.TINY / "README").is_file()


def test_the_copy_shares_files_but_not_conda_meta(served) -> None:
    env, _, copy = served
    site = f"{genenv.SITE}"
    original = next((env.prefix / site).glob("*.dist-info/RECORD"))
    twin = copy / original.relative_to(env.prefix)
    assert twin.stat().st_ino == original.stat().st_ino
    history = "conda-meta/history"
    assert (copy / history).stat().st_ino != (env.prefix / history).stat().st_ino


def test_fit_recovers_a_line_and_says_how_well() -> None:
    slope, intercept, r2 = run.fit([(250, 0.5), (1000, 2.0), (3000, 6.0)])
    assert (round(slope, 9), round(intercept, 9), round(r2, 9)) == (0.002, 0.0, 1.0)
    assert run.fit([(1, 1.0)])[0] != run.fit([(1, 1.0)])[0]  # NaN: one point has no slope
    assert run.fit([(1, 1.0), (2, 3.0), (3, 2.0)])[2] < 1
