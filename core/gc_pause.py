"""Helpers for the steps that create an object or more for each of many rows, and for the
memory they leave behind."""

import contextlib
import ctypes
import functools
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


# mallopt's M_MMAP_THRESHOLD, and the size from which a block gets a mapping of its own.
_MMAP_THRESHOLD = -3
LARGE_BLOCK_BYTES = 1024 * 1024


_pauses = 0
_was_enabled = False
_pauses_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run a bulk step without Python's cycle collector.

    Every few hundred new objects the collector scans the ones it tracks; a step that
    builds a dict per row for 100,000 rows spends half its time there. These steps make
    no reference cycles, so reference counting frees what they drop; collection resumes
    after the last of the steps that overlap (an import plans while it writes in a thread).
    """
    global _pauses, _was_enabled
    with _pauses_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


def without_collector(step: Callable[P, R]) -> Callable[P, R]:
    """Decorate a bulk step to run with the cycle collector paused."""

    @wraps(step)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return step(*args, **kwargs)

    return run


def return_freed_memory() -> None:
    """Give the memory a large import freed back to the system.

    pyarrow's allocator (pandas keeps text in it) and the C library keep freed memory for
    later; a million-row import left 370 MB so kept, on top of which the next one grew.
    """
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    # Not the GNU C library (no malloc_trim): that one returns memory by itself.
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).malloc_trim(0)


@functools.cache
def map_large_blocks_apart() -> bool:
    """Have the C library give every large block a mapping of its own, gone once it is freed.

    The GNU C library raises that size as large blocks are freed, up to 32 MB, and carves
    the next ones out of its heap: a second million-row file's pieces (the pickled table
    from the reader, its column buffers) left 135 MB of holes that were never given back,
    and the import peaked that much higher. False where the C library has no mallopt.
    """
    with contextlib.suppress(AttributeError, OSError):
        return bool(ctypes.CDLL(None).mallopt(_MMAP_THRESHOLD, LARGE_BLOCK_BYTES))
    return False
