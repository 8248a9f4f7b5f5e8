"""Pausing Python's cyclic garbage collector while a worker thread allocates in bulk.

A full collection runs in whichever thread happens to allocate, holds the GIL throughout and
traverses every tracked object. With torch, numba and Qt loaded that took 100-300 ms, during which
the GUI thread could not run: parsing a 60,000-row CSV in the Training tab's preview worker set off
four such collections (108-213 ms each), the background import of torch five (93-289 ms). Reference
counting still frees everything that is not a cycle during a pause; cycles wait for the first
collection after it.
"""

import contextlib
import gc
import threading

_lock = threading.Lock()
_pauses = 0  # pauses under way, from any thread: the collector runs again once the last one ends
_was_enabled = True


@contextlib.contextmanager
def collector_paused():
    """No automatic cyclic collection while the block runs (nestable, from several threads)."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
