"""Run a child process that ends within a bound, whatever it does, and leaves nothing behind.

What ``status --verify`` runs is the environment's own Python, and a ``.pth`` there runs any code
at start-up: it may sleep, write to stderr without end, or fork a child into a session of its
own that keeps the pipe open after the interpreter exits. :func:`run_bounded` therefore:

- starts the child in a new session (its own process group) with a marker in its environment;
- reads its stderr through a selector until the deadline, keeping at most *limit* bytes and
  discarding the rest (stdout goes to ``/dev/null``);
- stops reading shortly after the child exits even when a descendant still holds the pipe;
- kills the child's process group, and on Linux every process that carries the marker in its
  environment or still holds the pipe (descendants that left the group with ``setsid``);
- closes its end of the pipe and never waits without a timeout.

It ends within the timeout plus :data:`GRACE` and a second or two for the kill.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import locale
import os
import selectors
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TextIO

#: How long output is still read after the child exited (a descendant may hold the pipe).
GRACE = 0.5
#: The most bytes of stderr kept.
OUTPUT_LIMIT = 1024 * 1024
#: The environment variable that marks every process of one run.
MARKER = "PIPGUARD_BOUNDED_RUN"
_PROC = "/proc"


@dataclass(frozen=True)
class BoundedResult:
    """How a bounded child ended.

    Attributes:
        returncode: Its exit code (negative: killed by that signal); None if it did not end.
        stderr: The first bytes of its stderr, decoded with replacement.
        timed_out: It did not exit before the deadline and was killed.
        truncated: It wrote more than was kept.
    """

    returncode: int | None
    stderr: str
    timed_out: bool = False
    truncated: bool = False


class Tail:
    """One output stream of a child, drained to its end in a thread, its last bytes kept.

    A full pipe would stall the child, so the stream is read whatever the child writes; only
    the last *limit* bytes are kept (what went wrong comes last), from a line's start when
    earlier output was left out. With *echo*, everything read is relayed as it comes.

    Args:
        stream: The pipe.
        limit: The most bytes kept.
        echo: Where to relay the output (decoded as the locale says), or None.
    """

    def __init__(self, stream: IO[bytes], limit: int, echo: TextIO | None = None) -> None:
        self._stream = stream
        self._limit = limit
        self._echo = echo
        self._kept = bytearray()
        self.truncated = False
        self._encoding = locale.getpreferredencoding(False)
        decoder = codecs.getincrementaldecoder(self._encoding)("replace")
        self._decoder = io.IncrementalNewlineDecoder(decoder, translate=True)
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            while chunk := self._stream.read(1 << 16):
                self._relay(chunk)
                self._kept += chunk
                if len(self._kept) > 2 * self._limit:
                    del self._kept[: -self._limit]
                    self.truncated = True
            self._relay(b"", final=True)
        except (OSError, ValueError):
            pass  # the pipe went away with the child
        finally:
            self._stream.close()

    def _relay(self, chunk: bytes, final: bool = False) -> None:
        if self._echo is None:
            return
        try:
            self._echo.write(self._decoder.decode(chunk, final))
            self._echo.flush()
        except (OSError, ValueError):  # our own output is gone: keep draining the child's
            self._echo = None

    def text(self, wait: float | None = None) -> str:
        """The kept end, decoded as ``text=True`` would (universal newlines).

        Args:
            wait: Seconds to wait for the stream's end (None: until it ends).
        """
        self._thread.join(wait)
        kept = bytes(self._kept)
        if len(kept) > self._limit:
            kept = kept[-self._limit :]
            self.truncated = True
        if self.truncated:
            kept = kept[kept.find(b"\n") + 1 :]  # from a whole line (-1 + 1: all of it)
        text = kept.decode(self._encoding, "replace")
        return text.replace("\r\n", "\n").replace("\r", "\n")


def run_bounded(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str],
    cwd: str,
    limit: int = OUTPUT_LIMIT,
) -> BoundedResult:
    """Run *argv* for at most *timeout* seconds; keep at most *limit* bytes of its stderr.

    Raises:
        OSError: It could not be started.
    """
    marker = uuid.uuid4().hex
    posix = os.name == "posix"
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env={**env, MARKER: marker},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=posix,
    )
    assert process.stderr is not None
    pipe = process.stderr.fileno()
    pipe_id = os.fstat(pipe).st_ino
    kept = bytearray()
    truncated = False
    deadline = time.monotonic() + timeout
    exited = closed = False
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(pipe, selectors.EVENT_READ)
            while True:
                now = time.monotonic()
                if not exited and _has_exited(process):
                    exited = True
                    deadline = min(deadline, now + GRACE)
                if now >= deadline:
                    break
                if not selector.select(min(deadline - now, 0.1)):
                    continue
                chunk = os.read(pipe, 1 << 16)
                if not chunk:
                    closed = True  # every writer closed it
                    break
                room = limit - len(kept)
                kept += chunk[:room]
                truncated = truncated or len(chunk) > room
        while not exited and time.monotonic() < deadline:  # the pipe closes as it exits
            exited = _has_exited(process)
            if not exited:
                time.sleep(0.01)
        timed_out = not exited
    finally:
        kill_group(process)
        if posix:
            _kill_escaped(marker, None if closed else pipe_id)
        process.stderr.close()
        returncode = _reap(process)
    return BoundedResult(
        returncode, kept.decode("utf-8", "replace"), timed_out=timed_out, truncated=truncated
    )


def _has_exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether the child exited, without reaping it where that can be asked.

    Unreaped, its process id (and so its group's) cannot be reused before the group is killed.
    """
    waitid = getattr(os, "waitid", None)
    if waitid is None:
        return process.poll() is not None
    try:
        return waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group *process* leads (it was started in a session of its own)."""
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        try:
            killpg(process.pid, signal.SIGKILL)
            return
        except OSError:
            pass  # the group is empty, or the child is not its leader: kill the child itself
    with contextlib.suppress(ProcessLookupError):  # already gone
        process.kill()


def _reap(process: subprocess.Popen[bytes]) -> int | None:
    try:
        return process.wait(timeout=2)
    except subprocess.TimeoutExpired:  # stuck in the kernel: not waited on any longer
        return None


def _kill_escaped(marker: str, pipe_id: int | None, passes: int = 5) -> None:
    """SIGKILL every process (Linux) that carries *marker*, or holds the pipe *pipe_id*.

    Those are the run's descendants that left its process group (``setsid``); a few passes
    catch one that forked while the last was killed.
    """
    if not os.path.isdir(_PROC):
        return
    wanted = f"{MARKER}={marker}".encode()
    pipe = f"pipe:[{pipe_id}]" if pipe_id is not None else None
    me = str(os.getpid())
    for _ in range(passes):
        found = [
            int(name)
            for name in os.listdir(_PROC)
            if name.isdigit() and name != me and _carries(f"{_PROC}/{name}", wanted, pipe)
        ]
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue  # gone meanwhile
        if not found:
            return


def _carries(proc: str, wanted: bytes, pipe: str | None) -> bool:
    """Whether the live process at *proc* has *wanted* in its environment or holds *pipe*."""
    try:  # a zombie's is empty: it is dead already
        fd = os.open(f"{proc}/environ", os.O_RDONLY)
    except OSError:
        return False  # gone, or another user's process: not one of ours
    try:
        environ = os.read(fd, OUTPUT_LIMIT)
    except OSError:
        environ = b""
    finally:
        os.close(fd)
    if wanted in environ.split(b"\0"):
        return True
    if pipe is None:
        return False
    try:
        descriptors = os.listdir(f"{proc}/fd")
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(f"{proc}/fd/{descriptor}") == pipe:
                return True
        except OSError:
            continue
    return False
