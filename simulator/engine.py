"""simulate(): run one optimizer over one surface and record every step.

Validation happens here, in Python, where values enter; the compiled loop ``_run`` then assumes
valid input. One compiled loop serves every surface and optimizer: it dispatches on small integer
ids, so there is one compilation (cached on disk) instead of one per surface × optimizer pair.
"""

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from simulator.errors import SimulatorError
from simulator.kernels import optimizer_step
from simulator.numerics import FUSED
from simulator.optimizers import get_optimizer
from simulator.schedules import schedule_arrays
from simulator.surfaces import Surface, get_surface, surface_grad, surface_value
from simulator.trajectory import DIVERGED, OK, Trajectory

# A point this many view-widths from the view's centre has left for good: the run is diverging
# even while its numbers are still finite.
ESCAPE_VIEWS = 1e6
MAX_STEPS = 10_000_000


# --- typed formula surfaces (simulator.formula) ----------------------------------------------
# ``_run``'s first argument is a built-in surface id or, for a typed formula, a FormulaFunctions
# of three Numba cfuncs float64(x, y) -> f, ∂f/∂x, ∂f/∂y. ``_surface_eval`` picks the evaluation
# when ``_run`` is compiled, so the loop is written once and has two compiled (disk-cached)
# versions: one for every built-in surface, one for every formula. The cfuncs are called through
# function pointers (Numba's first-class function type), so a new formula never recompiles the
# loop. The tuple type lives here, not in simulator.formula, because Numba's cache index pickles it
# and loading this module's cache must not import SymPy.


class FormulaFunctions(NamedTuple):
    value: Any
    grad_x: Any
    grad_y: Any


def _surface_eval(surface, x, y, params):
    """(f, ∂f/∂x, ∂f/∂y) at (x, y); compiled code only (see the overload below)."""
    raise NotImplementedError


@overload(_surface_eval)
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


def _surface_source(surface: Surface):
    """What ``_run`` takes as its surface: the built-in id, or a formula's compiled functions."""
    return surface.surface_id if surface.surface_id >= 0 else surface.functions


# --- end of typed formula surfaces -------------------------------------------------------------


@njit(cache=True)
def _run(surface_id, surface_params, kernel_id, hp, state0, start, lrs, momenta, momentum_slot, noise,
         add_noise, fused, escape):
    """Returns (xy, loss, grad, state, rows); rows < len(lrs) means the run diverged at row ``rows``.

    ``lrs[k]`` is the lr of step k; when ``momentum_slot`` >= 0 a schedule cycles momentum and
    ``momenta[k]`` is written into that hyperparameter slot before step k, as torch's scheduler does.
    """
    total = lrs.shape[0]
    xy = np.empty((total, 2))
    loss = np.empty(total)
    grad = np.empty((total, 2))
    states = np.empty((total, state0.shape[0]))
    p = start.copy()
    state = state0.copy()
    g = np.empty(2)
    centre_x, centre_y, radius = escape[0], escape[1], escape[2]
    rows = 0
    for k in range(total):
        x, y = p[0], p[1]
        if not (abs(x - centre_x) <= radius and abs(y - centre_y) <= radius):
            break  # also catches NaN coordinates
        value, gx, gy = _surface_eval(surface_id, x, y, surface_params)  # id or FormulaFunctions
        if add_noise:
            gx += noise[k, 0]
            gy += noise[k, 1]
        if not (math.isfinite(value) and math.isfinite(gx) and math.isfinite(gy)):
            break
        g[0] = gx
        g[1] = gy
        xy[k, 0] = x
        xy[k, 1] = y
        loss[k] = value
        grad[k, 0] = gx
        grad[k, 1] = gy
        for slot in range(state.shape[0]):
            states[k, slot] = state[slot]
        rows = k + 1
        if k + 1 < total:
            if momentum_slot >= 0:
                hp[momentum_slot] = momenta[k + 1]
            optimizer_step(kernel_id, p, g, lrs[k + 1], hp, state, fused)
    return xy[:rows], loss[:rows], grad[:rows], states[:rows], rows


def _check_start(start, surface: Surface) -> np.ndarray:
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


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        if isinstance(steps, float) and steps.is_integer():
            steps = int(steps)
        else:
            raise SimulatorError(f"invalid steps={steps!r}: expected a whole number")
    if not 0 <= steps <= MAX_STEPS:
        raise SimulatorError(f"invalid steps={steps}: must be between 0 and {MAX_STEPS}")
    return int(steps)


def _check_noise(noise) -> float:
    try:
        sigma = float(noise)
    except (TypeError, ValueError):
        raise SimulatorError(f"invalid noise={noise!r}: expected a number") from None
    if not (math.isfinite(sigma) and sigma >= 0.0):
        raise SimulatorError(f"invalid noise={noise!r}: must be a finite number >= 0")
    return sigma


def _noise(sigma: float, seed, rows: int) -> np.ndarray:
    if sigma == 0.0:
        return np.zeros((1, 2))
    try:
        generator = np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise SimulatorError(f"invalid seed={seed!r}: expected a non-negative whole number") from None
    return generator.normal(0.0, sigma, size=(rows, 2))


def escape_box(surface: Surface) -> np.ndarray:
    xmin, xmax, ymin, ymax = surface.bounds
    span = max(xmax - xmin, ymax - ymin)
    return np.array([(xmin + xmax) / 2, (ymin + ymax) / 2, ESCAPE_VIEWS * span])


def simulate(
    surface="rosenbrock",
    optimizer="Adam",
    start=None,
    steps=500,
    hyperparams=None,
    noise=0.0,
    seed=None,
    surface_params=None,
    label="",
    schedule=None,
) -> Trajectory:
    """Run ``optimizer`` (a torch.optim name) on ``surface`` from ``start`` for ``steps`` steps.

    ``hyperparams`` overrides torch's defaults (names as in torch). ``noise`` σ adds N(0, σ²) to
    each gradient component, reproducibly for a given ``seed``. A run that leaves the finite world
    stops there and reports ``diverged at step k``; bad arguments raise SimulatorError.
    ``schedule`` is a torch scheduler as ``(name, params)``, e.g. ``("CosineAnnealingLR", {"T_max": 500})``,
    stepped once after each optimizer step; ``traj.lr[k]`` is then the lr step k used.
    """
    spec = get_optimizer(optimizer)
    surf = get_surface(surface)
    values = spec.resolve(hyperparams)
    params = surf.params_array(surface_params)
    start_point = _check_start(surf.default_start if start is None else start, surf)
    steps = _check_steps(steps)
    sigma = _check_noise(noise)
    momenta, momentum_slot = np.zeros(1), -1
    if schedule is None:
        lrs = np.full(steps + 1, values["lr"], dtype=np.float64)
    else:
        lrs, cycled, momentum_key = schedule_arrays(schedule, spec, values, steps)
        if cycled is not None:
            momenta, momentum_slot = cycled, spec.slot(momentum_key)
    noise_rows = _noise(sigma, seed, steps + 1)
    xy, loss, grad, state, rows = _run(
        _surface_source(surf), params, spec.kernel_id, spec.pack(values),
        np.zeros(spec.state_size), start_point, lrs, momenta, momentum_slot, noise_rows, sigma > 0.0, FUSED,
        escape_box(surf),
    )
    if rows == 0:
        raise SimulatorError(
            f"invalid start {tuple(start_point)}: the loss or gradient of {surf.name} is not finite there"
        )
    diverged = rows <= steps
    return Trajectory(
        xy=xy, loss=loss, grad=grad, lr=lrs[:rows].copy(), state=state,
        state_names=spec.state_names, surface=surf.name, optimizer=spec.name,
        hyperparams=values, status=DIVERGED if diverged else OK,
        diverged_at=rows if diverged else None, label=label or spec.name,
    )
