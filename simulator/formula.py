"""Typed surfaces: ``f(x, y)`` as text, e.g. ``expr:(x - 1)**2 + 10*sin(y)**2 + 0.1*x*y``.

The text never reaches ``eval`` or ``sympify``. :func:`parse_formula` parses it with
``ast.parse(text, mode="eval")``, refuses every node outside a small whitelist, and builds the SymPy
expression node by node. Refusals happen before any arithmetic on constants, so hostile input
(``9**9**9**9``, ``__import__('os')``, kilobytes of text) fails fast with a message saying what is
not allowed. Allowed:

- numbers, the variables ``x`` and ``y``, the constants ``pi`` and ``e``;
- ``+ - * / **``, unary ``-`` and ``+``, parentheses;
- one-argument functions: sin cos tan, arcsin arccos arctan (also asin acos atan), sinh cosh tanh,
  exp log (natural) log10 sqrt abs.

SymPy derives the gradient; :func:`_print` turns value and gradient (after ``sympy.cse``) into
Python source using only arithmetic, ``math.*`` and ``abs``/``_sign``, which is exec'd and compiled
as three Numba ``cfunc``\\s ``float64(float64, float64)``: f, ∂f/∂x, ∂f/∂y (a cfunc cannot return a
tuple). The engine's one compiled loop calls them through function pointers (see
``simulator.evaluation.FormulaFunctions``), so a new formula costs SymPy plus three small cfunc
compilations (0.1-0.3 s in all) and never a recompilation of the loop. The cfuncs are not cached
on disk (exec'd source has no file); compiled formulas are kept in memory, keyed by their
normalised text (``ast.unparse`` of the checked tree), which is also the surface's name.

Surface strings: ``expr:<formula>`` (view -5..5 × -5..5) or ``expr:<formula>@xmin,xmax,ymin,ymax``.

Points where f is not differentiable or not finite are no crash: division by zero gives ±inf, log
and sqrt of negatives NaN (the cfuncs use NumPy's error model), and the run stops there with
``diverged at step k``. ``abs`` gets the subgradient 0 at its kink (d|u|/du = sign(u), sign(0) = 0).
"""

from __future__ import annotations

import ast
import functools
import math
import threading
from dataclasses import dataclass, field
from fractions import Fraction

import numba
import numpy as np
import sympy
from sympy.core.parameters import distribute

from simulator.errors import SimulatorError
from simulator.evaluation import FormulaFunctions
from simulator.expression import MAX_CONSTANT_DIGITS, Grammar, checked_tree
from simulator.expression import MAX_LENGTH as MAX_LENGTH  # the limit a surface formula is held to
from simulator.numerics import sign
from simulator.surface import Surface
from simulator.values import shown as shown_value

PREFIX = "expr:"
DEFAULT_BOUNDS = (-5.0, 5.0, -5.0, 5.0)
MAX_EXPONENT = 1e6  # |constant exponent| of a non-constant base
MAX_SOURCE = 200_000  # characters of generated source: "too complex" beyond

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)
NAMES = {"x": X, "y": Y, "pi": sympy.pi, "e": sympy.E}


def _log10(arg):
    return sympy.log(arg) / sympy.log(10)


FUNCTIONS = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "exp": sympy.exp, "log": sympy.log, "log10": _log10, "sqrt": sympy.sqrt, "abs": sympy.Abs,
}  # fmt: skip

GRAMMAR = Grammar(names=tuple(NAMES), functions=tuple(FUNCTIONS), prefix="formula: ",
                  example="type an expression in x and y, e.g. (x - 1)**2 + y**2")


def _refuse(what: str) -> SimulatorError:
    return GRAMMAR.refuse(what)


def _checked_tree(text) -> ast.Expression:
    """The parsed formula after every whitelist check; raises SimulatorError on anything else."""
    return checked_tree(text, GRAMMAR)


def _build(node):
    """SymPy expression of a checked node; guards powers of constants before SymPy computes them."""
    if isinstance(node, ast.Constant):
        return sympy.Integer(node.value) if isinstance(node.value, int) else sympy.Float(node.value)
    if isinstance(node, ast.Name):
        return NAMES[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _build(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_build(node.args[0]))
    left, right = _build(node.left), _build(node.right)
    op = type(node.op)
    if op is ast.Add:
        return left + right
    if op is ast.Sub:
        return left - right
    if op is ast.Mult:
        return left * right
    if op is ast.Div:
        return left / right
    _check_power(left, right, node)
    return left**right


def _check_power(base, exponent, node) -> None:
    """Refuse a power before SymPy evaluates it exactly (9**9**9**9 would never finish)."""
    if not exponent.is_Number:
        return
    typed = ast.unparse(node)
    typed = typed if len(typed) <= 40 else typed[:37] + "..."
    if not base.is_Number:
        if abs(float(exponent)) > MAX_EXPONENT:
            raise _refuse(f"exponent too large in {typed} (at most {MAX_EXPONENT:g} in size)")
        return
    if base.is_zero or base in (sympy.S.One, sympy.S.NegativeOne):
        return
    if base.is_negative and not float(exponent).is_integer():
        raise _refuse(f"{typed} is not a real number")
    if isinstance(base, sympy.Rational):
        digits = math.log10(abs(base.p)) - math.log10(base.q)
    else:
        digits = math.log10(abs(float(base)))
    if abs(float(exponent) * digits) > MAX_CONSTANT_DIGITS:
        raise _refuse(f"exponent too large: {typed} is beyond 1e±{MAX_CONSTANT_DIGITS}")


_NOT_FINITE = (sympy.S.NaN, sympy.S.ComplexInfinity, sympy.S.Infinity, sympy.S.NegativeInfinity,
               sympy.S.ImaginaryUnit)


def _check_real(expr, what="a constant part") -> None:
    if expr.has(*_NOT_FINITE) or any(
        p.base.is_Number and p.base.is_negative and not p.exp.is_integer for p in expr.atoms(sympy.Pow)
    ):
        raise _refuse(f"{what} is not a finite real number (e.g. 1/0, log(0), sqrt(-1))")


# SymPy's global switches are thread-local but its cache is shared; one formula at a time.
_SYMPY_LOCK = threading.RLock()


def parse_formula(text: str) -> sympy.Expr:
    """The SymPy expression of ``text``, an f(x, y) built from the whitelist in the module doc.

    Numbers are not distributed over sums (``100*(y - x**2)`` stays so, as typed, and so do its
    derivatives), which keeps the compiled arithmetic close to the typed formula's.
    """
    tree = _checked_tree(text)
    with _SYMPY_LOCK, distribute(False):
        expr = _build(tree.body)
    _check_real(expr)
    return expr


def normalize(text: str) -> str:
    """The canonical spelling of a formula (checked first): spacing and parentheses as ast.unparse."""
    return ast.unparse(_checked_tree(text))


# --- SymPy -> Python source -> cfuncs ---------------------------------------------------------------

_MATH = {
    sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan", sympy.asin: "asin", sympy.acos: "acos",
    sympy.atan: "atan", sympy.sinh: "sinh", sympy.cosh: "cosh", sympy.tanh: "tanh",
    sympy.exp: "exp", sympy.log: "log",
}  # fmt: skip
_EXACT_INT = 2**53


def _number(value) -> str:
    """A SymPy number as a float literal that reads back as the nearest double (no int arithmetic)."""
    try:
        if isinstance(value, sympy.Rational):
            number = float(Fraction(int(value.p), int(value.q)))  # correctly rounded
        else:
            number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        shown = str(value) if len(str(value)) <= 30 else sympy.Float(value, 3)
        raise _refuse(f"constant {shown} is too large for a 64-bit float")
    return repr(number)


def _print(expr) -> str:
    """Python source of ``expr``: every compound part in parentheses, evaluated left to right."""
    if expr.is_Symbol:
        return expr.name
    if expr is sympy.pi:
        return "math.pi"
    if expr is sympy.E:
        return "math.e"
    if expr.is_Number:
        text = _number(expr)
        return f"({text})" if text.startswith("-") else text
    if expr.is_Add:
        return "(" + " + ".join(_print(term) for term in expr.args) + ")"
    if expr.is_Mul:
        return _print_mul(expr)
    if expr.is_Pow:
        return _print_pow(expr.base, expr.exp)
    if isinstance(expr, sympy.Abs):
        return f"abs({_print(expr.args[0])})"
    if isinstance(expr, sympy.sign):
        return f"_sign({_print(expr.args[0])})"
    if expr.func in _MATH and len(expr.args) == 1:
        return f"math.{_MATH[expr.func]}({_print(expr.args[0])})"
    raise _refuse(f"cannot compile {type(expr).__name__} (in {expr})")


def _print_pow(base, exponent) -> str:
    if exponent == sympy.S.Half:
        return f"math.sqrt({_print(base)})"
    if exponent.is_Integer and abs(int(exponent)) <= 2**31:
        n = int(exponent)
        if n < 0:  # Numba raises (and a cfunc then returns 0) for 0.0 ** -n: divide instead
            return f"(1.0/{_print_pow(base, sympy.Integer(-n))})"
        return _print(base) if n == 1 else f"({_print(base)}**{n})"
    if base is sympy.E:
        return f"math.exp({_print(exponent)})"
    return f"({_print(base)}**{_print(exponent)})"


def _print_mul(expr) -> str:
    numerator, denominator = [], []
    for factor in expr.args:
        if factor.is_Rational and factor.q != 1 and abs(factor.p) <= _EXACT_INT and factor.q <= _EXACT_INT:
            if factor.p != 1:  # p/q as p*.../q: one rounding less than (p/q)*...
                numerator.append(_print(sympy.Integer(factor.p)))
            denominator.append(_print(sympy.Integer(factor.q)))
        elif factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
            denominator.append(_print_pow(factor.base, -factor.exp))
        else:
            numerator.append(_print(factor))
    sign = ""
    if numerator and numerator[0] == "(-1.0)":  # -1*a*b: negation is exact, print it as such
        sign, numerator = "-", numerator[1:]
    top = sign + ("*".join(numerator) if numerator else "1.0")
    if not denominator:
        return f"({top})"
    bottom = denominator[0] if len(denominator) == 1 else "(" + "*".join(denominator) + ")"
    return f"({top}/{bottom})"


def _source(name: str, expr) -> str:
    replacements, (reduced,) = sympy.cse(expr, symbols=sympy.numbered_symbols("_t"))
    lines = [f"def {name}(x, y):"]
    lines += [f"    {symbol.name} = {_print(sub)}" for symbol, sub in replacements]
    lines.append(f"    return float({_print(reduced)})")
    return "\n".join(lines) + "\n"


_SIGNATURE = numba.types.float64(numba.types.float64, numba.types.float64)


def _cfunc(source: str, name: str):
    # d|u|/du = sign(u): 0 at the kink (a subgradient), NaN stays NaN
    namespace = {"math": math, "_sign": sign}
    exec(compile(source, f"<formula {name}>", "exec"), namespace)  # source printed by _print only
    return numba.cfunc(_SIGNATURE, error_model="numpy")(namespace[name])


@dataclass(frozen=True)
class Compiled:
    expr: sympy.Expr
    grad: tuple[sympy.Expr, sympy.Expr]
    source: str
    functions: FormulaFunctions


@functools.lru_cache(maxsize=32)
def _compile(canonical: str) -> Compiled:
    expr = parse_formula(canonical)
    with _SYMPY_LOCK, distribute(False):
        gx, gy = sympy.diff(expr, X), sympy.diff(expr, Y)
        _check_real(gx, "the gradient")
        _check_real(gy, "the gradient")
        sources = [_source("value", expr), _source("grad_x", gx), _source("grad_y", gy)]
    if sum(map(len, sources)) > MAX_SOURCE:
        raise _refuse("too complex to compile (its gradient is huge); simplify it")
    functions = FormulaFunctions(*(_cfunc(s, n) for s, n in zip(sources, ("value", "grad_x", "grad_y"),
                                                                  strict=True)))
    return Compiled(expr, (gx, gy), "".join(sources), functions)


# --- compiled callers (Python side: value, grad, grid) ----------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def _value(functions, x, y, params):
    return functions.value(x, y)


@numba.njit(cache=True, error_model="numpy")
def _grad(functions, x, y, params):
    return functions.grad_x(x, y), functions.grad_y(x, y)


@numba.njit(cache=True, error_model="numpy")
def _grid(functions, xs, ys):
    z = np.empty((ys.size, xs.size))
    for i in range(ys.size):
        for j in range(xs.size):
            z[i, j] = functions.value(xs[j], ys[i])
    return z


# --- the Surface -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormulaSurface(Surface):
    """A typed surface. ``surface_id`` is -1; the engine runs ``functions`` instead."""

    functions: FormulaFunctions | None = field(default=None, repr=False, compare=False)
    expr: sympy.Expr | None = field(default=None, repr=False, compare=False)
    gradient: tuple = field(default=(), repr=False, compare=False)
    source: str = field(default="", repr=False, compare=False)

    def __reduce__(self):
        # compiled functions do not pickle; the name rebuilds the surface (from the cache if warm)
        return (formula_surface, (self.name,))


def _grid_without_params(functions, xs, ys, params) -> np.ndarray:
    # Surface.grid has already refused any parameter: a formula has none
    return _grid(functions, xs, ys)


# The largest |bound| and the smallest width a formula's view may have: the map squares
# coordinates and widths in doubles and divides by widths, so bounds near 1e308 overflow to inf,
# as do subnormal widths; 1e150 squared and 1/1e-150 are finite.
MAX_BOUND = 1e150
MIN_WIDTH = 1e-150


def _check_bounds(bounds, shown=None) -> tuple[float, float, float, float]:
    if shown is None:  # as people wrote them: NumPy numbers (the GUI's) plain, never np.float64(-3.5)
        shown = shown_value(tuple(bounds) if isinstance(bounds, list | np.ndarray) else bounds)
    else:
        shown = repr(shown)
    try:
        if isinstance(bounds, str | bytes):
            raise TypeError
        values = tuple(float(b) for b in bounds)
    except (TypeError, ValueError, OverflowError):
        raise SimulatorError(f"formula bounds {shown}: expected four numbers xmin,xmax,ymin,ymax") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise SimulatorError(f"formula bounds {shown}: expected four finite numbers xmin,xmax,ymin,ymax")
    too_large = [v for v in values if abs(v) > MAX_BOUND]
    if too_large:
        raise SimulatorError(f"formula bounds {shown}: {_short(too_large[0])} is too large to draw "
                             f"(at most {MAX_BOUND:g} in absolute value)")
    xmin, xmax, ymin, ymax = values
    if not (xmin < xmax and ymin < ymax):
        raise SimulatorError(f"formula bounds {shown}: need xmin < xmax and ymin < ymax")
    if min(xmax - xmin, ymax - ymin) < MIN_WIDTH:
        raise SimulatorError(f"formula bounds {shown}: a width of {min(xmax - xmin, ymax - ymin):g} is "
                             f"too small to draw (at least {MIN_WIDTH:g})")
    return values


def _short(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _log_levels(z: np.ndarray) -> bool:
    """True where f − min f over the view spans orders of magnitude: max > 10**2.5 × 1st percentile.

    On a 65 × 65 grid this reproduces the hand-set flag of 15 of the 16 built-in surfaces (not
    levi13's: 10**2.3).
    """
    finite = z[np.isfinite(z)]
    with np.errstate(all="ignore"):
        above = finite - finite.min() if finite.size else finite
        positive = above[above > 0.0]
        if positive.size < 2:
            return False
        return bool(positive.max() > 10**2.5 * np.percentile(positive, 1))


_NO_PARAMS = np.empty(0)


def _default_start(functions, bounds) -> tuple[float, float]:
    """70% of the way from the view's centre to a corner (top left first), where f is finite."""
    xmin, xmax, ymin, ymax = bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    hx, hy = 0.7 * (xmax - xmin) / 2, 0.7 * (ymax - ymin) / 2
    candidates = [(cx - hx, cy + hy), (cx + hx, cy + hy), (cx - hx, cy - hy), (cx + hx, cy - hy), (cx, cy)]
    for x, y in candidates:
        gx, gy = _grad(functions, x, y, _NO_PARAMS)
        if all(math.isfinite(v) for v in (_value(functions, x, y, _NO_PARAMS), gx, gy)):
            return (float(x), float(y))
    return candidates[0]


@functools.lru_cache(maxsize=64)
def _surface(canonical: str, bounds: tuple[float, float, float, float]) -> FormulaSurface:
    compiled = _compile(canonical)
    functions = compiled.functions
    name = PREFIX + canonical
    if bounds != DEFAULT_BOUNDS:
        name += "@" + ",".join(_short(b) for b in bounds)
    xs = np.linspace(bounds[0], bounds[1], 65)
    ys = np.linspace(bounds[2], bounds[3], 65)
    gx, gy = compiled.grad
    gradient = f"∂f/∂x = {gx}, ∂f/∂y = {gy}"
    return FormulaSurface(
        name=name,
        surface_id=-1,
        formula=canonical,
        bounds=bounds,
        minima=(),
        param_names=(),
        param_defaults=(),
        description="typed formula; " + (gradient if len(gradient) <= 200 else "gradient by SymPy"),
        log_levels=_log_levels(_grid(functions, xs, ys)),
        default_start=_default_start(functions, bounds),
        value_fn=functools.partial(_value, functions),
        grad_fn=functools.partial(_grad, functions),
        grid_fn=functools.partial(_grid_without_params, functions),
        functions=functions,
        expr=compiled.expr,
        gradient=compiled.grad,
        source=compiled.source,
    )


def compile_formula(text: str, bounds=None) -> FormulaSurface:
    """The surface f(x, y) = ``text`` over ``bounds`` (xmin, xmax, ymin, ymax; default ±5).

    The same formula (up to spacing and redundant parentheses) with the same bounds returns the
    same object, compiled once.
    """
    canonical = normalize(text)
    return _surface(canonical, DEFAULT_BOUNDS if bounds is None else _check_bounds(bounds))


def _surface_with_bounds_text(text: str, bounds_text: str) -> FormulaSurface:
    canonical = normalize(text)  # the formula's own errors first
    parts = [part.strip() for part in bounds_text.split(",")]
    if len(parts) != 4 or not all(parts):
        raise SimulatorError(
            f"formula bounds {bounds_text.strip()!r}: expected four numbers xmin,xmax,ymin,ymax "
            "after '@', e.g. expr:x**2 + y**2@-2,2,-1,3"
        )
    return _surface(canonical, _check_bounds(parts, bounds_text.strip()))


def formula_surface(spec: str) -> FormulaSurface:
    """The surface of ``expr:<formula>`` or ``expr:<formula>@xmin,xmax,ymin,ymax``."""
    text = spec.strip()
    if not text[: len(PREFIX)].lower() == PREFIX:
        raise SimulatorError(f"a typed surface starts with {PREFIX!r}, got {spec!r}")
    text = text[len(PREFIX):]
    if "@" in text:
        formula, _, bounds_text = text.rpartition("@")
        return _surface_with_bounds_text(formula, bounds_text)
    return compile_formula(text)
