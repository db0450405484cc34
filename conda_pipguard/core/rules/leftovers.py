"""Files of another install left among a conda package's own, which nothing lists.

``pip install --force-reinstall numpy==2.1.3`` and then deleting ``numpy-2.1.3.dist-info`` by hand
(or an interrupted uninstall) leaves numpy 2's files under conda's ``numpy/``: no record lists
them, no installed distribution does, so no uninstall will ever take them away, and ``conda
install --force-reinstall numpy`` puts conda's files back around them. Python still imports any
of them a name reaches (``numpy._core``, which numpy 1.26 does not have, loads numpy 2's). The
model finds them (:mod:`..model.condafiles`); ``conda pipguard fix`` removes them after conda has
put its own files back.
"""

from __future__ import annotations

from ..model.overlay import Overlay
from ..plurals import count_of
from .findings import Finding
from .fixes import FixCommands
from .kinds import Severity

_SAMPLE = 20


def leftovers(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """``leftovers``: an error when the package's own files were changed too (a mix)."""
    conda_files = overlay.conda_files
    mixed = conda_files.mixed()
    site = f"{overlay.env.python.site_packages}/" if overlay.env.python else ""
    findings = []
    for name, left in conda_files.leftovers.items():
        record = left.record
        places = dict.fromkeys(
            f"{path[len(site) :].partition('/')[0]}/"
            for path in left.files
            if path.startswith(site)
        )
        places.update(dict.fromkeys(left.scripts))
        number = len(left.files) + len(left.scripts)
        counted = f"{'at least ' if left.walk_cut else ''}{count_of(number, 'file')}"
        if left.bytecode:
            counted += f" and {len(left.bytecode)} .pyc"
        mix = name in mixed
        consequence = (
            f"conda's own files there were changed too: what imports as {name} is a mix of "
            "both installs"
            if mix
            else "Python imports any of them a module name reaches"
        )
        verb = "lies" if number == 1 and not left.bytecode else "lie"
        findings.append(
            Finding.about(
                "leftovers",
                f"{counted} that no conda package and no installed distribution lists {verb} "
                f"among conda's {record.name} {record.version} ({', '.join(places)}), left by "
                f"an install whose metadata is gone; {consequence}",
                fixes.repair(),
                record=record,
                severity=Severity.ERROR if mix else None,
                location=record.record_path,
                details={
                    "files": number,
                    "bytecode": len(left.bytecode),
                    "scripts": list(left.scripts),
                    "mixed": mix,
                    "sample": list(left.paths[:_SAMPLE]),
                },
            )
        )
    return findings
