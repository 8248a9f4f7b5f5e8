"""Atomic file writes for the training engine: a failed write never leaves a half-written file.

The same writer as the simulator's (simulator/atomic.py), raising the training engine's ConfigError.
"""

import os

from simulator import atomic
from simulator.errors import SimulatorError
from trainers.errors import ConfigError


def write_text_atomically(path, text: str) -> None:
    _write(path, lambda out: out.write(text), binary=False)


def write_bytes_atomically(path, write) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename it."""
    _write(path, write, binary=True)


def copy_file_atomically(source, path) -> None:
    """Copy ``source`` to ``path``; on failure ``path`` keeps its old content."""
    try:
        atomic.copy_file_atomically(source, path)
    except SimulatorError as error:
        raise ConfigError(str(error)) from None


def _write(path, write, binary: bool) -> None:
    try:
        atomic.write_atomically(os.fspath(path), write, binary=binary)
    except SimulatorError as error:
        raise ConfigError(str(error)) from None
