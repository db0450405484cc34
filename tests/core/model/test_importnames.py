"""Which file Python's path finder picks for a name, checked against this interpreter's importlib.

The model decides from file lists alone (:mod:`conda_pipguard.core.model.importnames`); here
every pair of ways to provide one name is laid out on disk and ``importlib.util.find_spec`` of
the running interpreter (the one the kit copies into every test env) says which it picks.
"""

from __future__ import annotations

import importlib.machinery
import itertools
import subprocess
import sys
import sysconfig

import pytest

from conda_pipguard.core.model.importnames import Form, Suffixes, contest, provisions
from conda_pipguard.core.model.provides import LibraryName
from tests.conftest import PY

EXT = importlib.machinery.EXTENSION_SUFFIXES[0]  # the tagged one: .cpython-311-x86_64-linux-gnu.so
WINDOWS = sys.platform == "win32"
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
SUFFIXES = Suffixes.of(PY, windows=WINDOWS, free_threaded=FREE_THREADED)

#: One way each to provide ``probe`` in a directory: the files it takes.
FORMS = {
    "package": ["probe/__init__.py"],
    "namespace": ["probe/sub.py"],
    "extension": [f"probe{EXT}"],
    "plain extension": ["probe.pyd" if WINDOWS else "probe.so"],
    "module": ["probe.py"],
    "bytecode": ["probe.pyc"],
}
if ".abi3.so" in importlib.machinery.EXTENSION_SUFFIXES:
    FORMS["abi3 extension"] = ["probe.abi3.so"]


def picked(tmp_path, files: list[str]) -> str:
    """What this interpreter's path finder finds for ``probe`` among *files* (the origin)."""
    for rel in files:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    code = (
        "import importlib.util, sys; sys.path[:0] = [sys.argv[1]]; "
        "spec = importlib.util.find_spec('probe'); "
        "print(spec.origin if spec.origin else 'namespace')"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return out if out == "namespace" else out[len(str(tmp_path)) + 1 :].replace("\\", "/")


#: Pairs that are two files (two directories named alike are one directory: compared inside).
PAIRS = [
    (a, b) for a, b in itertools.combinations(FORMS, 2) if not {a, b} <= {"package", "namespace"}
]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_the_model_picks_what_importlib_picks(tmp_path, first, second):
    owners = {"a": FORMS[first], "b": FORMS[second]}
    (twin,) = contest(owners, lambda a, b: True, SUFFIXES, lambda rel: True)
    found = picked(tmp_path, FORMS[first] + FORMS[second])
    winner_files = owners[twin.winner]
    if found == "namespace":
        assert twin.winner_form is Form.NAMESPACE
    else:
        assert found in winner_files, (found, twin)


def test_module_names_for_this_python_only():
    assert SUFFIXES.module("six.py") == ("six", Form.SOURCE)
    assert SUFFIXES.module(f"cv2{EXT}") == ("cv2", Form.EXTENSION)
    other = EXT.replace(PY.replace(".", ""), "39")
    assert SUFFIXES.module(f"cv2{other}") is None  # another Python's extension never loads
    assert SUFFIXES.module("numpy.libs") is None
    assert SUFFIXES.module("distutils-precedence.pth") is None
    assert SUFFIXES.module("README.txt") is None


def test_a_namespace_shared_by_two_owners_is_compared_one_level_down():
    owners = {
        "conda": ["google/auth/__init__.py", "google/auth/crypt.py"],
        "pip": ["google/cloud/storage/__init__.py"],
    }
    assert contest(owners, lambda a, b: True, SUFFIXES, lambda rel: True) == []
    owners["pip"].append("google/auth.py")  # the same subpackage twice: a twin one level down
    (twin,) = contest(owners, lambda a, b: True, SUFFIXES, lambda rel: True)
    assert (twin.name, twin.winner, twin.loser) == ("google.auth", "conda", "pip")


def test_the_same_file_in_both_lists_is_an_overwrite_not_a_twin():
    owners = {"conda": ["cv2/__init__.py", "cv2/cv2.so"], "pip": ["cv2/__init__.py", "cv2/cv2.so"]}
    assert contest(owners, lambda a, b: True, SUFFIXES, lambda rel: True) == []


def test_a_listed_file_that_is_gone_provides_nothing():
    """pip's package directory is gone: conda's module is all there is (no twin)."""
    owners = {"conda": ["probe.py"], "pip": ["probe/__init__.py"]}
    gone = {"probe/__init__.py", "probe"}
    assert contest(owners, lambda a, b: True, SUFFIXES, lambda rel: rel not in gone) == []


def test_pth_only_distributions_provide_no_name():
    assert provisions(["__editable__.proj-0.1.pth", "distutils-precedence.pth"], SUFFIXES) == {}


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("libcudnn.so.9", "libcudnn.so.9", True),
        ("libcudnn.so.9", "libcudnn.so.9.1.0", True),  # the soname and its real file
        ("libssl.so.3", "libssl.so.1.1", False),
        ("libssl.so.1.1", "libssl.so.1.0.2", False),
        ("libfoo.so", "libfoo.so.1", False),  # the link-time name is another name
        ("libfoo.1.dylib", "libfoo.1.2.dylib", True),
        ("cudnn64_9.dll", "CUDNN64_9.DLL", True),
        # auditwheel's vendored copy carries a hash in its name (and its soname): no twin
        ("libgfortran-040039e1.so.5.0.0", "libgfortran.so.5", False),
    ],
)
def test_library_names_match_as_the_loader_matches_them(one, other, same):
    first, second = LibraryName.parse(one), LibraryName.parse(other)
    assert first is not None and second is not None
    assert first.matches(second) is same and second.matches(first) is same


def test_extension_modules_are_not_libraries():
    assert LibraryName.parse(f"libfoo{EXT}") is None
    assert LibraryName.parse("numpy.py") is None
