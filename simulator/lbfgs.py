"""torch.optim.LBFGS on a 2-D point, compiled with Numba, following torch 2.13 operation by operation.

One recorded row per ``.step(closure)`` call, as a script that drives torch's LBFGS would see it:
row 0 is the start, row k the point after k calls. Each call may evaluate the closure (the surface
value and its analytic gradient) many times: up to ``max_iter`` inner iterations, and with
``line_search_fn='strong_wolfe'`` several trial points per iteration. Every evaluated point is
recorded (``trial_xy``), so a view can draw the line search faintly.

Rounding (torch float64 on a 2-element CPU tensor; ../shared/reference/torch-optim-numerics.md):

* ``p.add_(d, alpha=t)``, ``q.add_(y, alpha=-al)``, ``r.add_(s, alpha=al-be)`` fuse multiply-adds
  where torch does (``fused``; :data:`simulator.numerics.FUSED`);
* ``a.dot(b)`` on two 2-element float64 tensors (MKL ``ddot``) is ``a0*b0 + a1*b1``, NOT fused
  (checked on 20 000 random pairs: plain 100 %, fused ~84 %);
* ``g.abs().sum()`` is ``|g0| + |g1|``; ``abs().max()`` propagates NaN; Python's ``min``/``max``
  keep the first argument unless the second compares strictly smaller/larger (NaN, ties);
* a Python float divided by a 0-dim tensor is ``Tensor.__rtruediv__``: a reciprocal, then a
  product. In ``_cubic_interpolate``, ``3 * (f1 - f2) / (x1 - x2)`` is such a division exactly
  when a step length is a tensor, and whether it is depends on the path (``t = min(1.0, 1.0 /
  g.abs().sum()) * lr`` is a tensor when the min picks the tensor, ``t = lr`` a Python number,
  ``min``/``max`` return one of their arguments, the line search starts from ``t_prev = 0``). The
  kernel tracks that flag for every step length of the line search;
* the one op that cannot be bit-exact is ``d2_square.sqrt()`` in ``_cubic_interpolate``
  (strong-Wolfe only): torch's MKL ``vmdSqrt`` differs by 1 ulp from the IEEE square root for
  ~1.3 % of inputs (those within ~0.03 ulp of a rounding midpoint). We use IEEE ``math.sqrt``.
  Usually the 1-ulp difference in a trial step changes nothing or moves the path by ~1e-16, but
  where the line search ends on a tiny bracket (far out on a plateau) it can change which trial
  point is accepted and then the path. With torch's sqrt replaced by the IEEE one, strong-Wolfe
  runs are bit-exact (positions, trial points, evaluation counts, convergence): checked on
  ~17 000 random runs. Without a line search there is no sqrt: bit-exact against torch itself.

Convergence. Near a minimum torch's ``.step()`` keeps being called without moving: either the
gradient is below ``tolerance_grad`` at entry (it returns at once), or the first inner iteration's
directional derivative is above ``-tolerance_change`` (it breaks before moving). Both are fixed
points of torch's state: every later call repeats exactly the same (1 closure evaluation, no
move), whatever the lr. The run therefore stops recording there: if step k is such a no-op, rows
0..k-1 are kept and the run reports ``converged at step k-1`` (the last row, the point torch never
leaves). Other steps that happen not to move (lr 0, a line search returning t=0, a step lost to
rounding) are recorded as usual: they are not fixed points (an lr schedule may move them on).

Divergence (as ``engine._run``): a row whose point leaves the escape box or whose loss or gradient
is not finite is not recorded; the run reports ``diverged at step k`` with k rows kept. Inside a
step, torch's arithmetic runs as in torch: trial points may be far away or non-finite.
"""

import math

import numpy as np
from numba import njit

from simulator.builtin_surfaces import SURFACE_FUNCTIONS
from simulator.evaluation import surface_eval
from simulator.kernels import keyed_to
from simulator.numerics import add_scaled
from simulator.params import CHOICE, FLOAT, INT, Param, coerce_given
from simulator.plateau import plateau_start, plateau_step

NAME = "LBFGS"

# ---- options --------------------------------------------------------------------------------

STRONG_WOLFE = "strong_wolfe"
LINE_SEARCH_CHOICES = (None, STRONG_WOLFE)
MAX_COUNT = 1_000_000  # simulator limit on max_iter, max_eval, history_size (torch has none)


LBFGS_OPTIONS: tuple[Param, ...] = (
    Param(
        "lr", 1, "step length of every inner iteration (first one: min(1, 1/|g|₁)·lr); "
        "with strong_wolfe, the line search's first trial step",
        kind=FLOAT, minimum=0.0, scale="log", typical=(1e-4, 10.0),
        torch_error="Invalid learning rate: {value}",
    ),
    Param(
        "max_iter", 20, "inner iterations per .step() call", kind=INT, minimum=1,
        maximum=MAX_COUNT, typical=(1, 100),
    ),
    Param(
        "max_eval", None, "closure evaluations per .step() call before it stops iterating",
        kind=INT, minimum=1, maximum=MAX_COUNT, typical=(1, 125), none_allowed=True,
        none_means="max_iter*5//4",
    ),
    Param(
        "tolerance_grad", 1e-7, "stop when every gradient component is at most this (in size)",
        kind=FLOAT, minimum=0.0, scale="log", typical=(1e-12, 1e-2),
    ),
    Param(
        "tolerance_change", 1e-9,
        "stop when the step, the loss change or the directional derivative is below this",
        kind=FLOAT, minimum=0.0, scale="log", typical=(1e-15, 1e-3),
    ),
    Param(
        "history_size", 100, "number of past (step, gradient change) pairs kept", kind=INT,
        minimum=1, maximum=MAX_COUNT, typical=(1, 100),
    ),
    Param(
        "line_search_fn", None, "none: fixed steps of lr; strong_wolfe: a line search per iteration",
        kind=CHOICE, choices=LINE_SEARCH_CHOICES,
        torch_error="only 'strong_wolfe' is supported",
    ),
)

# What the options vector of run_lbfgs holds, in order (max_eval resolved, line search as 0/1).
OPTION_SLOTS = ("max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size",
                "line_search_fn")


def resolve_lbfgs_options(options: dict | None = None) -> dict:
    """torch's defaults merged with ``options``, checked; raises SimulatorError naming the option.

    torch itself only refuses a negative lr (ValueError in ``__init__``). The other refusals are
    values torch accepts but then fails on or never moves with: history_size < 1 (IndexError /
    TypeError in ``step``), an unknown line_search_fn (RuntimeError in ``step``), max_iter < 1
    (``step`` never iterates), max_eval < 1 (strong_wolfe: UnboundLocalError), non-integers where
    torch uses ints, negative tolerances, and counts above :data:`MAX_COUNT`. The result has
    max_eval resolved (None -> max_iter*5//4, as torch stores it in ``param_groups``).
    """
    values = {o.name: o.default for o in LBFGS_OPTIONS}
    values.update(coerce_given(LBFGS_OPTIONS, options, NAME))
    complete_options(values)
    return values


def complete_options(values: dict) -> None:
    """Checked ``values`` as torch stores them in ``param_groups``: max_eval None -> max_iter*5//4."""
    values["lr"] = float(values["lr"])
    if values["max_eval"] is None:
        values["max_eval"] = values["max_iter"] * 5 // 4  # >= 1 since max_iter >= 1


def pack_lbfgs_options(values: dict) -> np.ndarray:
    """The ``options_vector`` of :func:`run_lbfgs` for resolved ``values`` (see OPTION_SLOTS)."""
    return np.array([
        values["max_iter"], values["max_eval"], values["tolerance_grad"], values["tolerance_change"],
        values["history_size"], 1.0 if values["line_search_fn"] == STRONG_WOLFE else 0.0,
    ], dtype=np.float64)


# ---- compiled kernel ------------------------------------------------------------------------

OK, DIVERGED, CONVERGED = 0, 1, 2
# One column per row: torch's state after the row's .step() (0 where torch has None: row 0).
STATE_NAMES = ("n_iter", "func_evals", "t", "H_diag", "d_x", "d_y", "history")
_STATE_SIZE = 7

# scalar state slots (float array) and integer slots (int64 array)
_T, _H_DIAG, _PREV_LOSS = 0, 1, 2
_N_ITER, _FUNC_EVALS, _HEAD, _NUM, _TRIALS = 0, 1, 2, 3, 4

_C1, _C2, _LS_TOLERANCE_CHANGE = 1e-4, 0.9, 1e-9  # _strong_wolfe's defaults; LBFGS.step passes none


@njit(cache=True, error_model="numpy")
def _py_max(a, b):
    """Python's max(a, b): a unless b > a."""
    return b if b > a else a


@njit(cache=True, error_model="numpy")
def _py_min(a, b):
    """Python's min(a, b): a unless b < a."""
    return b if b < a else a


@njit(cache=True, error_model="numpy")
def _abs_max(a, b):
    """torch ``tensor([a, b]).abs().max()``: NaN wins."""
    a, b = abs(a), abs(b)
    if a != a or b != b:
        return np.nan
    return b if b > a else a


@njit(cache=True, error_model="numpy")
def _dot(a0, a1, b0, b1):
    """``a.dot(b)`` for two float64 2-vectors as torch (MKL ddot) rounds it: not fused."""
    return a0 * b0 + a1 * b1


@keyed_to(SURFACE_FUNCTIONS)  # it evaluates the built-in surfaces, as do the callers marked so
@njit(cache=True, error_model="numpy")
def _closure(surface, params, x, y, trial_xy, trial_loss, ints):
    """The closure: loss and gradient at (x, y), the point recorded as a trial point."""
    n = ints[_TRIALS]
    trial_xy[n, 0] = x
    trial_xy[n, 1] = y
    value, gx, gy = surface_eval(surface, x, y, params)  # a built-in id or FormulaFunctions
    trial_loss[n] = value
    ints[_TRIALS] = n + 1
    return value, gx, gy


@njit(cache=True, error_model="numpy")
def _cubic_interpolate(x1, x1_tensor, f1, g1, x2, x2_tensor, f2, g2, has_bounds, xmin_bound,
                       xmin_tensor, xmax_bound, xmax_tensor):
    """torch.optim.lbfgs._cubic_interpolate (bounds given when ``has_bounds``).

    The ``*_tensor`` flags say whether a step length is a 0-dim tensor in torch rather than a
    Python number: ``3 * (f1 - f2) / (x1 - x2)`` with a tensor divisor is ``Tensor.__rtruediv__``,
    a reciprocal then a product, which rounds differently from a true division. Returns the new
    step and whether torch holds it as a tensor (Python's min/max return one of their arguments).
    """
    if not has_bounds:
        if x1 <= x2:
            xmin_bound, xmin_tensor, xmax_bound, xmax_tensor = x1, x1_tensor, x2, x2_tensor
        else:
            xmin_bound, xmin_tensor, xmax_bound, xmax_tensor = x2, x2_tensor, x1, x1_tensor
    if x1_tensor or x2_tensor:
        slope_term = (1.0 / (x1 - x2)) * (3.0 * (f1 - f2))
    else:
        slope_term = 3.0 * (f1 - f2) / (x1 - x2)
    d1 = g1 + g2 - slope_term
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)  # torch: MKL vmdSqrt, 1 ulp off for ~1.3 % of inputs
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        # min(max(min_pos, xmin_bound), xmax_bound); min_pos is a tensor (the g's are)
        value, tensor = min_pos, True
        if xmin_bound > value:
            value, tensor = xmin_bound, xmin_tensor
        if xmax_bound < value:
            value, tensor = xmax_bound, xmax_tensor
        return value, tensor
    return (xmin_bound + xmax_bound) / 2.0, xmin_tensor or xmax_tensor


@keyed_to(SURFACE_FUNCTIONS)
@njit(cache=True, error_model="numpy")
def _strong_wolfe(surface, params, x0, x1, t, t_tensor, d0, d1, f, g0, g1, gtd, max_ls, fused,
                  trial_xy, trial_loss, ints):
    """torch.optim.lbfgs._strong_wolfe; returns (f_new, g_new x, g_new y, t, ls_func_evals).

    ``t_tensor``: whether torch holds the initial step as a 0-dim tensor (see _cubic_interpolate).
    """
    c1, c2, tolerance_change = _C1, _C2, _LS_TOLERANCE_CHANGE
    d_norm = _abs_max(d0, d1)
    f_new, gn0, gn1 = _closure(surface, params, add_scaled(x0, d0, t, fused),
                               add_scaled(x1, d1, t, fused), trial_xy, trial_loss, ints)
    ls_func_evals = 1
    gtd_new = _dot(gn0, gn1, d0, d1)

    # t_prev starts as the Python int 0
    t_prev, t_prev_tensor, f_prev, gp0, gp1, gtd_prev = 0.0, False, f, g0, g1, gtd
    done = False
    ls_iter = 0
    # the bracket: one or two entries (t, is t a tensor, f, g, gtd)
    b_t = np.zeros(2)
    b_tensor = np.zeros(2, dtype=np.bool_)
    b_f = np.zeros(2)
    b_g = np.zeros((2, 2))
    b_gtd = np.zeros(2)
    size = 0
    while ls_iter < max_ls:
        # check conditions
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            size = 2
        elif abs(gtd_new) <= -c2 * gtd:
            size = 1
            done = True
        elif gtd_new >= 0:
            size = 2
        if size == 2:
            b_t[0], b_tensor[0], b_f[0], b_gtd[0] = t_prev, t_prev_tensor, f_prev, gtd_prev
            b_t[1], b_tensor[1], b_f[1], b_gtd[1] = t, t_tensor, f_new, gtd_new
            b_g[0, 0], b_g[0, 1], b_g[1, 0], b_g[1, 1] = gp0, gp1, gn0, gn1
            break
        if size == 1:
            b_t[0], b_tensor[0], b_f[0], b_g[0, 0], b_g[0, 1] = t, t_tensor, f_new, gn0, gn1
            break

        # interpolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10.0
        tmp, tmp_tensor = t, t_tensor
        t, t_tensor = _cubic_interpolate(
            t_prev, t_prev_tensor, f_prev, gtd_prev, t, t_tensor, f_new, gtd_new, True,
            min_step, t_tensor or t_prev_tensor, max_step, t_tensor,
        )

        # next step
        t_prev, t_prev_tensor, f_prev, gp0, gp1, gtd_prev = tmp, tmp_tensor, f_new, gn0, gn1, gtd_new
        f_new, gn0, gn1 = _closure(surface, params, add_scaled(x0, d0, t, fused),
                                   add_scaled(x1, d1, t, fused), trial_xy, trial_loss, ints)
        ls_func_evals += 1
        gtd_new = _dot(gn0, gn1, d0, d1)
        ls_iter += 1

    # reached max number of iterations?
    if ls_iter == max_ls:
        size = 2
        b_t[0], b_tensor[0], b_f[0] = 0.0, False, f
        b_t[1], b_tensor[1], b_f[1] = t, t_tensor, f_new
        b_g[0, 0], b_g[0, 1], b_g[1, 0], b_g[1, 1] = g0, g1, gn0, gn1
        # torch leaves bracket_gtd unset here; the zoom below cannot run (ls_iter == max_ls)

    # zoom phase
    insuf_progress = False
    if size == 1 or b_f[0] <= b_f[1]:  # torch: bracket_f[0] <= bracket_f[-1]
        low, high = 0, 1
    else:
        low, high = 1, 0
    while not done and ls_iter < max_ls:
        # line-search bracket is so small
        if abs(b_t[1] - b_t[0]) * d_norm < tolerance_change:
            break

        # compute new trial value
        t, t_tensor = _cubic_interpolate(
            b_t[0], b_tensor[0], b_f[0], b_gtd[0], b_t[1], b_tensor[1], b_f[1], b_gtd[1], False,
            0.0, False, 0.0, False,
        )

        # max(bracket) / min(bracket): Python keeps the first unless the second is larger/smaller
        if b_t[1] > b_t[0]:
            b_max, b_max_tensor = b_t[1], b_tensor[1]
        else:
            b_max, b_max_tensor = b_t[0], b_tensor[0]
        if b_t[1] < b_t[0]:
            b_min, b_min_tensor = b_t[1], b_tensor[1]
        else:
            b_min, b_min_tensor = b_t[0], b_tensor[0]
        eps = 0.1 * (b_max - b_min)
        eps_tensor = b_max_tensor or b_min_tensor
        if _py_min(b_max - t, t - b_min) < eps:
            # interpolation close to boundary
            if insuf_progress or t >= b_max or t <= b_min:
                # evaluate at 0.1 away from boundary
                if abs(t - b_max) < abs(t - b_min):
                    t, t_tensor = b_max - eps, b_max_tensor or eps_tensor
                else:
                    t, t_tensor = b_min + eps, b_min_tensor or eps_tensor
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        # evaluate new point
        f_new, gn0, gn1 = _closure(surface, params, add_scaled(x0, d0, t, fused),
                                   add_scaled(x1, d1, t, fused), trial_xy, trial_loss, ints)
        ls_func_evals += 1
        gtd_new = _dot(gn0, gn1, d0, d1)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= b_f[low]:
            # Armijo condition not satisfied or not lower than lowest point
            b_t[high], b_tensor[high], b_f[high], b_gtd[high] = t, t_tensor, f_new, gtd_new
            b_g[high, 0], b_g[high, 1] = gn0, gn1
            if b_f[0] <= b_f[1]:
                low, high = 0, 1
            else:
                low, high = 1, 0
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # Wolfe conditions satisfied
            elif gtd_new * (b_t[high] - b_t[low]) >= 0:
                # old high becomes new low
                b_t[high], b_tensor[high] = b_t[low], b_tensor[low]
                b_f[high], b_gtd[high] = b_f[low], b_gtd[low]
                b_g[high, 0], b_g[high, 1] = b_g[low, 0], b_g[low, 1]
            # new point becomes new low
            b_t[low], b_tensor[low], b_f[low], b_gtd[low] = t, t_tensor, f_new, gtd_new
            b_g[low, 0], b_g[low, 1] = gn0, gn1

    return b_f[low], b_g[low, 0], b_g[low, 1], b_t[low], ls_func_evals


@keyed_to(SURFACE_FUNCTIONS)
@njit(cache=True, error_model="numpy")
def _lbfgs_step(surface, params, p, lr, max_iter, max_eval, tolerance_grad, tolerance_change,
                strong_wolfe, fused, d, prev_g, floats, ints, old_dirs, old_stps, ro, al,
                trial_xy, trial_loss):
    """One torch ``LBFGS.step(closure)``; moves ``p`` and the state in place.

    Returns (closure evaluations spent, stalled): ``stalled`` when the call returned before its
    first move on a path every later call repeats (see the module docstring).
    """
    capacity = ro.shape[0]
    loss, g0, g1 = _closure(surface, params, p[0], p[1], trial_xy, trial_loss, ints)
    current_evals = 1
    ints[_FUNC_EVALS] += 1
    if abs(g0) <= tolerance_grad and abs(g1) <= tolerance_grad:  # abs().max() <= tol, NaN: False
        return current_evals, True

    t = floats[_T]
    h_diag = floats[_H_DIAG]
    opt_cond = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        ints[_N_ITER] += 1

        # compute gradient descent direction
        if ints[_N_ITER] == 1:
            d[0], d[1] = -g0, -g1
            ints[_HEAD] = 0
            ints[_NUM] = 0
            h_diag = 1.0
        else:
            y0, y1 = g0 - prev_g[0], g1 - prev_g[1]
            s0, s1 = d[0] * t, d[1] * t
            ys = _dot(y0, y1, s0, s1)
            if ys > 1e-10:
                if ints[_NUM] == capacity:  # drop the oldest pair
                    ints[_HEAD] = (ints[_HEAD] + 1) % capacity
                    ints[_NUM] -= 1
                slot = (ints[_HEAD] + ints[_NUM]) % capacity
                old_dirs[slot, 0], old_dirs[slot, 1] = y0, y1
                old_stps[slot, 0], old_stps[slot, 1] = s0, s1
                ro[slot] = 1.0 / ys
                ints[_NUM] += 1
                h_diag = ys / _dot(y0, y1, y0, y1)
            head, num = ints[_HEAD], ints[_NUM]
            q0, q1 = -g0, -g1
            for i in range(num - 1, -1, -1):
                slot = (head + i) % capacity
                al[i] = _dot(old_stps[slot, 0], old_stps[slot, 1], q0, q1) * ro[slot]
                q0 = add_scaled(q0, old_dirs[slot, 0], -al[i], fused)
                q1 = add_scaled(q1, old_dirs[slot, 1], -al[i], fused)
            r0, r1 = q0 * h_diag, q1 * h_diag
            for i in range(num):
                slot = (head + i) % capacity
                be_i = _dot(old_dirs[slot, 0], old_dirs[slot, 1], r0, r1) * ro[slot]
                r0 = add_scaled(r0, old_stps[slot, 0], al[i] - be_i, fused)
                r1 = add_scaled(r1, old_stps[slot, 1], al[i] - be_i, fused)
            d[0], d[1] = r0, r1

        prev_g[0], prev_g[1] = g0, g1
        prev_loss = loss
        floats[_PREV_LOSS] = prev_loss

        # compute step length
        # (torch: a 0-dim tensor when the min picks 1/|g|₁, else a Python number)
        t_tensor = False
        if ints[_N_ITER] == 1:
            inverse_abs_sum = 1.0 / (abs(g0) + abs(g1))
            t_tensor = inverse_abs_sum < 1.0
            t = _py_min(1.0, inverse_abs_sum) * lr
        else:
            t = lr

        gtd = _dot(g0, g1, d[0], d[1])
        if gtd > -tolerance_change:
            if n_iter == 1:
                floats[_T] = t
                floats[_H_DIAG] = h_diag
                return current_evals, True
            break

        ls_func_evals = 0
        if strong_wolfe:
            loss, g0, g1, t, ls_func_evals = _strong_wolfe(
                surface, params, p[0], p[1], t, t_tensor, d[0], d[1], loss, g0, g1, gtd,
                max_eval - current_evals, fused, trial_xy, trial_loss, ints,
            )
            p[0] = add_scaled(p[0], d[0], t, fused)
            p[1] = add_scaled(p[1], d[1], t, fused)
            opt_cond = abs(g0) <= tolerance_grad and abs(g1) <= tolerance_grad
        else:
            p[0] = add_scaled(p[0], d[0], t, fused)
            p[1] = add_scaled(p[1], d[1], t, fused)
            if n_iter != max_iter:
                loss, g0, g1 = _closure(surface, params, p[0], p[1], trial_xy, trial_loss, ints)
                opt_cond = abs(g0) <= tolerance_grad and abs(g1) <= tolerance_grad
                ls_func_evals = 1

        current_evals += ls_func_evals
        ints[_FUNC_EVALS] += ls_func_evals

        # check conditions
        if n_iter == max_iter:
            break
        if current_evals >= max_eval:
            break
        if opt_cond:
            break
        if abs(d[0] * t) <= tolerance_change and abs(d[1] * t) <= tolerance_change:
            break  # lack of progress: d.mul(t).abs().max() <= tolerance_change
        if abs(loss - prev_loss) < tolerance_change:
            break

    floats[_T] = t
    floats[_H_DIAG] = h_diag
    return current_evals, False


@njit(cache=True, error_model="numpy")
def _row_ok(x, y, escape):
    return abs(x - escape[0]) <= escape[2] and abs(y - escape[1]) <= escape[2]  # False for NaN


@keyed_to(SURFACE_FUNCTIONS)
@njit(cache=True, error_model="numpy", nogil=True)  # nogil: run in the Simulator tab's worker thread
def run_lbfgs(surface, surface_params, start, steps, lrs, options_vector, fused, escape, plateau):
    """``steps`` calls of torch's ``LBFGS.step(closure)`` from ``start``; ``lrs[k]`` is step k's lr.

    ``options_vector``: :func:`pack_lbfgs_options`. ``escape``: ``evaluation.escape_box(surface)``.
    Returns ``(xy, loss, grad, state, evals, trial_xy, trial_loss, trial_offset, trial_count,
    rows, status, event_step)``: per row k the point, its loss and gradient, torch's state after
    step k (STATE_NAMES), the closure evaluations step k spent and where its evaluated points
    are in ``trial_xy``/``trial_loss`` (``trial_offset[k]``, ``trial_count[k]``; the first one of
    a step is the point it started from, row k-1). ``status`` OK / DIVERGED / CONVERGED with
    ``event_step`` the diverged step (= rows) or the converged row (= rows - 1); -1 for OK.
    ``plateau``: a ReduceLROnPlateau vector (``schedules.plateau_vector``), or empty for none; it
    is stepped with the loss of each reached row and writes the lr of the next step into ``lrs``.
    """
    max_iter = int(options_vector[0])
    max_eval = int(options_vector[1])
    tolerance_grad = options_vector[2]
    tolerance_change = options_vector[3]
    history_size = int(options_vector[4])
    strong_wolfe = options_vector[5] != 0.0

    total = steps + 1
    xy = np.empty((total, 2))
    loss = np.empty(total)
    grad = np.empty((total, 2))
    state = np.zeros((total, _STATE_SIZE))
    evals = np.zeros(total, dtype=np.int64)
    trial_offset = np.zeros(total, dtype=np.int64)
    trial_count = np.zeros(total, dtype=np.int64)

    # at most one history pair per inner iteration: no need for more room than that
    capacity = max(1, min(history_size, steps * max_iter))
    old_dirs = np.zeros((capacity, 2))
    old_stps = np.zeros((capacity, 2))
    ro = np.zeros(capacity)
    al = np.zeros(capacity)
    d = np.zeros(2)
    prev_g = np.zeros(2)
    floats = np.zeros(3)
    ints = np.zeros(5, dtype=np.int64)

    per_step = max(max_iter, max_eval + 1)  # closure evaluations one .step() can spend
    room = min(max(1024, 4 * per_step), total * per_step)
    trial_xy = np.empty((room, 2))
    trial_loss = np.empty(room)

    has_plateau = plateau.shape[0] > 0
    plateau_state = plateau_start(plateau)
    p = start.copy()
    rows = 0
    status = OK
    event = -1
    for k in range(total):
        if k > 0:
            if ints[_TRIALS] + per_step > trial_loss.shape[0]:
                room = max(2 * trial_loss.shape[0], ints[_TRIALS] + per_step)
                grown_xy = np.empty((room, 2))
                grown_loss = np.empty(room)
                grown_xy[: ints[_TRIALS]] = trial_xy[: ints[_TRIALS]]
                grown_loss[: ints[_TRIALS]] = trial_loss[: ints[_TRIALS]]
                trial_xy, trial_loss = grown_xy, grown_loss
            offset = ints[_TRIALS]
            spent, stalled = _lbfgs_step(
                surface, surface_params, p, lrs[k], max_iter, max_eval, tolerance_grad,
                tolerance_change, strong_wolfe, fused, d, prev_g, floats, ints, old_dirs, old_stps,
                ro, al, trial_xy, trial_loss,
            )
            if stalled:
                ints[_TRIALS] = offset
                status = CONVERGED
                event = k - 1
                break
            evals[k] = spent
            trial_offset[k] = offset
            trial_count[k] = ints[_TRIALS] - offset
        x, y = p[0], p[1]
        if not _row_ok(x, y, escape):
            status = DIVERGED
            break
        value, gx, gy = surface_eval(surface, x, y, surface_params)
        if not (math.isfinite(value) and math.isfinite(gx) and math.isfinite(gy)):
            status = DIVERGED
            break
        xy[k, 0], xy[k, 1] = x, y
        loss[k] = value
        grad[k, 0], grad[k, 1] = gx, gy
        state[k, 0] = ints[_N_ITER]
        state[k, 1] = ints[_FUNC_EVALS]
        if k > 0:
            state[k, 2] = floats[_T]
            state[k, 3] = floats[_H_DIAG]
            state[k, 4] = d[0]
            state[k, 5] = d[1]
            state[k, 6] = ints[_NUM]
            if has_plateau and k + 1 < total:
                lrs[k + 1] = plateau_step(plateau, plateau_state, value, lrs[k])
        rows = k + 1
    if status == DIVERGED:
        event = rows
        ints[_TRIALS] = trial_offset[rows - 1] + trial_count[rows - 1] if rows > 0 else 0
    used = ints[_TRIALS]
    return (xy[:rows], loss[:rows], grad[:rows], state[:rows], evals[:rows], trial_xy[:used].copy(),
            trial_loss[:used].copy(), trial_offset[:rows], trial_count[:rows], rows, status, event)
