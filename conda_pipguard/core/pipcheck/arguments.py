"""pip's ``install`` arguments, read as pip's option parser reads them.

Everything after ``install`` is pip's: the dry run gets it unchanged (but for ``--dry-run``,
which is ours). The later steps get only what they need: fetching a wheel the network and index
options, building one those and the build options, the final install the options that shape
how files are written. A long option may be abbreviated as pip (optparse) allows, so
``--targ DIR`` is ``--target DIR`` here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import PipArgumentError


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Options that take pip out of the env, or resolve for another interpreter: refused.
_OUT_OF_ENV = {
    "--target": "installs into another directory",
    "--prefix": "installs into another prefix",
    "--root": "installs under another root",
    "--user": "installs into the user site directory",
    "--python": "runs pip for another interpreter (the env's is used)",
    "--platform": "resolves for another platform",
    "--python-version": "resolves for another Python",
    "--implementation": "resolves for another Python implementation",
    "--abi": "resolves for another ABI",
    "--report": "writes pip's report (conda-pipguard reads it itself)",
}

#: Long options that take a value (pip 23.0 to 26.x; aliases included).
_VALUED = _words(
    "--requirement --constraint --build-constraint --requirements-from-script --editable "
    "--target --platform --python-version --implementation --abi --root --prefix --src "
    "--source --source-dir --source-directory --upgrade-strategy --config-settings "
    "--global-option --progress-bar --root-user-action --report --group --all-releases "
    "--only-final --no-binary --only-binary --index-url --pypi-url --extra-index-url "
    "--refresh-package --find-links --uploaded-prior-to --python --log --log-file --local-log "
    "--keyring-provider --proxy --retries --timeout --default-timeout --exists-action "
    "--trusted-host --cert --client-cert --cache-dir --use-feature --use-deprecated "
    "--resume-retries"
)
#: Long options that take none.
_FLAGS = _words(
    "--no-deps --no-dependencies --only-deps --only-dependencies --dry-run --user --no-user "
    "--upgrade --force-reinstall --ignore-installed --ignore-requires-python "
    "--no-build-isolation --use-pep517 --no-use-pep517 --check-build-dependencies "
    "--break-system-packages --compile --no-compile --no-warn-script-location "
    "--no-warn-conflicts --require-hashes --no-require-hashes --no-clean --pre --prefer-binary "
    "--no-index --help --debug --isolated --require-virtualenv --require-venv --verbose "
    "--version --quiet --no-input --no-proxy-env --no-cache-dir --disable-pip-version-check "
    "--no-color --no-python-version-warning"
)
_LONG = _VALUED | _FLAGS
#: Short options, by the long option they stand for.
_SHORT = {
    "r": "--requirement",
    "c": "--constraint",
    "e": "--editable",
    "t": "--target",
    "C": "--config-settings",
    "i": "--index-url",
    "f": "--find-links",
    "U": "--upgrade",
    "I": "--ignore-installed",
    "v": "--verbose",
    "q": "--quiet",
    "h": "--help",
    "V": "--version",
}
_ALIASES = {
    "--no-dependencies": "--no-deps",
    "--only-dependencies": "--only-deps",
    "--pypi-url": "--index-url",
    "--default-timeout": "--timeout",
    "--log-file": "--log",
    "--local-log": "--log",
    "--require-venv": "--require-virtualenv",
    "--source": "--src",
    "--source-dir": "--src",
    "--source-directory": "--src",
}

#: What fetching a resolved file needs: where the index is and how to reach it.
_NETWORK = _words(
    "--index-url --extra-index-url --no-index --find-links --trusted-host --cert --client-cert "
    "--proxy --retries --timeout --keyring-provider --isolated --no-proxy-env"
)
#: What building a wheel from a source needs besides.
_BUILD = _words(
    "--no-build-isolation --use-pep517 --no-use-pep517 --check-build-dependencies "
    "--config-settings --global-option --constraint --build-constraint --no-clean"
)
#: What shapes the final install of the checked wheels (never a requirement or an index).
_INSTALL = _words(
    "--ignore-installed --compile --no-compile --no-warn-script-location --no-warn-conflicts "
    "--break-system-packages --root-user-action --isolated --no-color --verbose --quiet "
    "--exists-action --log"
)


@dataclass(frozen=True)
class PipArguments:
    """pip's ``install`` arguments, sorted by the step that needs them.

    Attributes:
        given: Everything after ``install``, as given.
        resolve: What the dry run gets: *given* without ``--dry-run``.
        dry_run: ``--dry-run`` was among them.
        ignore_installed: ``-I``: pip writes over what is installed without uninstalling it.
        editable: A ``-e`` requirement is among them.
        network: The options that fetching a file needs.
        build: The options that building a wheel needs (network ones included).
        install: The options the final install keeps.
    """

    given: tuple[str, ...]
    resolve: tuple[str, ...]
    dry_run: bool = False
    ignore_installed: bool = False
    editable: bool = False
    network: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    install: tuple[str, ...] = ()


def _long_name(token: str) -> str | None:
    """The option *token* (``--name``, maybe abbreviated) stands for, as optparse decides."""
    if token in _LONG:
        return _ALIASES.get(token, token)
    matches = {_ALIASES.get(name, name) for name in _LONG if name.startswith(token)}
    return matches.pop() if len(matches) == 1 else None


def _options(args: Sequence[str]) -> list[tuple[tuple[str, ...], list[str]]]:
    """The arguments as spans: ``(canonical option names, their tokens)``.

    A positional is ``((), [token])``; a cluster of short options (``-Uq``, ``-Ur FILE``) is one
    span naming each of them.
    """
    found: list[tuple[tuple[str, ...], list[str]]] = []
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--":
            found.append(((), [token, *args[index:]]))
            break
        if token.startswith("--"):
            head, equals, _ = token.partition("=")
            name = _long_name(head) or head
            if name in _VALUED and not equals and index < len(args):
                found.append(((name,), [token, args[index]]))
                index += 1
            else:
                found.append(((name,), [token]))
        elif token.startswith("-") and len(token) > 1:
            names: list[str] = []
            tokens = [token]
            for position, letter in enumerate(token[1:], start=1):
                name = _SHORT.get(letter, f"-{letter}")
                names.append(name)
                if name in _VALUED:
                    if position == len(token) - 1 and index < len(args):
                        tokens.append(args[index])  # -r FILE; -rFILE holds its value
                        index += 1
                    break
            found.append((tuple(names), tokens))
        else:
            found.append(((), [token]))
    return found


def _keep(
    spans: list[tuple[tuple[str, ...], list[str]]], wanted: frozenset[str]
) -> tuple[str, ...]:
    kept: list[str] = []
    for names, tokens in spans:
        if wanted.intersection(names):
            kept += tokens
    return tuple(kept)


def read_arguments(args: Sequence[str]) -> PipArguments:
    """Sort pip's ``install`` arguments.

    Raises:
        PipArgumentError: An option takes pip out of the env (``--target``, ``--user``...).
    """
    spans = _options(args)
    names = [name for span_names, _ in spans for name in span_names]
    for name in names:
        if name in _OUT_OF_ENV:
            raise PipArgumentError(
                f"{name} {_OUT_OF_ENV[name]}: `conda pipguard pip install` checks and installs "
                "into the environment only; run pip itself for that"
            )
    network = _keep(spans, _NETWORK)
    return PipArguments(
        given=tuple(args),
        resolve=tuple(
            token for span, tokens in spans if span != ("--dry-run",) for token in tokens
        ),
        dry_run="--dry-run" in names,
        ignore_installed="--ignore-installed" in names,
        editable="--editable" in names,
        network=network,
        build=network + _keep(spans, _BUILD),
        install=_keep(spans, _INSTALL),
    )
