"""Run one child process within a time bound, keeping a bounded part of what it prints.

pip resolves, downloads and builds in children of its own (a build backend, ``git``): the child
is started in a session of its own so that, when the time is up or the user interrupts, the
whole group goes. Each stream is read by a thread that keeps only its last bytes, so a child
that prints without end costs a fixed amount of memory.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..bounded_run import Tail, kill_group

#: The most bytes kept of each stream (the last ones: pip's errors come at the end).
OUTPUT_LIMIT = 256 * 1024
#: How long the readers may take to drain the pipes once the child is gone.
_DRAIN_SECONDS = 5.0


@dataclass(frozen=True)
class ChildResult:
    """How a child process ended.

    Attributes:
        argv: What was run.
        returncode: Its exit code (negative: killed by that signal; 127: could not start).
        stdout: The last :data:`OUTPUT_LIMIT` bytes it printed, decoded.
        stderr: The same of its standard error.
        timed_out: It did not end in time and was killed.
        truncated: Earlier output was left out.
    """

    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """It ended by itself with exit code 0."""
        return self.returncode == 0 and not self.timed_out

    def output(self) -> str:
        """stderr, then stdout, as one text (what a user would have seen), stripped."""
        return "\n".join(part.rstrip() for part in (self.stderr, self.stdout) if part.strip())


def run_child(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: str | None = None,
    limit: int = OUTPUT_LIMIT,
) -> ChildResult:
    """Run *argv* to its end or for *timeout* seconds, whichever comes first.

    Args:
        argv: The command.
        env: Its whole environment.
        timeout: Seconds it may run; then it and its children are killed.
        cwd: Its working directory (default: ours).
        limit: Bytes kept of each stream.

    Raises:
        KeyboardInterrupt: The user interrupted; the child and its children were killed first.
    """
    command = tuple(argv)
    try:
        process = subprocess.Popen(
            command,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
    except OSError as err:
        return ChildResult(command, 127, "", f"cannot run {command[0]}: {err.strerror or err}")
    assert process.stdout is not None and process.stderr is not None
    out, err = Tail(process.stdout, limit), Tail(process.stderr, limit)
    # a timer kills at the bound; waiting without a timeout blocks in waitpid instead of
    # polling, so the end is seen the moment it comes
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        kill_group(process)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        process.wait()
    except BaseException:
        kill_group(process)
        process.wait()
        raise
    finally:
        timer.cancel()
    timed_out = expired.is_set() and process.returncode != 0  # (not one that ended just then)
    stdout, stderr = out.text(_DRAIN_SECONDS), err.text(_DRAIN_SECONDS)
    return ChildResult(
        command,
        process.returncode,
        stdout,
        stderr,
        timed_out=timed_out,
        truncated=out.truncated or err.truncated,
    )
