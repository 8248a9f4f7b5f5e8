"""The built-in 2-D test surfaces: one table entry each, the id dispatch generated from the table.

A surface is a value ``f(x, y, params) -> float`` and a hand-derived gradient ``g(x, y, params) ->
(gx, gy)``, compiled with Numba, all with one signature (``params`` a 1-D float64 array, empty for
most), and one :class:`Entry` in :data:`TABLE` (formula, view bounds, published minima, default
start, contour hint, parameters). Adding a surface is its two functions and its entry: the names,
:data:`SURFACES`, the ids and the dispatch that compiled loops call (:func:`surface_value` /
:func:`surface_grad` by integer id, the entry's index in the table) all follow from the table.
Formulas and published minima: shared/reference/test-surfaces.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numba
import numpy as np

from simulator.surface import Surface

TWO_PI = 2.0 * math.pi
THREE_PI = 3.0 * math.pi


# --- values and gradients -------------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def _rosenbrock(x, y, params):
    a, b = params[0], params[1]
    return (a - x) ** 2 + b * (y - x * x) ** 2


@numba.njit(cache=True, error_model="numpy")
def _rosenbrock_grad(x, y, params):
    a, b = params[0], params[1]
    valley = y - x * x
    return -2.0 * (a - x) - 4.0 * b * x * valley, 2.0 * b * valley


@numba.njit(cache=True, error_model="numpy")
def _rastrigin(x, y, params):
    A = params[0]
    return 2.0 * A + x * x - A * math.cos(TWO_PI * x) + y * y - A * math.cos(TWO_PI * y)


@numba.njit(cache=True, error_model="numpy")
def _rastrigin_grad(x, y, params):
    A = params[0]
    return 2.0 * x + TWO_PI * A * math.sin(TWO_PI * x), 2.0 * y + TWO_PI * A * math.sin(TWO_PI * y)


@numba.njit(cache=True, error_model="numpy")
def _himmelblau(x, y, params):
    return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2


@numba.njit(cache=True, error_model="numpy")
def _himmelblau_grad(x, y, params):
    u = x * x + y - 11.0
    v = x + y * y - 7.0
    return 4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v


@numba.njit(cache=True, error_model="numpy")
def _beale(x, y, params):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


@numba.njit(cache=True, error_model="numpy")
def _beale_grad(x, y, params):
    t1 = 1.5 - x + x * y
    t2 = 2.25 - x + x * y**2
    t3 = 2.625 - x + x * y**3
    gx = 2.0 * (t1 * (y - 1.0) + t2 * (y**2 - 1.0) + t3 * (y**3 - 1.0))
    gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y**2 * t3)
    return gx, gy


@numba.njit(cache=True, error_model="numpy")
def _booth(x, y, params):
    return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2


@numba.njit(cache=True, error_model="numpy")
def _booth_grad(x, y, params):
    u = x + 2.0 * y - 7.0
    v = 2.0 * x + y - 5.0
    return 2.0 * u + 4.0 * v, 4.0 * u + 2.0 * v


@numba.njit(cache=True, error_model="numpy")
def _ackley(x, y, params):
    r = math.sqrt(0.5 * (x * x + y * y))
    waves = 0.5 * (math.cos(TWO_PI * x) + math.cos(TWO_PI * y))
    return -20.0 * math.exp(-0.2 * r) - math.exp(waves) + math.e + 20.0


@numba.njit(cache=True, error_model="numpy")
def _ackley_grad(x, y, params):
    """Gradient of Ackley; (0, 0) at the origin.

    The cone term −20 exp(−0.2 r) has no derivative at the origin (its derivative there would
    be 0/0). The origin is the global minimum, so 0 is a valid subgradient and it is returned
    instead of NaN. hypot keeps x/h bounded by 1 even when x² would underflow.
    """
    h = math.hypot(x, y)
    if h == 0.0:
        ux = uy = 0.0
    else:
        ux, uy = x / h, y / h
    # d/dx of −20 exp(−0.2 √(h²/2)) = 2√2 exp(−0.2 h/√2) · x/h
    cone = 2.0 * math.sqrt(2.0) * math.exp(-0.2 * h / math.sqrt(2.0))
    waves = math.pi * math.exp(0.5 * (math.cos(TWO_PI * x) + math.cos(TWO_PI * y)))
    return cone * ux + waves * math.sin(TWO_PI * x), cone * uy + waves * math.sin(TWO_PI * y)


@numba.njit(cache=True, error_model="numpy")
def _goldstein_price_parts(x, y):
    s = x + y + 1.0
    d = 2.0 * x - 3.0 * y
    p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
    q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
    return s, d, p, q


@numba.njit(cache=True, error_model="numpy")
def _goldstein_price(x, y, params):
    s, d, p, q = _goldstein_price_parts(x, y)
    return (1.0 + s * s * p) * (30.0 + d * d * q)


@numba.njit(cache=True, error_model="numpy")
def _goldstein_price_grad(x, y, params):
    s, d, p, q = _goldstein_price_parts(x, y)
    left = 1.0 + s * s * p
    right = 30.0 + d * d * q
    # ∂p/∂x = ∂p/∂y and ∂s/∂x = ∂s/∂y, so the left factor moves alike in x and y
    dleft = 2.0 * s * p + s * s * (-14.0 + 6.0 * x + 6.0 * y)
    dright_x = 4.0 * d * q + d * d * (-32.0 + 24.0 * x - 36.0 * y)
    dright_y = -6.0 * d * q + d * d * (48.0 - 36.0 * x + 54.0 * y)
    return dleft * right + left * dright_x, dleft * right + left * dright_y


@numba.njit(cache=True, error_model="numpy")
def _matyas(x, y, params):
    return 0.26 * (x * x + y * y) - 0.48 * x * y


@numba.njit(cache=True, error_model="numpy")
def _matyas_grad(x, y, params):
    return 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x


@numba.njit(cache=True, error_model="numpy")
def _three_hump_camel(x, y, params):
    return 2.0 * x**2 - 1.05 * x**4 + x**6 / 6.0 + x * y + y * y


@numba.njit(cache=True, error_model="numpy")
def _three_hump_camel_grad(x, y, params):
    return 4.0 * x - 4.2 * x**3 + x**5 + y, x + 2.0 * y


@numba.njit(cache=True, error_model="numpy")
def _six_hump_camel(x, y, params):
    return (4.0 - 2.1 * x**2 + x**4 / 3.0) * x**2 + x * y + (-4.0 + 4.0 * y**2) * y**2


@numba.njit(cache=True, error_model="numpy")
def _six_hump_camel_grad(x, y, params):
    return 8.0 * x - 8.4 * x**3 + 2.0 * x**5 + y, x - 8.0 * y + 16.0 * y**3


@numba.njit(cache=True, error_model="numpy")
def _styblinski_tang(x, y, params):
    return 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x + y**4 - 16.0 * y**2 + 5.0 * y)


@numba.njit(cache=True, error_model="numpy")
def _styblinski_tang_grad(x, y, params):
    return 2.0 * x**3 - 16.0 * x + 2.5, 2.0 * y**3 - 16.0 * y + 2.5


@numba.njit(cache=True, error_model="numpy")
def _levi13(x, y, params):
    return (
        math.sin(THREE_PI * x) ** 2
        + (x - 1.0) ** 2 * (1.0 + math.sin(THREE_PI * y) ** 2)
        + (y - 1.0) ** 2 * (1.0 + math.sin(TWO_PI * y) ** 2)
    )


@numba.njit(cache=True, error_model="numpy")
def _levi13_grad(x, y, params):
    # d/dt sin²(kt) = k sin(2kt)
    gx = THREE_PI * math.sin(2.0 * THREE_PI * x) + 2.0 * (x - 1.0) * (
        1.0 + math.sin(THREE_PI * y) ** 2
    )
    gy = (
        (x - 1.0) ** 2 * THREE_PI * math.sin(2.0 * THREE_PI * y)
        + 2.0 * (y - 1.0) * (1.0 + math.sin(TWO_PI * y) ** 2)
        + (y - 1.0) ** 2 * TWO_PI * math.sin(2.0 * TWO_PI * y)
    )
    return gx, gy


@numba.njit(cache=True, error_model="numpy")
def _mccormick(x, y, params):
    return math.sin(x + y) + (x - y) ** 2 - 1.5 * x + 2.5 * y + 1.0


@numba.njit(cache=True, error_model="numpy")
def _mccormick_grad(x, y, params):
    c = math.cos(x + y)
    return c + 2.0 * (x - y) - 1.5, c - 2.0 * (x - y) + 2.5


@numba.njit(cache=True, error_model="numpy")
def _quadratic(x, y, params):
    return 0.5 * (params[0] * x * x + params[1] * y * y)


@numba.njit(cache=True, error_model="numpy")
def _quadratic_grad(x, y, params):
    return params[0] * x, params[1] * y


@numba.njit(cache=True, error_model="numpy")
def _saddle(x, y, params):
    return x * x - y * y


@numba.njit(cache=True, error_model="numpy")
def _saddle_grad(x, y, params):
    return 2.0 * x, -2.0 * y


@numba.njit(cache=True, error_model="numpy")
def _monkey_saddle(x, y, params):
    return x**3 - 3.0 * x * y * y


@numba.njit(cache=True, error_model="numpy")
def _monkey_saddle_grad(x, y, params):
    return 3.0 * (x * x - y * y), -6.0 * x * y


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One built-in surface as written down; :data:`SURFACES` holds the :class:`Surface` made of it.

    ``polynomial``: f and its gradient use only + − × and whole powers (no libm call), so
    simulate_many may evaluate a block of points in one vectorised loop and still agree bit for bit
    with simulate() (a vectorised sin or exp may come from another maths library).
    """

    name: str
    value: Callable
    grad: Callable
    formula: str
    bounds: tuple[float, float, float, float]
    minima: tuple[tuple[float, float, float], ...]
    start: tuple[float, float]  # where a run starts unless told otherwise: shows the surface's character
    description: str
    log_levels: bool = False
    params: Mapping[str, float] = field(default_factory=dict)
    polynomial: bool = False


TABLE: tuple[Entry, ...] = (
    Entry("rosenbrock", _rosenbrock, _rosenbrock_grad, "(a − x)² + b (y − x²)²", (-2, 2, -1, 3),
          [(1, 1, 0)], (-1.5, 2.0), "narrow curved valley; the classic test of momentum",
          log_levels=True, params={"a": 1.0, "b": 100.0}, polynomial=True),
    Entry("rastrigin", _rastrigin, _rastrigin_grad, "2A + x² − A cos 2πx + y² − A cos 2πy",
          (-5.12, 5.12, -5.12, 5.12), [(0, 0, 0)], (3.3, -2.6),
          "bowl covered in a regular grid of local minima; tests escaping traps", params={"A": 10.0}),
    Entry("himmelblau", _himmelblau, _himmelblau_grad, "(x² + y − 11)² + (x + y² − 7)²", (-5, 5, -5, 5),
          [(3, 2, 0), (-2.805118, 3.131312, 0), (-3.779310, -3.283186, 0), (3.584428, -1.848126, 0)],
          (0.0, 0.0), "four equal minima; which one you reach depends on the start",
          log_levels=True, polynomial=True),
    Entry("beale", _beale, _beale_grad, "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
          (-4.5, 4.5, -4.5, 4.5), [(3, 0.5, 0)], (1.0, 1.5),
          "flat plateau between steep ridges; steps must adapt to scale", log_levels=True, polynomial=True),
    Entry("booth", _booth, _booth_grad, "(x + 2y − 7)² + (2x + y − 5)²", (-10, 10, -10, 10), [(1, 3, 0)],
          (-8.0, 8.0), "plain tilted bowl; an easy baseline", log_levels=True, polynomial=True),
    Entry("ackley", _ackley, _ackley_grad,
          "−20 exp(−0.2 √(0.5 (x² + y²))) − exp(0.5 (cos 2πx + cos 2πy)) + e + 20",
          (-5, 5, -5, 5), [(0, 0, 0)], (3.3, -2.6),
          "bumpy, nearly flat plain around one deep funnel; gradient 0 at the kink"),
    Entry("goldstein_price", _goldstein_price, _goldstein_price_grad,
          "[1 + (x + y + 1)² (19 − 14x + 3x² − 14y + 6xy + 3y²)] · "
          "[30 + (2x − 3y)² (18 − 32x + 12x² + 48y − 36xy + 27y²)]",
          (-2, 2, -2, 2), [(0, -1, 3)], (-1.2, 1.2),
          "values spanning six orders of magnitude around several local minima",
          log_levels=True, polynomial=True),
    Entry("matyas", _matyas, _matyas_grad, "0.26 (x² + y²) − 0.48 xy", (-10, 10, -10, 10), [(0, 0, 0)],
          (8.0, -6.0), "flat bowl stretched along the diagonal; slow going for plain descent",
          log_levels=True, polynomial=True),
    Entry("three_hump_camel", _three_hump_camel, _three_hump_camel_grad, "2x² − 1.05x⁴ + x⁶/6 + xy + y²",
          (-5, 5, -5, 5), [(0, 0, 0)], (2.5, -2.0),
          "global minimum flanked by two local ones; steep walls", log_levels=True, polynomial=True),
    Entry("six_hump_camel", _six_hump_camel, _six_hump_camel_grad,
          "(4 − 2.1x² + x⁴/3) x² + xy + (−4 + 4y²) y²", (-3, 3, -2, 2),
          [(0.0898, -0.7126, -1.0316), (-0.0898, 0.7126, -1.0316)], (-1.6, -1.2),
          "six local minima, two of them global and mirror images", log_levels=True, polynomial=True),
    Entry("styblinski_tang", _styblinski_tang, _styblinski_tang_grad, "½ (x⁴ − 16x² + 5x + y⁴ − 16y² + 5y)",
          (-5, 5, -5, 5), [(-2.903534, -2.903534, -78.33233)], (0.3, 0.2),
          "four basins of different depth; the deepest is not the nearest", polynomial=True),
    Entry("levi13", _levi13, _levi13_grad, "sin² 3πx + (x − 1)² (1 + sin² 3πy) + (y − 1)² (1 + sin² 2πy)",
          (-10, 10, -10, 10), [(1, 1, 0)], (-6.0, 6.0),
          "ripples on a bowl; many local minima on the way down", log_levels=True),
    Entry("mccormick", _mccormick, _mccormick_grad, "sin(x + y) + (x − y)² − 1.5x + 2.5y + 1",
          (-1.5, 4, -3, 4), [(-0.54719, -1.54719, -1.9133)], (3.0, 3.0),
          "tilted valley with a gentle sinusoidal bend"),
    Entry("quadratic", _quadratic, _quadratic_grad, "½ (a x² + b y²)", (-3, 3, -3, 3), [(0, 0, 0)],
          (-2.5, 1.5), "ill-conditioned bowl (condition number b/a); shows zig-zagging",
          params={"a": 1.0, "b": 10.0}, polynomial=True),
    Entry("saddle", _saddle, _saddle_grad, "x² − y²", (-2, 2, -2, 2), [], (-1.5, 0.001),
          "saddle point at the origin; unbounded below along y", polynomial=True),
    Entry("monkey_saddle", _monkey_saddle, _monkey_saddle_grad, "x³ − 3xy²", (-2, 2, -2, 2), [], (1.5, 0.05),
          "degenerate saddle at the origin with three descending valleys", polynomial=True),
)  # fmt: skip

SURFACE_NAMES: tuple[str, ...] = tuple(entry.name for entry in TABLE)
# The compiled pairs in table order, for whatever needs them by id (simulate_many's vectorised loops).
VALUE_FUNCTIONS: tuple[Callable, ...] = tuple(entry.value for entry in TABLE)
GRAD_FUNCTIONS: tuple[Callable, ...] = tuple(entry.grad for entry in TABLE)
POLYNOMIAL_IDS: tuple[int, ...] = tuple(i for i, entry in enumerate(TABLE) if entry.polynomial)
# What a cached loop that evaluates built-in surfaces compiles in: pass it to kernels.keyed_to, so that
# editing or adding a surface recompiles the loop (Numba by itself watches only the loop's own file).
SURFACE_FUNCTIONS: tuple[Callable, ...] = VALUE_FUNCTIONS + GRAD_FUNCTIONS


# --- dispatch by id, generated from the table, for compiled callers --------------------------------
# Numba cannot index a tuple of different functions with a run-time integer, so the dispatch is an
# if-chain: one small closure per surface, each inlined into the one before. It compiles to the code
# of the hand-written chain it replaced (engine._run: the same instructions up to register choice;
# the same ns per step) in the same compile time. The closures are not cached themselves: they are
# compiled into the cache=True functions below and their callers, which kernels.keyed_to keys to
# SURFACE_FUNCTIONS.


def dispatch_on_id(functions):
    """``f(surface_id, x, y, params)`` = ``functions[surface_id](x, y, params)``, compiled;
    ValueError for an id outside the table."""

    @numba.njit(inline="always")
    def unknown(surface_id, x, y, params):
        raise ValueError("unknown surface id")

    chain = unknown
    for surface_id in reversed(range(len(functions))):
        chain = _link(surface_id, functions[surface_id], chain)
    return chain


def _link(surface_id, function, rest):
    @numba.njit(inline="always")
    def link(which, x, y, params):
        if which == surface_id:
            return function(x, y, params)
        return rest(which, x, y, params)

    return link


_VALUE_BY_ID = dispatch_on_id(VALUE_FUNCTIONS)
_GRAD_BY_ID = dispatch_on_id(GRAD_FUNCTIONS)


@numba.njit(cache=True, error_model="numpy")
def surface_value(surface_id, x, y, params):
    """f(x, y) of the surface whose index in the table (and SURFACE_NAMES) is ``surface_id``."""
    return _VALUE_BY_ID(surface_id, x, y, params)


@numba.njit(cache=True, error_model="numpy")
def surface_grad(surface_id, x, y, params):
    """(∂f/∂x, ∂f/∂y) of the surface whose index in the table (and SURFACE_NAMES) is ``surface_id``."""
    return _GRAD_BY_ID(surface_id, x, y, params)


@numba.njit(cache=True, error_model="numpy")
def _grid(surface_id, xs, ys, params):
    z = np.empty((ys.size, xs.size))
    for i in range(ys.size):
        for j in range(xs.size):
            z[i, j] = surface_value(surface_id, xs[j], ys[i], params)
    return z


def _surface(surface_id: int, entry: Entry) -> Surface:
    return Surface(
        name=entry.name,
        surface_id=surface_id,
        formula=entry.formula,
        bounds=tuple(float(b) for b in entry.bounds),
        minima=tuple(tuple(float(v) for v in m) for m in entry.minima),
        param_names=tuple(entry.params),
        param_defaults=tuple(float(v) for v in entry.params.values()),
        description=entry.description,
        log_levels=entry.log_levels,
        default_start=tuple(float(v) for v in entry.start),
        value_fn=entry.value,
        grad_fn=entry.grad,
        grid_fn=functools.partial(_grid, surface_id),
    )


SURFACES: dict[str, Surface] = {entry.name: _surface(i, entry) for i, entry in enumerate(TABLE)}
