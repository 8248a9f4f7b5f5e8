"""Typed surfaces ``expr:<formula>``: gradients, parity with the built-ins, bounds, refusals."""

import math
import pickle
import threading
import time

import numpy as np
import pytest

from simulator import SimulatorError, get_surface, simulate
from simulator.formula import (
    DEFAULT_BOUNDS,
    MAX_LENGTH,
    FormulaSurface,
    compile_formula,
    normalize,
    parse_formula,
)

# formula, the same in numpy, where to sample (x and y ranges)
FORMULAS = [
    ("(x - 1)**2 + 10*sin(y)**2 + 0.1*x*y",
     lambda x, y: (x - 1) ** 2 + 10 * np.sin(y) ** 2 + 0.1 * x * y, (-3, 3)),
    ("exp(-(x**2 + y**2)/2) * cos(3*x)",
     lambda x, y: np.exp(-(x**2 + y**2) / 2) * np.cos(3 * x), (-2, 2)),
    ("log(1 + x**2 + y**2) + tanh(x*y) - 2**x",
     lambda x, y: np.log(1 + x**2 + y**2) + np.tanh(x * y) - 2.0**x, (-2, 2)),
    ("sqrt(1 + x**2) * arctan(y) + sinh(x/3) - cosh(y/4) + e**(y/5) + pi*x",
     lambda x, y: np.sqrt(1 + x**2) * np.arctan(y) + np.sinh(x / 3) - np.cosh(y / 4) + np.e ** (y / 5)
     + np.pi * x, (-3, 3)),
    ("x**3/(1 + y**2) - (x**2 + 1)**y + 1.5/(x**2 + 2)",
     lambda x, y: x**3 / (1 + y**2) - (x**2 + 1) ** y + 1.5 / (x**2 + 2), (-1.5, 1.5)),
    ("log10(2 + sin(x)) * tan(y/2) + asin(x/10) + arccos(y/10) + atan(x*y)",
     lambda x, y: np.log10(2 + np.sin(x)) * np.tan(y / 2) + np.arcsin(x / 10) + np.arccos(y / 10)
     + np.arctan(x * y), (-2, 2)),
    ("abs(x - 7)*y - abs(y + 9)**1.5 + (x*y)**4/1000",
     lambda x, y: np.abs(x - 7) * y - np.abs(y + 9) ** 1.5 + (x * y) ** 4 / 1000, (-3, 3)),
]  # fmt: skip


def refusal(text, timeout=5.0) -> str:
    """The SimulatorError message for ``text``; fails if it is accepted or takes longer than ``timeout``.

    The call runs in a daemon thread so that even a hang in C code (a huge exact power) fails the
    test instead of stalling it. Refusals take milliseconds; the limit is generous on purpose.
    """
    outcome = {}

    def attempt():
        try:
            outcome["surface"] = get_surface("expr:" + text)
        except SimulatorError as error:
            outcome["error"] = str(error)
        except BaseException as error:  # anything else is a bug: report it
            outcome["crash"] = repr(error)

    worker = threading.Thread(target=attempt, daemon=True)
    started = time.perf_counter()
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"{text[:60]!r} still running after {timeout} s"
    assert "crash" not in outcome, outcome
    assert "surface" not in outcome, f"{text[:60]!r} was accepted"
    assert time.perf_counter() - started < timeout
    return outcome["error"]


# --- values and gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("text, numpy_f, span", FORMULAS, ids=[f[0][:24] for f in FORMULAS])
def test_values_match_numpy_and_gradients_match_finite_differences(text, numpy_f, span):
    surface = get_surface("expr:" + text)
    rng = np.random.default_rng(abs(hash(text)) % 2**32)
    points = rng.uniform(*span, size=(12, 2))
    h = 1e-6
    for x, y in points:
        assert surface.value(x, y) == pytest.approx(numpy_f(x, y), rel=1e-12, abs=1e-12)
        gx, gy = surface.grad(x, y)
        fd_x = (numpy_f(x + h, y) - numpy_f(x - h, y)) / (2 * h)
        fd_y = (numpy_f(x, y + h) - numpy_f(x, y - h)) / (2 * h)
        scale = 1.0 + abs(numpy_f(x, y))
        assert gx == pytest.approx(fd_x, rel=1e-6, abs=1e-6 * scale), (x, y)
        assert gy == pytest.approx(fd_y, rel=1e-6, abs=1e-6 * scale), (x, y)
    xs, ys = np.linspace(*span, 7), np.linspace(*span, 5)
    expected = numpy_f(xs[None, :], ys[:, None])
    np.testing.assert_allclose(surface.grid(xs, ys), expected, rtol=1e-12, atol=1e-12)


def test_polynomial_gradient_is_exact():
    surface = compile_formula("x**2*y + 3*y - x/4")
    assert surface.grad(3.0, -2.0) == (2 * 3.0 * -2.0 - 0.25, 9.0 + 3.0)
    assert surface.value(3.0, -2.0) == 9.0 * -2.0 - 6.0 - 0.75
    assert compile_formula("(-8)**2.0 + 1/x").value(0.5, 0.0) == 66.0


def test_a_formula_surface_pickles_by_name():
    surface = get_surface("expr:sin(x) * cos(y)@-3,3,-2,2")
    assert pickle.loads(pickle.dumps(surface)) is surface


def test_typed_rosenbrock_runs_exactly_like_the_builtin():
    # Bit-identical, not just close: SymPy is kept from distributing numbers over sums, so the
    # printed value and gradient are (1 - x)**2 + 100*(y - x**2)**2, -(2*(1 - x) + 400*x*(y - x**2))
    # and 200*(y - x**2): the built-in's operations, and a sum of two terms rounds the same in
    # either order. A formula typed differently (say 100*y - 100*x**2) would agree to ~1e-12 only.
    typed = get_surface("expr:(1 - x)**2 + 100*(y - x**2)**2@-2,2,-1,3")
    for optimizer, hp in (("Adam", {"lr": 0.01}), ("SGD", {"lr": 1e-3, "momentum": 0.9})):
        builtin = simulate("rosenbrock", optimizer, start=(-1.5, 2.0), steps=1500, hyperparams=hp)
        ours = simulate(typed.name, optimizer, start=(-1.5, 2.0), steps=1500, hyperparams=hp)
        assert builtin.status == ours.status == "ok"
        np.testing.assert_allclose(ours.xy, builtin.xy, rtol=1e-12, atol=0)
        for name in ("xy", "loss", "grad", "state"):
            np.testing.assert_array_equal(getattr(ours, name), getattr(builtin, name), err_msg=name)


def test_engine_records_what_the_surface_computes():
    surface = get_surface("expr:(x - 1)**2 + 10*sin(y)**2 + 0.1*x*y")
    trajectory = simulate(surface.name, "Adam", steps=200, hyperparams={"lr": 0.05})
    assert tuple(trajectory.xy[0]) == surface.default_start
    assert trajectory.surface == surface.name and trajectory.status == "ok"
    for k in (0, 1, 100, 200):
        x, y = trajectory.xy[k]
        assert trajectory.loss[k] == surface.value(x, y)
        assert tuple(trajectory.grad[k]) == surface.grad(x, y)
    assert trajectory.loss[-1] < trajectory.loss[0]


def test_formula_surface_looks_like_a_builtin():
    surface = get_surface("expr: (x - 1)**2 + y**2 ")
    assert isinstance(surface, FormulaSurface)
    assert surface.name == "expr:(x - 1) ** 2 + y ** 2" and surface.formula == "(x - 1) ** 2 + y ** 2"
    assert surface.surface_id == -1 and surface.bounds == DEFAULT_BOUNDS
    assert surface.minima == () and surface.param_names == () and surface.param_defaults == ()
    assert surface.params_array().shape == (0,) and "∂f/∂x" in surface.description
    assert surface.default_start == (-3.5, 3.5)  # 70% of the way to the top-left corner
    assert get_surface(surface.name) is surface  # the name reads back as the same surface
    with pytest.raises(SimulatorError, match="unknown parameter 'a'"):
        simulate(surface.name, surface_params={"a": 1.0})
    with pytest.raises(SimulatorError, match="unknown parameter"):
        surface.grid([0.0], [0.0], {"a": 1.0})


def test_log_levels_follow_the_spread_of_values():
    assert get_surface("expr:(1 - x)**2 + 100*(y - x**2)**2@-2,2,-1,3").log_levels
    assert not get_surface("expr:sin(x) + cos(y)").log_levels
    assert not get_surface("expr:x**2 - y**2@-2,2,-2,2").log_levels


def test_default_start_avoids_points_where_f_is_not_finite():
    surface = get_surface("expr:log(x) + y**2")
    x, y = surface.default_start
    assert x > 0 and math.isfinite(surface.value(x, y))


def test_the_same_formula_compiles_once():
    first = get_surface("expr:x**2 + 3*y**2 - x*y")
    started = time.perf_counter()
    again = get_surface("EXPR:  x**2+3*y**2 -x*y")
    assert time.perf_counter() - started < 0.05
    assert again is first and compile_formula("(x**2) + 3*(y**2) - (x*y)") is first
    assert get_surface("expr:x**2 + 3*y**2 - x*y@-1,1,-1,1") is not first  # other bounds
    assert compile_formula("x**2 + 3*y**2 - x*y", (-1, 1, -1, 1)).functions is first.functions


def test_parse_formula_builds_the_sympy_expression():
    expr = parse_formula("2*x + y**2 - pi")
    assert str(expr) == "2*x + y**2 - pi"
    assert {s.name for s in expr.free_symbols} == {"x", "y"}


# --- bounds ----------------------------------------------------------------------------------


def test_bounds_after_an_at_sign():
    surface = get_surface("expr:x**2 + y**2@-2, 2, -1.5, 3")
    assert surface.bounds == (-2.0, 2.0, -1.5, 3.0)
    assert surface.name == "expr:x ** 2 + y ** 2@-2,2,-1.5,3"
    assert compile_formula("x**2 + y**2", bounds=[-2, 2, -1.5, 3]) is surface
    assert get_surface("expr:x + y").bounds == (-5.0, 5.0, -5.0, 5.0)


@pytest.mark.parametrize("spec, message", [
    ("expr:x@1,2,3", "expected four numbers"),
    ("expr:x@1,2,3,4,5", "expected four numbers"),
    ("expr:x@a,b,c,d", "expected four numbers"),
    ("expr:x@1,,2,3", "expected four numbers"),
    ("expr:x@2,1,0,1", "xmin < xmax"),
    ("expr:x@0,1,1,1", "ymin < ymax"),
    ("expr:x@-inf,1,0,1", "finite"),
    ("expr:x@nan,1,0,1", "finite"),
])  # fmt: skip
def test_bad_bounds_are_refused(spec, message):
    with pytest.raises(SimulatorError, match=message):
        get_surface(spec)


def test_an_at_sign_always_starts_the_bounds():
    with pytest.raises(SimulatorError, match="formula bounds 'y': expected four numbers"):
        get_surface("expr:x @ y")
    with pytest.raises(SimulatorError, match="formula: operator '@' is not allowed"):
        compile_formula("x @ y")


def test_bad_bounds_through_compile_formula():
    with pytest.raises(SimulatorError, match="four"):
        compile_formula("x", bounds=(0, 1, 2))
    with pytest.raises(SimulatorError, match="four"):
        compile_formula("x", bounds="1234")


# --- refusals ----------------------------------------------------------------------------------

HOSTILE = [
    ("x.real", "attribute access is not allowed"),
    ("x.__class__.__bases__", "attribute access is not allowed"),
    ("__import__('os')", "function '__import__' is not allowed"),
    ("__builtins__", "name '__builtins__' is not allowed"),
    ("eval('1')", "function 'eval' is not allowed"),
    ("lambda: x", "lambda is not allowed"),
    ("[x for x in y]", "comprehensions are not allowed"),
    ("sum(t for t in x)", "function 'sum' is not allowed"),
    ("(t for t in x)", "comprehensions are not allowed"),
    ("x[0]", "subscripts (indexing) are not allowed"),
    ("'x'", "strings are not allowed"),
    ("f'{x}'", "strings are not allowed"),
    ("sin(x=1)", "keyword arguments are not allowed"),
    ("(y := 1) + x", "assignments (:=) are not allowed"),
    ("foo(x)", "function 'foo' is not allowed (use x, y, pi, e and sin, cos"),
    ("z", "name 'z' is not allowed (use x, y, pi, e and sin, cos"),
    ("x + y*z", "name 'z' is not allowed"),
    ("sin", "'sin' is a function"),
    ("x(2)", "'x' is not a function"),
    ("sin(x, y)", "sin() takes exactly one argument, got 2"),
    ("sin(*x)", "starred arguments are not allowed"),
    ("x % 2", "operator '%' is not allowed"),
    ("x // 2", "operator '//' is not allowed"),
    ("~x", "operator '~' is not allowed"),
    ("x < y", "comparisons are not allowed"),
    ("x and y", "'and' / 'or' are not allowed"),
    ("x if y else 1", "'if ... else' is not allowed"),
    ("x, y", "tuples are not allowed"),
    ("True", "True is not allowed"),
    ("1j*x", "complex numbers are not allowed"),
    ("9**9**9**9", "exponent too large"),
    ("2**10000", "exponent too large"),
    ("(10**299)**2", "exponent too large"),
    ("0.5**-5000 + x", "exponent too large"),
    ("x**(10**300)", "exponent too large"),
    ("1e999*x", "number too large"),
    ("9" * 400, "number too large"),
    ("x" * 10_000, f"longer than {MAX_LENGTH} characters"),
    ("x+" * 130 + "y", "nested more than 100 levels deep"),
    ("-(" * 150 + "x" + ")" * 150, "nested more than 100 levels deep"),
    ("(" * 240 + "x" + ")" * 240, "too many nested parentheses"),
    ("sin(" * 40 + "x" + ")" * 40, "functions and powers nested more than 32 deep"),
    ("x**" * 40 + "x", "functions and powers nested more than 32 deep"),
    ("", "empty"),
    ("   \t ", "empty"),
    ("x +", "syntax error at the end"),
    ("x + * y", "syntax error at column 5"),
    ("  (x", "syntax error at column 3 ('(' was never closed)"),
    ("1/0 + x", "not a finite real number"),
    ("log(0) + x", "not a finite real number"),
    ("sqrt(-1)*x", "not a finite real number"),
    ("tan(pi/2) + x", "not a finite real number"),
    ("(-8)**(1/3) + x", "is not a real number"),
]  # fmt: skip


@pytest.mark.parametrize("text, message", HOSTILE, ids=[f"{i}:{h[0][:16]}" for i, h in enumerate(HOSTILE)])
def test_hostile_and_invalid_formulas_are_refused_quickly(text, message):
    error = refusal(text)
    assert error.startswith("formula: ")
    assert message in error, error


def test_a_refused_formula_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    attempts = [
        f"__import__('os').system('touch {marker}')",
        f"__import__('os').system('touch {marker}') * 0 + x",
        f"open('{marker}', 'w')",
        f"exec(\"open('{marker}', 'w')\")",
        f"[open('{marker}', 'w') for _ in [1]]",
        f"(lambda: __import__('pathlib').Path('{marker}').touch())()",
    ]
    for text in attempts:
        assert refusal(text).startswith("formula: ")
        assert not marker.exists(), text


def test_refusal_is_a_value_error_with_the_typed_text_never_evaluated():
    with pytest.raises(ValueError, match="formula: attribute access"):
        simulate("expr:().__class__.__base__.__subclasses__()")


# --- where f or its gradient is not finite -------------------------------------------------------


def test_log_walking_to_zero_stops_as_diverged():
    # SGD on log(x) steps towards x = 0 and past it, where log is NaN
    trajectory = simulate("expr:log(x) + y**2", "SGD", start=(1.0, 1.0), steps=100, hyperparams={"lr": 0.1})
    assert trajectory.status == "diverged" and trajectory.message.startswith("diverged at step ")
    assert np.all(trajectory.xy[:, 0] > 0)
    assert np.all(np.isfinite(trajectory.loss)) and np.all(np.isfinite(trajectory.grad))


def test_one_over_x_through_zero_stops_as_diverged():
    # from x = -1 the gradient of 1/x is -1: with lr 1 the first step lands on x = 0 exactly
    trajectory = simulate("expr:1/x", "SGD", start=(-1.0, 0.0), steps=10, hyperparams={"lr": 1.0})
    assert trajectory.status == "diverged" and trajectory.diverged_at == 1
    assert trajectory.message == "diverged at step 1"


def test_sqrt_below_zero_stops_as_diverged():
    trajectory = simulate("expr:sqrt(x) + y**2", "Adam", start=(1.0, 0.5), steps=500, hyperparams={"lr": 0.1})
    assert trajectory.status == "diverged"
    assert np.all(trajectory.xy[:, 0] > 0)


def test_a_start_where_f_is_not_finite_is_refused_cleanly():
    with pytest.raises(SimulatorError, match="not finite there"):
        simulate("expr:log(x)", start=(-1.0, 0.0), steps=5)
    with pytest.raises(SimulatorError, match="not finite there"):
        simulate("expr:exp(exp(exp(1000))) + x", steps=5)


def test_abs_has_a_subgradient_at_its_kink():
    surface = get_surface("expr:abs(x) + abs(y)")
    assert surface.grad(0.0, 0.0) == (0.0, 0.0)
    assert surface.grad(-2.0, 3.0) == (-1.0, 1.0)
    trajectory = simulate(surface.name, "SGD", start=(1.0, -1.0), steps=50, hyperparams={"lr": 0.25})
    assert trajectory.status == "ok"
    assert set(trajectory.grad.ravel()) <= {-1.0, 0.0, 1.0}
    assert tuple(trajectory.xy[-1]) == (0.0, 0.0)


def test_non_finite_values_on_the_grid_are_nan_or_inf_not_errors():
    surface = get_surface("expr:log(x) + 1/y")
    z = surface.grid(np.array([-1.0, 0.0, 1.0]), np.array([0.0, 1.0]))
    assert np.isnan(z[1, 0]) and z[1, 1] == -np.inf and z[1, 2] == 1.0
    assert z[0, 2] == np.inf


def test_the_length_limit_counts_the_formula_as_typed_not_its_spaced_canonical_form():
    typed = "+".join(f"(x-1.2345678{k})**2+(y-7.6543210{k})**2" for k in range(12)) + "+x*y"  # 439; 580 spaced

    assert len(typed) < MAX_LENGTH < len(normalize(typed))
    surface = get_surface("expr:" + typed)
    assert get_surface(surface.name) is surface  # and what a scenario file then holds reads back
    with pytest.raises(SimulatorError, match=rf"longer than {MAX_LENGTH} characters \(spaces not counted\)"):
        get_surface("expr:" + "x+" * 250 + "y")
