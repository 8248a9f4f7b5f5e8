"""Parsing of the CLI's typed values: ``KEY=VALUE`` settings and ``X,Y`` points (each value in the
syntax of ``simulator.values.parse_value``)."""

import math

from simulator.errors import SimulatorError
from simulator.values import parse_value


def parse_settings(items: list[str] | None, option: str) -> dict:
    """``["lr=0.1", "betas=0.9,0.99"]`` -> ``{"lr": 0.1, "betas": (0.9, 0.99)}``."""
    settings = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise SimulatorError(f"{option} expects KEY=VALUE, got '{item}'")
        settings[key] = parse_value(value)
    return settings


def parse_point(text: str, option: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise SimulatorError(f"{option} expects X,Y (two numbers), got '{text}'") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise SimulatorError(f"{option} expects finite numbers, got '{text}'")
    return x, y
