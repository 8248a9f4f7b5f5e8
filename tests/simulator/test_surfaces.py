"""Surfaces: analytic gradients, published minima, grid, dispatch by id, lookup and errors."""

import math
import re

import numba
import numpy as np
import pytest
import sympy as sp

from simulator.builtin_surfaces import (
    SURFACE_NAMES,
    SURFACES,
    TABLE,
    dispatch_on_id,
    surface_grad,
    surface_value,
)
from simulator.errors import SimulatorError
from simulator.surfaces import get_surface

EXPECTED_NAMES = (
    "rosenbrock", "rastrigin", "himmelblau", "beale", "booth", "ackley", "goldstein_price",
    "matyas", "three_hump_camel", "six_hump_camel", "styblinski_tang", "levi13", "mccormick",
    "quadratic", "saddle", "monkey_saddle",
)  # fmt: skip

# every surface at its defaults, plus the parametrized ones away from their defaults
CASES = [(name, None) for name in EXPECTED_NAMES] + [
    ("rosenbrock", {"a": -0.5, "b": 7.0}),
    ("quadratic", {"a": 2.5, "b": 0.3}),
    ("rastrigin", {"A": 3.0}),
]
CASE_IDS = [name if p is None else f"{name}-{p}" for name, p in CASES]


def _random_points(surface, n, seed):
    xmin, xmax, ymin, ymax = surface.bounds
    rng = np.random.default_rng(seed)
    return rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)


# --- analytic gradient vs central differences ------------------------------------------------


@pytest.mark.parametrize(("name", "overrides"), CASES, ids=CASE_IDS)
def test_gradient_matches_central_differences(name, overrides):
    s = get_surface(name)
    p = s.params_array(overrides)
    xs, ys = _random_points(s, 50, seed=sum(map(ord, name)))
    for x, y in zip(xs, ys, strict=True):
        if name == "ackley":
            assert math.hypot(x, y) > 1e-3  # away from the kink at the origin
        f = s.value_fn(x, y, p)
        gx, gy = s.grad_fn(x, y, p)
        hx, hy = 1e-6 * max(1.0, abs(x)), 1e-6 * max(1.0, abs(y))
        fdx = (s.value_fn(x + hx, y, p) - s.value_fn(x - hx, y, p)) / ((x + hx) - (x - hx))
        fdy = (s.value_fn(x, y + hy, p) - s.value_fn(x, y - hy, p)) / ((y + hy) - (y - hy))
        # truncation ~h²f''' plus rounding ~eps·|f|/h, which matters where f is ~1e6
        for g, fd in ((gx, fdx), (gy, fdy)):
            tol = 1e-5 * (1.0 + abs(g)) + 1e-9 * abs(f)
            assert abs(g - fd) <= tol, (name, x, y, g, fd)


# --- analytic gradient vs SymPy, from formulas written out independently here ----------------

X, Y = sp.symbols("x y", real=True)
PI = sp.pi
R = sp.Rational


def _sympy_expr(name, p):
    x, y = X, Y
    if name == "rosenbrock":
        return (p[0] - x) ** 2 + p[1] * (y - x**2) ** 2
    if name == "rastrigin":
        return 2 * p[0] + sum(v**2 - p[0] * sp.cos(2 * PI * v) for v in (x, y))
    if name == "himmelblau":
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2
    if name == "beale":
        return sum((c - x + x * y**k) ** 2 for c, k in ((R(3, 2), 1), (R(9, 4), 2), (R(21, 8), 3)))
    if name == "booth":
        return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2
    if name == "ackley":
        return (
            -20 * sp.exp(-R(1, 5) * sp.sqrt((x**2 + y**2) / 2))
            - sp.exp((sp.cos(2 * PI * x) + sp.cos(2 * PI * y)) / 2)
            + sp.E
            + 20
        )
    if name == "goldstein_price":
        a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
        b = 30 + (2 * x - 3 * y) ** 2 * (
            18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
        )
        return a * b
    if name == "matyas":
        return R(26, 100) * (x**2 + y**2) - R(48, 100) * x * y
    if name == "three_hump_camel":
        return 2 * x**2 - R(105, 100) * x**4 + x**6 / 6 + x * y + y**2
    if name == "six_hump_camel":
        return (4 - R(21, 10) * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2
    if name == "styblinski_tang":
        return sum(v**4 - 16 * v**2 + 5 * v for v in (x, y)) / 2
    if name == "levi13":
        return (
            sp.sin(3 * PI * x) ** 2
            + (x - 1) ** 2 * (1 + sp.sin(3 * PI * y) ** 2)
            + (y - 1) ** 2 * (1 + sp.sin(2 * PI * y) ** 2)
        )
    if name == "mccormick":
        return sp.sin(x + y) + (x - y) ** 2 - R(3, 2) * x + R(5, 2) * y + 1
    if name == "quadratic":
        return (p[0] * x**2 + p[1] * y**2) / 2
    if name == "saddle":
        return x**2 - y**2
    if name == "monkey_saddle":
        return x**3 - 3 * x * y**2
    raise AssertionError(f"no sympy formula for {name}")


@pytest.mark.parametrize(("name", "overrides"), CASES, ids=CASE_IDS)
def test_value_and_gradient_match_sympy(name, overrides):
    s = get_surface(name)
    p = s.params_array(overrides)
    expr = _sympy_expr(name, [sp.Float(v, 30) for v in p])
    dx, dy = sp.diff(expr, X), sp.diff(expr, Y)
    xs, ys = _random_points(s, 4, seed=7)
    for x, y in zip(xs, ys, strict=True):
        at = {X: sp.Float(x, 30), Y: sp.Float(y, 30)}
        ref_f, ref_gx, ref_gy = (float(e.evalf(30, subs=at)) for e in (expr, dx, dy))
        scale = 1.0 + abs(ref_f)  # float64 rounding of large sums of terms
        assert s.value(x, y, p) == pytest.approx(ref_f, rel=1e-12, abs=1e-12 * scale)
        gx, gy = s.grad(x, y, p)
        assert gx == pytest.approx(ref_gx, rel=1e-9, abs=1e-10 * scale), (name, x, y)
        assert gy == pytest.approx(ref_gy, rel=1e-9, abs=1e-10 * scale), (name, x, y)


# --- published minima --------------------------------------------------------------------------

# tolerances fit the digits published: exact minima are checked tightly; rounded coordinates
# leave a gradient of about |Hessian| · (half a unit in the last digit)
VALUE_TOL = {"himmelblau": 1e-8, "styblinski_tang": 1e-5, "six_hump_camel": 1e-4,
             "mccormick": 1e-4}  # fmt: skip
GRAD_TOL = {"himmelblau": 1e-4, "styblinski_tang": 1e-4, "six_hump_camel": 2e-3,
            "mccormick": 1e-4}  # fmt: skip
WITH_MINIMA = [n for n in EXPECTED_NAMES if n not in ("saddle", "monkey_saddle")]


@pytest.mark.parametrize("name", WITH_MINIMA)
def test_value_and_gradient_at_published_minima(name):
    s = get_surface(name)
    assert s.minima
    for x, y, f in s.minima:
        assert abs(s.value(x, y) - f) <= VALUE_TOL.get(name, 1e-12), (x, y)
        gx, gy = s.grad(x, y)
        assert math.hypot(gx, gy) <= GRAD_TOL.get(name, 1e-9), (x, y, gx, gy)


@pytest.mark.parametrize("name", WITH_MINIMA)
def test_nothing_in_the_view_lies_below_the_published_minimum(name):
    s = get_surface(name)
    xmin, xmax, ymin, ymax = s.bounds
    z = s.grid(np.linspace(xmin, xmax, 301), np.linspace(ymin, ymax, 301))
    assert z.min() >= min(f for _, _, f in s.minima) - VALUE_TOL.get(name, 1e-12)


def test_saddles_have_no_minima():
    assert get_surface("saddle").minima == ()
    assert get_surface("monkey_saddle").minima == ()


def test_minima_lie_inside_the_view():
    for s in SURFACES.values():
        xmin, xmax, ymin, ymax = s.bounds
        assert xmin < xmax and ymin < ymax
        for x, y, _ in s.minima:
            assert xmin <= x <= xmax and ymin <= y <= ymax, s.name


# --- ackley's kink and finiteness everywhere --------------------------------------------------


def test_ackley_at_origin_is_zero_with_zero_gradient():
    s = get_surface("ackley")
    assert abs(s.value(0.0, 0.0)) <= 1e-12
    assert s.grad(0.0, 0.0) == (0.0, 0.0)
    for x, y in ((1e-300, 0.0), (0.0, 5e-324), (-1e-160, 1e-170)):
        gx, gy = s.grad(x, y)
        assert math.isfinite(gx) and math.isfinite(gy), (x, y)
        # next to the kink the cone's slope 2√2 points away from the origin
        assert math.hypot(gx, gy) == pytest.approx(2.0 * math.sqrt(2.0), rel=1e-9)


@numba.njit
def _engine_like_grads(surface_id, xs, ys, params):
    # what the engine does: call the dispatchers from compiled code with an int64 id
    out = np.empty((xs.size, 3))
    for k in range(xs.size):
        gx, gy = surface_grad(surface_id, xs[k], ys[k], params)
        out[k, 0] = surface_value(surface_id, xs[k], ys[k], params)
        out[k, 1] = gx
        out[k, 2] = gy
    return out


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_values_and_gradients_finite_on_a_lattice_with_the_axes(name):
    s = get_surface(name)
    xmin, xmax, ymin, ymax = s.bounds
    xs = np.union1d(np.linspace(xmin, xmax, 41), [0.0])
    ys = np.union1d(np.linspace(ymin, ymax, 41), [0.0])
    px, py = np.meshgrid(xs, ys)
    out = _engine_like_grads(np.int64(s.surface_id), px.ravel(), py.ravel(), s.params_array())
    assert np.all(np.isfinite(out))


# --- dispatch ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "overrides"), CASES, ids=CASE_IDS)
def test_dispatchers_agree_with_the_surfaces_own_functions(name, overrides):
    s = get_surface(name)
    p = s.params_array(overrides)
    xs, ys = _random_points(s, 20, seed=3)
    out = _engine_like_grads(np.int64(s.surface_id), xs, ys, p)
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        assert surface_value(s.surface_id, x, y, p) == s.value_fn(x, y, p)
        assert surface_grad(s.surface_id, x, y, p) == s.grad_fn(x, y, p)
        assert tuple(out[k]) == (s.value_fn(x, y, p), *s.grad_fn(x, y, p))


def test_dispatchers_reject_an_unknown_id():
    with pytest.raises(ValueError, match="unknown surface id"):
        surface_value(len(SURFACE_NAMES), 0.0, 0.0, np.empty(0))
    with pytest.raises(ValueError, match="unknown surface id"):
        surface_grad(-1, 0.0, 0.0, np.empty(0))


def test_every_table_entry_is_a_surface_its_id_reaches():
    # a surface is its table entry: name, id, functions and start all come from it
    for surface_id, entry in enumerate(TABLE):
        s = SURFACES[entry.name]
        assert s.surface_id == surface_id and SURFACE_NAMES[surface_id] == entry.name
        assert s.value_fn is entry.value and s.grad_fn is entry.grad
        assert s.default_start == tuple(entry.start) and s.param_names == tuple(entry.params)
        p = s.params_array()
        x, y = s.default_start
        assert surface_value(surface_id, x, y, p) == entry.value(x, y, p)
        assert surface_grad(surface_id, x, y, p) == entry.grad(x, y, p)


@numba.njit
def _toy_sum(x, y, params):
    return x + y


@numba.njit
def _toy_product(x, y, params):
    return x * y + params[0]


def test_the_dispatch_is_generated_for_any_table():
    by_id = dispatch_on_id((_toy_sum, _toy_product))

    @numba.njit
    def call(surface_id, x, y, params):
        return by_id(surface_id, x, y, params)

    params = np.array([0.5])
    assert call(0, 2.0, 3.0, params) == 5.0
    assert call(1, 2.0, 3.0, params) == 6.5
    with pytest.raises(ValueError, match="unknown surface id"):
        call(2, 2.0, 3.0, params)


# a call to a maths-library function (or LLVM's intrinsic for one) in compiled code
_LIBM_CALL = re.compile(
    r"call [^\n]*@(llvm\.)?(sin|cos|tan|exp|log|pow|sqrt|hypot|atan2?|asin|acos|sinh|cosh|tanh)[a-z0-9._]*\("
)


@pytest.mark.parametrize("entry", TABLE, ids=[entry.name for entry in TABLE])
def test_polynomial_entries_call_no_maths_library(entry):
    # simulate_many vectorises the polynomial ones; a libm call there could round differently
    # (compiled afresh: Numba shows no IR for cached code; a helper they call keeps its own IR,
    # as goldstein_price's parts do, which is polynomial)
    p = np.array(list(entry.params.values()), dtype=np.float64)
    ir = ""
    for function in (entry.value, entry.grad):
        fresh = numba.njit(error_model="numpy")(function.py_func)
        fresh(0.3, 0.2, p)
        ir += "".join(fresh.inspect_llvm().values())
    assert entry.polynomial == (_LIBM_CALL.search(ir) is None)


# --- grid --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "overrides"), CASES, ids=CASE_IDS)
def test_grid_equals_scalar_values(name, overrides):
    s = get_surface(name)
    xmin, xmax, ymin, ymax = s.bounds
    xs, ys = np.linspace(xmin, xmax, 7), np.linspace(ymin, ymax, 5)
    z = s.grid(xs, ys, overrides)
    assert z.shape == (5, 7)
    expected = [[s.value(x, y, overrides) for x in xs] for y in ys]
    np.testing.assert_allclose(z, expected, rtol=1e-14, atol=1e-14)


def test_grid_at_display_resolution_is_finite():
    xs = np.linspace(-5.0, 5.0, 400)
    z = get_surface("ackley").grid(xs, xs)
    assert z.shape == (400, 400)
    assert np.all(np.isfinite(z))


def test_grid_rejects_2d_coordinates():
    with pytest.raises(SimulatorError, match="1-D"):
        get_surface("booth").grid(np.zeros((2, 2)), np.zeros(3))


# --- registry, lookup, parameters ---------------------------------------------------------------


def test_registry_order_and_ids():
    assert SURFACE_NAMES == EXPECTED_NAMES
    assert tuple(SURFACES) == EXPECTED_NAMES
    for i, (name, s) in enumerate(SURFACES.items()):
        assert s.name == name and s.surface_id == i
        assert s.formula and s.description
        assert len(s.param_names) == len(s.param_defaults)


def test_defaults_and_log_levels():
    assert get_surface("rosenbrock").param_defaults == (1.0, 100.0)
    assert get_surface("quadratic").param_names == ("a", "b")
    assert get_surface("quadratic").param_defaults == (1.0, 10.0)
    assert get_surface("rastrigin").param_defaults == (10.0,)
    assert get_surface("booth").param_names == ()
    assert get_surface("goldstein_price").log_levels
    assert get_surface("rosenbrock").log_levels
    assert not get_surface("saddle").log_levels


@pytest.mark.parametrize(
    "spelling", ["six_hump_camel", "Six_Hump_Camel", "SIX-HUMP-CAMEL", "six hump camel"]
)
def test_get_surface_is_forgiving_about_spelling(spelling):
    assert get_surface(spelling) is SURFACES["six_hump_camel"]


def test_get_surface_unknown_name_lists_the_choices():
    with pytest.raises(SimulatorError) as info:
        get_surface("foo")
    assert str(info.value) == "unknown surface 'foo'; choose from: " + ", ".join(EXPECTED_NAMES)
    assert isinstance(info.value, ValueError)


def test_params_array_applies_overrides():
    q = get_surface("quadratic")
    np.testing.assert_array_equal(q.params_array(), [1.0, 10.0])
    np.testing.assert_array_equal(q.params_array({"b": 50}), [1.0, 50.0])
    empty = get_surface("booth").params_array()
    assert empty.shape == (0,) and empty.dtype == np.float64
    assert q.value(1.0, 1.0, {"b": 50}) == 25.5
    assert q.grad(1.0, 1.0, np.array([2.0, 3.0])) == (2.0, 3.0)


def test_params_array_unknown_name_names_it_and_the_valid_ones():
    with pytest.raises(SimulatorError, match=r"unknown parameter 'c'.*'rosenbrock'.*a, b"):
        get_surface("rosenbrock").params_array({"c": 1.0})
    with pytest.raises(SimulatorError, match=r"unknown parameter 'a'.*no parameters"):
        get_surface("booth").params_array({"a": 1.0})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "x", None])
def test_params_array_rejects_non_finite_values(bad):
    with pytest.raises(SimulatorError, match=r"'b'.*finite number"):
        get_surface("quadratic").params_array({"b": bad})


def test_value_rejects_a_params_array_of_the_wrong_length():
    with pytest.raises(SimulatorError, match="takes 2 finite parameters"):
        get_surface("rosenbrock").value(0.0, 0.0, np.array([1.0]))
