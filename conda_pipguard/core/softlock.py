"""The soft lock: pip may add PyPI-only packages but may not replace conda's.

pip reads a site configuration file, ``<sys.prefix>/pip.conf`` (``pip.ini`` on Windows). The
soft lock writes a constraints file pinning every Python distribution conda owns (decided by
files, like the scanner) to its installed version, and names it in that file's
``[install] constraint``. Then ``pip install -U numpy`` is a no-op, ``pip install numpy==2`` is
refused, a package that needs numpy reuses conda's, and a PyPI-only package installs as before.
uv does not read ``pip.conf``: ``UV_CONSTRAINT`` and ``PIP_CONSTRAINT`` go into the env's
``conda env config vars`` (``conda-meta/state``, applied on activation).

Everything we change is recorded in a ledger next to the constraints file, with byte copies
of the files we edited, so that ``unmark`` restores them exactly; a file the user edited after
``mark`` only loses what we added. Every write is atomic and a failure rolls back what was done.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .distributions import Distribution
from .environment import Environment
from .marker import MarkerAction, MarkerError, atomic_write, write_error

STATE_DIR = "etc/conda-pipguard"
#: The constraints file, prefix-relative (its path shows in ``pip config list``).
CONSTRAINTS = f"{STATE_DIR}/constraints.txt"
#: What the soft lock changed, and how to undo it.
LEDGER = f"{STATE_DIR}/soft-lock.json"
PIP_CONF_BACKUP = f"{STATE_DIR}/pip-conf.orig"
ENV_STATE_BACKUP = f"{STATE_DIR}/conda-meta-state.orig"
#: Where ``conda env config vars`` keeps the env's variables.
ENV_STATE = "conda-meta/state"
#: What ``conda env config vars unset`` leaves: unset the variable on activation.
UNSET = "***unset***"
ENV_VAR_NAMES = ("PIP_CONSTRAINT", "UV_CONSTRAINT")
#: First words of the comment lines we add to pip.conf.
COMMENT = "# conda-pipguard soft lock"

_SECTION = re.compile(r"\[(?P<header>.+)\]")
_LEDGER_FORMAT = 1


def pip_conf_name() -> str:
    """The name of pip's site configuration file on this platform."""
    return "pip.ini" if os.name == "nt" else "pip.conf"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def constraint_ref(prefix: Path) -> str:
    """How pip.conf and the variables name the constraints file.

    pip splits a ``constraint`` value on whitespace, so a path with spaces is given as a
    ``file:`` URL (pip reads those too).
    """
    path = Path(os.path.abspath(prefix)) / CONSTRAINTS
    return path.as_uri() if re.search(r"\s", str(path)) else str(path)


def _names_ours(token: str, prefix: Path) -> bool:
    return token in (constraint_ref(prefix), str(Path(os.path.abspath(prefix)) / CONSTRAINTS))


# --------------------------------------------------------------------------- pins


@dataclass(frozen=True)
class Pin:
    """One line of the constraints file.

    Attributes:
        name: Project name as its metadata spells it.
        version: The installed version.
    """

    name: str
    version: str

    @property
    def key(self) -> str:
        """The canonical project name."""
        return canonicalize_name(self.name)

    @property
    def requirement(self) -> str:
        """``name==version``; ``===`` for a version PEP 440 cannot parse (pip accepts both)."""
        try:
            Version(self.version)
        except InvalidVersion:
            return f"{self.name}==={self.version}"
        return f"{self.name}=={self.version}"


def pins_for(distributions: Iterable[Distribution]) -> list[Pin]:
    """One pin per project among *distributions*, sorted by name; unusable names are left out."""
    pins: dict[str, Pin] = {}
    for dist in distributions:
        pin = Pin(dist.name, dist.version)
        try:
            Requirement(pin.requirement)
        except InvalidRequirement:
            continue
        pins.setdefault(pin.key, pin)
    return [pins[key] for key in sorted(pins)]


def render_constraints(pins: Sequence[Pin], target: str) -> str:
    """The constraints file: a header saying why and how to change a pin, then the pins."""
    header = f"""\
# conda-pipguard soft lock (`conda pipguard mark --soft {target}`).
# Each line pins a Python package that conda installed in this environment to its installed
# version, so that pip (and uv) may add packages conda does not have but cannot upgrade,
# downgrade or replace conda's. pip reads this file through the environment's
# {pip_conf_name()} ([install] constraint), and PIP_CONSTRAINT/UV_CONSTRAINT name it when the
# environment is activated.
# To change a pinned package, use conda:  conda install {target} "<package>=<version>"
# conda-pipguard rewrites this file after every conda transaction: edits here do not last.
# Lift the soft lock:  conda pipguard unmark {target}
"""
    return header + "".join(f"{pin.requirement}\n" for pin in pins)


def parse_pins(text: str) -> list[Pin]:
    """The pins of a constraints file we wrote (comments and unparsable lines are skipped)."""
    pins = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        specs = list(requirement.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "==="):
            pins.append(Pin(requirement.name, specs[0].version))
    return pins


def _pins_delta(old: Sequence[Pin], new: Sequence[Pin]) -> str:
    before = {pin.key: pin for pin in old}
    after = {pin.key: pin for pin in new}
    added = sorted(after.keys() - before.keys())
    gone = sorted(before.keys() - after.keys())
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    parts = [f"+{after[k].requirement}" for k in added]
    parts += [f"-{before[k].requirement}" for k in gone]
    parts += [f"{after[k].requirement} (was {before[k].version})" for k in changed]
    return ", ".join(parts)


# --------------------------------------------------------------------------- pip.conf text


@dataclass(frozen=True)
class _Option:
    section: str
    name: str
    first: int  # line of ``key = value``
    last: int  # last line holding part of its value


def _option_name(key: str) -> str:
    return key.strip().lower().replace("_", "-").removeprefix("--")


def _scan_ini(lines: Sequence[str]) -> tuple[dict[str, int], list[_Option]]:
    """Section header lines and options of an ini file, read as ``configparser`` reads it."""
    sections: dict[str, int] = {}
    options: list[_Option] = []
    section: str | None = None
    current: _Option | None = None
    indent = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        level = len(line) - len(line.lstrip())
        if current is not None and level > indent:
            current = _Option(current.section, current.name, current.first, index)
            options[-1] = current
            continue
        match = _SECTION.match(stripped)
        if match:
            section = match.group("header")
            sections.setdefault(section, index)
            current = None
            continue
        if section is None:
            continue
        current = _Option(
            section, _option_name(re.split(r"[=:]", stripped, maxsplit=1)[0]), index, index
        )
        options.append(current)
        indent = level
    return sections, options


def _parse_ini(text: str, path: Path) -> Any:
    """Check *text* reads as pip reads it (strict ``RawConfigParser``); return the parser."""
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as err:
        first_line = str(err).splitlines()[0]
        raise MarkerError(
            f"cannot add the soft lock to {path}: pip cannot read it either ({first_line}); "
            "fix or remove it, then run `conda pipguard mark --soft` again"
        ) from None
    return parser


def _constraint_tokens(parser: Any, section: str) -> list[str]:
    if not parser.has_section(section):
        return []
    return [
        token
        for key, value in parser.items(section)
        if _option_name(key) == "constraint"
        for token in value.split()
    ]


def effective_constraints(text: str | None, path: Path) -> list[str]:
    """What pip takes as ``constraint`` for ``install`` from one configuration file's text."""
    if not text:
        return []
    parser = _parse_ini(text, path)
    return _constraint_tokens(parser, "install") or _constraint_tokens(parser, "global")


def add_constraint(text: str | None, ref: str, path: Path) -> tuple[str, list[str]]:
    """Add *ref* to the ``[install] constraint`` of pip.conf *text*, keeping everything else.

    pip splits the value on whitespace: an existing value gets *ref* on a continuation line;
    a new ``[install] constraint`` keeps what ``[global] constraint`` gave (``[install]``
    overrides ``[global]``).

    Returns:
        The new text, and the lines added (for a surgical removal later).

    Raises:
        MarkerError: pip cannot read *text* (then we do not touch it).
    """
    if not text:
        added = [f"{COMMENT}: `conda pipguard unmark` removes it", "[install]"]
        added.append(f"constraint = {ref}")
        return "".join(f"{line}\n" for line in added), added
    parser = _parse_ini(text, path)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    sections, options = _scan_ini(lines)
    install = [o for o in options if o.section == "install" and o.name == "constraint"]
    if install:
        added = [f"    {ref}"]
        lines.insert(install[-1].last + 1, added[0] + "\n")
        return "".join(lines), added
    value = " ".join([*_constraint_tokens(parser, "global"), ref])
    added = [f"{COMMENT}: `conda pipguard unmark` removes the next line", f"constraint = {value}"]
    if "install" in sections:
        at = sections["install"] + 1
        lines[at:at] = [f"{line}\n" for line in added]
        return "".join(lines), added
    added.insert(0, "[install]")
    block = "".join(f"{line}\n" for line in added)
    separator = "\n" if lines and lines[-1].strip() else ""
    return "".join(lines) + separator + block, added


def remove_constraint(text: str, ref_is_ours: Any, added: Sequence[str]) -> str:
    """Take out of pip.conf *text* only what :func:`add_constraint` put there.

    Lines we added that are still there go (an ``[install]`` header only when no option is
    left under it); then every token naming our file is dropped from ``constraint`` values.
    """
    lines = text.splitlines(keepends=True)
    for line in reversed(added):
        if line == "[install]":
            continue
        for index in range(len(lines) - 1, -1, -1):
            if lines[index].rstrip("\r\n") == line:
                del lines[index]
                break
    _, options = _scan_ini(lines)
    drop: set[int] = set()
    for option in options:
        if option.name != "constraint":
            continue
        for index in range(option.first, option.last + 1):
            line = lines[index]
            body = line.rstrip("\r\n")
            ending = line[len(body) :]
            prefix, value = [*body.split("=", 1), ""][:2] if index == option.first else ("", body)
            kept = [token for token in value.split() if not ref_is_ours(token)]
            if len(kept) == len(value.split()):
                continue
            if index == option.first:
                lines[index] = f"{prefix}= {' '.join(kept)}".rstrip() + ending
            elif kept:
                lines[index] = body[: len(body) - len(body.lstrip())] + " ".join(kept) + ending
            else:
                drop.add(index)
        remaining = [i for i in range(option.first + 1, option.last + 1) if i not in drop]
        first_empty = not lines[option.first].split("=", 1)[-1].strip()
        if "[install]" in added and first_empty and not any(lines[i].strip() for i in remaining):
            drop.add(option.first)
    lines = [line for index, line in enumerate(lines) if index not in drop]
    if "[install]" in added:
        lines = _drop_empty_install(lines)
    return "".join(lines)


def _drop_empty_install(lines: list[str]) -> list[str]:
    sections, options = _scan_ini(lines)
    if "install" not in sections or any(o.section == "install" for o in options):
        return lines
    at = sections["install"]
    del lines[at]
    if at > 0 and at == len(lines) and not lines[at - 1].strip():
        del lines[at - 1]
    return lines


# --------------------------------------------------------------------------- conda-meta/state


def _load_state(data: bytes | None, path: Path) -> dict[str, Any]:
    if data is None:
        return {}
    try:
        state = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        state = None
    if not isinstance(state, dict) or not isinstance(state.get("env_vars", {}), dict):
        raise MarkerError(
            f"cannot set PIP_CONSTRAINT/UV_CONSTRAINT in {path}: it is not what "
            "`conda env config vars` writes; fix or remove it, then run "
            "`conda pipguard mark --soft` again"
        )
    return state


def _dump_state(state: Mapping[str, Any]) -> bytes:
    """The state file as conda writes it (``json.dumps(state, ensure_ascii=False)``)."""
    return json.dumps(state, ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- reading


def _read_bytes(path: Path) -> bytes | None:
    """A file's bytes; None when absent. A symlink is refused (we never edit through one)."""
    if path.is_symlink():
        raise MarkerError(
            f"{path} is a symbolic link; conda-pipguard does not edit through it. "
            "Replace it with a copy of the file, then run the command again"
        )
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise MarkerError(f"cannot read {path}: {err.strerror or err}") from None


def _read_ledger(prefix: Path) -> dict[str, Any] | None:
    try:
        ledger = json.loads((prefix / LEDGER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return ledger if isinstance(ledger, dict) else {}


def _pip_conf_names_ours(prefix: Path) -> bool:
    path = prefix / pip_conf_name()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        tokens = effective_constraints(text, path)
    except MarkerError:
        return False
    return any(_names_ours(token, prefix) for token in tokens)


def is_soft_locked(prefix: Path) -> bool:
    """Whether *prefix* carries our soft lock (our ledger, or pip.conf naming our file)."""
    return (prefix / LEDGER).is_file() or _pip_conf_names_ours(prefix)


@dataclass(frozen=True)
class SoftLockStatus:
    """The soft lock of an environment, for ``status``.

    Attributes:
        constraints: Prefix-relative path of the constraints file.
        pins: How many pins it holds.
        stale_pins: Pins that no longer match what conda installed, with the reason.
        unpinned: Distributions conda owns that have no pin (``name version``).
        bypassed_by: What makes pip or uv ignore the pins.
    """

    constraints: str
    pins: int = 0
    stale_pins: tuple[str, ...] = ()
    unpinned: tuple[str, ...] = ()
    bypassed_by: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The keys the soft lock adds to the ``marker`` JSON object."""
        return {
            "constraints": self.constraints,
            "pins": self.pins,
            "stale_pins": list(self.stale_pins),
            "unpinned": list(self.unpinned),
        }


def _soft_bypasses(
    prefix: Path, environ: Mapping[str, str], env_vars: Mapping[str, str]
) -> list[str]:
    found = []
    if not _pip_conf_names_ours(prefix):
        found.append(f"{pip_conf_name()} no longer names {CONSTRAINTS}")
    merged = {**environ, **env_vars}
    for name in ENV_VAR_NAMES:
        value = merged.get(name)
        where = " (conda env config vars)" if name in env_vars else ""
        if value is None and name == "UV_CONSTRAINT":
            found.append("UV_CONSTRAINT is not set (uv ignores pip.conf)")
        elif value is not None and not any(_names_ours(t, prefix) for t in value.split()):
            found.append(f"{name}{where} does not name {CONSTRAINTS}")
    if merged.get("PIP_CONFIG_FILE") == os.devnull and not any(
        _names_ours(t, prefix) for t in merged.get("PIP_CONSTRAINT", "").split()
    ):
        found.append(f"PIP_CONFIG_FILE={os.devnull}")
    return found


def soft_lock_status(
    prefix: Path,
    conda_distributions: Iterable[Distribution],
    *,
    environ: Mapping[str, str] | None = None,
    env_vars: Mapping[str, str] | None = None,
) -> SoftLockStatus | None:
    """The soft lock of *prefix* compared with what conda owns now; None when not soft-locked.

    Args:
        prefix: The environment.
        conda_distributions: The distributions conda owns (``Analysis.conda_distributions``).
        environ: The process environment (default: ``os.environ``).
        env_vars: The env's ``conda env config vars``.
    """
    if not is_soft_locked(prefix):
        return None
    try:
        pins = parse_pins((prefix / CONSTRAINTS).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        pins = []
    conda = {canonicalize_name(d.name): d for d in conda_distributions}
    stale = []
    for pin in pins:
        dist = conda.get(pin.key)
        if dist is None:
            stale.append(f"{pin.requirement} (not a conda-owned distribution any more)")
        elif dist.version != pin.version:
            stale.append(f"{pin.requirement} (conda has {dist.version})")
    pinned = {pin.key for pin in pins}
    unpinned = [f"{d.name} {d.version}" for key, d in sorted(conda.items()) if key not in pinned]
    environ = os.environ if environ is None else environ
    bypassed = _soft_bypasses(prefix, environ, env_vars or {})
    return SoftLockStatus(CONSTRAINTS, len(pins), tuple(stale), tuple(unpinned), tuple(bypassed))


# --------------------------------------------------------------------------- applying changes


@dataclass(frozen=True)
class _Change:
    """One file to write (``data``) or delete (``data is None``), prefix-relative."""

    rel: str
    data: bytes | None
    mode: int = 0o644


def _apply(prefix: Path, changes: Sequence[_Change], fix: str) -> None:
    """Apply *changes* in order; on any failure put back every file already changed.

    Raises:
        MarkerError: A change failed (everything is as before).
    """
    done: list[tuple[Path, bytes | None, int]] = []
    made_dirs: list[Path] = []
    try:
        for change in changes:
            path = prefix / change.rel
            old = _read_bytes(path)
            old_mode = path.stat().st_mode & 0o7777 if old is not None else change.mode
            if change.data is None:
                if old is not None:
                    path.unlink()
                    done.append((path, old, old_mode))
                continue
            if not path.parent.is_dir():
                missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
                path.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.extend(sorted(missing, key=lambda p: len(p.parts), reverse=True))
            atomic_write(path, change.data, mode=change.mode)
            done.append((path, old, old_mode))
    except OSError as err:
        failed = prefix / change.rel
        _undo(done, made_dirs)
        raise write_error(failed, err, fix) from None
    except MarkerError:
        _undo(done, made_dirs)
        raise


def _undo(done: Sequence[tuple[Path, bytes | None, int]], made_dirs: Sequence[Path]) -> None:
    for path, old, mode in reversed(done):
        with contextlib.suppress(OSError):
            if old is None:
                path.unlink()
            else:
                atomic_write(path, old, mode=mode)
    for directory in made_dirs:
        with contextlib.suppress(OSError):
            directory.rmdir()


def _mode_of(path: Path, default: int = 0o644) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return default


# --------------------------------------------------------------------------- mark --soft


def _plan_pip_conf(prefix: Path, ref: str) -> tuple[list[_Change], dict[str, Any]]:
    path = prefix / pip_conf_name()
    original = _read_bytes(path)
    try:
        text = original.decode("utf-8") if original is not None else None
    except UnicodeDecodeError:
        raise MarkerError(f"cannot add the soft lock to {path}: it is not UTF-8 text") from None
    mode = _mode_of(path)
    if any(_names_ours(token, prefix) for token in effective_constraints(text, path)):
        # Ours already, without a ledger saying how it got there: unmark trims it.
        return [], {"path": pip_conf_name(), "existed": True, "written_sha256": None}
    new_text, added = add_constraint(text, ref, path)
    new = new_text.encode("utf-8")
    changes = []
    if original is not None:
        changes.append(_Change(PIP_CONF_BACKUP, original, mode))
    changes.append(_Change(pip_conf_name(), new, mode))
    entry = {
        "path": pip_conf_name(),
        "existed": original is not None,
        "mode": mode,
        "written_sha256": _sha256(new),
        "added_lines": added,
    }
    return changes, entry


def _plan_env_vars(
    prefix: Path, ref: str, pip_conf_tokens: Sequence[str]
) -> tuple[list[_Change], dict[str, Any]]:
    path = prefix / ENV_STATE
    original = _read_bytes(path)
    state = _load_state(original, path)
    env_vars = dict(state.get("env_vars", {}))
    # A variable naming our file already (a repair): the bytes on disk are not the user's
    # original any more, so unmark will trim instead of restoring a copy.
    pristine = True
    variables = {}
    for name in ENV_VAR_NAMES:
        previous = env_vars.get(name)
        base: list[str] = []
        if previous is not None and previous != UNSET:
            base = [t for t in str(previous).split() if not _names_ours(t, prefix)]
            if len(base) != len(str(previous).split()):
                pristine = False
                previous = " ".join(base) or None
        elif name == "PIP_CONSTRAINT":
            base = list(pip_conf_tokens)  # PIP_CONSTRAINT replaces pip.conf's value: keep it
        value = " ".join([*base, ref])
        env_vars[name] = value
        variables[name] = {"previous": previous, "written": value}
    new = _dump_state({**state, "env_vars": env_vars})
    mode = _mode_of(path)
    changes = []
    if original is not None and pristine:
        changes.append(_Change(ENV_STATE_BACKUP, original, mode))
    changes.append(_Change(ENV_STATE, new, mode))
    entry = {
        "existed": original is not None,
        "mode": mode,
        "written_sha256": _sha256(new) if pristine else None,
        "variables": variables,
    }
    return changes, entry


def _env_vars_name_ours(prefix: Path) -> bool:
    try:
        state = _load_state(_read_bytes(prefix / ENV_STATE), prefix / ENV_STATE)
    except MarkerError:
        return False
    env_vars = state.get("env_vars", {})
    return all(
        any(_names_ours(t, prefix) for t in str(env_vars.get(name, "")).split())
        for name in ENV_VAR_NAMES
    )


def write_soft_lock(
    prefix: Path, target: str, *, env: Environment | None = None, dry_run: bool = False
) -> MarkerAction:
    """Soft-lock *prefix*: pin conda's distributions for pip (pip.conf) and uv (variables).

    Idempotent: when the env is soft-locked already, only what is missing is put back and the
    pins are brought up to date. An env without Python is skipped.

    Args:
        prefix: The environment.
        target: How commands name the env (``-n NAME`` or ``-p PATH``), for the header.
        env: The environment as already read (read from *prefix* when not given); what conda
            owns is decided from it by the scanner.
        dry_run: Change nothing; report what would be done.

    Raises:
        MarkerError: A file cannot be read, understood or written (nothing is left changed).
    """
    from .analysis import analyze
    from .environment import load_environment

    prefix = Path(os.path.abspath(prefix))
    env = env if env is not None else load_environment(prefix, include_user_site=False)
    if env.python is None:
        return MarkerAction(
            str(prefix), None, "skipped", "the environment has no Python", lock="soft"
        )
    conda_distributions = analyze(env).conda_distributions
    ref = constraint_ref(prefix)
    pins = pins_for(conda_distributions)
    ledger = _read_ledger(prefix) or {}
    fresh = not ledger
    changes: list[_Change] = []
    constraints = render_constraints(pins, target).encode("utf-8")
    if _read_bytes(prefix / CONSTRAINTS) != constraints:
        changes.append(_Change(CONSTRAINTS, constraints))
    pip_conf_path = prefix / pip_conf_name()
    if fresh or not _pip_conf_names_ours(prefix):
        original = _read_bytes(pip_conf_path)
        user_tokens = effective_constraints(
            original.decode("utf-8", errors="replace") if original else None, pip_conf_path
        )
        more, ledger["pip_conf"] = _plan_pip_conf(prefix, ref)
        changes += more
    else:
        user_tokens = [
            t
            for t in effective_constraints(pip_conf_path.read_text(encoding="utf-8"), pip_conf_path)
            if not _names_ours(t, prefix)
        ]
    if fresh or not _env_vars_name_ours(prefix):
        more, ledger["env_vars"] = _plan_env_vars(prefix, ref, user_tokens)
        changes += more
    rel = CONSTRAINTS
    if not changes:
        return MarkerAction(
            str(prefix),
            rel,
            "unchanged",
            f"already soft-locked by conda-pipguard ({len(pins)} pins)",
            lock="soft",
            extra={"pins": len(pins)},
        )
    ledger.update(format=_LEDGER_FORMAT, target=target, constraint_ref=ref)
    if fresh:  # unmark removes these again when they are empty
        ledger["created_dirs"] = [d for d in ("etc", STATE_DIR) if not (prefix / d).exists()]
    ledger_change = _Change(LEDGER, (json.dumps(ledger, indent=2) + "\n").encode("utf-8"))
    # The ledger goes first: whatever happens next, unmark knows what to undo.
    changes = [ledger_change, *changes]
    reason = (
        f"pip and uv may add packages but not change the {len(pins)} conda ones"
        if fresh
        else f"soft lock repaired or brought up to date ({len(pins)} pins)"
    )
    if not dry_run:
        _apply(prefix, changes, f"ask its owner to run: conda pipguard mark --soft {target}")
    return MarkerAction(
        str(prefix), rel, "written", reason, dry_run, lock="soft", extra={"pins": len(pins)}
    )


# --------------------------------------------------------------------------- unmark


def _restore_or_trim(
    prefix: Path,
    rel: str,
    backup_rel: str,
    entry: Mapping[str, Any],
    trim: Any,
) -> tuple[list[_Change], str | None]:
    """The changes that undo our edit of *rel*, and a note for the user (or None).

    The original bytes come back when the file is as we left it; otherwise *trim* takes our
    part out of its current content.
    """
    path = prefix / rel
    current = _read_bytes(path)
    changes: list[_Change] = []
    note = None
    mode = int(entry.get("mode", 0o644))
    if current is not None and _sha256(current) == entry.get("written_sha256"):
        if entry.get("existed"):
            original = _read_bytes(prefix / backup_rel)
            if original is None:
                raise MarkerError(
                    f"cannot restore {path}: its copy {prefix / backup_rel} is gone; "
                    "remove the conda-pipguard lines from it by hand"
                )
            changes.append(_Change(rel, original, mode))
        else:
            changes.append(_Change(rel, None))
    elif current is not None:
        trimmed = trim(current)
        if trimmed != current:
            changes.append(_Change(rel, trimmed, _mode_of(path, mode)))
        if entry.get("written_sha256"):
            note = f"{rel} was edited after mark; only the soft lock's part was taken out"
    changes.append(_Change(backup_rel, None))
    return changes, note


def _trim_pip_conf(prefix: Path, added: Sequence[str]) -> Any:
    def trim(current: bytes) -> bytes:
        text = current.decode("utf-8", errors="surrogateescape")
        out = remove_constraint(text, lambda token: _names_ours(token, prefix), added)
        return out.encode("utf-8", errors="surrogateescape")

    return trim


def _trim_env_vars(prefix: Path, variables: Mapping[str, Any]) -> Any:
    def trim(current: bytes) -> bytes:
        try:
            state = _load_state(current, prefix / ENV_STATE)
        except MarkerError:
            return current
        env_vars = dict(state.get("env_vars", {}))
        for name in ENV_VAR_NAMES:
            value = env_vars.get(name)
            if value is None:
                continue
            facts = variables.get(name, {})
            if facts and value == facts.get("written"):
                previous = facts.get("previous")
                if previous is None:
                    del env_vars[name]
                else:
                    env_vars[name] = previous
                continue
            kept = [t for t in str(value).split() if not _names_ours(t, prefix)]
            if len(kept) != len(str(value).split()):
                if kept:
                    env_vars[name] = " ".join(kept)
                else:
                    del env_vars[name]
        return _dump_state({**state, "env_vars": env_vars})

    return trim


def remove_soft_lock(
    prefix: Path, *, dry_run: bool = False, target: str = ""
) -> MarkerAction | None:
    """Lift the soft lock: restore what it edited, delete what it added. None when not soft-locked.

    pip.conf and ``conda-meta/state`` come back byte for byte when nobody edited them after
    ``mark --soft``; otherwise only our constraint and variables are taken out of them.

    Raises:
        MarkerError: A file cannot be written (nothing is left changed).
    """
    if not is_soft_locked(prefix):
        return None
    ledger = _read_ledger(prefix) or {}
    changes: list[_Change] = []
    notes: list[str] = []
    pip_entry = ledger.get("pip_conf") or {"existed": True, "written_sha256": None}
    more, note = _restore_or_trim(
        prefix,
        pip_conf_name(),
        PIP_CONF_BACKUP,
        pip_entry,
        _trim_pip_conf(prefix, pip_entry.get("added_lines", ())),
    )
    changes += more
    notes += [note] if note else []
    vars_entry = ledger.get("env_vars") or {"existed": True, "written_sha256": None}
    more, note = _restore_or_trim(
        prefix,
        ENV_STATE,
        ENV_STATE_BACKUP,
        vars_entry,
        _trim_env_vars(prefix, vars_entry.get("variables", {})),
    )
    changes += more
    notes += [note] if note else []
    changes += [_Change(CONSTRAINTS, None), _Change(LEDGER, None)]  # the ledger goes last
    if not dry_run:
        _apply(prefix, changes, f"ask its owner to run: conda pipguard unmark {target}".rstrip())
        for rel in sorted({STATE_DIR, *ledger.get("created_dirs", ())}, reverse=True):
            with contextlib.suppress(OSError):
                (prefix / rel).rmdir()
    reason = "pip and uv may change conda's packages again"
    if notes:
        reason += "; " + "; ".join(notes)
    return MarkerAction(str(prefix), CONSTRAINTS, "removed", reason, dry_run, lock="soft")


# --------------------------------------------------------------------------- refresh


def refresh_soft_lock(prefix: Path) -> MarkerAction | None:
    """Bring the pins of a soft-locked env up to date (the post-transaction job).

    Only the constraints file changes; pip.conf and the variables are left as they are.

    Args:
        prefix: The environment, after the transaction.

    Returns:
        ``written`` (pins changed) or ``unchanged``; None when the env is not soft-locked.

    Raises:
        MarkerError: The constraints file cannot be written.
    """
    from .analysis import analyze
    from .environment import load_environment

    prefix = Path(os.path.abspath(prefix))
    if not is_soft_locked(prefix):
        return None
    ledger = _read_ledger(prefix) or {}
    target = str(ledger.get("target") or f"-p {prefix}")
    env = load_environment(prefix, include_user_site=False)
    pins = pins_for(analyze(env).conda_distributions if env.python else ())
    new = render_constraints(pins, target).encode("utf-8")
    path = prefix / CONSTRAINTS
    old = _read_bytes(path)
    if old == new:
        return MarkerAction(
            str(prefix), CONSTRAINTS, "unchanged", f"{len(pins)} pins current", lock="soft"
        )
    delta = _pins_delta(parse_pins(old.decode("utf-8", errors="replace")) if old else [], pins)
    _apply(
        prefix,
        [_Change(CONSTRAINTS, new)],
        f"ask its owner to run: conda pipguard mark --soft {target}",
    )
    return MarkerAction(
        str(prefix),
        CONSTRAINTS,
        "written",
        f"pins updated: {delta}" if delta else "constraints file rewritten",
        lock="soft",
        extra={"pins": len(pins)},
    )
