"""The one way OptiScope writes a file: whole, or not at all.

Every file the app writes (trajectory and metrics CSV, checkpoints, PNG, SVG, scenario and config
files) is written to a temporary file in the target's own folder, flushed and fsync'ed, then
renamed over the target, and the folder is fsync'ed. A failure (a full disk, a file size limit, a
folder that vanished) leaves the old file exactly as it was and no temporary behind, and says the
real cause. A symlink at the target is replaced by the new file, never written through, so a
link cannot redirect a write to somewhere else.

Temporaries are named ``.optiscope-<pid>-<random><suffix>``. A process killed mid-write (SIGKILL
cannot be caught) leaves one behind; the next write to that folder removes those whose process is
gone, and those of the older pid-less pattern once they are a minute old.
"""

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
import time

from simulator.errors import SimulatorError

TEMPORARY_PREFIX = ".optiscope-"
_OURS = re.compile(r"^\.optiscope-(?:(\d+)-)?[A-Za-z0-9_]+(\.[A-Za-z0-9]+)*\.tmp$")
_LEGACY_STALE_AFTER_S = 60.0


def _current_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any thread starts
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _current_umask()


def write_atomically(path, write, newline: str | None = None, suffix: str = ".tmp",
                     binary: bool = False) -> None:
    """Call ``write(file)`` on a temporary file beside ``path`` (text in UTF-8, or bytes when
    ``binary``), then rename it to ``path``.

    A failed write leaves no partial file and any earlier file untouched; SimulatorError says why.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    remove_stale_temporaries(directory)
    if not suffix.endswith(".tmp"):
        suffix += ".tmp"
    try:
        handle, temporary = tempfile.mkstemp(prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-", suffix=suffix,
                                             dir=directory)
    except OSError as error:
        raise SimulatorError(_cannot_write(path, error)) from None
    try:
        # mkstemp creates the file private (0600); a saved file gets the mode the old one had, or
        # the usual one for a new file
        os.chmod(temporary, _mode_for(path))
        opened = os.fdopen(handle, "wb") if binary else \
            os.fdopen(handle, "w", newline=newline, encoding="utf-8")
        with opened as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as error:
        _remove_quietly(temporary)
        raise SimulatorError(_cannot_write(path, error)) from None
    except BaseException:
        _remove_quietly(temporary)
        raise
    _sync_folder(directory)


def write_bytes_atomically(path, data: bytes, suffix: str = ".tmp") -> None:
    """Write ``data`` to ``path`` whole, or not at all."""
    write_atomically(path, lambda out: out.write(data), suffix=suffix, binary=True)


def copy_file_atomically(source, path) -> None:
    """Copy the file ``source`` to ``path`` whole, or not at all (``path`` keeps its old content)."""
    source = os.fspath(source)
    try:
        with open(source, "rb") as reader:
            write_atomically(path, lambda out: shutil.copyfileobj(reader, out, 1 << 20), binary=True,
                             suffix=os.path.splitext(os.fspath(path))[1] + ".tmp")
    except OSError as error:  # opening the source; write_atomically reports its own failures
        raise SimulatorError(f"cannot read '{source}': {error.strerror or error}") from None


def remove_stale_temporaries(directory) -> int:
    """Remove temporaries of ours in ``directory`` that no running write owns; how many."""
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        match = _OURS.match(name)
        if match is None or not _is_stale(os.path.join(directory, name), match.group(1)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, name))
            removed += 1
    return removed


def _is_stale(path: str, pid_text: str | None) -> bool:
    try:
        status = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(status.st_mode):
        return False
    if pid_text is None:
        return time.time() - status.st_mtime > _LEGACY_STALE_AFTER_S
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # a write of this process, perhaps in another thread right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False  # alive (another user's), or not a pid we can judge: leave it
    return False


def _mode_for(path: str) -> int:
    try:
        status = os.lstat(path)
    except OSError:
        return 0o666 & ~_UMASK
    if stat.S_ISREG(status.st_mode):
        return stat.S_IMODE(status.st_mode)
    return 0o666 & ~_UMASK


def _cannot_write(path: str, error: OSError) -> str:
    reason = error.strerror or str(error)
    if error.errno == errno.EFBIG:
        reason = "the file would exceed the file size limit"
    return f"cannot write '{path}': {reason}"


def _sync_folder(directory: str) -> None:
    # the rename is durable only once the folder is; a folder that cannot be opened (some network
    # file systems) still got the rename, so this is best effort
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
