"""Run a function in a child process with a memory and time cap, so no file can stop the server."""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import pickle
import resource
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar, cast

from core.gc_pause import map_large_blocks_apart
from core.issues import InstroomError

T = TypeVar("T")

# Forked, not spawned: the child starts at once with the readers already imported. It only
# reads the bytes it was given and exits with os._exit, never touching the parent's threads,
# connections or files. (spawn and forkserver would import the server's __main__ again.)
_context = multiprocessing.get_context("fork")


class LimitExceeded(InstroomError):
    """The child needed more memory or time than allowed, or stopped; `limit` says which.

    memory_bytes: what the child could really add (the host's own limit may be lower);
    detail: for a child that crashed, what it said, for the log and never for the user.
    """

    def __init__(self, limit: str, memory_bytes: int = 0, detail: str = "") -> None:
        super().__init__(limit)
        self.limit, self.memory_bytes, self.detail = limit, memory_bytes, detail

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.limit, self.memory_bytes, self.detail))


def allowed_memory(memory_bytes: int) -> tuple[int, int]:
    """(the address-space cap to set, how much the child may really add under it).

    Never above the hard limit the host set (a container, `ulimit -v`): raising it would fail.
    """
    used = _address_space()
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = used + memory_bytes
    if hard != resource.RLIM_INFINITY and hard < wanted:
        return hard, max(0, hard - used)
    return wanted, memory_bytes


def _child(
    connection: Connection,
    result_file: int | None,
    memory_bytes: int,
    func: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    # An allocation that fails in native code aborts the child; that is reported as the
    # memory limit, so its stack dump (pytest and others enable faulthandler) is only noise.
    faulthandler.disable()
    # What a reader prints as it fails (a Rust panic's backtrace) is no message for anyone:
    # the parent says what happened, in words.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    cap, _added = allowed_memory(memory_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    outcome: tuple[str, Any]
    try:
        outcome = ("ok", func(*args))
    except MemoryError:
        outcome = ("memory", None)
    except InstroomError as exc:
        outcome = ("raised", exc)
    # Anything else (a reader's own bug, a Rust panic, which is a BaseException) is told to
    # the parent as a crash, never as a traceback.
    except BaseException as exc:
        outcome = ("crashed", f"{type(exc).__name__}: {exc}"[:500])
    try:
        if result_file is None or outcome[0] != "ok":
            connection.send(outcome)
        else:
            with os.fdopen(result_file, "wb", closefd=False) as out:
                pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
            connection.send(("in file", None))
    except MemoryError:
        connection.send(("memory", None))
    except Exception as exc:  # a result or refusal that cannot be pickled
        connection.send(("crashed", f"{type(exc).__name__}: {exc}"[:500]))
    connection.close()


def _memory_file() -> int | None:
    """A file in memory, never on disk (it holds the rows of an upload), where the OS has one."""
    create = getattr(os, "memfd_create", None)
    return create("instroom-reader", os.MFD_CLOEXEC) if create else None


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def run_limited(func: Callable[..., T], *args: Any, memory_bytes: int, seconds: float) -> T:
    """func(*args) in a child process that may add memory_bytes to what it was forked with.

    LimitExceeded when it runs out of that memory ("memory"), of seconds ("time"), or stops
    for another reason ("crashed"); an InstroomError the child raised is raised here.
    """
    _cap, added = allowed_memory(memory_bytes)
    # The result can be hundreds of MB arriving in pieces: see map_large_blocks_apart.
    map_large_blocks_apart()
    receiver, sender = _context.Pipe(duplex=False)
    # A result comes back through a file in memory, the pipe only says it is there: a
    # million rows (140 MB pickled) took 0.8-1.0 s through the pipe, and arrived whole in
    # this process before being unpickled.
    result_file = _memory_file()
    process = _context.Process(
        target=_child,
        args=(sender, result_file, memory_bytes, func, args),
        name="instroom-reader",
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise LimitExceeded("time", added)
        try:
            kind, value = receiver.recv()
        except EOFError:
            kind, value = "died", None
        if kind == "in file" and result_file is not None:
            with os.fdopen(result_file, "rb", closefd=False) as result:
                result.seek(0)
                kind, value = pickle.load(result)
    finally:
        receiver.close()
        if result_file is not None:
            os.close(result_file)
        process.join(timeout=1)
        if process.is_alive():
            process.kill()
            process.join()
    if kind == "died":
        # An allocation native code cannot make aborts the process (Rust's and C's allocators
        # call abort()); any other end without a word is a crash.
        if process.exitcode == -signal.SIGABRT:
            raise LimitExceeded("memory", added)
        raise LimitExceeded("crashed", added, f"exit code {process.exitcode}")
    if kind == "memory":
        raise LimitExceeded("memory", added)
    if kind == "crashed":
        raise LimitExceeded("crashed", added, str(value))
    if kind == "raised":
        raise value
    return cast(T, value)
