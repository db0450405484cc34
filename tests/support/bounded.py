"""Run a test's call in a forked child with a time and an address-space limit.

What a hostile file may do to a reader (a FIFO that blocks it, ``/dev/zero`` that fills memory)
must not take the test session with it: the call runs in a child that is killed after the
timeout and may map at most *memory* bytes more than the test process had when it forked.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def _mapped() -> int:
    """Bytes of address space this process maps now (Linux), else 0."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def call_bounded(
    function: Callable[..., T], *args: Any, timeout: float = 30.0, memory: int = 1 << 30
) -> T:
    """``function(*args)`` in a forked child; fail the test if it hangs or runs out of memory.

    Returns:
        What it returned (it must pickle).
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def target() -> None:
        limit = _mapped() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            sender.send(("ok", function(*args)))
        except BaseException as err:  # noqa: BLE001 - handed to the test process
            sender.send(("error", f"{type(err).__name__}: {err}"))

    process = context.Process(target=target, daemon=True)
    process.start()
    try:
        if not receiver.poll(timeout):
            pytest.fail(f"{function.__name__} did not return within {timeout:g} s")
        kind, value = receiver.recv()
    except EOFError:
        pytest.fail(f"{function.__name__} died (exit code {process.exitcode})")
    finally:
        process.kill()
        process.join(10)
    if kind == "error":
        pytest.fail(f"{function.__name__} raised {value}")
    return value
