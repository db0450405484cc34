"""Install exactly what was checked: the scratch directory's wheels, pinned by their hashes.

``pip install --no-deps --no-index --find-links WHEELS -r CHECKED`` where ``CHECKED`` names
each project as ``name==version --hash=sha256:...`` of the wheel that was read: pip resolves
nothing and reaches no index, and a wheel that differs from the one checked (another file in a
configured find-links directory, a file changed in between) fails pip's hash check instead of
landing. The env's own configuration still applies (the soft lock's constraints hold). Only in
an env locked by our marker, and only now that the check passed, pip is told to break system
packages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ..disk import safeio
from .check import CheckedInstall
from .child import ChildResult, run_child
from .wheelfile import WHEEL_LIMIT, WheelFile


def file_sha256(wheel: WheelFile, root: str) -> str:
    """The hash of the wheel file as it is now in the scratch directory."""
    digest = hashlib.sha256()
    with safeio.open_regular(wheel.path, limit=WHEEL_LIMIT, root=root) as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def requirements_text(wheels: Iterable[WheelFile], root: str) -> str:
    """One hash-pinned line per checked wheel."""
    return "".join(
        f"{wheel.name}=={wheel.version} --hash=sha256:{file_sha256(wheel, root)}\n"
        for wheel in wheels
    )


def install_argv(checked: CheckedInstall, *, bypass_marker: bool) -> list[str]:
    """The pip command that installs the checked wheels, and only them.

    Args:
        checked: The check.
        bypass_marker: Tell pip to install despite our PEP 668 marker (the check passed).
    """
    scratch = checked.scratch
    requirements = scratch / "checked.txt"
    requirements.write_text(requirements_text(checked.wheels, str(scratch)), encoding="utf-8")
    # --find-links is PIP_FIND_LINKS (install_checked), which replaces any configured one;
    # with --isolated pip reads no variable, and it must be an option
    isolated = "--isolated" in checked.arguments.install
    links = ["--find-links", str(scratch / "wheels")] if isolated else []
    argv = [
        *checked.pip.command,
        "install",
        "--quiet",  # the user's -v counts from there
        "--no-deps",
        "--no-index",
        "--only-binary=:all:",
        "--force-reinstall",
        *links,
        "--requirement",
        str(requirements),
        *checked.arguments.install,
    ]
    if bypass_marker:
        argv.append("--break-system-packages")
    return argv


def install_checked(checked: CheckedInstall) -> ChildResult:
    """Run pip on the checked wheels; in an env with our marker, through it."""
    pip = checked.pip
    environ = {**pip.environ, "PIP_FIND_LINKS": str(checked.scratch / "wheels")}
    return run_child(
        install_argv(checked, bypass_marker=checked.locked),
        env=environ,
        timeout=pip.timeout,
        cwd=pip.cwd,
    )
