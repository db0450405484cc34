"""Import names from file lists: which file Python's path finder picks for a name, and twins.

Within one directory of ``sys.path``, importlib's ``FileFinder.find_spec``
(``Lib/importlib/_bootstrap_external.py``) first looks for a directory ``name`` holding
``__init__`` with one of its loader suffixes (a regular package); then for ``name`` + suffix, the
suffixes in the order ``_get_supported_file_loaders()`` gives them: extension modules
(``importlib.machinery.EXTENSION_SUFFIXES``: ``.cpython-311-x86_64-linux-gnu.so``, ``.abi3.so``,
``.so`` on Linux and macOS; ``.cp311-win_amd64.pyd``, ``.pyd`` on Windows), then source
(``SOURCE_SUFFIXES``: ``.py``, and ``.pyw`` on Windows), then byte code (``BYTECODE_SUFFIXES``:
``.pyc``). A directory without ``__init__`` becomes a namespace package only when none of those
is found. :class:`Form` is that order; ``tests/core/model/test_importnames.py`` checks it against
the running interpreter's importlib.

Two owners (a conda record and a non-conda distribution) that provide one name in different
files are *twins*: one of them is never imported. Two owners whose files make one directory
(a namespace package such as ``google/``, or one package another adds modules to) are not:
their children are compared one level down, and so on.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: How deep twins are looked for below a shared directory (``google/cloud/storage/...``).
MAX_DEPTH = 8


class Form(enum.IntEnum):
    """How a name is provided, in the order the path finder prefers them in one directory."""

    PACKAGE = 0  # a directory with __init__
    EXTENSION = 1  # name.cpython-311-x86_64-linux-gnu.so, name.cp311-win_amd64.pyd
    EXTENSION_ABI3 = 2  # name.abi3.so
    EXTENSION_PLAIN = 3  # name.so, name.pyd
    SOURCE = 4  # name.py (name.pyw on Windows)
    BYTECODE = 5  # name.pyc, without its source
    NAMESPACE = 6  # a directory without __init__

    @property
    def text(self) -> str:
        """How a message names the form."""
        return _FORM_TEXT[self]


_FORM_TEXT = {
    Form.PACKAGE: "a package directory",
    Form.EXTENSION: "an extension module",
    Form.EXTENSION_ABI3: "a stable-ABI extension module",
    Form.EXTENSION_PLAIN: "an extension module",
    Form.SOURCE: "a module",
    Form.BYTECODE: "a byte-code module",
    Form.NAMESPACE: "a namespace directory",
}


@dataclass(frozen=True)
class Suffixes:
    """The module suffixes of one Python (version, platform and build).

    Attributes:
        tag: ``cpython-311`` (``cpython-313t`` free-threaded) or, on Windows, ``cp311``.
        windows: Windows suffixes (``.pyd``, ``.pyw``).
        abi3: Whether ``.abi3.so`` modules load (not on free-threaded builds).
    """

    tag: str
    windows: bool = False
    abi3: bool = True

    @classmethod
    def of(cls, version: str, *, windows: bool = False, free_threaded: bool = False) -> Suffixes:
        """The suffixes of Python *version* (``3.11``)."""
        digits = version.replace(".", "") + ("t" if free_threaded else "")
        return cls(f"cp{digits}" if windows else f"cpython-{digits}", windows, not free_threaded)

    def module(self, filename: str) -> tuple[str, Form] | None:
        """``(name, form)`` when *filename* is a module this Python imports, else None."""
        stem, dot, suffix = filename.partition(".")
        if not dot or not stem.isidentifier():
            return None
        if suffix == "py" or (suffix == "pyw" and self.windows):
            return stem, Form.SOURCE
        if suffix == "pyc":
            return stem, Form.BYTECODE
        ending = ".pyd" if self.windows else ".so"
        if not filename.endswith(ending):
            return None
        middle = suffix[: -len(ending)]
        if not middle:
            return stem, Form.EXTENSION_PLAIN
        if middle == "abi3" and self.abi3 and not self.windows:
            return stem, Form.EXTENSION_ABI3
        if middle == self.tag or middle.startswith(f"{self.tag}-"):
            return stem, Form.EXTENSION
        return None  # another Python's extension: not importable here


@dataclass
class Provision:
    """How one owner provides one name in one directory.

    Attributes:
        name: The name.
        directory: It lists files under ``name/``.
        init: The ``name/__init__...`` file it lists, when it has one (a regular package).
        modules: Its module files for the name, by form.
    """

    name: str
    directory: bool = False
    init: str | None = None
    modules: dict[Form, str] = field(default_factory=dict)

    def best(self) -> tuple[Form, str] | None:
        """The form (and file) the path finder would pick among this owner's alone."""
        if self.init is not None:
            return Form.PACKAGE, self.init
        if self.modules:
            form = min(self.modules)
            return form, self.modules[form]
        return (Form.NAMESPACE, "") if self.directory else None


def provisions(paths: Iterable[str], suffixes: Suffixes) -> dict[str, Provision]:
    """Name -> how the files *paths* (relative to one directory) provide it there."""
    found: dict[str, Provision] = {}
    for rel in paths:
        head, slash, rest = rel.partition("/")
        if slash:
            if not head.isidentifier() or head == "__pycache__":
                continue
            item = found.get(head)
            if item is None:
                item = found[head] = Provision(head)
            item.directory = True
            if "/" not in rest and rest.startswith("__init__."):
                module = suffixes.module(rest)
                if module is not None and module[1] is not Form.BYTECODE:
                    item.init = item.init or f"{head}/{rest}"
            continue
        module = suffixes.module(head)
        if module is None:
            continue
        name, form = module
        item = found.get(name)
        if item is None:
            item = found[name] = Provision(name)
        item.modules.setdefault(form, head)
    return found


@dataclass(frozen=True)
class ImportTwin:
    """One dotted name two owners provide in different files; the path finder picks one.

    Attributes:
        name: The dotted import name (``cv2``, ``google.cloud.storage``).
        winner: The owner whose file Python imports.
        loser: The owner whose file is never imported.
        winner_form: How the winner provides it.
        loser_form: How the loser does.
        winner_path: The winner's file (relative to the directory searched), or the directory.
        loser_path: The loser's.
    """

    name: str
    winner: Any
    loser: Any
    winner_form: Form
    loser_form: Form
    winner_path: str
    loser_path: str


def _under(paths: Iterable[str], name: str) -> list[str]:
    start = f"{name}/"
    return [path[len(start) :] for path in paths if path.startswith(start)]


def contest(
    owners: Mapping[Hashable, list[str]],
    rival: Callable[[Hashable, Hashable], bool],
    suffixes: Suffixes,
    exists: Callable[[str], bool],
    prefix: str = "",
    depth: int = 0,
) -> list[ImportTwin]:
    """The twins among *owners* (owner -> its paths relative to the directory *prefix*).

    Args:
        owners: Each owner's files in the directory (relative to it).
        rival: Whether two owners are worth comparing (a conda record and a non-conda
            distribution of another project).
        suffixes: The env's Python's module suffixes.
        exists: Whether a path (relative to the searched directory, with *prefix*) is on disk:
            a listed file that is gone provides nothing.
        prefix: The directory's path below the searched one (``google/``).
        depth: How far below the searched directory this is.
    """
    by_owner = {owner: provisions(paths, suffixes) for owner, paths in owners.items()}
    names: dict[str, list[Hashable]] = {}
    for owner, provided in by_owner.items():
        for name in provided:
            names.setdefault(name, []).append(owner)
    twins: list[ImportTwin] = []
    dotted = prefix.replace("/", ".")
    for name, holders in names.items():
        if len(holders) < 2:
            continue
        if not any(rival(a, b) for a in holders for b in holders if a is not b):
            continue
        best: dict[Hashable, tuple[Form, str]] = {}
        for owner in holders:
            choice = _present(by_owner[owner][name], prefix, exists)
            if choice is not None:
                best[owner] = choice
        if len(best) < 2:
            continue
        if all(form in (Form.PACKAGE, Form.NAMESPACE) for form, _ in best.values()):
            if depth < MAX_DEPTH:  # one directory: what each adds to it is compared inside
                inner = {owner: _under(owners[owner], name) for owner in best}
                twins += contest(inner, rival, suffixes, exists, f"{prefix}{name}/", depth + 1)
            continue
        winner = min(best, key=lambda owner: best[owner][0])
        form, path = best[winner]
        for loser, (other_form, other_path) in best.items():
            if loser is winner or other_path == path or not rival(winner, loser):
                continue  # the same file: an overwrite, which the layer rules report
            twins.append(
                ImportTwin(
                    f"{dotted}{name}",
                    winner,
                    loser,
                    form,
                    other_form,
                    f"{prefix}{path}" if path else f"{prefix}{name}/",
                    f"{prefix}{other_path}" if other_path else f"{prefix}{name}/",
                )
            )
    return twins


def _present(
    item: Provision, prefix: str, exists: Callable[[str], bool]
) -> tuple[Form, str] | None:
    """The best form of *item* whose file is on disk."""
    live = Provision(
        item.name,
        directory=item.directory and exists(f"{prefix}{item.name}"),
        init=item.init if item.init and exists(f"{prefix}{item.init}") else None,
        modules={f: p for f, p in item.modules.items() if exists(f"{prefix}{p}")},
    )
    return live.best()
