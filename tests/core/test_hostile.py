"""Hostile and half-broken environments: every command answers, in bounded time and memory.

One real environment (the user story: conda's numpy and scipy, pip's numpy 2 over them, a
PyPI-only package) is built once; each scenario damages a hard-linked copy of it the way the
wild does (wrong-typed record fields, huge or endless files, FIFOs, links out of the prefix,
odd bytes) and runs the read-only commands as a user would, in a subprocess with a time and
memory limit. None may crash with a traceback, hang, or hide the shadowing error.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import add_story_packages
from tests.support.envkit import EnvKit, site_packages, tree_hashes

TIMEOUT = 30
MEMORY = 2 * 1024**3

#: (argv after the prefix option, whether the command writes nothing by contract)
COMMANDS = [
    ("status", "--json"),
    ("status",),
    ("export",),
    ("fix", "--dry-run", "--json"),
    ("mark", "--dry-run"),
    ("unmark", "--dry-run"),
]


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> Path:
    kit = add_story_packages(EnvKit(tmp_path_factory.mktemp("hostile")))
    kit.wheel("tinyweb", "1.0", {"tinyweb.py": ""})
    prefix = kit.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    kit.pip(prefix, "install", "tinyweb")
    return prefix


@pytest.fixture
def env(story, tmp_path) -> Path:
    """A hard-linked copy of the story: scenarios replace files, never edit them in place."""
    copy = tmp_path / "story"
    shutil.copytree(story, copy, symlinks=True, copy_function=os.link)
    return copy


def run(prefix: Path, *argv: str, memory: int = MEMORY) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conda_pipguard", argv[0], "-p", str(prefix), *argv[1:]]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (memory, memory)),
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def replace(path: Path, content: str | bytes) -> None:
    """Put *content* at *path* without writing through a hard link into the shared story."""
    if path.exists() or path.is_symlink():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def record(prefix: Path, name: str) -> Path:
    return next((prefix / "conda-meta").glob(f"{name}-*.json"))


def edit_record(prefix: Path, package: str, **fields: object) -> None:
    path = record(prefix, package)
    data = json.loads(path.read_text())
    data.update(fields)
    replace(path, json.dumps(data))


def dist_info(prefix: Path, name: str) -> Path:
    return next(site_packages(prefix).glob(f"{name}-*.dist-info"))


def _keep_one_paths_data_entry(prefix: Path, package: str) -> None:
    """``paths_data`` of one valid entry (not of the dist-info), ``files`` whole."""
    paths = json.loads(record(prefix, package).read_text())["paths_data"]["paths"]
    kept = [entry for entry in paths if ".dist-info/" not in entry["_path"]][:1]
    edit_record(prefix, package, paths_data={"paths": kept})


def fifo(path: Path) -> None:
    replace(path, b"")
    path.unlink()
    os.mkfifo(path)


def _symlink(path: Path, target: str) -> None:
    replace(path, b"")
    path.unlink()
    path.symlink_to(target)


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "files-is-a-number": lambda p: edit_record(p, "scipy", files=5),
    "depends-is-a-number": lambda p: edit_record(p, "scipy", depends=7),
    "depends-is-a-string": lambda p: edit_record(p, "scipy", depends="numpy >=1.23.5,<2.0a0"),
    "depends-is-a-dict": lambda p: edit_record(p, "scipy", depends={"numpy": "<2"}),
    "paths-data-paths-is-a-number": lambda p: edit_record(p, "scipy", paths_data={"paths": 3}),
    "paths-data-is-a-list": lambda p: edit_record(p, "scipy", paths_data=[1, 2]),
    "paths-data-of-one-entry-over-files": lambda p: _keep_one_paths_data_entry(p, "numpy"),
    "name-is-a-list": lambda p: edit_record(p, "scipy", name=["x"]),
    "version-of-5000-digits": lambda p: edit_record(p, "scipy", version="1" * 5000),
    "record-is-a-list": lambda p: replace(record(p, "scipy"), "[1, 2, 3]"),
    "deeply-nested-record": lambda p: replace(record(p, "scipy"), "[" * 100_000 + "]" * 100_000),
    "record-is-dev-zero": lambda p: _symlink(record(p, "scipy"), "/dev/zero"),
    "record-is-a-fifo": lambda p: fifo(record(p, "scipy")),
    "history-is-a-fifo": lambda p: fifo(p / "conda-meta" / "history"),
    "history-pathological-spec": lambda p: replace(
        p / "conda-meta" / "history",
        "==> 2026-01-01 00:00:00 <==\n# cmd: conda install\n# update specs: ["
        + "[" * 50_000
        + "]\n+defaults::numpy-1.26.4-0\n",
    ),
    "history-binary": lambda p: replace(p / "conda-meta" / "history", os.urandom(4096)),
    "record-field-over-131072-chars": lambda p: replace(
        dist_info(p, "numpy") / "RECORD", "numpy/__init__.py," + "a" * 200_000 + ",1\n"
    ),
    "record-with-nul-bytes": lambda p: replace(dist_info(p, "numpy") / "RECORD", b"a\0b,,\n"),
    "record-is-a-fifo-in-dist-info": lambda p: fifo(dist_info(p, "numpy") / "RECORD"),
    "metadata-is-dev-zero": lambda p: _symlink(dist_info(p, "numpy") / "METADATA", "/dev/zero"),
    "metadata-version-of-5000-digits": lambda p: replace(
        dist_info(p, "numpy") / "METADATA",
        "Metadata-Version: 2.1\nName: numpy\nVersion: " + "9" * 5000 + "\n",
    ),
    "record-path-with-nul-in-its-directory": lambda p: replace(
        dist_info(p, "numpy") / "RECORD",
        (dist_info(p, "numpy") / "RECORD").read_text() + "numpy/a\0b/c.py,,\n",
    ),
    "required-version-of-5000-digits": lambda p: replace(
        dist_info(p, "tinyweb") / "METADATA",
        "Metadata-Version: 2.1\nName: tinyweb\nVersion: 1.0\nRequires-Dist: numpy>="
        + "9" * 5000
        + "\nRequires-Dist: scipy (>=1"
        + "0" * 5000
        + ")\n",
    ),
    "installed-version-of-5000-digits-required": lambda p: (
        replace(
            dist_info(p, "numpy") / "METADATA",
            "Metadata-Version: 2.1\nName: numpy\nVersion: " + "9" * 5000 + "\n",
        ),
        replace(
            dist_info(p, "tinyweb") / "METADATA",
            "Metadata-Version: 2.1\nName: tinyweb\nVersion: 1.0\nRequires-Dist: numpy>=1\n",
        ),
    ),
    "installer-not-utf8": lambda p: replace(dist_info(p, "numpy") / "INSTALLER", b"pip\xff\xfe\n"),
    "installer-is-a-fifo": lambda p: fifo(dist_info(p, "numpy") / "INSTALLER"),
    "direct-url-not-utf8": lambda p: replace(
        dist_info(p, "numpy") / "direct_url.json", b'{"url": "file:///\xff"}'
    ),
    "direct-url-wrong-types": lambda p: replace(
        dist_info(p, "tinyweb") / "direct_url.json", '{"url": 5, "dir_info": [1]}'
    ),
    "conda-pth-is-a-directory": lambda p: (site_packages(p) / "conda.pth").mkdir(),
    "egg-link-is-a-fifo": lambda p: os.mkfifo(site_packages(p) / "ghost.egg-link"),
    "egg-info-is-a-symlink-loop": lambda p: (site_packages(p) / "loop.egg-info").symlink_to(
        "loop.egg-info"
    ),
    "dist-info-symlinked-out-of-the-prefix": lambda p: (
        site_packages(p) / "outside-1.0.dist-info"
    ).symlink_to("/usr/lib"),
    "conda-meta-entry-is-a-symlink-loop": lambda p: (p / "conda-meta" / "loop-1-0.json").symlink_to(
        "loop-1-0.json"
    ),
    "site-packages-path-out-of-the-prefix": lambda p: edit_record(
        p, "python", python_site_packages_path="../../../../../../usr/lib/python3/dist-packages"
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_command_answers(env, scenario):
    SCENARIOS[scenario](env)
    before = tree_hashes(env) if "fifo" not in scenario else None
    for argv in COMMANDS:
        result = run(env, *argv)
        said = f"{argv}: exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr, said
        assert result.returncode in (0, 1, 2), said
        if argv == ("status", "--json"):
            data = json.loads(result.stdout)
            kinds = {f["kind"] for f in data["findings"]}
            # whatever was damaged, pip's numpy over conda's is still an error
            assert data["verdict"] == "broken", said
            assert "shadowed" in kinds or "stale-metadata" in kinds or "incomplete" in kinds, said
    if before is not None:
        assert tree_hashes(env) == before  # the read-only commands wrote nothing


@pytest.mark.parametrize(
    "scenario",
    [
        "depends-is-a-string",
        "depends-is-a-dict",
        "files-is-a-number",
        "record-is-a-list",
        "paths-data-of-one-entry-over-files",
    ],
)
def test_a_wrong_typed_field_is_a_corrupt_record_finding(env, scenario):
    SCENARIOS[scenario](env)
    data = json.loads(run(env, "status", "--json").stdout)
    corrupt = [f for f in data["findings"] if f["kind"] == "corrupt-record"]
    assert corrupt, data["findings"]


def test_non_utf8_installer_still_shadows(env):
    SCENARIOS["installer-not-utf8"](env)
    result = run(env, "status", "--json", "--fail-on", "error")
    data = json.loads(result.stdout)
    assert [f["kind"] for f in data["findings"]][:1] == ["shadowed"]
    assert result.returncode == 1  # the CI gate still closes


def test_site_packages_outside_the_prefix_is_not_scanned(env):
    SCENARIOS["site-packages-path-out-of-the-prefix"](env)
    data = json.loads(run(env, "status", "--json").stdout)
    assert data["python"]["site_packages"].startswith("lib/")
    assert not any("/usr/lib" in (f.get("fix") or "") for f in data["findings"])


def _many_requirements(prefix: Path) -> None:
    """pip's numpy with a METADATA of 15 MB of distinct ``Requires-Dist`` lines (cap: 16 MiB)."""
    lines = ["Metadata-Version: 2.1", "Name: numpy", "Version: 2.1.0"]
    lines += (f"Requires-Dist: dependency-number-{i}>=1.0" for i in range(340_000))
    text = "\n".join(lines) + "\n"
    assert 15_000_000 < len(text) < 16 * 1024**2
    replace(dist_info(prefix, "numpy") / "METADATA", text)


def _long_history(prefix: Path) -> None:
    """A ~200 MB ``conda-meta/history`` (cap: 256 MiB) of distinct packages, then repeats."""
    path = prefix / "conda-meta" / "history"
    head = path.read_text()
    distinct = "".join(f"+defaults::package-{i}-1.0-0\n" for i in range(250_000))
    block = "".join(f"-defaults::package-{i}-1.0-0\n" for i in range(40_000))
    replace(path, head + "==> 2026-01-01 00:00:00 <==\n# cmd: conda install\n" + distinct)
    with path.open("a") as history:
        for _ in range((200_000_000 - path.stat().st_size) // len(block)):
            history.write(block)
    assert 190_000_000 < path.stat().st_size < 256 * 1024**2


@pytest.mark.parametrize("damage", [_many_requirements, _long_history], ids=["metadata", "history"])
def test_files_as_large_as_the_caps_allow_fit_in_1_gib(env, damage):
    """What the caps let through ends in findings or one line, never a MemoryError."""
    damage(env)
    for argv in (("status", "--json"), ("status",), ("history",), ("mark", "--dry-run")):
        result = run(env, *argv, memory=1024**3)
        said = f"{argv}: exit {result.returncode}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, said
        assert result.returncode in (0, 1), said
        if argv == ("status", "--json"):
            kinds = {f["kind"] for f in json.loads(result.stdout)["findings"]}
            assert "shadowed" in kinds, said
