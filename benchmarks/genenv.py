"""Deterministic, realistic conda environments of any size, written straight to disk.

Records are in conda's own dialect (what ``conda install`` writes): ``files`` prefix-relative,
``paths_data`` with ``sha256``/``sha256_in_prefix``/``size_in_bytes``, ``noarch: python`` entries
package-relative (``site-packages/...``, ``python-scripts/...``) plus the ``pyc_file`` entries conda
adds for the byte code it compiled. The mix: a python record with its standard library, noarch
and arch Python packages (each with a dist-info holding INSTALLER, METADATA, RECORD, WHEEL),
non-Python libraries, then what pip did on top: PyPI-only distributions (some requiring conda's
packages) and upgrades of conda's packages (pip removed conda's dist-info, wrote its own and
rewrote the modules). Every file exists on disk with the content the hashes say, so a reader
that checks files sees a consistent env.

The same ``(records, seed)`` always gives the same env, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

PY = "3.11"
SITE = f"lib/python{PY}/site-packages"
CHANNEL = "https://conda.anaconda.org/conda-forge"
#: Bumped whenever the generated env changes, so that cached envs are rebuilt.
GENERATION = 1


@dataclass(frozen=True)
class GeneratedEnv:
    """What was generated.

    Attributes:
        prefix: The environment.
        records: Number of conda records.
        files: Number of files the records list.
        dist_infos: Number of dist-info directories in site-packages.
        pip_only: PyPI-only distributions pip installed.
        replaced: conda packages pip upgraded over.
        plan: Five Python packages a benchmark plan updates (one of them replaced by pip).
    """

    prefix: Path
    records: int
    files: int
    dist_infos: int
    pip_only: int
    replaced: int
    plan: tuple[tuple[str, str, str], ...]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


class _Writer:
    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.made: set[str] = set()

    def write(self, rel: str, data: bytes) -> None:
        parent = rel.rpartition("/")[0]
        if parent not in self.made:
            os.makedirs(self.prefix / parent, exist_ok=True)
            self.made.add(parent)
        with open(self.prefix / rel, "wb") as handle:
            handle.write(data)


def _content(rel: str, salt: str = "conda") -> bytes:
    return f"# {rel} ({salt})\nVALUE = {len(rel)}\n".encode()


def _dist_info(
    name: str, version: str, installer: str, files: dict[str, bytes], requires: list[str]
) -> dict[str, bytes]:
    """The dist-info of *name* for *files* (site-packages-relative -> content)."""
    base = f"{name}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {req}" for req in requires]
    out = {
        f"{base}/INSTALLER": f"{installer}\n".encode(),
        f"{base}/METADATA": ("\n".join(meta) + "\n\nA generated package.\n").encode(),
        f"{base}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nTag: py3-none-any\n",
    }
    lines = [f"{rel},{_record_hash(data)},{len(data)}" for rel, data in {**files, **out}.items()]
    lines.append(f"{base}/RECORD,,")
    out[f"{base}/RECORD"] = ("\n".join(lines) + "\n").encode()
    return out


def _files_count(rng: random.Random) -> int:
    return max(3, min(1500, int(rng.lognormvariate(3.6, 0.9))))


def _entry(path: str, data: bytes, path_type: str = "hardlink") -> dict[str, object]:
    sha = _sha(data)
    return {
        "_path": path,
        "path_type": path_type,
        "sha256": sha,
        "sha256_in_prefix": sha,
        "size_in_bytes": len(data),
    }


def _record(
    name: str,
    version: str,
    build: str,
    subdir: str,
    depends: list[str],
    files: list[str],
    paths: list[dict[str, object]],
    noarch: bool,
) -> dict[str, object]:
    fn = f"{name}-{version}-{build}.conda"
    record: dict[str, object] = {
        "build": build,
        "build_number": 0,
        "channel": f"{CHANNEL}/{subdir}",
        "constrains": [],
        "depends": depends,
        "extracted_package_dir": f"/opt/pkgs/{fn[:-6]}",
        "files": files,
        "fn": fn,
        "license": "BSD-3-Clause",
        "link": {"source": f"/opt/pkgs/{fn[:-6]}", "type": 1},
        "md5": hashlib.md5(fn.encode()).hexdigest(),
        "name": name,
        "package_tarball_full_path": f"/opt/pkgs/{fn}",
        "paths_data": {"paths": paths, "paths_version": 1},
        "requested_spec": "",
        "sha256": _sha(fn.encode()),
        "size": 1000 + len(files),
        "subdir": subdir,
        "timestamp": 1700000000000,
        "url": f"{CHANNEL}/{subdir}/{fn}",
        "version": version,
    }
    if noarch:
        record["noarch"] = "python"
        record["package_type"] = "noarch_python"
    return record


def generate(prefix: Path, records: int, seed: int = 0) -> GeneratedEnv:
    """Write an environment of *records* conda records to *prefix* (which must not exist)."""
    rng = random.Random(f"{seed}-{records}")
    w = _Writer(prefix)
    meta = prefix / "conda-meta"
    os.makedirs(meta)
    all_records: list[dict[str, object]] = []
    python_pkgs: list[
        tuple[str, str, str, bool, list[str]]
    ] = []  # name, version, build, noarch, modules

    # python, with a standard library scaled to the env
    py_files = ["bin/python3.11", "lib/libpython3.11.so.1.0"]
    py_files += [f"lib/python{PY}/std{j:04d}.py" for j in range(min(1200, 100 + records // 2))]
    paths = []
    for rel in py_files:
        data = _content(rel)
        w.write(rel, data)
        paths.append(_entry(rel, data))
    os.symlink("python3.11", prefix / "bin/python")
    paths.append(
        {"_path": "bin/python", "path_type": "softlink", "sha256": _sha(b"x"), "size_in_bytes": 10}
    )
    py_files.append("bin/python")
    os.makedirs(prefix / SITE, exist_ok=True)
    python = _record(
        "python",
        "3.11.9",
        "hb806964_0_cpython",
        "linux-64",
        ["libffi >=3.4", "openssl >=3.3", "python_abi 3.11.* *_cp311"],
        py_files,
        paths,
        False,
    )
    python["python_site_packages_path"] = SITE
    all_records.append(python)
    all_records.append(_record("python_abi", "3.11", "5_cp311", "linux-64", [], [], [], False))

    for i in range(2, records):
        name = f"pkg{i:05d}"
        version = f"1.{i % 17}.{i % 5}"
        roll = rng.random()
        count = _files_count(rng)
        deps = sorted(
            {f"pkg{rng.randrange(2, i):05d} >=1.0" for _ in range(rng.randrange(4))}
            if i > 2
            else set()
        )
        if roll < 0.7:  # a Python package: noarch (45%) or arch (25%)
            noarch = roll < 0.45
            build = "pyhd8ed1ab_0" if noarch else "py311h9ecbd09_0"
            subdir = "noarch" if noarch else "linux-64"
            mods = [f"{name}/mod{j:03d}.py" for j in range(max(1, count // 2))]
            if not noarch:
                mods.append(f"{name}/_ext.cpython-311-x86_64-linux-gnu.so")
            site_files = {rel: _content(rel) for rel in mods}
            requires = [
                d.split()[0] + ">=1.0"
                for d in deps
                if python_pkgs and d.split()[0] in {p[0] for p in python_pkgs[-50:]}
            ]
            dist = _dist_info(name, version, "conda", site_files, requires)
            files, paths = [], []
            for rel, data in {**site_files, **dist}.items():
                w.write(f"{SITE}/{rel}", data)
                files.append(f"{SITE}/{rel}")
                paths.append(_entry(f"site-packages/{rel}" if noarch else f"{SITE}/{rel}", data))
            for rel in mods:
                if rel.endswith(".py"):
                    stem = rel.rpartition("/")[2][:-3]
                    pyc = f"{SITE}/{name}/__pycache__/{stem}.cpython-311.pyc"
                    w.write(pyc, b"\x00pyc")
                    files.append(pyc)
                    paths.append(
                        {"_path": pyc, "path_type": "pyc_file"}
                        if noarch
                        else _entry(pyc, b"\x00pyc")
                    )
            if noarch and i % 7 == 0:
                script = f"bin/{name}"
                data = _content(script)
                w.write(script, data)
                files.append(script)
                paths.append({**_entry(f"python-scripts/{name}", data), "path_type": "hardlink"})
            depends = (
                [f"python >={PY}"]
                if noarch
                else [f"python >={PY},<3.12.0a0", "python_abi 3.11.* *_cp311"]
            ) + deps
            all_records.append(
                _record(name, version, build, subdir, depends, sorted(files), paths, noarch)
            )
            python_pkgs.append((name, version, build, noarch, mods))
        else:  # a library
            build = "h4bc722e_0"
            files = [f"lib/lib{name}.so.{version}"] + [
                f"include/{name}/h{j:03d}.h" for j in range(count - 1)
            ]
            paths = []
            for rel in files:
                data = _content(rel)
                w.write(rel, data)
                paths.append(_entry(rel, data))
            all_records.append(_record(name, version, build, "linux-64", deps, files, paths, False))

    for record in all_records:
        fn = f"{record['name']}-{record['version']}-{record['build']}.json"
        (meta / fn).write_text(json.dumps(record, indent=2, sort_keys=True))
    lines = [
        "==> 2024-01-02 03:04:05 <==",
        "# cmd: conda create -p env python",
        f"# update specs: ['python={PY}']",
    ]
    lines += [
        f"+conda-forge/{r['subdir']}::{r['name']}-{r['version']}-{r['build']}" for r in all_records
    ]
    (meta / "history").write_text("\n".join(lines) + "\n")

    # what pip did: PyPI-only distributions, then upgrades over conda's packages
    pip_only = max(2, records // 20)
    for k in range(pip_only):
        name = f"pypi{k:04d}"
        mods = {
            f"{name}/m{j}.py": _content(f"{name}/m{j}.py", "pip")
            for j in range(rng.randrange(2, 30))
        }
        needs = [f"{python_pkgs[rng.randrange(len(python_pkgs))][0]}>=1.0"] if k % 3 == 0 else []
        for rel, data in {**mods, **_dist_info(name, "0.1", "pip", mods, needs)}.items():
            w.write(f"{SITE}/{rel}", data)
    replaced = max(1, records // 100)
    victims = python_pkgs[:: max(1, len(python_pkgs) // replaced)][:replaced]
    for name, version, _build, _noarch, mods in victims:
        shutil.rmtree(prefix / SITE / f"{name}-{version}.dist-info")
        new = {rel: _content(rel, "pypi") for rel in mods[: max(1, len(mods) - 1)]}
        for rel in mods[len(new) :]:  # the new version dropped a module
            os.unlink(prefix / SITE / rel)
        for rel, data in {**new, **_dist_info(name, "9.0", "pip", new, [])}.items():
            w.write(f"{SITE}/{rel}", data)
    os.makedirs(prefix / SITE / "~ip-0.1.dist-info", exist_ok=True)

    plan = [victims[0][:3], *[p[:3] for p in python_pkgs if p not in victims][:4]]
    return GeneratedEnv(
        prefix=prefix,
        records=len(all_records),
        files=sum(len(r["files"]) for r in all_records),  # type: ignore[arg-type]
        dist_infos=sum(1 for n in os.listdir(prefix / SITE) if n.endswith(".dist-info")),
        pip_only=pip_only,
        replaced=len(victims),
        plan=tuple(plan),
    )


def cached(root: Path, records: int, seed: int = 0) -> GeneratedEnv:
    """The env of *records* records under *root*, generated once and reused (with its summary)."""
    prefix = root / f"env-{records}-s{seed}-g{GENERATION}"
    summary = prefix.with_suffix(".json")
    if summary.exists() and prefix.is_dir():
        data = json.loads(summary.read_text())
        return GeneratedEnv(**{**data, "prefix": prefix, "plan": tuple(map(tuple, data["plan"]))})
    if prefix.exists():
        shutil.rmtree(prefix)
    env = generate(prefix, records, seed)
    summary.write_text(json.dumps({**env.__dict__, "prefix": str(prefix)}))
    return env


if __name__ == "__main__":  # run.py generates in a child, so that its own RSS stays small
    import sys

    cached(Path(sys.argv[1]), int(sys.argv[2]))
