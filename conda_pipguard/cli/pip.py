"""``conda pipguard pip install``: pip, checked against conda's packages before it writes.

pip resolves without writing, every file it would install is read as a wheel, and the same
rules as ``status`` say what the install would do to conda's packages
(:mod:`conda_pipguard.core.pipcheck`). The plan is shown in the shape of conda's; then the
install goes on, asking first, with the question defaulting to no when anything of conda's
would be harmed. ``-y`` goes on only when nothing is; ``--force`` accepts the harm, except in
``pipguard_mode: block`` and in an env locked by ``conda pipguard mark``, which a harmful install
never goes through. What pip installs then is exactly the wheels that were checked.

Exit codes: with ``--dry-run`` 0 when nothing of conda's is harmed, 1 when something is; 2 when
the install cannot be checked (pip refuses, a file cannot be read); otherwise 1 when the install
is refused or pip fails.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..core.errors import InstallRefused, UsageError
from ..core.printable import printable
from .host import Flags, Host

if TYPE_CHECKING:
    from ..core.pipcheck.check import CheckedInstall

SUMMARY = "Install from PyPI with pip, checked first against conda's packages."

#: Seconds each pip run may take (the core's default; not imported to keep parsing cheap).
_TIMEOUT = 900.0


def configure_parser(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``pip``: ours, then ``install`` and pip's own arguments."""
    host.add_target_options(parser)
    host.add_output_options(parser, dry_run=True, yes=True)
    host.add_frozen_option(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="Install even when the check finds harm to conda's packages (never in "
        "pipguard_mode: block, nor in an env locked with `conda pipguard mark`).",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=_TIMEOUT,
        metavar="SECONDS",
        help=f"Time each pip run may take (default: {_TIMEOUT:g}).",
    )
    parser.add_argument("pip_command", choices=("install",), metavar="install")
    parser.add_argument(
        "pip_args",
        nargs=argparse.REMAINDER,
        metavar="PIP_ARGUMENTS",
        help="pip install's own arguments: requirements, -r files, index options, -U, ...",
    )


def _refusal(checked: CheckedInstall, force: bool, mode: str, flags: Flags) -> str | None:
    """Why a harmful install does not go on, or None when it may."""
    harmed = ", ".join(checked.impact.harmed)
    if not harmed:
        return None
    target = checked.env.target_flag
    if mode == "block":
        return (
            f"pipguard_mode is block: this install would harm conda's {harmed}; nothing was "
            f"installed (install it with conda: conda install {target} <package>)"
        )
    if checked.locked:
        return (
            f"this env is locked against pip: this install would harm conda's {harmed}; "
            f"nothing was installed (install it with conda, or lift the lock first: "
            f"conda pipguard unmark {target})"
        )
    if flags.yes and not force:
        return (
            f"this install would harm conda's {harmed}; nothing was installed (install it "
            "with conda instead, or accept the harm with --force)"
        )
    return None


def _report(host: Host, checked: CheckedInstall, decision: str, **more: Any) -> None:
    from ..core.pipcheck.render import plan_json

    host.print_json({**plan_json(checked), "decision": decision, **more})


def _install(checked: CheckedInstall, host: Host, flags: Flags) -> int:
    from ..core.diagnosis import diagnose
    from ..core.pipcheck.install import install_checked

    result = install_checked(checked)
    env = checked.env
    after = diagnose(env.prefix, env.name, matcher=host.matcher_factory()())
    if flags.json:
        _report(
            host,
            checked,
            "installed" if result.ok else "failed",
            pip_exit_code=result.returncode,
            verdict=after.verdict,
        )
    else:
        output = result.output()
        if output and (not flags.quiet or not result.ok):
            sys.stdout.write(output + "\n")
        if result.timed_out:
            sys.stdout.write("pip did not finish in time and was stopped.\n")
        elif result.ok:
            done = ", ".join(f"{wheel.name} {wheel.version}" for wheel in checked.wheels)
            sys.stdout.write(printable(f"Installed by pip, as checked: {done}") + "\n")
        sys.stdout.write(
            printable(
                f"Now {env.display_name}: {after.verdict} "
                f"(details: conda pipguard status {env.target_flag})"
            )
            + "\n"
        )
    return 0 if result.ok else 1


def _decide(checked: CheckedInstall, args: argparse.Namespace, host: Host, dry_run: bool) -> int:
    from ..core.pipcheck.render import render_plan

    flags = host.flags(args)
    if not flags.json:
        sys.stdout.write(render_plan(checked) + "\n")
        sys.stdout.flush()
    harmful = bool(checked.impact.harm)
    if not checked.planned:
        if flags.json:
            _report(host, checked, "nothing-to-install")
        return 0
    if dry_run:
        if flags.json:
            _report(host, checked, "dry-run")
        return 1 if harmful else host.dry_run_done()
    refusal = _refusal(checked, args.force, host.guard_mode(), flags)
    if refusal is not None:
        if flags.json:
            _report(host, checked, "refused", reason=refusal)
            return 1
        raise InstallRefused(refusal)
    if not flags.yes and not host.confirm("Proceed", default=not harmful or args.force):
        sys.stdout.write("Nothing was installed.\n")
        return 0
    return _install(checked, host, flags)


def execute(args: argparse.Namespace, host: Host) -> int:
    """Run ``pip install``, checked; return the exit code.

    Raises:
        PipArgumentError: pip's arguments take pip out of the env, or name nothing.
        CannotCheck: The install cannot be checked (pip's output is printed first).
        InstallRefused: The install would harm conda's packages and was not let through.
        EnvironmentFrozen: The env is frozen and ``--override-frozen`` was not given.
    """
    from ..core.disk.frozen import refuse_if_frozen
    from ..core.errors import CannotCheck, PipArgumentError
    from ..core.pipcheck.arguments import read_arguments
    from ..core.pipcheck.check import checked_install

    flags = host.flags(args)
    arguments = read_arguments(args.pip_args)
    if not arguments.resolve:
        raise PipArgumentError("name what to install: conda pipguard pip install <package>")
    dry_run = flags.dry_run or arguments.dry_run
    if flags.json and not dry_run and not flags.yes:
        raise UsageError("--json cannot ask for confirmation", "add -y, or --dry-run")
    (target,) = host.targets(args)[:1]
    if not dry_run:  # a check alone changes nothing, frozen or not
        refuse_if_frozen(target.prefix, override=flags.override_frozen, verb="pip install into")
    try:
        with checked_install(
            target.prefix,
            arguments,
            name=target.name,
            matcher=host.matcher_factory()(),
            timeout=args.timeout,
        ) as checked:
            return _decide(checked, args, host, dry_run)
    except CannotCheck as err:
        if flags.json:
            host.print_json(
                {
                    "prefix": str(target.prefix),
                    "pip_arguments": list(arguments.given),
                    "decision": "cannot-check",
                    "error": str(err),
                    "pip_exit_code": err.returncode,
                    "pip_output": err.output,
                }
            )
            return err.exit_code
        if err.output:
            sys.stderr.write(err.output + "\n")
        raise
