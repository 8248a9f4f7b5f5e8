"""Atomic file writes for the training engine: a failed write never leaves a half-written file."""

import os

from simulator.errors import SimulatorError
from simulator.trajectory import write_atomically
from trainers.errors import ConfigError


def write_text_atomically(path, text: str) -> None:
    _write(path, lambda out: out.write(text), binary=False)


def write_bytes_atomically(path, write) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename it."""
    _write(path, write, binary=True)


def _write(path, write, binary: bool) -> None:
    try:
        write_atomically(os.fspath(path), write, binary=binary)
    except SimulatorError as error:
        raise ConfigError(str(error)) from None
