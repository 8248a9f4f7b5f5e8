"""simulate_many() and sweep(): one optimizer from many starts at once, on every core.

Each row is the run ``simulate()`` makes from that start: the same validation, kernels, schedules
(ReduceLROnPlateau included, per row), noise stream and divergence rule, so with ``noise=0`` its
final point is bit for bit ``simulate(...).final``. Only the end of each run is kept: the final
point and loss, the known minimum it ended next to, the first step it came within ``tolerance`` of
one, and whether (and where) it diverged.

How it runs. The rows (starts × swept values) are cut into blocks of at most BLOCK_ROWS rows that
share one hyperparameter set; a ``prange`` spreads the blocks over the cores and every block moves
its rows in lock step, one step at a time: evaluate the surface at every row (one loop, which
vectorises for the polynomial surfaces), check and record each row as engine._run does (branch-free
loops), then update the block. One compiled kernel serves every optimizer and built-in surface
(integer ids, as in ``engine._run``), a second one typed formulas; LBFGS, whose steps spend a
varying number of evaluations, runs ``lbfgs.run_lbfgs`` per row in a kernel pair of its own.

Adam/AdamW fast path. What ``kernels.adam_step`` computes from the step count alone (three C
``pow`` calls) is the same for every row of a block, so it is computed once per block and step and
the element-wise rest runs as a SIMD loop over the block: the same operations in the same order
with the same roundings (the tests compare bits with simulate()). Every other optimizer runs its
kernel row by row, through the id dispatch engine._run uses, built from the same registry table
(``kernels.build_dispatch``) with every kernel inlined. All of it is compiled with NumPy's error model, as the
kernels simulate() uses are: where an optimizer divides 0 by 0 (eps=0 at a zero gradient) the row
gets NaN, as torch would, and reports diverging.

Threads. The kernel runs under a module lock: Numba's ``workqueue`` threading layer (the one left
when neither TBB nor OpenMP is installed) aborts the process if two threads enter parallel code at
once, so calls from several threads (Qt workers) take turns, one chunk at a time. An exception in
a worker thread of a parallel region never reaches Python; a row the kernel failed to write is
caught and raised as RuntimeError instead of coming back as NaN.
"""

import contextlib
import math
import threading
import types as pyfunctions
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from simulator import builtin_surfaces, kernels, lbfgs
from simulator.engine import prepare_run
from simulator.errors import SimulatorError
from simulator.evaluation import FormulaFunctions, escape_box, surface_source
from simulator.kernels import build_dispatch, direction, keyed_to, weight_decayed
from simulator.numerics import FUSED, addcmul, cpow, lerp, maximum
from simulator.optimizers import KERNELS, OptimizerSpec, get_optimizer
from simulator.plateau import plateau_start, plateau_step
from simulator.surface import Surface

__all__ = ["BatchResult", "SweepResult", "simulate_many", "sweep"]

BLOCK_ROWS = 256  # rows moved in lock step: their state stays in L1/L2, their update vectorises
CHUNK_WORK = 1 << 22  # row-steps per chunk when progress is reported (tens of ms)
NOISE_FLOATS = 1 << 22  # noise held at once (32 MiB): the chunk shrinks to fit
TOLERANCE_OF_DIAGONAL = 1e-3  # default tolerance: this fraction of the view's diagonal
NEAR_TOLERANCES = 10.0  # default "near": a minimum this many tolerances away is where a row ended

_KERNEL_LOCK = threading.Lock()


# ---- compiled --------------------------------------------------------------------------------
# Surfaces are evaluated a block at a time, with the very functions simulate() calls. A polynomial
# surface (builtin_surfaces.Entry.polynomial) gets its own loop (calling its functions directly, so
# the loop vectorises: several times faster than one dispatch call per point); the others go through
# the dispatch chain, point by point, since a vectorised sin/cos/exp could come from a vector maths
# library (SVML) and differ in the last bit from the scalar libm that simulate() uses.
_surface_value = njit(builtin_surfaces.surface_value.py_func)
_surface_grad = njit(builtin_surfaces.surface_grad.py_func)


@njit(inline="always")
def _fill(value, grad, xs, ys, n, params, values, gxs, gys):
    for j in range(n):
        gxs[j], gys[j] = grad(xs[j], ys[j], params)
        values[j] = value(xs[j], ys[j], params)


@njit(inline="always")
def _fill_by_id(surface_id, xs, ys, n, params, values, gxs, gys):
    for j in range(n):
        gxs[j], gys[j] = _surface_grad(surface_id, xs[j], ys[j], params)
        values[j] = _surface_value(surface_id, xs[j], ys[j], params)


def _generated_fill_builtin():
    """``_eval_rows``'s implementation for a built-in id: a flat if-chain over the table's polynomial
    surfaces, each branch their own loop, every other id point by point (``_fill_by_id``).

    Written out from the table as source and exec'd (the source is nothing but the table's ids):
    composed closures, as ``builtin_surfaces.dispatch_on_id`` builds for single points, made
    Numba's compile time of this loop grow steeply with the loops inlined into them (measured: 12
    nested, 4x the flat chain's). It is not cached itself: it compiles into ``_run_block``, which
    is cached and keyed to the table.
    """
    namespace = {"_fill": _fill, "_fill_by_id": _fill_by_id}
    lines = ["def builtin(surface, xs, ys, n, params, values, gxs, gys):"]
    for k, surface_id in enumerate(builtin_surfaces.POLYNOMIAL_IDS):
        value, grad = f"value_{surface_id}", f"grad_{surface_id}"
        namespace[value] = builtin_surfaces.VALUE_FUNCTIONS[surface_id]
        namespace[grad] = builtin_surfaces.GRAD_FUNCTIONS[surface_id]
        lines.append(f"    {'elif' if k else 'if'} surface == {surface_id}:")
        lines.append(f"        _fill({value}, {grad}, xs, ys, n, params, values, gxs, gys)")
    lines.append("    else:" if len(lines) > 1 else "    if True:")
    lines.append("        _fill_by_id(surface, xs, ys, n, params, values, gxs, gys)")
    exec(compile("\n".join(lines) + "\n", "<batch: surface dispatch from the table>", "exec"), namespace)
    return namespace["builtin"]


_fill_builtin = _generated_fill_builtin()


def _eval_rows(surface, xs, ys, n, params, values, gxs, gys):
    """values, gxs, gys[:n] = (f, ∂f/∂x, ∂f/∂y) at (xs, ys)[:n], as ``evaluation.surface_eval``."""
    raise NotImplementedError


@overload(_eval_rows, inline="always")
def _eval_rows_overload(surface, xs, ys, n, params, values, gxs, gys):
    if isinstance(surface, types.Integer):
        return _fill_builtin
    if isinstance(surface, types.NamedUniTuple) and surface.instance_class is FormulaFunctions:
        def formula(surface, xs, ys, n, params, values, gxs, gys):
            for j in range(n):
                values[j] = surface.value(xs[j], ys[j])
                gxs[j] = surface.grad_x(xs[j], ys[j])
                gys[j] = surface.grad_y(xs[j], ys[j])
        return formula
    return None


@njit(cache=True, error_model="numpy", inline="always")
def _addcdiv(a, t1, t2, value):
    # numerics.addcdiv, compiled here with NumPy's error model: no zero check, so the loop vectorises
    return a + (value * t1) / t2


def _recompiled(dispatcher, **replacements):
    """The same Python source, helpers swapped for ``replacements``, compiled with NumPy's error model
    and inlined where it is called (a call per row and step would cost more than an SGD step)."""
    function = dispatcher.py_func
    namespace = {**function.__globals__, **replacements}
    copy = pyfunctions.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__,
                                    function.__closure__)
    return njit(error_model="numpy", inline="always")(copy)


# engine's dispatch with every kernel of the registry's table inlined into the block loop (a call per
# row and step would cost more than an SGD step), with the vectorisable addcdiv above.
_optimizer_step = build_dispatch(tuple(_recompiled(kernel, addcdiv=_addcdiv) for kernel in KERNELS))
_ADAM = KERNELS.index(kernels.adam_step)  # Adam and AdamW: the fast path below


@keyed_to(KERNELS)  # it inlines the kernels' shared pieces
@njit(cache=True, error_model="numpy")
def _adam_axis(n, p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, lrs, per_row_lr, hp, bias_correction1,
               bias_correction2_sqrt, fused):
    """kernels.adam_step for one coordinate of ``n`` rows; the step-count maths comes precomputed."""
    beta1, beta2, eps, weight_decay = hp[0], hp[1], hp[2], hp[3]
    amsgrad, maximize, decoupled = hp[4] != 0.0, hp[5] != 0.0, hp[6] != 0.0
    if weight_decay == 0.0 and not amsgrad and not maximize and not per_row_lr:
        step_size = lr / bias_correction1
        for j in range(n):  # the common case, kept free of branches so that it vectorises
            gi = g[j]
            exp_avg[j] = lerp(exp_avg[j], gi, 1.0 - beta1, fused)
            exp_avg_sq[j] = addcmul(exp_avg_sq[j] * beta2, gi, gi, 1.0 - beta2, fused)
            denom = math.sqrt(exp_avg_sq[j]) / bias_correction2_sqrt + eps
            p[j] = _addcdiv(p[j], exp_avg[j], denom, -step_size)
        return
    for j in range(n):
        row_lr = lrs[j] if per_row_lr else lr
        step_size = row_lr / bias_correction1
        gi, p[j] = weight_decayed(direction(g, j, maximize), p[j], row_lr, weight_decay, decoupled, fused)
        exp_avg[j] = lerp(exp_avg[j], gi, 1.0 - beta1, fused)
        exp_avg_sq[j] = addcmul(exp_avg_sq[j] * beta2, gi, gi, 1.0 - beta2, fused)
        second_moment = exp_avg_sq[j]
        if amsgrad:
            max_exp_avg_sq[j] = maximum(max_exp_avg_sq[j], exp_avg_sq[j])
            second_moment = max_exp_avg_sq[j]
        denom = math.sqrt(second_moment) / bias_correction2_sqrt + eps
        p[j] = _addcdiv(p[j], exp_avg[j], denom, -step_size)


@keyed_to((*KERNELS, *builtin_surfaces.SURFACE_FUNCTIONS))
@njit(cache=True, error_model="numpy")
def _run_block(first, last, surface, surface_params, kernel_id, hp_set, state_size, starts, lrs, momenta,
               momentum_slot, plateau, noise, add_noise, noise_row0, fused, escape, minima, tolerance,
               total, out_xy, out_loss, out_converged, out_diverged_at):
    """Rows ``first``..``last`` (one hyperparameter set) for ``total`` rows each, as engine._run does.

    ``lrs``/``momenta``: this set's per-step arrays (length 1: constant). Writes the last recorded
    point and loss, the first row within ``tolerance`` of a minimum, and the row a diverging run
    stopped at (engine._run's ``rows``), or -1.
    """
    count = starts.shape[0]
    n = last - first
    hp = hp_set.copy()
    xs = np.empty(n)
    ys = np.empty(n)
    gxs = np.empty(n)
    gys = np.empty(n)
    values = np.empty(n)
    final_x = np.empty(n)
    final_y = np.empty(n)
    final_loss = np.full(n, np.nan)
    alive = np.ones(n, dtype=np.bool_)
    converged = np.full(n, -1, dtype=np.int64)
    stopped = np.full(n, -1, dtype=np.int64)
    row_lrs = np.full(n, lrs[0])
    plateau_states = np.zeros((n, 3))
    has_plateau = plateau.shape[0] > 0
    for j in range(n):
        start = (first + j) % count
        xs[j] = starts[start, 0]
        ys[j] = starts[start, 1]
        final_x[j] = xs[j]
        final_y[j] = ys[j]
        plateau_states[j] = plateau_start(plateau)
    adam = kernel_id == _ADAM
    moments = np.zeros((6, n if adam else 0))
    states = np.zeros((0 if adam else n, state_size))
    state = np.empty(state_size)  # one row's state, copied in and out: a view per call would cost more
    p = np.empty(2)
    g = np.empty(2)
    centre_x, centre_y, radius = escape[0], escape[1], escape[2]
    tolerance2 = tolerance * tolerance
    for k in range(total):
        # Every row is evaluated (a stopped one harmlessly) and checked in branch-free loops that
        # vectorise; a row stays alive while simulate() would record it, and is recorded.
        _eval_rows(surface, xs, ys, n, surface_params, values, gxs, gys)
        if add_noise:
            for j in range(n):
                gxs[j] += noise[first + j - noise_row0, k, 0]
                gys[j] += noise[first + j - noise_row0, k, 1]
        living = 0
        for j in range(n):
            x, y, value = xs[j], ys[j], values[j]
            inside = (abs(x - centre_x) <= radius) & (abs(y - centre_y) <= radius)  # False for NaN
            ok = alive[j] & inside & math.isfinite(value) & math.isfinite(gxs[j]) & math.isfinite(gys[j])
            stopped[j] = k if alive[j] != ok else stopped[j]  # ok implies alive: it stops here
            final_x[j] = x if ok else final_x[j]
            final_y[j] = y if ok else final_y[j]
            final_loss[j] = value if ok else final_loss[j]
            alive[j] = ok
            living += ok
            # a stopped row is parked in the view's centre: its later (unused) arithmetic stays cheap
            xs[j] = x if ok else centre_x
            ys[j] = y if ok else centre_y
        for m in range(minima.shape[0]):
            minimum_x, minimum_y = minima[m, 0], minima[m, 1]
            for j in range(n):
                dx, dy = final_x[j] - minimum_x, final_y[j] - minimum_y
                reached = alive[j] & (converged[j] < 0) & (dx * dx + dy * dy <= tolerance2)
                converged[j] = k if reached else converged[j]
        if has_plateau and 0 < k < total - 1:  # torch: scheduler.step(loss) after each step
            for j in range(n):
                if alive[j]:
                    row_lrs[j] = plateau_step(plateau, plateau_states[j], values[j], row_lrs[j])
        if living == 0 or k == total - 1:
            break
        if momentum_slot >= 0:
            hp[momentum_slot] = momenta[k + 1]
        lr = lrs[k + 1] if lrs.shape[0] > 1 else lrs[0]
        if adam:
            t = float(k + 1)  # every row of the block has taken k steps: adam_step's state[0] + 1
            bias_correction1 = 1.0 - cpow(hp[0], t)
            bias_correction2_sqrt = cpow(1.0 - cpow(hp[1], t), 0.5)
            _adam_axis(n, xs, gxs, moments[0], moments[2], moments[4], lr, row_lrs, has_plateau, hp,
                       bias_correction1, bias_correction2_sqrt, fused)
            _adam_axis(n, ys, gys, moments[1], moments[3], moments[5], lr, row_lrs, has_plateau, hp,
                       bias_correction1, bias_correction2_sqrt, fused)
        else:
            for j in range(n):
                if alive[j]:
                    p[0], p[1], g[0], g[1] = xs[j], ys[j], gxs[j], gys[j]
                    for slot in range(state_size):
                        state[slot] = states[j, slot]
                    _optimizer_step(kernel_id, p, g, row_lrs[j] if has_plateau else lr, hp, state, fused)
                    xs[j], ys[j] = p[0], p[1]
                    for slot in range(state_size):
                        states[j, slot] = state[slot]
    for j in range(n):
        out_xy[first + j, 0] = final_x[j]
        out_xy[first + j, 1] = final_y[j]
        out_loss[first + j] = final_loss[j]
        out_converged[first + j] = converged[j]
        out_diverged_at[first + j] = stopped[j]


@keyed_to((*KERNELS, *builtin_surfaces.SURFACE_FUNCTIONS))
@njit(parallel=True, cache=True, error_model="numpy")
def _explore(blocks, surface, surface_params, kernel_id, hps, state_size, starts, lrs, momenta, momentum_slot,
             plateau, noise, add_noise, noise_row0, fused, escape, minima, tolerance, total, out_xy, out_loss,
             out_converged, out_diverged_at):
    count = starts.shape[0]
    for b in prange(blocks.shape[0]):
        first, last = blocks[b, 0], blocks[b, 1]
        index = first // count  # the hyperparameter set (swept value) of this block
        _run_block(first, last, surface, surface_params, kernel_id, hps[index], state_size, starts,
                   lrs[index], momenta[index if momenta.shape[0] > 1 else 0], momentum_slot, plateau, noise,
                   add_noise, noise_row0, fused, escape, minima, tolerance, total, out_xy, out_loss,
                   out_converged, out_diverged_at)


@keyed_to(builtin_surfaces.SURFACE_FUNCTIONS)
@njit(parallel=True, cache=True, error_model="numpy")
def _explore_lbfgs(rows, surface, surface_params, options, starts, steps, lrs, fused, escape, plateau, minima,
                   tolerance, out_xy, out_loss, out_converged, out_diverged_at):
    count = starts.shape[0]
    tolerance2 = tolerance * tolerance
    for i in prange(rows.shape[0]):
        row = rows[i]
        index, start = row // count, row % count
        set_lrs = lrs[index]
        row_lrs = np.empty(steps + 1)  # run_lbfgs writes ReduceLROnPlateau's lrs into it
        for k in range(steps + 1):
            row_lrs[k] = set_lrs[k] if set_lrs.shape[0] > 1 else set_lrs[0]
        result = lbfgs.run_lbfgs(surface, surface_params, starts[start].copy(), steps, row_lrs,
                                 options[index], fused, escape, plateau)
        xy, loss, recorded, status, event = result[0], result[1], result[9], result[10], result[11]
        out_diverged_at[row] = event if status == lbfgs.DIVERGED else -1
        out_converged[row] = -1
        if recorded == 0:
            out_xy[row, 0], out_xy[row, 1], out_loss[row] = starts[start, 0], starts[start, 1], np.nan
            continue
        last = recorded - 1
        out_xy[row, 0], out_xy[row, 1], out_loss[row] = xy[last, 0], xy[last, 1], loss[last]
        for k in range(recorded):
            for m in range(minima.shape[0]):
                dx, dy = xy[k, 0] - minima[m, 0], xy[k, 1] - minima[m, 1]
                if dx * dx + dy * dy <= tolerance2:
                    out_converged[row] = k
                    break
            if out_converged[row] >= 0:
                break


# ---- results ---------------------------------------------------------------------------------


@dataclass
class BatchResult:
    """Where each of M runs ended. Row i is the run from ``starts[i]``.

    ``final_xy`` (M, 2) / ``final_loss`` (M,): the last point simulate() records (for a diverged
    run the last finite one; a start where the loss or gradient is not finite gives the start and
    NaN). ``minimum_index`` (M,): the index in ``minima`` of the known minimum nearest the final
    point when it is within ``near`` of it, else -1 (also for diverged runs). ``converged_step``
    (M,): the first step whose point lies within ``tolerance`` of a known minimum, else -1.
    ``diverged`` (M,) and ``diverged_at`` (M,): simulate()'s ``diverged at step k`` (-1: did not).
    ``done`` (M,): rows that ran (all True unless ``cancelled``); rows not run hold NaN and -1.
    """

    final_xy: np.ndarray
    final_loss: np.ndarray
    minimum_index: np.ndarray
    converged_step: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    done: np.ndarray
    minima: np.ndarray  # (K, 2) known minima (x, y)
    tolerance: float
    near: float
    surface: str
    optimizer: str
    hyperparams: dict
    steps: int
    schedule: tuple | None = None
    noise: float = 0.0
    seed: int | None = None  # the base seed the noise used (drawn when none was given)
    cancelled: bool = False


@dataclass
class SweepResult:
    """``values[v]`` of ``param`` × ``starts[i]``: every array is (V, M) (``final_xy`` (V, M, 2)).

    Fields as in BatchResult; ``hyperparams[v]`` are the resolved hyperparameters of value v.
    """

    param: str
    values: list
    final_xy: np.ndarray
    final_loss: np.ndarray
    minimum_index: np.ndarray
    converged_step: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    done: np.ndarray
    minima: np.ndarray
    tolerance: float
    near: float
    surface: str
    optimizer: str
    hyperparams: list = field(default_factory=list)
    steps: int = 0
    schedule: tuple | None = None
    noise: float = 0.0
    seed: int | None = None
    cancelled: bool = False

    @property
    def mean_final_loss(self) -> np.ndarray:
        """(V,) mean final loss over the starts; +inf where a run diverged (or did not run)."""
        losses = np.where(self.diverged | ~self.done, np.inf, self.final_loss)
        with np.errstate(invalid="ignore"):
            return losses.mean(axis=1)

    @property
    def best_index(self) -> int:
        """The value with the lowest mean final loss, counting a diverged run as +inf; -1 if none."""
        scores = self.mean_final_loss
        finite = np.isfinite(scores)
        return int(np.argmin(np.where(finite, scores, np.inf))) if finite.any() else -1

    @property
    def best_value(self):
        index = self.best_index
        return None if index < 0 else self.values[index]

    def for_value(self, index: int) -> BatchResult:
        """The runs of ``values[index]`` as a BatchResult."""
        return BatchResult(
            final_xy=self.final_xy[index], final_loss=self.final_loss[index],
            minimum_index=self.minimum_index[index], converged_step=self.converged_step[index],
            diverged=self.diverged[index], diverged_at=self.diverged_at[index], done=self.done[index],
            minima=self.minima, tolerance=self.tolerance, near=self.near, surface=self.surface,
            optimizer=self.optimizer, hyperparams=self.hyperparams[index], steps=self.steps,
            schedule=self.schedule, noise=self.noise, seed=self.seed, cancelled=self.cancelled,
        )


# ---- Python side -----------------------------------------------------------------------------


def check_starts(starts, surface: Surface) -> np.ndarray:
    """``starts`` as a C-contiguous (M, 2) float64 array, refused (naming the row) unless usable."""
    if starts is None:
        raise SimulatorError("invalid starts=None: expected an (M, 2) array of x, y pairs")
    try:
        array = np.array(starts, dtype=np.float64)
    except (TypeError, ValueError):
        raise SimulatorError(
            f"invalid starts: expected an (M, 2) array of x, y pairs, got {starts!r}"
        ) from None
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0:
        raise SimulatorError(
            f"invalid starts: expected an (M, 2) array of x, y pairs with M >= 1, got shape {array.shape}"
        )
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise SimulatorError(f"invalid starts: row {row} {tuple(array[row].tolist())} is not finite")
    centre_x, centre_y, radius = escape_box(surface)
    outside = (np.abs(array[:, 0] - centre_x) > radius) | (np.abs(array[:, 1] - centre_y) > radius)
    if outside.any():
        row = int(np.argmax(outside))
        raise SimulatorError(
            f"invalid starts: row {row} {tuple(array[row].tolist())} is too far outside the view "
            f"{surface.bounds}"
        )
    return np.ascontiguousarray(array)


def _positive(name: str, value, default: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SimulatorError(f"invalid {name}={value!r}: expected a number") from None
    if isinstance(value, bool) or not (math.isfinite(number) and number > 0.0):
        raise SimulatorError(f"invalid {name}={value!r}: must be a finite number > 0")
    return number


def _known_minima(surface: Surface, params: np.ndarray) -> np.ndarray:
    """The published minima; with non-default parameters only those still stationary there."""
    if not surface.minima:
        return np.zeros((0, 2))
    defaults = np.array_equal(params, np.array(surface.param_defaults))
    keep = [(x, y) for x, y, _ in surface.minima if defaults or surface.grad(x, y, params) == (0.0, 0.0)]
    return np.array(keep, dtype=np.float64).reshape(-1, 2)


def _check_seed(seed, sigma: float) -> int | None:
    if sigma == 0.0:
        return None  # simulate() ignores the seed without noise
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SimulatorError(f"invalid seed={seed!r}: expected a non-negative whole number")
    return int(seed)


def _check_chunking(chunk_rows, progress) -> int | None:
    if progress is not None and not callable(progress):
        raise SimulatorError(f"invalid progress={progress!r}: expected a function progress(done, total)")
    if chunk_rows is None:
        return None
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int | np.integer) or chunk_rows < 1:
        raise SimulatorError(f"invalid chunk_rows={chunk_rows!r}: expected a whole number >= 1")
    return int(chunk_rows)


@dataclass
class _Job:
    """Everything the kernels need, resolved and checked: P hyperparameter sets × M starts."""

    spec: OptimizerSpec
    surface: Surface
    params: np.ndarray
    starts: np.ndarray
    steps: int
    values: list  # resolved hyperparameters per set
    hps: np.ndarray  # (P, H) packed kernel vectors (LBFGS: its options vectors)
    lrs: np.ndarray  # (P, steps + 1), or (P, 1) for a constant lr
    momenta: np.ndarray  # (P, steps + 1), or (1, 1) unused
    momentum_slot: int
    plateau: np.ndarray
    schedule: tuple | None
    sigma: float
    seed: int | None
    minima: np.ndarray
    tolerance: float
    near: float


def _prepare(surface, optimizer, starts, steps, sets, schedule, noise, seed, surface_params, tolerance,
             near) -> _Job:
    run = prepare_run(surface, optimizer, sets, steps, noise, schedule, surface_params,
                      lambda surf: check_starts(starts, surf))  # the checks simulate() makes
    surf, values, plans, sigma = run.surface, run.values, run.plans, run.sigma
    if schedule is None:
        lrs = np.array([[v["lr"]] for v in values], dtype=np.float64)
    else:
        lrs = np.array([p.lrs for p in plans])
    momenta = np.zeros((1, 1)) if run.momentum_slot < 0 else np.array([p.momenta for p in plans])
    xmin, xmax, ymin, ymax = surf.bounds
    tol = _positive("tolerance", tolerance, TOLERANCE_OF_DIAGONAL * math.hypot(xmax - xmin, ymax - ymin))
    radius = _positive("near", near, NEAR_TOLERANCES * tol)
    if radius < tol:
        raise SimulatorError(f"invalid near={near!r}: must be >= tolerance ({tol:g})")
    return _Job(run.spec, surf, run.params, run.points, run.steps, values, run.hps, lrs, momenta,
                run.momentum_slot, plans[0].plateau, run.schedule, sigma, _check_seed(seed, sigma),
                _known_minima(surf, run.params), tol, radius)


def _noise_rows(job: _Job, first: int, last: int) -> np.ndarray:
    """simulate()'s noise for rows first..last: start i draws from default_rng((seed, i))."""
    total = job.steps + 1
    noise = np.empty((last - first, total, 2))
    count = job.starts.shape[0]
    for row in range(first, last):
        generator = np.random.default_rng((job.seed, row % count))
        noise[row - first] = generator.normal(0.0, job.sigma, size=(total, 2))
    return noise


def _blocks(first: int, last: int, count: int, block_rows: int) -> np.ndarray:
    """(B, 2) row ranges covering first..last, none longer than block_rows or crossing a set."""
    ranges = []
    row = first
    while row < last:
        end = min(last, (row // count + 1) * count, row + block_rows)
        ranges.append((row, end))
        row = end
    return np.array(ranges, dtype=np.int64).reshape(-1, 2)


_UNWRITTEN = -2  # diverged_at of a row the kernel has not written (yet)


@contextlib.contextmanager
def _reraise_from_kernel():
    # An exception raised in a parallel region's main thread reaches Python as a SystemError
    try:
        yield
    except SystemError as error:
        if isinstance(error.__cause__, Exception):
            raise error.__cause__ from None
        raise


def _run_rows(job: _Job, chunk_rows: int | None, progress: Callable | None):
    """Runs every row (sets × starts, set-major); returns the flat outputs and whether it was cancelled."""
    count = job.starts.shape[0]
    rows = job.hps.shape[0] * count
    total = job.steps + 1
    out_xy = np.full((rows, 2), np.nan)
    out_loss = np.full(rows, np.nan)
    out_converged = np.full(rows, -1, dtype=np.int64)
    out_diverged_at = np.full(rows, -1, dtype=np.int64)
    chunk = chunk_rows or (rows if progress is None else max(1, CHUNK_WORK // total))
    if job.sigma > 0.0:
        chunk = min(chunk, max(1, NOISE_FLOATS // (2 * total)))
    threads = numba.get_num_threads()
    source, escape = surface_source(job.surface), escape_box(job.surface)
    done = 0
    cancelled = False
    while done < rows:
        last = min(rows, done + chunk)
        add_noise = job.sigma > 0.0
        noise = _noise_rows(job, done, last) if add_noise else np.zeros((1, 1, 2))
        out_diverged_at[done:last] = _UNWRITTEN
        with _KERNEL_LOCK, numba.parallel_chunksize(1), _reraise_from_kernel():
            if job.spec.closure:
                lbfgs_rows = np.arange(done, last, dtype=np.int64)
                _explore_lbfgs(lbfgs_rows, source, job.params, job.hps, job.starts, job.steps, job.lrs, FUSED,
                               escape, job.plateau, job.minima, job.tolerance, out_xy, out_loss,
                               out_converged, out_diverged_at)
            else:
                block_rows = min(BLOCK_ROWS, max(1, -(-(last - done) // threads)))
                blocks = _blocks(done, last, count, block_rows)
                _explore(blocks, source, job.params, job.spec.kernel_id, job.hps, job.spec.state_size,
                         job.starts, job.lrs, job.momenta, job.momentum_slot, job.plateau, noise, add_noise,
                         done, FUSED, escape, job.minima, job.tolerance, total, out_xy, out_loss,
                         out_converged, out_diverged_at)
        if (out_diverged_at[done:last] == _UNWRITTEN).any():
            # an exception in a worker thread of a parallel region never reaches Python
            raise RuntimeError(f"simulate_many: the compiled kernel failed on rows {done}..{last - 1}")
        done = last
        if progress is not None and progress(done, rows) is False and done < rows:
            cancelled = True
            break
    finished = np.zeros(rows, dtype=bool)
    finished[:done] = True
    diverged = out_diverged_at >= 0
    minimum_index = _minimum_index(job, out_xy, diverged)
    return out_xy, out_loss, minimum_index, out_converged, diverged, out_diverged_at, finished, cancelled


def _minimum_index(job: _Job, final_xy: np.ndarray, diverged: np.ndarray) -> np.ndarray:
    index = np.full(final_xy.shape[0], -1, dtype=np.int64)
    if job.minima.shape[0] == 0:
        return index
    distance2 = ((final_xy[:, None, :] - job.minima[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argmin(np.where(np.isnan(distance2), np.inf, distance2), axis=1)
    within = distance2[np.arange(final_xy.shape[0]), nearest] <= job.near * job.near
    return np.where(within & ~diverged, nearest, -1)


def simulate_many(
    surface="rosenbrock",
    optimizer="Adam",
    starts=None,
    steps=500,
    hyperparams=None,
    schedule=None,
    noise=0.0,
    seed=None,
    *,
    surface_params=None,
    tolerance=None,
    near=None,
    chunk_rows=None,
    progress=None,
) -> BatchResult:
    """Run ``optimizer`` on ``surface`` from every row of ``starts`` (an (M, 2) array) in parallel.

    Arguments as simulate()'s, checked the same way. Row i equals simulate() from ``starts[i]``;
    with ``noise`` > 0 it draws the stream ``simulate(..., seed=(seed, i))`` draws, so it is
    reproducible and independent of thread scheduling (``seed=None``: a fresh base seed, returned
    in ``result.seed``). ``tolerance``: distance to a known minimum that counts as reaching it
    (default 1e-3 of the view's diagonal); ``near``: distance within which the final point is
    labelled with that minimum (default 10 × tolerance). ``progress(done, total)`` is called after
    each chunk of ``chunk_rows`` rows (default: a few tens of ms of work); returning False stops
    the run and returns the rows done so far with ``cancelled=True`` (the others NaN / -1).
    Without ``progress`` (and without noise) all rows run in one parallel call.
    """
    chunk_rows = _check_chunking(chunk_rows, progress)
    job = _prepare(surface, optimizer, starts, steps, [hyperparams], schedule, noise, seed, surface_params,
                   tolerance, near)
    return BatchResult(**_run_fields(job, chunk_rows, progress, (job.starts.shape[0],)),
                       hyperparams=job.values[0])


def sweep(
    surface="rosenbrock",
    optimizer="Adam",
    starts=None,
    steps=500,
    param="lr",
    values=None,
    hyperparams=None,
    schedule=None,
    noise=0.0,
    seed=None,
    *,
    surface_params=None,
    tolerance=None,
    near=None,
    chunk_rows=None,
    progress=None,
) -> SweepResult:
    """simulate_many() for each of ``values`` of the hyperparameter ``param`` (default the lr).

    ``values``: a non-empty sequence (pairs for a pair such as ``betas``), each checked as
    simulate() checks ``hyperparams`` (which supplies the other hyperparameters; ``param`` in it
    is overridden). A schedule is planned per value (it scales with the lr). With noise, start i
    gets the same stream for every value (common random numbers). ``progress(done, total)``
    counts rows over all values. Returns (V, M) arrays; ``best_value`` picks the value with the
    lowest mean final loss among those where no run diverged.
    """
    chunk_rows = _check_chunking(chunk_rows, progress)
    spec = get_optimizer(optimizer)
    if not isinstance(param, str):
        raise SimulatorError(f"invalid param={param!r}: expected a hyperparameter name")
    spec.hyperparam(param)  # refuses an unknown name, listing the valid ones
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if isinstance(values, str) or not isinstance(values, list | tuple) or len(values) == 0:
        raise SimulatorError(f"invalid values={values!r}: expected a non-empty list of values for {param}")
    if hyperparams is not None and not isinstance(hyperparams, dict):
        raise SimulatorError(f"{spec.name}: hyperparameters must be a mapping of names to values, "
                             f"got {hyperparams!r}")
    sets = [{**(hyperparams or {}), param: value} for value in values]
    job = _prepare(surface, spec.name, starts, steps, sets, schedule, noise, seed, surface_params, tolerance,
                   near)
    shape = (len(values), job.starts.shape[0])
    return SweepResult(param=param, values=[v[param] for v in job.values],
                       **_run_fields(job, chunk_rows, progress, shape), hyperparams=job.values)


_ROW_FIELDS = ("final_xy", "final_loss", "minimum_index", "converged_step", "diverged", "diverged_at", "done")


def _run_fields(job: _Job, chunk_rows, progress, shape: tuple[int, ...]) -> dict:
    """Run the job; the result fields both forms share: the per-row arrays shaped ``shape`` (+ (2,)
    for points) and the settings the job resolved."""
    *arrays, cancelled = _run_rows(job, chunk_rows, progress)
    rows = {name: array.reshape(*shape, *array.shape[1:])
            for name, array in zip(_ROW_FIELDS, arrays, strict=True)}
    return {**rows, "minima": job.minima, "tolerance": job.tolerance, "near": job.near,
            "surface": job.surface.name, "optimizer": job.spec.name, "steps": job.steps,
            "schedule": job.schedule, "noise": job.sigma, "seed": job.seed, "cancelled": cancelled}
