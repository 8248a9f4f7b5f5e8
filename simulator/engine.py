"""simulate(): run one optimizer over one surface and record every step.

Validation happens here, in Python, where values enter; the compiled loop ``_run`` then assumes
valid input. One compiled loop serves every surface and optimizer: it dispatches on small integer
ids (the optimizer's from the registry's kernel table), so there is one compilation, cached on
disk and keyed to that table, instead of one per surface × optimizer pair.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from simulator import lbfgs
from simulator.builtin_surfaces import SURFACE_FUNCTIONS
from simulator.errors import SimulatorError
from simulator.evaluation import check_start, check_steps, escape_box, surface_eval, surface_source
from simulator.kernels import build_dispatch, keyed_to
from simulator.numerics import FUSED
from simulator.optimizers import KERNELS, OptimizerSpec, get_optimizer
from simulator.plateau import plateau_start, plateau_step
from simulator.schedules import SchedulePlan, momentum_key, resolve_schedule, schedule_arrays
from simulator.surface import Surface
from simulator.surfaces import get_surface
from simulator.trajectory import CONVERGED, DIVERGED, OK, LineSearchTrials, Trajectory

__all__ = ["RunSetup", "check_closure_run", "check_noise", "escape_box", "plan_schedule", "prepare_run",
           "simulate"]

# The registry's kernels behind one integer id (OptimizerSpec.kernel_id).
optimizer_step = build_dispatch(KERNELS)


# nogil: the Simulator tab computes long runs in a worker thread, and the GUI thread must keep
# running meanwhile (nothing here touches a Python object).
@keyed_to((*KERNELS, *SURFACE_FUNCTIONS))
@njit(cache=True, error_model="numpy", nogil=True)
def _run(surface, surface_params, kernel_id, hp, state0, start, lrs, momenta, momentum_slot, plateau,
         noise, add_noise, fused, escape):
    """Returns (xy, loss, grad, state, rows); rows < len(lrs) means the run diverged at row ``rows``.

    ``surface``: a built-in id or FormulaFunctions (``evaluation.surface_eval``). ``lrs[k]`` is the
    lr of step k; when ``momentum_slot`` >= 0 a schedule cycles momentum and ``momenta[k]`` is
    written into that hyperparameter slot before step k, as torch's scheduler does. A non-empty
    ``plateau`` (ReduceLROnPlateau) is stepped with the loss of each reached row and writes the
    next step's lr into ``lrs``.
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
    has_plateau = plateau.shape[0] > 0
    plateau_state = plateau_start(plateau)
    rows = 0
    for k in range(total):
        x, y = p[0], p[1]
        if not (abs(x - centre_x) <= radius and abs(y - centre_y) <= radius):
            break  # also catches NaN coordinates
        value, gx, gy = surface_eval(surface, x, y, surface_params)
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
            if has_plateau and k > 0:  # torch: scheduler.step(loss) after each optimizer step
                lrs[k + 1] = plateau_step(plateau, plateau_state, value, lrs[k])
            if momentum_slot >= 0:
                hp[momentum_slot] = momenta[k + 1]
            optimizer_step(kernel_id, p, g, lrs[k + 1], hp, state, fused)
    return xy[:rows], loss[:rows], grad[:rows], states[:rows], rows


def check_noise(noise) -> float:
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

    ``surface``: a built-in name or ``"expr:<formula>[@xmin,xmax,ymin,ymax]"``. ``hyperparams``
    overrides torch's defaults (names as in torch). ``noise`` σ adds N(0, σ²) to each gradient
    component, reproducibly for a given ``seed``. A run that leaves the finite world stops there
    and reports ``diverged at step k``; bad arguments raise SimulatorError.
    ``schedule`` is a torch scheduler as ``(name, params)``, e.g. ``("CosineAnnealingLR", {"T_max": 500})``,
    stepped once after each optimizer step; ``traj.lr[k]`` is then the lr step k used.
    ``LBFGS`` records one row per ``.step(closure)`` call, with ``traj.evals`` and ``traj.trials``,
    and stops with ``converged at step k`` where torch's LBFGS would no longer move.
    """
    run = prepare_run(surface, optimizer, [hyperparams], steps, noise, schedule, surface_params,
                      lambda surf: check_start(surf.default_start if start is None else start, surf))
    spec, surf, params, steps, sigma = run.spec, run.surface, run.params, run.steps, run.sigma
    start_point, values, plan = run.points, run.values[0], run.plans[0]
    description = {
        "surface": surf.name, "optimizer": spec.name, "hyperparams": values,
        "label": label or spec.name, "schedule": run.schedule,
        # with the start (row 0) and the steps (rows), enough to run it again, noise included
        "surface_params": dict(surface_params or {}), "noise": sigma, "seed": seed,
    }
    if spec.closure:
        return _simulate_lbfgs(surf, params, start_point, steps, run.hps[0], plan, description)
    momenta = np.zeros(1) if plan.momenta is None else plan.momenta
    lrs = plan.lrs.copy()
    noise_rows = _noise(sigma, seed, steps + 1)
    xy, loss, grad, state, rows = _run(
        surface_source(surf), params, spec.kernel_id, run.hps[0].copy(), np.zeros(spec.state_size),
        start_point, lrs, momenta, run.momentum_slot, plan.plateau, noise_rows, sigma > 0.0, FUSED,
        escape_box(surf),
    )
    _check_first_row(rows, start_point, surf)
    diverged = rows <= steps
    return Trajectory(
        xy=xy, loss=loss, grad=grad, lr=lrs[:rows].copy(), state=state, state_names=spec.state_names,
        status=DIVERGED if diverged else OK, diverged_at=rows if diverged else None, **description,
    )


@dataclass
class RunSetup:
    """What a run needs, checked and derived once, for simulate() (one hyperparameter set, one start)
    and simulate_many() / sweep() (P sets, M starts) alike."""

    spec: OptimizerSpec
    surface: Surface
    params: np.ndarray  # the surface's parameters
    points: np.ndarray  # what ``check_points`` returned: the start (2,) or the starts (M, 2)
    steps: int
    sigma: float  # gradient noise
    values: list  # the resolved hyperparameters of each set
    plans: list  # the SchedulePlan of each set (its lr and cycled momentum per step)
    schedule: tuple | None  # the resolved schedule, None for a constant lr
    hps: np.ndarray  # (P, H): each set packed for the kernel (LBFGS: its options vector)
    momentum_slot: int  # the hp slot a cycled momentum is written into, or -1


def prepare_run(surface, optimizer, hyperparam_sets, steps, noise, schedule, surface_params,
                check_points: Callable[[Surface], np.ndarray]) -> RunSetup:
    """Check every argument where it enters, in the order a person reads them; SimulatorError names
    the first bad one. ``check_points(surface)`` checks the start(s) against the chosen surface."""
    spec = get_optimizer(optimizer)
    surf = get_surface(surface)
    values = [spec.resolve(overrides) for overrides in hyperparam_sets]
    params = surf.params_array(surface_params)
    points = check_points(surf)
    steps = check_steps(steps)
    sigma = check_noise(noise)
    planned = [plan_schedule(spec, resolved, steps, schedule) for resolved in values]
    plans = [plan for plan, _ in planned]
    if spec.closure:
        check_closure_run(spec, sigma, plans[0])
        hps = np.array([lbfgs.pack_lbfgs_options(v) for v in values])
    else:
        hps = np.array([spec.pack(v) for v in values])
    momentum_slot = -1 if plans[0].momenta is None else spec.slot(plans[0].momentum_key)
    return RunSetup(spec, surf, params, points, steps, sigma, values, plans, planned[0][1], hps,
                    momentum_slot)


def plan_schedule(spec: OptimizerSpec, values: dict, steps: int,
                  schedule) -> tuple[SchedulePlan, tuple | None]:
    """The lr (and cycled momentum) of every step, and the resolved schedule (None: a constant lr)."""
    if schedule is None:
        return SchedulePlan(np.full(steps + 1, values["lr"], dtype=np.float64), None, None, np.zeros(0)), None
    resolved = resolve_schedule(schedule, steps)
    plan = schedule_arrays(resolved, momentum_key(spec.hyperparam_names), values, steps, spec.name)
    return plan, resolved


def check_closure_run(spec: OptimizerSpec, sigma: float, plan: SchedulePlan) -> None:
    """What a closure optimizer (LBFGS) refuses besides bad hyperparameters: noise, cycled momentum."""
    if sigma > 0.0:
        raise SimulatorError(
            f"{spec.name} evaluates the loss several times per step and needs a deterministic "
            "gradient: set noise to 0"
        )
    if plan.momenta is not None:
        raise SimulatorError(f"{spec.name} has no momentum to cycle; set cycle_momentum=false")


def _check_first_row(rows: int, start_point: np.ndarray, surf: Surface) -> None:
    if rows == 0:
        raise SimulatorError(
            f"invalid start {tuple(start_point)}: the loss or gradient of {surf.name} is not finite there"
        )


def _simulate_lbfgs(surf: Surface, params, start_point, steps: int, options: np.ndarray, plan: SchedulePlan,
                    description: dict) -> Trajectory:
    lrs = plan.lrs.copy()
    (xy, loss, grad, state, evals, trial_xy, trial_loss, trial_offset, trial_count, rows, status,
     event) = lbfgs.run_lbfgs(surface_source(surf), params, start_point, steps, lrs, options, FUSED,
                              escape_box(surf), plan.plateau)
    _check_first_row(rows, start_point, surf)
    return Trajectory(
        xy=xy, loss=loss, grad=grad, lr=lrs[:rows].copy(), state=state, state_names=lbfgs.STATE_NAMES,
        status={lbfgs.OK: OK, lbfgs.DIVERGED: DIVERGED, lbfgs.CONVERGED: CONVERGED}[status],
        diverged_at=event if status == lbfgs.DIVERGED else None,
        converged_at=event if status == lbfgs.CONVERGED else None,
        evals=evals, trials=LineSearchTrials(trial_xy, trial_loss, trial_offset, trial_count),
        **description,
    )
