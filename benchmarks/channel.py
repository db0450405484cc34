"""A local file channel that serves a generated env, so that conda can solve and install in it.

``<root>/channel-<records>/{linux-64,noarch}/repodata.json`` list every record of the env (what
conda's classic solver needs, offline, with ``--override-channels -c file://...``), plus:

* ``benchtiny 1.0``: a real, tiny ``noarch`` package (one file), built with
  conda-package-handling, so that a real ``conda install`` can download-from-file, extract and
  link it;
* ``benchpy 1.0``: a ``noarch: python`` package that requires one of the env's Python packages
  (repodata only, never downloaded): what a dry run installs, so that the solve yields a plan
  that adds a Python package to the pip-touched env. (Updating an installed package instead
  costs conda's classic solver a minimal-unsatisfiable-subset search over every installed spec,
  about 40 s at 1,000 records, which would drown the plugin's share.)

The env's records name conda-forge as their channel; :func:`prepared_copy` makes a copy of the
env whose records name this channel instead, as an env installed from it would. The generator's
python record depends on ``libffi`` and ``openssl``, which it does not generate (no cached env
changes): the copy and the channel add them as records without files, so that the env is
consistent and conda's solver keeps it frozen instead of repairing it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: The real package a real install reinstalls.
TINY = "benchtiny"
#: The new Python package a dry run installs (repodata only).
NEW = "benchpy"
#: Dependencies of the generated python record that the generator does not write.
MISSING = (("libffi", "3.4.6", "h2dba641_0"), ("openssl", "3.3.2", "hb9d3cd8_0"))
#: Record fields that repodata carries.
_FIELDS = (
    "build",
    "build_number",
    "constrains",
    "depends",
    "license",
    "md5",
    "name",
    "noarch",
    "sha256",
    "size",
    "subdir",
    "timestamp",
    "version",
)


def _tiny_package(subdir_dir: Path) -> dict[str, object]:
    """Build ``benchtiny-1.0-0.conda`` into *subdir_dir*; its repodata entry."""
    from conda_package_handling import api as cph_api

    payload = {"share/benchtiny/README": b"benchtiny: a real package of one file\n"}
    index = {
        "name": TINY,
        "version": "1.0",
        "build": "0",
        "build_number": 0,
        "depends": [],
        "license": "MIT",
        "subdir": "noarch",
        "timestamp": 1700000000000,
    }
    with tempfile.TemporaryDirectory() as staging:
        root = Path(staging)
        paths = []
        for rel, data in payload.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
            paths.append(
                {
                    "_path": rel,
                    "path_type": "hardlink",
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size_in_bytes": len(data),
                }
            )
        info = root / "info"
        info.mkdir()
        (info / "index.json").write_text(json.dumps(index))
        (info / "paths.json").write_text(json.dumps({"paths": paths, "paths_version": 1}))
        (info / "files").write_text("".join(f"{rel}\n" for rel in payload))
        names = ["info/files", "info/index.json", "info/paths.json", *payload]
        fn = f"{TINY}-1.0-0.conda"
        built = Path(cph_api.create(str(root), names, str(Path(staging) / fn)))
        out = subdir_dir / fn
        shutil.move(built, out)
    data = out.read_bytes()
    return {
        **index,
        "md5": hashlib.md5(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


def _empty_record(name: str, version: str, build: str) -> dict[str, object]:
    fn = f"{name}-{version}-{build}.conda"
    return {
        "build": build,
        "build_number": 0,
        "constrains": [],
        "depends": [],
        "files": [],
        "fn": fn,
        "license": "MIT",
        "md5": hashlib.md5(fn.encode()).hexdigest(),
        "name": name,
        "paths_data": {"paths": [], "paths_version": 1},
        "requested_spec": "",
        "sha256": hashlib.sha256(fn.encode()).hexdigest(),
        "size": 1000,
        "subdir": "linux-64",
        "timestamp": 1700000000000,
        "version": version,
    }


def build_channel(root: Path, prefix: Path, records: int, needs: str) -> Path:
    """The channel serving the env at *prefix* (built once under *root*).

    Args:
        root: Where channels are kept.
        prefix: The generated env.
        records: Its size (names the channel).
        needs: Name of the env's Python package that ``benchpy`` requires.
    """
    channel = root / f"channel-{records}"
    if (channel / ".complete").exists():
        return channel
    shutil.rmtree(channel, ignore_errors=True)
    subdirs: dict[str, dict[str, dict[str, object]]] = {"linux-64": {}, "noarch": {}}
    meta = prefix / "conda-meta"
    for name in sorted(os.listdir(meta)):
        if not name.endswith(".json"):
            continue
        with open(meta / name, "rb") as handle:
            record = json.load(handle)
        entry = {key: record[key] for key in _FIELDS if key in record}
        subdirs[record["subdir"]][record["fn"]] = entry
    for name, version, build in MISSING:
        entry = _empty_record(name, version, build)
        subdirs["linux-64"][f"{name}-{version}-{build}.conda"] = {
            key: entry[key] for key in _FIELDS if key in entry
        }
    (channel / "noarch").mkdir(parents=True)
    (channel / "linux-64").mkdir()
    subdirs["noarch"][f"{TINY}-1.0-0.conda"] = _tiny_package(channel / "noarch")
    subdirs["noarch"][f"{NEW}-1.0-pyhd8ed1ab_0.conda"] = {
        "build": "pyhd8ed1ab_0",
        "build_number": 0,
        "depends": ["python >=3.11", f"{needs} >=1.0"],
        "license": "MIT",
        "md5": hashlib.md5(NEW.encode()).hexdigest(),
        "name": NEW,
        "noarch": "python",
        "sha256": hashlib.sha256(NEW.encode()).hexdigest(),
        "size": 1000,
        "subdir": "noarch",
        "timestamp": 1700000000000,
        "version": "1.0",
    }
    for subdir, packages in subdirs.items():
        repodata = {
            "info": {"subdir": subdir},
            "packages": {},
            "packages.conda": packages,
            "repodata_version": 1,
        }
        (channel / subdir / "repodata.json").write_text(json.dumps(repodata))
    (channel / ".complete").touch()
    return channel


def prepared_copy(prefix: Path, channel: Path, dest: Path) -> Path:
    """A copy of *prefix* at *dest* as if installed from *channel* (made once).

    Files are hard links (conda and the plugin only read them; conda writes new files for what
    it links); ``conda-meta`` is a real copy whose records name *channel* and its URLs.
    """
    done = Path(f"{dest}.complete")
    if done.exists():  # conda appends to the history at every install: start each run afresh
        shutil.copy2(prefix / "conda-meta" / "history", dest / "conda-meta" / "history")
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-al", str(prefix), str(dest)], check=True)
    meta = dest / "conda-meta"
    shutil.rmtree(meta)
    meta.mkdir()
    url = channel.as_uri()
    for name in sorted(os.listdir(prefix / "conda-meta")):
        source = prefix / "conda-meta" / name
        if not name.endswith(".json"):
            shutil.copy2(source, meta / name)
            continue
        record = json.loads(source.read_text())
        record["channel"] = f"{url}/{record['subdir']}"
        record["url"] = f"{url}/{record['subdir']}/{record['fn']}"
        (meta / name).write_text(json.dumps(record, indent=2, sort_keys=True))
        os.utime(meta / name, (source.stat().st_atime, source.stat().st_mtime))
    for name, version, build in MISSING:
        record = _empty_record(name, version, build)
        record["channel"] = f"{url}/linux-64"
        record["url"] = f"{url}/linux-64/{record['fn']}"
        (meta / f"{name}-{version}-{build}.json").write_text(
            json.dumps(record, indent=2, sort_keys=True)
        )
    done.touch()
    return dest
