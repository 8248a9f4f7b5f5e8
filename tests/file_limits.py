"""A real "disk full" for tests, without root: the process's file size limit (RLIMIT_FSIZE).

A write that would grow a file past the limit fails with EFBIG, as a write to a full disk fails
with ENOSPC: the bytes before the limit are written, the rest are not. SIGXFSZ, which would
otherwise kill the process, is ignored for as long as the limit holds.
"""

import contextlib
import resource
import signal


@contextlib.contextmanager
def file_size_limit(limit_bytes: int):
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
