"""Run a function in a child process with a memory and time cap, so no file can stop the server."""

from __future__ import annotations

import faulthandler
import multiprocessing
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar, cast

from core.issues import InstroomError

T = TypeVar("T")

# Forked, not spawned: the child starts at once with the readers already imported. It only
# reads the bytes it was given and exits with os._exit, never touching the parent's threads,
# connections or files. (spawn and forkserver would import the server's __main__ again.)
_context = multiprocessing.get_context("fork")


class LimitExceeded(InstroomError):
    """The child needed more memory or time than allowed; `limit` says which."""

    def __init__(self, limit: str) -> None:
        super().__init__(limit)
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.limit,))


def _child(
    connection: Connection, memory_bytes: int, func: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    # An allocation that fails in native code aborts the child; that is reported as the
    # memory limit, so its stack dump (pytest and others enable faulthandler) is only noise.
    faulthandler.disable()
    # The child shares the parent's address space at first; the cap is what it may add.
    limit = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        outcome: tuple[str, Any] = ("ok", func(*args))
    except MemoryError:
        outcome = ("memory", None)
    except Exception as exc:
        outcome = ("raised", exc)
    try:
        connection.send(outcome)
    except MemoryError:
        connection.send(("memory", None))
    connection.close()


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def run_limited(func: Callable[..., T], *args: Any, memory_bytes: int, seconds: float) -> T:
    """func(*args) in a child process that may add memory_bytes to what it was forked with.

    LimitExceeded when it runs out of that memory, or of seconds.
    """
    receiver, sender = _context.Pipe(duplex=False)
    process = _context.Process(
        target=_child, args=(sender, memory_bytes, func, args), name="instroom-reader"
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise LimitExceeded("time")
        try:
            kind, value = receiver.recv()
        except EOFError:
            # The child died without a word: an allocation the runtime could not survive.
            raise LimitExceeded("memory") from None
    finally:
        receiver.close()
        process.join(timeout=1)
        if process.is_alive():
            process.kill()
            process.join()
    if kind == "memory":
        raise LimitExceeded("memory")
    if kind == "raised":
        raise value
    return cast(T, value)
