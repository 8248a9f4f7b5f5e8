"""The standard 2-D test surfaces: jitted values, hand-derived gradients, view bounds, minima.

Each surface has a value ``f(x, y, params) -> float`` and a gradient ``g(x, y, params) ->
(gx, gy)``, compiled with Numba, all with one signature (``params`` a 1-D float64 array, empty
for most), so the engine's compiled loop can reach any of them through :func:`surface_value` /
:func:`surface_grad` by integer id: the surface's index in :data:`SURFACE_NAMES`. Formulas and
published minima: shared/reference/test-surfaces.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numba
import numpy as np

from simulator.errors import SimulatorError

SURFACE_NAMES = (
    "rosenbrock", "rastrigin", "himmelblau", "beale", "booth", "ackley", "goldstein_price",
    "matyas", "three_hump_camel", "six_hump_camel", "styblinski_tang", "levi13", "mccormick",
    "quadratic", "saddle", "monkey_saddle",
)  # fmt: skip

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


# --- dispatch by id, for compiled callers ----------------------------------------------------
# Numba cannot index a tuple of different functions with a run-time integer, hence the chains.
# The order must match SURFACE_NAMES; tests check that it does.


@numba.njit(cache=True, error_model="numpy")
def surface_value(surface_id, x, y, params):
    """f(x, y) of the surface whose index in SURFACE_NAMES is ``surface_id``."""
    if surface_id == 0:
        return _rosenbrock(x, y, params)
    elif surface_id == 1:
        return _rastrigin(x, y, params)
    elif surface_id == 2:
        return _himmelblau(x, y, params)
    elif surface_id == 3:
        return _beale(x, y, params)
    elif surface_id == 4:
        return _booth(x, y, params)
    elif surface_id == 5:
        return _ackley(x, y, params)
    elif surface_id == 6:
        return _goldstein_price(x, y, params)
    elif surface_id == 7:
        return _matyas(x, y, params)
    elif surface_id == 8:
        return _three_hump_camel(x, y, params)
    elif surface_id == 9:
        return _six_hump_camel(x, y, params)
    elif surface_id == 10:
        return _styblinski_tang(x, y, params)
    elif surface_id == 11:
        return _levi13(x, y, params)
    elif surface_id == 12:
        return _mccormick(x, y, params)
    elif surface_id == 13:
        return _quadratic(x, y, params)
    elif surface_id == 14:
        return _saddle(x, y, params)
    elif surface_id == 15:
        return _monkey_saddle(x, y, params)
    raise ValueError("unknown surface id")


@numba.njit(cache=True, error_model="numpy")
def surface_grad(surface_id, x, y, params):
    """(∂f/∂x, ∂f/∂y) of the surface whose index in SURFACE_NAMES is ``surface_id``."""
    if surface_id == 0:
        return _rosenbrock_grad(x, y, params)
    elif surface_id == 1:
        return _rastrigin_grad(x, y, params)
    elif surface_id == 2:
        return _himmelblau_grad(x, y, params)
    elif surface_id == 3:
        return _beale_grad(x, y, params)
    elif surface_id == 4:
        return _booth_grad(x, y, params)
    elif surface_id == 5:
        return _ackley_grad(x, y, params)
    elif surface_id == 6:
        return _goldstein_price_grad(x, y, params)
    elif surface_id == 7:
        return _matyas_grad(x, y, params)
    elif surface_id == 8:
        return _three_hump_camel_grad(x, y, params)
    elif surface_id == 9:
        return _six_hump_camel_grad(x, y, params)
    elif surface_id == 10:
        return _styblinski_tang_grad(x, y, params)
    elif surface_id == 11:
        return _levi13_grad(x, y, params)
    elif surface_id == 12:
        return _mccormick_grad(x, y, params)
    elif surface_id == 13:
        return _quadratic_grad(x, y, params)
    elif surface_id == 14:
        return _saddle_grad(x, y, params)
    elif surface_id == 15:
        return _monkey_saddle_grad(x, y, params)
    raise ValueError("unknown surface id")


@numba.njit(cache=True, error_model="numpy")
def _grid(surface_id, xs, ys, params):
    z = np.empty((ys.size, xs.size))
    for i in range(ys.size):
        for j in range(xs.size):
            z[i, j] = surface_value(surface_id, xs[j], ys[i], params)
    return z


# --- specs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    """One test surface: its compiled functions and what a view of it needs to know.

    ``bounds`` is the usual view (xmin, xmax, ymin, ymax). ``minima`` are the published global
    minima (x, y, f) for the default parameters, rounded as published. ``log_levels`` is True
    where f spans orders of magnitude over the view, so contour levels of f − min f should be
    spaced logarithmically.
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
        return _grid(self.surface_id, xs, ys, self._params(params))


# Where a run starts unless told otherwise: a start that shows the surface's character.
DEFAULT_STARTS = {
    "rosenbrock": (-1.5, 2.0),
    "rastrigin": (3.3, -2.6),
    "himmelblau": (0.0, 0.0),
    "beale": (1.0, 1.5),
    "booth": (-8.0, 8.0),
    "ackley": (3.3, -2.6),
    "goldstein_price": (-1.2, 1.2),
    "matyas": (8.0, -6.0),
    "three_hump_camel": (2.5, -2.0),
    "six_hump_camel": (-1.6, -1.2),
    "styblinski_tang": (0.3, 0.2),
    "levi13": (-6.0, 6.0),
    "mccormick": (3.0, 3.0),
    "quadratic": (-2.5, 1.5),
    "saddle": (-1.5, 0.001),
    "monkey_saddle": (1.5, 0.05),
}


def _spec(name, formula, bounds, minima, description, *, log_levels=False, params=None):
    # the compiled pair is found by naming convention, _<name> and _<name>_grad
    fns = globals()
    params = params or {}
    return Surface(
        name=name,
        surface_id=SURFACE_NAMES.index(name),
        formula=formula,
        bounds=tuple(float(b) for b in bounds),
        minima=tuple(tuple(float(v) for v in m) for m in minima),
        param_names=tuple(params),
        param_defaults=tuple(float(v) for v in params.values()),
        description=description,
        log_levels=log_levels,
        default_start=DEFAULT_STARTS[name],
        value_fn=fns[f"_{name}"],
        grad_fn=fns[f"_{name}_grad"],
    )


_SPECS = (
    _spec("rosenbrock", "(a − x)² + b (y − x²)²", (-2, 2, -1, 3), [(1, 1, 0)],
          "narrow curved valley; the classic test of momentum",
          log_levels=True, params={"a": 1.0, "b": 100.0}),
    _spec("rastrigin", "2A + x² − A cos 2πx + y² − A cos 2πy", (-5.12, 5.12, -5.12, 5.12),
          [(0, 0, 0)], "bowl covered in a regular grid of local minima; tests escaping traps",
          params={"A": 10.0}),
    _spec("himmelblau", "(x² + y − 11)² + (x + y² − 7)²", (-5, 5, -5, 5),
          [(3, 2, 0), (-2.805118, 3.131312, 0), (-3.779310, -3.283186, 0),
           (3.584428, -1.848126, 0)],
          "four equal minima; which one you reach depends on the start", log_levels=True),
    _spec("beale", "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
          (-4.5, 4.5, -4.5, 4.5), [(3, 0.5, 0)],
          "flat plateau between steep ridges; steps must adapt to scale", log_levels=True),
    _spec("booth", "(x + 2y − 7)² + (2x + y − 5)²", (-10, 10, -10, 10), [(1, 3, 0)],
          "plain tilted bowl; an easy baseline", log_levels=True),
    _spec("ackley",
          "−20 exp(−0.2 √(0.5 (x² + y²))) − exp(0.5 (cos 2πx + cos 2πy)) + e + 20",
          (-5, 5, -5, 5), [(0, 0, 0)],
          "bumpy, nearly flat plain around one deep funnel; gradient 0 at the kink"),
    _spec("goldstein_price",
          "[1 + (x + y + 1)² (19 − 14x + 3x² − 14y + 6xy + 3y²)] · "
          "[30 + (2x − 3y)² (18 − 32x + 12x² + 48y − 36xy + 27y²)]",
          (-2, 2, -2, 2), [(0, -1, 3)],
          "values spanning six orders of magnitude around several local minima",
          log_levels=True),
    _spec("matyas", "0.26 (x² + y²) − 0.48 xy", (-10, 10, -10, 10), [(0, 0, 0)],
          "flat bowl stretched along the diagonal; slow going for plain descent",
          log_levels=True),
    _spec("three_hump_camel", "2x² − 1.05x⁴ + x⁶/6 + xy + y²", (-5, 5, -5, 5), [(0, 0, 0)],
          "global minimum flanked by two local ones; steep walls", log_levels=True),
    _spec("six_hump_camel", "(4 − 2.1x² + x⁴/3) x² + xy + (−4 + 4y²) y²", (-3, 3, -2, 2),
          [(0.0898, -0.7126, -1.0316), (-0.0898, 0.7126, -1.0316)],
          "six local minima, two of them global and mirror images", log_levels=True),
    _spec("styblinski_tang", "½ (x⁴ − 16x² + 5x + y⁴ − 16y² + 5y)", (-5, 5, -5, 5),
          [(-2.903534, -2.903534, -78.33233)],
          "four basins of different depth; the deepest is not the nearest"),
    _spec("levi13", "sin² 3πx + (x − 1)² (1 + sin² 3πy) + (y − 1)² (1 + sin² 2πy)",
          (-10, 10, -10, 10), [(1, 1, 0)],
          "ripples on a bowl; many local minima on the way down", log_levels=True),
    _spec("mccormick", "sin(x + y) + (x − y)² − 1.5x + 2.5y + 1", (-1.5, 4, -3, 4),
          [(-0.54719, -1.54719, -1.9133)], "tilted valley with a gentle sinusoidal bend"),
    _spec("quadratic", "½ (a x² + b y²)", (-3, 3, -3, 3), [(0, 0, 0)],
          "ill-conditioned bowl (condition number b/a); shows zig-zagging",
          params={"a": 1.0, "b": 10.0}),
    _spec("saddle", "x² − y²", (-2, 2, -2, 2), [],
          "saddle point at the origin; unbounded below along y"),
    _spec("monkey_saddle", "x³ − 3xy²", (-2, 2, -2, 2), [],
          "degenerate saddle at the origin with three descending valleys"),
)  # fmt: skip

SURFACES: dict[str, Surface] = {s.name: s for s in _SPECS}


def get_surface(name: str) -> Surface:
    """The surface called ``name``: case-insensitive, '-' or ' ' may stand for '_'.

    ``expr:<formula>`` or ``expr:<formula>@xmin,xmax,ymin,ymax`` is a typed surface f(x, y),
    compiled on first use (see simulator.formula).
    """
    if isinstance(name, str) and name.lstrip()[:5].lower() == "expr:":
        from simulator.formula import formula_surface  # imported on demand: SymPy is slow to import

        return formula_surface(name)
    key = name.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(name, str) else ""
    try:
        return SURFACES[key]
    except KeyError:
        raise SimulatorError(
            f"unknown surface {name!r}; choose from: {', '.join(SURFACE_NAMES)}"
        ) from None
