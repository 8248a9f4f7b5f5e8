"""Where the compiled loops meet a surface: evaluation at a point, and the checks on a start.

``surface_eval(surface, x, y, params)`` is called from compiled code (``engine._run`` and
``lbfgs.run_lbfgs``) with either a built-in surface id or, for a typed formula, a
FormulaFunctions of three Numba cfuncs float64(x, y) -> f, ∂f/∂x, ∂f/∂y. The overload picks the
evaluation when the caller is compiled, so each loop is written once and has two compiled
(disk-cached) versions: one for every built-in surface, one for every formula. The cfuncs are
called through function pointers (Numba's first-class function type), so a new formula never
recompiles a loop. The tuple type lives here, not in simulator.formula, because Numba's cache
index pickles it and loading a loop's cache must not import SymPy.
"""

import math
from typing import Any, NamedTuple

import numpy as np
from numba import types
from numba.extending import overload

from simulator.builtin_surfaces import surface_grad, surface_value
from simulator.errors import SimulatorError
from simulator.surface import Surface

# A point this many view-widths from the view's centre has left for good: the run is diverging
# even while its numbers are still finite.
ESCAPE_VIEWS = 1e6
MAX_STEPS = 10_000_000


class FormulaFunctions(NamedTuple):
    value: Any
    grad_x: Any
    grad_y: Any


def surface_eval(surface, x, y, params):
    """(f, ∂f/∂x, ∂f/∂y) at (x, y); compiled code only (see the overload below)."""
    raise NotImplementedError


@overload(surface_eval)
def _surface_eval_overload(surface, x, y, params):
    if isinstance(surface, types.Integer):
        def builtin(surface, x, y, params):
            gx, gy = surface_grad(surface, x, y, params)
            return surface_value(surface, x, y, params), gx, gy
        return builtin
    if isinstance(surface, types.NamedUniTuple) and surface.instance_class is FormulaFunctions:
        def formula(surface, x, y, params):
            return surface.value(x, y), surface.grad_x(x, y), surface.grad_y(x, y)
        return formula
    return None


def surface_source(surface: Surface):
    """What the compiled loops take as their surface: the built-in id, or a formula's functions."""
    return surface.surface_id if surface.surface_id >= 0 else surface.functions


def escape_box(surface: Surface) -> np.ndarray:
    """(centre x, centre y, half-width): a point outside this square has diverged."""
    xmin, xmax, ymin, ymax = surface.bounds
    span = max(xmax - xmin, ymax - ymin)
    return np.array([(xmin + xmax) / 2, (ymin + ymax) / 2, ESCAPE_VIEWS * span])


def check_start(start, surface: Surface) -> np.ndarray:
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise SimulatorError(f"invalid start {start!r}: expected two numbers x, y") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise SimulatorError(f"invalid start {start!r}: coordinates must be finite")
    centre_x, centre_y, radius = escape_box(surface)
    if abs(x - centre_x) > radius or abs(y - centre_y) > radius:
        raise SimulatorError(f"invalid start {start!r}: too far outside the view {surface.bounds}")
    return np.array([x, y], dtype=np.float64)


def check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        if isinstance(steps, float) and steps.is_integer():
            steps = int(steps)
        else:
            raise SimulatorError(f"invalid steps={steps!r}: expected a whole number")
    if not 0 <= steps <= MAX_STEPS:
        raise SimulatorError(f"invalid steps={steps}: must be between 0 and {MAX_STEPS}")
    return int(steps)
