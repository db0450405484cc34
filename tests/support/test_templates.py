"""The session's env templates: a copy is what building at its own prefix makes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.support import templates
from tests.support.envkit import EnvKit, site_packages, stdlib_dir, tree_hashes

SPECS = ["python", "pip", "foo"]


def _kit(root: Path, conda_version: str = "25.5.1") -> EnvKit:
    kit = EnvKit(root, conda_version=conda_version)
    kit.add_package(
        "foo", "1.0", modules={"foo/__init__.py": "X = 1\n"}, entry_points=["foo = foo:main"]
    )
    return kit


def _contents(prefix: Path, old: str, new: str) -> dict[str, object]:
    """Every file's comparable content, *old* replaced by *new* (paths of equal length)."""
    found: dict[str, object] = {}
    for rel, digest in tree_hashes(prefix).items():
        path = prefix / rel
        if digest == "dir" or digest.startswith("link:"):
            found[rel] = digest
        elif rel.endswith(".json") and rel.startswith("conda-meta/"):
            record = json.loads(path.read_text().replace(old, new))
            record.pop("indexed_timestamp", None)  # when rattler indexed the channel
            for entry in record.get("paths_data", {}).get("paths", []):
                _check_generated(prefix, entry)
            found[rel] = record
        elif rel == "conda-meta/history":
            found[rel] = path.read_text().replace(old, new).splitlines()[1:]  # no timestamp
        elif rel == "conda-meta/created_at":
            found[rel] = "a time"
        elif rel.endswith(".pyc"):
            found[rel] = path.read_bytes()[16:]  # the header holds the source's mtime
        else:
            found[rel] = path.read_bytes().replace(old.encode(), new.encode())
    return found


def _check_generated(prefix: Path, entry: dict) -> None:
    """An entry point's recorded hash and size are its own env's: then leave them out."""
    if not entry["path_type"].endswith("entry_point"):
        return
    data = (prefix / entry["_path"]).read_bytes()
    assert str(prefix).encode() in data
    if "sha256" in entry:
        assert entry.pop("sha256") == hashlib.sha256(data).hexdigest()
    if "size_in_bytes" in entry:
        assert entry.pop("size_in_bytes") == len(data)


@pytest.mark.parametrize(
    ("dialect", "conda_version"), [("rattler", "25.5.1"), ("conda", "25.5.1"), ("conda", "26.7.1")]
)
def test_a_copy_is_what_a_build_at_its_prefix_makes(tmp_path: Path, dialect, conda_version) -> None:
    store = templates.TemplateStore(tmp_path / "store")
    with templates.using(store):
        built_kit = _kit(tmp_path / "a", conda_version)
        copied_kit = _kit(tmp_path / "b", conda_version)
        with templates.using(None):
            built = built_kit.create("env", SPECS, dialect=dialect)
        copied = copied_kit.create("env", SPECS, dialect=dialect)
        again = copied_kit.create("again", SPECS, dialect=dialect)
        other_kind = copied_kit.create("other", ["python"], dialect=dialect)
    assert store.stats == {"built": 2, "copied": 3, "unusable": 0}
    old, new = str(tmp_path / "a"), str(tmp_path / "b")
    assert _contents(built, old, new) == _contents(copied, new, new)
    out = copied_kit.pip(copied, "--version").stdout
    assert f"from {site_packages(copied)}/pip " in out
    assert (
        copied_kit.python(again, "-c", "import foo, sys; print(sys.prefix)").stdout == f"{again}\n"
    )
    # The standard library is shared with the template; what pip and conda write is not.
    os_py, pip_init = stdlib_dir(copied) / "os.py", site_packages(copied) / "pip" / "__init__.py"
    assert os_py.stat().st_ino == (stdlib_dir(again) / "os.py").stat().st_ino
    assert os_py.stat().st_ino == (stdlib_dir(other_kind) / "os.py").stat().st_ino
    assert pip_init.stat().st_ino != (site_packages(again) / "pip" / "__init__.py").stat().st_ino
    store.close()
    assert not store.root.exists()


def test_a_shared_file_written_in_place_fails_the_session(tmp_path: Path) -> None:
    store = templates.TemplateStore(tmp_path / "store")
    with templates.using(store):
        prefix = _kit(tmp_path).create("env", ["python"])
    with (stdlib_dir(prefix) / "os.py").open("ab") as stream:
        stream.write(b"# written through a hard link\n")
    with pytest.raises(AssertionError, match="written in place"):
        store.close()


def test_packages_are_built_once_per_session(tmp_path: Path) -> None:
    store = templates.TemplateStore(tmp_path / "store")
    with templates.using(store):
        first, second = _kit(tmp_path / "a"), _kit(tmp_path / "b")
        third = EnvKit(tmp_path / "c")
        third.add_package("foo", "1.0", modules={"foo/__init__.py": "X = 2\n"})
    made = [
        sorted(kit.channel.glob("noarch/foo-*.conda"))[0].read_bytes()
        for kit in (first, second, third)
    ]
    assert made[0] == made[1] != made[2]
