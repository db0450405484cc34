"""What ``status --verify`` imports of a conda package, and what the env's Python loaded.

A package's top-level modules importing says little: ``import scipy`` works with numpy 2 in
place of conda's numpy 1, ``import scipy.linalg`` does not. So for each package the import
reaches its subpackages one level down (``scipy.linalg``) and every module of it that holds a
compiled extension (``scipy/linalg/_flapack.cpython-311-x86_64-linux-gnu.so`` ->
``scipy.linalg._flapack``), from the record's files that are on disk, at most
:data:`MAX_MODULES` per package; test packages are left out.

The child (:data:`PROBE_SCRIPT`, run by :func:`.verify.import_check`) goes on past a failure, so
that the failure reported is the first one *raised inside the module imported*: ``import
scipy.cluster`` fails inside ``scipy.spatial``, ``import scipy.linalg`` inside itself, and the
latter is what broke. A module a package imports only if it is there (``pooch``, ``pytest``:
no conda record provides it) is skipped, not a failure. The child writes what it found to
:data:`REPORT` in its working directory, the check's own scratch directory, one JSON object a
line: each failure, and at the end every top-level module loaded with its ``__version__`` and
the ``__file__`` it was loaded from (not ``importlib.metadata``, which reads metadata).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..disk import safeio
from ..disk.environment import Environment
from ..disk.records import CondaRecord
from ..model.ownership import PathIndex, installer_of
from ..plurals import agree, count_of
from ..rules.findings import Finding
from ..rules.versionspec import split_depends

#: At most this many modules are imported per package (top-level ones included).
MAX_MODULES = 64
#: The child's report, in its working directory.
REPORT = "pipguard-verify.jsonl"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXTENSION = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\.[^./]+)?\.(?:so|pyd)$")
_TESTS = frozenset({"tests", "test"})

#: Imports the modules named on the command line, in order, going on past failures; reports to
#: REPORT, and on stderr the failure :func:`.verify.import_check` reads (for when the report
#: cannot be read). Python 3 of any version: no walrus, no f-strings.
PROBE_SCRIPT = """
import importlib, importlib.util, json, os, sys, traceback
try:
    report = open("pipguard-verify.jsonl", "w")
except OSError:
    report = None
def say(**data):
    if report is not None:
        report.write(json.dumps(data) + "\\n")
        report.flush()
def home(name):
    try:
        spec = importlib.util.find_spec(name)
    except BaseException:
        return None
    if spec is None or not spec.origin:
        return None
    if spec.submodule_search_locations:
        return os.path.dirname(spec.origin)
    return spec.origin
def inside(path, place):
    return path == place or path.startswith(place.rstrip(os.sep) + os.sep)
first = own = None
for name in sys.argv[1:]:
    mine = home(name)
    top = home(name.split(".")[0])
    try:
        importlib.import_module(name)
        continue
    except BaseException as err:
        line = traceback.format_exception_only(type(err), err)[-1].strip()
        missing = err.name if isinstance(err, ModuleNotFoundError) else None
        frames = [f.filename for f in traceback.extract_tb(err.__traceback__)]
        ours = [f for f in frames if top and os.path.isabs(f) and inside(f, top)]
        raised_here = not ours or (mine is not None and inside(ours[-1], mine))
        say(module=name, error=line[:300], missing=missing, own=raised_here)
        if first is None:
            first = (name, line)
        if own is None and raised_here:
            own = (name, line)
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    if "." not in name and isinstance(path, str):
        version = getattr(module, "__version__", None)
        say(loaded=name, file=path, version=version if isinstance(version, str) else None)
if report is not None:
    report.close()
if first is not None:
    name, line = own or first
    sys.stderr.write("pipguard-verify\\t%s\\t%s\\n" % (name, line))
    sys.exit(3)
"""


def modules_to_import(env: Environment, record: CondaRecord, top: Sequence[str]) -> tuple[str, ...]:
    """*top* (a record's top-level modules), their subpackages, and its extension modules.

    Subpackages one level down come before extension modules, public names first, each group
    sorted; only modules whose file is on disk, and at most :data:`MAX_MODULES` in all.
    """
    if env.python is None or not top:
        return tuple(top)
    site = env.python.site_packages.rstrip("/") + "/"
    tops = set(top)
    subpackages: set[str] = set()
    extensions: set[str] = set()
    for file in record.files:
        if not file.path.startswith(site):
            continue
        parts = file.path[len(site) :].split("/")
        if len(parts) < 2 or parts[0] not in tops or _TESTS.intersection(parts[:-1]):
            continue
        if not all(_IDENTIFIER.match(part) for part in parts[:-1]):
            continue
        leaf = parts[-1]
        match = _EXTENSION.match(leaf)
        if len(parts) == 3 and (leaf == "__init__.py" or (match and match["name"] == "__init__")):
            subpackages.add(f"{parts[0]}.{parts[1]}")
        if match and match["name"] != "__init__":
            extensions.add(".".join([*parts[:-1], match["name"]]))
    chosen = list(top)
    for group in (subpackages, extensions):
        for name in sorted(group, key=lambda n: (_private(n), n.count("."), n)):
            if len(chosen) >= MAX_MODULES:
                return tuple(chosen)
            if name not in chosen and _on_disk(env, site, name, record):
                chosen.append(name)
    return tuple(chosen)


def _private(name: str) -> bool:
    return any(part.startswith("_") for part in name.split("."))


def _on_disk(env: Environment, site: str, name: str, record: CondaRecord) -> bool:
    """Whether the file *record* has for module *name* is there (a package's ``__init__``)."""
    stem = f"{site}{name.replace('.', '/')}"
    for file in record.files:
        path = file.path
        if path.startswith(stem) and (
            path.startswith(f"{stem}/__init__.") or path[len(stem) : len(stem) + 1] == "."
        ):
            return os.path.lexists(env.prefix / path)
    return False


@dataclass(frozen=True)
class Loaded:
    """A top-level module as the env's Python loaded it.

    Attributes:
        module: Its name.
        version: Its ``__version__``, when it has one.
        file: The ``__file__`` it was loaded from, prefix-relative when inside the env.
        owner: Whose file that is: ``pip's numpy 2.1.3``, ``conda's numpy 1.26.4``, or
            ``no package's``.
    """

    module: str
    version: str | None
    file: str
    owner: str

    def other_than(self, package: str, version: str) -> bool:
        """Whether this is not conda's *package* at *version*: another version, or file."""
        return self.version not in (None, version) or not self.owner.startswith(
            f"conda's {package} "
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "module": self.module,
            "version": self.version,
            "file": self.file,
            "owner": self.owner,
        }


@dataclass(frozen=True)
class Probe:
    """What the child reported.

    Attributes:
        failures: ``(module, error, own, missing)`` of every import that failed, in order.
        loaded: Top-level module -> ``(version, absolute file)``.
    """

    failures: tuple[tuple[str, str, bool, str | None], ...] = ()
    loaded: dict[str, tuple[str | None, str]] | None = None


def read_report(scratch: str) -> Probe | None:
    """The child's report in *scratch* (removed once read); None when there is none."""
    path = os.path.join(scratch, REPORT)
    try:
        text = safeio.read_text(path, limit=safeio.SMALL_LIMIT, root=scratch, errors="replace")
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    failures: list[tuple[str, str, bool, str | None]] = []
    loaded: dict[str, tuple[str | None, str]] = {}
    for line in text.splitlines():
        try:
            item = safeio.loads_json(line)
        except ValueError:
            continue  # the last line of a child stopped mid-write
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("module"), str) and isinstance(item.get("error"), str):
            missing = item.get("missing") if isinstance(item.get("missing"), str) else None
            failures.append((item["module"], item["error"], item.get("own") is True, missing))
        elif isinstance(item.get("loaded"), str) and isinstance(item.get("file"), str):
            version = item.get("version") if isinstance(item.get("version"), str) else None
            loaded[item["loaded"]] = (version, item["file"])
    return Probe(tuple(failures), loaded)


def _provided(env: Environment) -> set[str]:
    """Top-level module names the env's conda records install (what is not optional)."""
    if env.python is None:
        return set()
    site = env.python.site_packages.rstrip("/") + "/"
    names: set[str] = set()
    for record in env.records:
        for file in record.files:
            if file.path.startswith(site):
                head = file.path[len(site) :].split("/", 1)[0]
                names.add(head[:-3] if head.endswith(".py") else head.split(".", 1)[0])
    return names


class Probing:
    """Turns each child's report into what a check says (for :func:`.verify.verify_imports`).

    Args:
        env: The environment.
        findings: The findings (their live layers name the non-conda files).
        records: The conda packages checked.
    """

    def __init__(
        self, env: Environment, findings: Iterable[Finding], records: Iterable[CondaRecord]
    ) -> None:
        self.env = env
        self.checked = {record.name for record in records}
        self._dists = {
            entry.path: f.dist
            for f in findings
            if f.dist is not None and f.layer is not None and f.layer.live
            for entry in f.dist.files or ()
        }
        self._index: PathIndex | None = None
        self._conda_modules: set[str] | None = None

    def judge(
        self, check: Any, record: CondaRecord, top: Sequence[str], scratch: str
    ) -> dict[str, Any]:
        """What changes in *check* (an ``ImportCheck``) once the child's report is read.

        The failure reported is the first raised inside the module imported (else the first);
        failures of optional imports do not count; the loaded top-level module is named with
        its owner. Without a report (the child was stopped, or died), only ``needs`` is set.
        """
        needs = {split_depends(entry)[0] for entry in record.depends} & self.checked
        fields: dict[str, Any] = {"needs": tuple(sorted(needs))}
        probe = read_report(scratch)
        if probe is None:
            return fields
        if top and probe.loaded and top[0] in probe.loaded:
            version, file = probe.loaded[top[0]]
            fields["loads"] = self.loaded(top[0], version, file)
        if check.timed_out:
            return fields
        if probe.failures and self._conda_modules is None:
            self._conda_modules = _provided(self.env)
        conda = self._conda_modules or set()
        failures = [
            f
            for f in probe.failures
            if not f[3] or f[3].split(".")[0] in (f[0].split(".")[0], *conda)
        ]
        if not failures:
            return {**fields, "error": "", "module": ""}
        module, error, _, _ = next((f for f in failures if f[2]), failures[0])
        fields.update(error=error, module=module, failures=tuple((f[0], f[1]) for f in failures))
        return fields

    def loaded(self, module: str, version: str | None, file: str) -> Loaded:
        """*module* as loaded from absolute *file*, its path made prefix-relative."""
        prefix = str(self.env.prefix).rstrip(os.sep) + os.sep
        rel = file[len(prefix) :].replace(os.sep, "/") if file.startswith(prefix) else None
        return Loaded(module, version, rel or file, self._owner(rel))

    def _owner(self, rel: str | None) -> str:
        if rel is None:
            return "no package's (outside the env)"
        dist = self._dists.get(rel)
        if dist is not None:
            return f"{installer_of(dist)}'s {dist.name} {dist.version}"
        if self._index is None:
            self._index = PathIndex(self.env.records)
        record = self._index.owner(rel)
        return f"conda's {record.name} {record.version}" if record else "no package's"


def failure_note(check: Any, checks: Sequence[Any]) -> str:
    """What an ``import-fails`` message adds after the failure.

    How many more of its modules fail, and for the package and each dependency checked whose
    code is another's: ``; the numpy that loads is 2.1.3 from pip's numpy 2.1.3, not conda's
    numpy 1.26.4``.
    """
    more = len(check.failures) - 1
    note = (
        f" ({count_of(more, 'more module')} of it {agree(more, 'fails', 'fail')} too)"
        if more > 0
        else ""
    )
    by_name = {other.package: other for other in checks}
    for other in (check, *(by_name[n] for n in check.needs if n in by_name)):
        loads = other.loads
        if loads is not None and loads.other_than(other.package, other.version):
            version = f" is {loads.version}" if loads.version else " is"
            note += (
                f"; the {loads.module} that loads{version} from {loads.owner}, not conda's "
                f"{other.package} {other.version}"
            )
    return note
