"""pip's install arguments, sorted by the step that needs them, as pip's parser reads them."""

from __future__ import annotations

import pytest

from conda_pipguard.core.errors import PipArgumentError
from conda_pipguard.core.pipcheck.arguments import read_arguments


def test_the_dry_run_gets_everything_but_dry_run():
    args = read_arguments(["-U", "--dry-run", "--index-url", "http://idx", "numpy==2.1.3"])
    assert args.dry_run
    assert args.resolve == ("-U", "--index-url", "http://idx", "numpy==2.1.3")
    assert args.given[1] == "--dry-run"


def test_each_step_gets_only_its_options():
    args = read_arguments(
        [
            "-r",
            "requirements.txt",
            "--extra-index-url=http://extra",
            "-f",
            "./links",
            "--no-build-isolation",
            "-C",
            "k=v",
            "--no-compile",
            "-I",
            "numpy",
        ]
    )
    assert args.network == ("--extra-index-url=http://extra", "-f", "./links")
    assert args.build == (*args.network, "--no-build-isolation", "-C", "k=v")
    assert args.install == ("--no-compile", "-I")  # never a requirement or an index
    assert args.ignore_installed


def test_a_short_cluster_is_one_span_with_the_value_of_its_last_option():
    args = read_arguments(["-Ur", "req.txt", "-Iq", "-rother.txt", "x"])
    assert args.resolve == ("-Ur", "req.txt", "-Iq", "-rother.txt", "x")
    assert args.ignore_installed
    assert args.install == ("-Iq",)


def test_abbreviations_are_read_as_pip_reads_them():
    assert read_arguments(["--force", "--no-comp", "x"]).install == ("--no-comp",)
    assert read_arguments(["--ignore-inst", "x"]).ignore_installed
    assert read_arguments(["--dry", "x"]).dry_run
    with pytest.raises(PipArgumentError, match="--target installs into another directory"):
        read_arguments(["--targ", "/tmp/x", "numpy"])


@pytest.mark.parametrize(
    "option", ["--target=/t", "-t/t", "--prefix=/p", "--root=/r", "--user", "--python=/py"]
)
def test_what_takes_pip_out_of_the_env_is_refused_in_one_line(option):
    with pytest.raises(PipArgumentError) as refused:
        read_arguments([option, "numpy"])
    assert "\n" not in str(refused.value) and refused.value.exit_code == 2


def test_after_double_dash_everything_is_a_requirement():
    args = read_arguments(["--", "--user"])
    assert args.resolve == ("--", "--user")
