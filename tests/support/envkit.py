"""Build real conda environments on disk for the tests, offline.

Everything here is real: conda packages (``.conda`` files made with
conda-package-handling), a local channel indexed and solved by py-rattler, an
environment linked by py-rattler, a CPython interpreter copied from the running
interpreter's base installation, and pip from the wheel bundled with ensurepip.

Typical use in a test::

    kit = EnvKit(tmp_path)
    kit.add_package("numpy", "1.26.4", modules={"numpy/__init__.py": ""})
    prefix = kit.create("env", ["python", "pip", "numpy"], dialect="conda")
    kit.pip(prefix, "install", kit.wheel("numpy", "2.1.0", {"numpy/__init__.py": ""}))

Environments can be left as rattler writes them (``dialect="rattler"``) or be
rewritten into what conda itself writes (``dialect="conda"``, see
:func:`to_conda_dialect`).

This module is the kit's front door: :class:`EnvKit` and everything the tests import. The
parts live beside it, one module a step: ``host`` (the interpreter to package), ``wheels``
(hashes, metadata, wheels), ``packages`` (``.conda`` files), ``base_packages`` (the cached
``python`` and ``pip`` packages), ``rattler_env`` (solve, link, unlink, read a prefix),
``running`` (run python/pip/uv isolated from the machine's configuration) and ``dialect``
(what conda writes: records, history, ``.pyc``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from tests.support import templates
from tests.support.base_packages import (
    CACHE_ENV_VAR,
    PYTHON_BUILD,
    PYTHON_BUILD_SITE_PACKAGES_PATH,
    STDLIB_EXCLUDED,
    _link_or_copy,
    build_pip_package,
    build_python_package,
    cache_root,
    cached_base_packages,
)
from tests.support.dialect import (
    DEFAULT_CONDA_VERSION,
    append_history,
    channel_canonical_name,
    convert_records,
    dist_str,
    to_conda_dialect,
    to_conda_dialect_history,
)
from tests.support.host import (
    HostPython,
    HostUnsupportedError,
    describe_python,
    host_python,
    other_python,
    require_host,
)
from tests.support.packages import (
    Dist,
    dist_files,
    make_conda_package,
    make_python_conda_package,
    pack_conda_package,
)
from tests.support.rattler_env import (
    default_rattler_cache,
    env_python,
    index_channel,
    install,
    python_files,
    python_record,
    read_records,
    remove,
    set_installer,
    site_packages,
    stdlib_dir,
    unlink_records,
)
from tests.support.running import (
    CONFIG_VAR_PREFIXES,
    GLOBAL_CONFIG_DIR,
    PIP_LAUNCHER,
    default_home,
    global_pip_conf,
    isolated_env,
    pip_command,
    run_pip,
    run_python,
)
from tests.support.wheels import (
    FileContent,
    make_wheel,
    normalize_dist_name,
    sha256_file,
)

Dialect = Literal["rattler", "conda"]

__all__ = [
    "CACHE_ENV_VAR",
    "CONFIG_VAR_PREFIXES",
    "DEFAULT_CONDA_VERSION",
    "EDITABLE_BACKEND",
    "GLOBAL_CONFIG_DIR",
    "PIP_LAUNCHER",
    "PYTHON_BUILD",
    "PYTHON_BUILD_SITE_PACKAGES_PATH",
    "STDLIB_EXCLUDED",
    "Dialect",
    "Dist",
    "EnvKit",
    "FileContent",
    "HostPython",
    "HostUnsupportedError",
    "append_history",
    "build_pip_package",
    "build_python_package",
    "cache_root",
    "cached_base_packages",
    "channel_canonical_name",
    "convert_records",
    "default_home",
    "default_rattler_cache",
    "describe_python",
    "dist_files",
    "dist_str",
    "editable_project",
    "env_python",
    "global_pip_conf",
    "host_python",
    "index_channel",
    "install",
    "isolated_env",
    "make_conda_package",
    "make_python_conda_package",
    "make_wheel",
    "normalize_dist_name",
    "other_python",
    "pack_conda_package",
    "pip_command",
    "python_record",
    "read_records",
    "remove",
    "require_host",
    "run_pip",
    "run_python",
    "set_installer",
    "sha256_file",
    "site_packages",
    "stdlib_dir",
    "to_conda_dialect",
    "tree_hashes",
    "unlink_records",
]


class EnvKit:
    """Factory for real conda environments under one temporary root.

    :attr:`channel` is a local channel that already holds ``python`` and ``pip``
    (linked from the session cache); add packages with :meth:`add_package` or
    :meth:`add_conda_package`, then :meth:`create` environments from it. Operations
    in the ``conda`` dialect leave records and history as conda would.
    """

    def __init__(
        self,
        tmp_root: Path,
        *,
        site_packages_path: bool = False,
        conda_version: str = DEFAULT_CONDA_VERSION,
    ) -> None:
        """Prepare ``<tmp_root>/channel`` with python and pip (skips the test if impossible).

        Args:
            tmp_root: A per-test temporary directory.
            site_packages_path: Use a python package declaring ``python_site_packages_path``.
            conda_version: conda version imitated by the ``conda`` dialect.
        """
        self.host = require_host()
        self.root = Path(tmp_root)
        self.channel = self.root / "channel"
        self.wheels = self.root / "wheels"
        self.home = self.root / "home"
        self.cache_dir = default_rattler_cache()
        self.conda_version = conda_version
        python_pkg, pip_pkg = cached_base_packages(site_packages_path=site_packages_path)
        for package in (python_pkg, pip_pkg):
            _link_or_copy(package, self.channel / package.parent.name / package.name)
        self._dirty = True

    @property
    def channel_url(self) -> str:
        """``file://`` URL of :attr:`channel`."""
        return self.channel.resolve().as_uri()

    def add_package(self, name: str, version: str, **kwargs: object) -> Path:
        """:func:`make_python_conda_package` into :attr:`channel`."""
        self._dirty = True
        return make_python_conda_package(self.channel, name, version, **kwargs)  # type: ignore[arg-type]

    def add_conda_package(self, name: str, version: str, **kwargs: object) -> Path:
        """:func:`make_conda_package` into :attr:`channel`."""
        self._dirty = True
        return make_conda_package(self.channel, name, version, **kwargs)  # type: ignore[arg-type]

    def add_python(self, host: HostPython) -> Path:
        """Add a ``python`` package built from another interpreter (see :func:`other_python`)."""
        self._dirty = True
        return build_python_package(self.channel, host=host)

    def wheel(
        self, name: str, version: str, modules: Mapping[str, FileContent], **kwargs: object
    ) -> Path:
        """:func:`make_wheel` into :attr:`wheels` (the default find-links of :meth:`pip`)."""
        return make_wheel(self.wheels, name, version, modules, **kwargs)  # type: ignore[arg-type]

    def prefix(self, name: Path | str) -> Path:
        """Absolute prefix for ``name``: relative names go under ``<root>/envs``."""
        return Path(name) if Path(name).is_absolute() else self.root / "envs" / str(name)

    def create(
        self, prefix: Path | str, specs: Sequence[str], dialect: Dialect = "rattler"
    ) -> Path:
        """Create an environment from :attr:`channel` (``conda create``).

        Returns:
            The prefix.
        """
        target = self.prefix(prefix)
        if target.exists():
            raise FileExistsError(target)
        self.index()
        store = templates.active()
        if store is not None and self._create_from_template(store, target, specs, dialect):
            return target
        install(target, self.channel, specs, cache_dir=self.cache_dir)
        if dialect == "conda":
            to_conda_dialect(target, specs=list(specs), conda_version=self.conda_version)
        return target

    def _create_from_template(
        self, store: templates.TemplateStore, target: Path, specs: Sequence[str], dialect: Dialect
    ) -> bool:
        """:meth:`create` as a copy of the session's template of this kind (see ``templates``).

        The template is made as :meth:`create` makes an env, except for what depends on the
        moment: the conda dialect's ``created_at`` and history entry are written here.
        """
        conda = dialect == "conda"
        version = self.conda_version if conda else ""
        key = templates.fingerprint(
            "kit", list(specs), dialect, version, str(self.cache_dir), channel=self.channel
        )

        def build(env: Path, channel: Path, _work: Path) -> dict[str, object]:
            index_channel(channel)
            install(env, channel, specs, cache_dir=self.cache_dir)
            if not conda:
                return {}
            linked = [dist_str(record) for record in read_records(env).values()]
            to_conda_dialect(env, history=False, conda_version=version)
            return {"linked": linked}

        template = store.template(key, self.channel, build, shared_roots=python_files)
        if template is None:
            return False
        channel = str(self.channel.resolve())
        store.copy(template, target, {"prefix": str(target), "channel": channel})
        if conda:
            to_conda_dialect_history(
                target,
                linked=[
                    line.replace(template.strings["channel"], channel)
                    for line in template.meta["linked"]  # type: ignore[union-attr]
                ],
                specs=list(specs),
                conda_version=version,
            )
        return True

    def install(self, prefix: Path, specs: Sequence[str], dialect: Dialect = "rattler") -> Path:
        """Add packages to an environment (``conda install``).

        In the conda dialect, records of packages that stay are kept byte for byte
        (rattler would rewrite their requested specs), new records are converted and
        history gets an entry.
        """
        self.index()
        before = _record_texts(prefix)
        install(prefix, self.channel, specs, cache_dir=self.cache_dir)
        if dialect == "conda":
            self._conda_transaction(prefix, before, f"install -p {prefix}", specs=list(specs))
        return prefix

    def remove(self, prefix: Path, names: Sequence[str], dialect: Dialect = "rattler") -> Path:
        """Remove packages (``conda remove``, without a dependency check).

        The conda dialect deletes each record's ``files`` like conda
        (:func:`unlink_records`); the rattler dialect lets rattler unlink.
        """
        before = _record_texts(prefix)
        if dialect == "conda":
            unlink_records(prefix, names)
            self._conda_transaction(prefix, before, f"remove -p {prefix}", remove_specs=names)
        else:
            remove(prefix, names, cache_dir=self.cache_dir)
        return prefix

    def pip(
        self, prefix: Path, *args: str | Path, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        """:func:`run_pip` with :attr:`wheels` as find-links and the kit's fake HOME."""
        self.wheels.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("find_links", [self.wheels])
        kwargs.setdefault("home", self.home)
        return run_pip(prefix, *args, **kwargs)  # type: ignore[arg-type]

    def python(
        self, prefix: Path, *args: str | Path, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        """:func:`run_python` with the kit's fake HOME."""
        kwargs.setdefault("home", self.home)
        return run_python(prefix, *args, **kwargs)  # type: ignore[arg-type]

    def index(self) -> None:
        if self._dirty:
            index_channel(self.channel)
            self._dirty = False

    def _conda_transaction(
        self,
        prefix: Path,
        before: Mapping[str, str],
        args: str,
        *,
        specs: Sequence[str] = (),
        remove_specs: Sequence[str] = (),
    ) -> None:
        after = _record_texts(prefix)
        for file_name in before.keys() & after.keys():
            (prefix / "conda-meta" / file_name).write_text(before[file_name])
        added = [file_name for file_name in after if file_name not in before]
        gone = [json.loads(text) for file_name, text in before.items() if file_name not in after]
        convert_records(prefix, added, conda_version=self.conda_version)
        records = read_records(prefix)
        append_history(
            prefix,
            linked=[dist_str(records[file_name]) for file_name in added],
            unlinked=[dist_str(record) for record in gone],
            cmd=f"conda {args} " + " ".join([*specs, *remove_specs]),
            specs=specs,
            remove_specs=remove_specs,
            conda_version=self.conda_version,
        )


def _record_texts(prefix: Path) -> dict[str, str]:
    meta = prefix / "conda-meta"
    return {p.name: p.read_text() for p in sorted(meta.glob("*.json"))}


def tree_hashes(root: Path) -> dict[str, str]:
    """Every directory, file and symlink under *root* with its content hash (or link target)."""
    found: dict[str, str] = {}
    for directory, dirs, files in os.walk(root):
        base = Path(directory)
        for name in dirs + files:
            path = base / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = f"link:{os.readlink(path)}"
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


#: A PEP 517/660 in-tree build backend for a project ``proj`` 0.1, so that ``pip install -e``
#: works offline with no setuptools: pip writes a real editable install (direct_url.json).
EDITABLE_BACKEND = """
import base64, hashlib, os, zipfile

NAME, VERSION = "proj", "0.1"
DIST = f"{NAME}-{VERSION}.dist-info"


def _record(items):
    lines = []
    for path, data in items:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    return "\\n".join(lines + [f"{DIST}/RECORD,,"]) + "\\n"


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    items = [
        (f"__editable__.{NAME}.pth", os.path.abspath(".") + "\\n"),
        (f"{DIST}/METADATA", f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n"),
        (f"{DIST}/WHEEL", "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"),
    ]
    items = [(path, text.encode()) for path, text in items]
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, data in items:
            wheel.writestr(path, data)
        wheel.writestr(f"{DIST}/RECORD", _record(items))
    return name
"""


def editable_project(root: Path) -> Path:
    """Lay out the ``proj`` project (built by :data:`EDITABLE_BACKEND`) under *root*."""
    project = root / "proj"
    (project / "proj").mkdir(parents=True)
    (project / "proj" / "__init__.py").write_text("")
    (project / "backend.py").write_text(EDITABLE_BACKEND)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    return project
