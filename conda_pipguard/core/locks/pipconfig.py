"""The pip configuration as pip itself reads it: which files, in which order, which value wins.

pip (23.x to 25.x) keeps **one value per option**. It reads, each later kind overriding an
earlier one key by key (a key is ``section.option``):

1. global: ``$XDG_CONFIG_DIRS/pip/pip.conf`` (default ``/etc/xdg``), then ``/etc/pip.conf``
   (``/Library/Application Support/pip`` on macOS, ``%ProgramData%/pip`` on Windows);
2. user: ``~/.pip/pip.conf``, ``$XDG_CONFIG_HOME/pip/pip.conf`` -- skipped when
   ``PIP_CONFIG_FILE`` names an existing file;
3. site: ``<sys.prefix>/pip.conf`` (``pip.ini`` on Windows);
4. ``PIP_CONFIG_FILE``; ``PIP_CONFIG_FILE=os.devnull`` turns every file off;
5. ``PIP_<OPTION>`` variables.

For ``pip install`` the ``[global]`` value of an option is then overridden by the ``[install]``
one, and both by the variable; empty values are skipped. An ``append`` option such as
``constraint`` is split on whitespace: ``constraint = a.txt b.txt`` keeps both.

Every reader here takes the locations as a :class:`PipConfigFiles`, so that tests can plant a
global configuration; :func:`global_config_dirs` is the one place that knows the machine's.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..disk import safeio
from ..disk.places import config_basename

#: What pip's ``strtobool`` (and uv's boolean variables) take as true.
_TRUE = {"1", "true", "t", "yes", "y", "on"}


def global_config_dirs(environ: Mapping[str, str]) -> list[Path]:
    """The directories of pip's global configuration on this machine, in pip's order."""
    if sys.platform == "darwin":
        return [Path("/Library/Application Support/pip")]
    if os.name == "nt":
        return [Path(environ.get("ProgramData", r"C:\ProgramData")) / "pip"]
    dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    return [Path(d) / "pip" for d in dirs.split(os.pathsep) if d] + [Path("/etc")]


def _user_files(environ: Mapping[str, str]) -> list[Path]:
    home = environ.get("USERPROFILE" if os.name == "nt" else "HOME")
    if not home:
        return []
    name = config_basename()
    if os.name == "nt":
        appdata = environ.get("APPDATA") or str(Path(home) / "AppData" / "Roaming")
        return [Path(home) / "pip" / name, Path(appdata) / "pip" / name]
    if sys.platform == "darwin":
        return [Path(home) / ".pip" / name, Path(home) / ".config" / "pip" / name]
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path(home) / ".config")
    return [Path(home) / ".pip" / name, Path(config_home) / "pip" / name]


@dataclass(frozen=True)
class PipConfigFiles:
    """Where pip reads its configuration for one env's interpreter, by kind, in pip's order.

    Attributes:
        global_files: The global files (later ones win).
        user_files: The user files (empty when ``PIP_CONFIG_FILE`` names an existing file).
        site_file: ``<prefix>/pip.conf``.
        env_file: ``PIP_CONFIG_FILE``, when set.
        disabled: ``PIP_CONFIG_FILE`` is ``os.devnull``: pip reads no file at all.
    """

    global_files: tuple[Path, ...]
    user_files: tuple[Path, ...]
    site_file: Path
    env_file: Path | None = None
    disabled: bool = False

    @classmethod
    def for_prefix(
        cls,
        prefix: Path,
        environ: Mapping[str, str],
        *,
        global_dirs: Sequence[Path] | None = None,
    ) -> PipConfigFiles:
        """The files pip run by *prefix*'s interpreter in *environ* reads.

        Args:
            prefix: The environment (its ``pip.conf`` is the site file).
            environ: The variables pip sees (``PIP_CONFIG_FILE``, ``HOME``, ``XDG_*``).
            global_dirs: The global configuration directories (default:
                :func:`global_config_dirs`); tests plant their own here.
        """
        name = config_basename()
        dirs = global_config_dirs(environ) if global_dirs is None else global_dirs
        env_file = environ.get("PIP_CONFIG_FILE")
        user = () if env_file and os.path.exists(env_file) else tuple(_user_files(environ))
        return cls(
            global_files=tuple(Path(d) / name for d in dirs),
            user_files=user,
            site_file=Path(prefix) / name,
            env_file=Path(env_file) if env_file else None,
            disabled=env_file == os.devnull,
        )

    def in_order(self, *, site: bool = True) -> list[tuple[str, Path]]:
        """``(kind, path)`` of every file, lowest priority first (none when disabled)."""
        if self.disabled:
            return []
        files = [("global", p) for p in self.global_files]
        files += [("user", p) for p in self.user_files]
        files += [("site", self.site_file)] if site else []
        files += [("PIP_CONFIG_FILE", self.env_file)] if self.env_file else []
        return files


@dataclass(frozen=True)
class Setting:
    """The value pip takes for one option of one command, and where it comes from.

    Attributes:
        value: The raw value ('' when unset).
        source: ``PIP_<NAME>`` or the configuration file that gave it (None when unset).
        kind: ``global``, ``user``, ``site``, ``PIP_CONFIG_FILE`` or ``variable``.
    """

    value: str = ""
    source: str | None = None
    kind: str | None = None

    @property
    def tokens(self) -> list[str]:
        """The value split as pip splits an ``append`` option."""
        return self.value.split()


def option_name(key: str) -> str:
    """A configuration key as pip normalises it (``--break_system_packages`` -> ...)."""
    return key.strip().lower().replace("_", "-").removeprefix("--")


def read_file(path: Path) -> configparser.RawConfigParser | None:
    """One configuration file parsed as pip parses it; None when absent or unreadable.

    (pip itself stops with an error on a file it cannot parse; then no install happens.)
    """
    parser = configparser.RawConfigParser()
    try:  # bounded and non-blocking: a FIFO or a link to /dev/zero is not a file pip reads
        text = safeio.read_text(path, limit=safeio.SMALL_LIMIT, errors="replace")
        parser.read_string(text, source=str(path))
    except (OSError, configparser.Error):
        return None
    return parser


@dataclass(frozen=True)
class PipConfig:
    """The merged configuration: ``section.option`` -> (value, kind, file), as pip merges it."""

    values: Mapping[str, tuple[str, str, Path]]

    @classmethod
    def load(
        cls,
        files: PipConfigFiles,
        *,
        site: bool = True,
        site_text: str | None = None,
    ) -> PipConfig:
        """Read *files* (without the site file when not *site*).

        Args:
            files: The locations.
            site: Whether to read the site file.
            site_text: The site file's text to use instead of reading it (a planned edit).
        """
        values: dict[str, tuple[str, str, Path]] = {}
        for kind, path in files.in_order(site=site):
            if kind == "site" and site_text is not None:
                parser: configparser.RawConfigParser | None = configparser.RawConfigParser()
                try:
                    parser.read_string(site_text, source=str(path))
                except configparser.Error:
                    parser = None
            else:
                parser = read_file(path)
            if parser is None:
                continue
            for section in parser.sections():
                for key, value in parser.items(section):
                    values[f"{section}.{option_name(key)}"] = (value, kind, path)
        return cls(values)

    def setting(
        self, option: str, command: str = "install", environ: Mapping[str, str] | None = None
    ) -> Setting:
        """What pip *command* takes for *option*, and from where.

        ``[global]``, then ``[command]``, then ``PIP_<OPTION>`` from *environ* (not consulted
        when None); empty values are skipped.
        """
        found = Setting()
        for section in ("global", command):
            entry = self.values.get(f"{section}.{option}")
            if entry and entry[0]:
                found = Setting(entry[0], str(entry[2]), entry[1])
        if environ is not None:
            name = "PIP_" + option.upper().replace("-", "_")
            if environ.get(name):
                found = Setting(environ[name], name, "variable")
        return found


def is_true(value: str | None) -> bool:
    """Whether pip (and uv) read *value* as true."""
    return (value or "").strip().lower() in _TRUE


def break_system_packages(files: PipConfigFiles) -> Setting | None:
    """The configuration that makes ``pip install`` ignore PEP 668, if any (files only)."""
    setting = PipConfig.load(files).setting("break-system-packages")
    return setting if is_true(setting.value) else None
