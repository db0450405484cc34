"""The layers hold: every module imports alone, only ``guard/`` (and the plugin) reach conda, and
no import circle exists.

``core/`` and ``cli/`` are imported in a fresh, isolated interpreter in which ``import conda``
fails, as on a machine where the standalone ``conda-pipguard`` runs without conda. The host seam
(``cli/host.py``) is what lets ``cli/`` do without: ``guard/host.py`` brings conda in.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import conda_pipguard

PACKAGE = Path(conda_pipguard.__file__).parent
ROOT = PACKAGE.parent
HAVE_CONDA = importlib.util.find_spec("conda") is not None


def module_names(under: str = "") -> list[str]:
    """Dotted names of the package's modules (below *under*, a sub-package path)."""
    base = PACKAGE / under if under else PACKAGE
    names = []
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":
            continue  # runs the command line
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


#: Modules that must import with conda absent.
WITHOUT_CONDA = [
    name
    for name in module_names()
    if not name.startswith("conda_pipguard.guard") and name != "conda_pipguard.plugin"
]

_IMPORT_ALONE = """
import sys
sys.path.insert(0, {root!r})
if {block}:
    sys.modules["conda"] = None  # `import conda` (and every conda.x) raises ImportError
import importlib
importlib.import_module({name!r})
print("\\n".join(sorted(m for m in sys.modules if m.split(".")[0] in ("conda", "conda_pipguard"))))
"""


def import_alone(name: str, *, block_conda: bool) -> list[str]:
    """Import *name* first thing in a fresh ``python -I``; return the modules then loaded."""
    code = _IMPORT_ALONE.format(root=str(ROOT), block=block_conda, name=name)
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"import {name} alone failed:\n{proc.stderr}"
    return proc.stdout.split()


def test_the_list_of_modules_is_complete():
    assert "conda_pipguard.cli.host" in WITHOUT_CONDA
    assert "conda_pipguard.core.diagnosis" in WITHOUT_CONDA
    assert "conda_pipguard.guard.host" in module_names("guard")


@pytest.mark.parametrize("name", WITHOUT_CONDA)
def test_imports_alone_without_conda(name):
    loaded = import_alone(name, block_conda=True)
    assert not [m for m in loaded if m.startswith("conda_pipguard.guard")], loaded


@pytest.mark.skipif(not HAVE_CONDA, reason="guard/ and the plugin need conda")
@pytest.mark.parametrize("name", [*module_names("guard"), "conda_pipguard.plugin"])
def test_guard_modules_import_alone(name):
    import_alone(name, block_conda=False)


def imported_names(path: Path) -> list[str]:
    """Every module *path* imports, at any depth of its code, as absolute dotted names."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.append(module)
    return names


@pytest.mark.parametrize("under", ["cli", "core"])
def test_cli_and_core_import_neither_guard_nor_conda(under):
    offending = {
        str(path.relative_to(ROOT)): name
        for path in sorted((PACKAGE / under).rglob("*.py"))
        for name in imported_names(path)
        if name == "conda"
        or name.startswith(("conda.", "conda_pipguard.guard", "conda_pipguard.plugin"))
    }
    assert offending == {}


def test_the_check_sees_relative_imports():
    """The static check resolves ``from ..guard import x`` (it would miss nothing it must see)."""
    names = imported_names(PACKAGE / "guard" / "host.py")
    assert "conda_pipguard.cli.host" in names
    assert "conda.cli.helpers" in names


#: What ``guard/`` may take from ``cli/``: the seam it implements, not a verb.
CLI_SEAM = ("conda_pipguard.cli.host", "conda_pipguard.cli.common", "conda_pipguard.cli.main")


def test_guard_takes_only_the_seam_from_cli():
    """``conda doctor --fix`` runs plans through core, not through the ``fix`` verb."""
    offending = {
        str(path.relative_to(ROOT)): name
        for path in sorted((PACKAGE / "guard").rglob("*.py"))
        for name in imported_names(path)
        if name.startswith("conda_pipguard.cli") and name not in CLI_SEAM
    }
    assert offending == {}


def _imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The package's modules that *name* imports, at any depth of its code (lazy ones too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return (found & modules) - {name}


def test_no_import_circle():
    """No module reaches itself through imports, lazy and type-only ones included."""
    paths = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: _imports_of(name, path, set(paths)) for name, path in paths.items()}
    circles = []
    for start in graph:
        seen, todo = set(), [(start, (start,))]
        while todo:
            name, route = todo.pop()
            for nxt in graph[name]:
                if nxt == start:
                    circles.append(" -> ".join((*route, nxt)))
                elif nxt not in seen:
                    seen.add(nxt)
                    todo.append((nxt, (*route, nxt)))
    assert not circles, "\n".join(sorted(circles))
