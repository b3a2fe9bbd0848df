"""Pause Python's cyclic garbage collector around batch work.

A file import or a device batch builds hundreds of thousands of small objects (rows, Decimals,
datetimes, tuples) that hold no reference cycles: reference counting frees them all. The cyclic
collector still runs every few hundred allocations and, as the heap grows, walks every live
object again and again; that is half the CPU of a 60,000-meter import. Paused, the collector runs
once when the outermost batch ends. Reentrant and shared by threads: the collector is switched
back on when the last batch in the process ends, and only if it was on before."""

import gc
import threading
from contextlib import ContextDecorator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


class gc_paused(ContextDecorator):
    def __enter__(self):
        global _depth, _was_enabled
        with _lock:
            if _depth == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _depth += 1
        return self

    def __exit__(self, *exc):
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
        return False
