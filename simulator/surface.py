"""The Surface type: what every surface is, built-in or typed, and nothing that makes one.

A leaf: it imports no other part of the simulator but its errors, so the built-in table
(``simulator.builtin_surfaces``), the typed formulas (``simulator.formula``) and every caller can
share the type without importing one another; ``simulator.surfaces.get_surface`` sits above both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from simulator.errors import SimulatorError


@dataclass(frozen=True)
class Surface:
    """One test surface: its compiled functions and what a view of it needs to know.

    ``bounds`` is the usual view (xmin, xmax, ymin, ymax). ``minima`` are the published global
    minima (x, y, f) for the default parameters, rounded as published. ``log_levels`` is True
    where f spans orders of magnitude over the view, so contour levels of f − min f should be
    spaced logarithmically. ``surface_id`` is the built-in's index in the table the compiled loops
    dispatch on, -1 for a typed formula. ``value_fn(x, y, params)``, ``grad_fn(x, y, params)`` and
    ``grid_fn(xs, ys, params)`` take a complete parameter array (see :meth:`params_array`).
    """

    name: str
    surface_id: int
    formula: str
    bounds: tuple[float, float, float, float]
    minima: tuple[tuple[float, float, float], ...]
    param_names: tuple[str, ...]
    param_defaults: tuple[float, ...]
    description: str
    log_levels: bool
    default_start: tuple[float, float]
    value_fn: Callable = field(repr=False, compare=False)
    grad_fn: Callable = field(repr=False, compare=False)
    grid_fn: Callable = field(repr=False, compare=False)

    def params_array(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """The parameters as the float64 array the compiled functions take: defaults + overrides."""
        values = dict(zip(self.param_names, self.param_defaults, strict=True))
        for key, raw in (overrides or {}).items():
            if key not in values:
                valid = ", ".join(self.param_names) or "none (it has no parameters)"
                raise SimulatorError(
                    f"unknown parameter {key!r} for surface {self.name!r}; valid: {valid}"
                )
            try:
                value = float(raw)
            except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond any float
                value = math.nan
            if not math.isfinite(value):
                shown = raw.item() if isinstance(raw, np.generic) else raw  # never np.float64(...)
                text = repr(shown) if len(repr(shown)) <= 80 else f"{repr(shown)[:40]}…"
                raise SimulatorError(
                    f"parameter {key!r} of surface {self.name!r} must be a finite number, "
                    f"got {text}"
                )
            values[key] = value
        return np.array(list(values.values()), dtype=np.float64)

    def _params(self, params) -> np.ndarray:
        # None -> defaults, a mapping -> overrides; an array must already be complete, since the
        # compiled functions index it without bounds checks.
        if params is None or isinstance(params, Mapping):
            return self.params_array(params)
        arr = np.ascontiguousarray(params, dtype=np.float64)
        if arr.shape != (len(self.param_names),) or not np.all(np.isfinite(arr)):
            raise SimulatorError(
                f"surface {self.name!r} takes {len(self.param_names)} finite parameters "
                f"({', '.join(self.param_names) or 'none'}), got {params!r}"
            )
        return arr

    def value(self, x: float, y: float, params=None) -> float:
        """f(x, y); ``params``: None (defaults), a dict of overrides, or a full array."""
        return float(self.value_fn(float(x), float(y), self._params(params)))

    def grad(self, x: float, y: float, params=None) -> tuple[float, float]:
        """(∂f/∂x, ∂f/∂y) at (x, y); ``params`` as for :meth:`value`."""
        gx, gy = self.grad_fn(float(x), float(y), self._params(params))
        return float(gx), float(gy)

    def grid(self, xs, ys, params=None) -> np.ndarray:
        """Z with shape (len(ys), len(xs)) and Z[i, j] = f(xs[j], ys[i]), for contour plots."""
        xs = np.ascontiguousarray(xs, dtype=np.float64)
        ys = np.ascontiguousarray(ys, dtype=np.float64)
        if xs.ndim != 1 or ys.ndim != 1:
            raise SimulatorError("grid needs 1-D arrays of x and y coordinates")
        return self.grid_fn(xs, ys, self._params(params))
