"""Learning-rate factors typed as formulas in ``epoch``: LambdaLR's and MultiplicativeLR's ``lr_lambda``.

``0.95**epoch`` or ``1/(1 + 0.1*epoch)`` is checked by the same whitelist as a surface formula
(:mod:`simulator.expression`: numbers, ``epoch``, ``pi``, ``e``, ``+ - * / **`` and one-argument
functions), then turned into a Python function by walking the checked tree: nothing reaches
``eval``. The function does Python's own arithmetic on the integer ``epoch`` in the order typed, with
``math``'s functions, so it returns exactly what ``lambda epoch: 0.95**epoch`` (with ``from math
import *``) returns, and a schedule built on it is bit-identical to torch's driven by that lambda.

Where the lambda would raise or overflow (``1/(epoch - 3)`` at epoch 3, ``log(epoch)`` at 0,
``10**epoch`` past 1e300), the factor raises a SimulatorError naming the formula and the epoch: a
schedule whose lr is not a finite number is refused, not run.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

from simulator.errors import SimulatorError
from simulator.expression import MAX_CONSTANT_DIGITS, Grammar, checked_tree
from simulator.values import is_finite_number

VARIABLE = "epoch"
CONSTANTS = {"pi": math.pi, "e": math.e}
FUNCTIONS: dict[str, Callable] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "arcsin": math.asin, "arccos": math.acos, "arctan": math.atan,
    "asin": math.asin, "acos": math.acos, "atan": math.atan,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "exp": math.exp, "log": math.log, "log10": math.log10, "sqrt": math.sqrt, "abs": abs,
}  # fmt: skip
GRAMMAR = Grammar(names=(VARIABLE, *CONSTANTS), functions=tuple(FUNCTIONS), prefix="",
                  example="type a factor in epoch, e.g. 0.95**epoch")
EXAMPLES = ("0.95**epoch", "1/(1 + 0.1*epoch)", "0.5*(1 + cos(pi*epoch/100))")

_OPERATIONS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv}


def normalize_factor(text) -> str:
    """The canonical spelling of a factor formula (spacing and parentheses as ``ast.unparse``);
    SimulatorError saying what is not allowed. A number stands for itself (``0.5``)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = repr(text)
    return ast.unparse(checked_tree(text, GRAMMAR))


def resolve_factor(param, owner: str, text) -> str:
    """A FORMULA parameter's ``resolve_item``: ``text`` spelled canonically, or the parameter's refusal."""
    try:
        return normalize_factor(text)
    except SimulatorError as error:
        param.refuse(owner, text, str(error))


def factor_function(text: str) -> Callable[[int], float]:
    """``epoch -> factor`` for the formula ``text`` (checked here); a plain function, so torch's
    scheduler state_dict stores nothing of it (the formula text is what a run's configuration keeps)."""
    canonical = normalize_factor(text)
    evaluate = _compile(ast.parse(canonical, mode="eval").body)

    def factor(epoch: int) -> float:
        try:
            value = evaluate(epoch)
        except (ArithmeticError, ValueError) as error:  # ZeroDivisionError, OverflowError, math domain
            raise SimulatorError(f"lr_lambda {canonical} at epoch {epoch}: {_why(error)}",
                                 param="lr_lambda", value=canonical) from None
        if not is_finite_number(value):
            raise SimulatorError(f"lr_lambda {canonical} at epoch {epoch}: not a finite number",
                                 param="lr_lambda", value=canonical)
        return value

    factor.formula = canonical
    return factor


def _why(error: Exception) -> str:
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if isinstance(error, OverflowError):
        return "too large for a float"
    return str(error) or type(error).__name__


def _compile(node) -> Callable[[int], float]:
    if isinstance(node, ast.Constant):
        value = node.value
        return lambda epoch: value
    if isinstance(node, ast.Name):
        if node.id == VARIABLE:
            return lambda epoch: epoch
        value = CONSTANTS[node.id]
        return lambda epoch: value
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda epoch: -operand(epoch)
        return lambda epoch: +operand(epoch)
    if isinstance(node, ast.Call):
        function, argument = FUNCTIONS[node.func.id], _compile(node.args[0])
        return lambda epoch: function(argument(epoch))
    left, right = _compile(node.left), _compile(node.right)
    if isinstance(node.op, ast.Pow):
        return lambda epoch: _power(left(epoch), right(epoch))
    operation = _OPERATIONS[type(node.op)]
    return lambda epoch: operation(left(epoch), right(epoch))


def _power(base, exponent):
    """``base ** exponent`` as Python computes it; whole numbers whose power would pass 1e300 are
    refused before Python computes the exact integer (10**epoch at epoch 10**6 would take seconds)."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1 and \
            exponent * math.log10(abs(base)) > MAX_CONSTANT_DIGITS:
        raise OverflowError("integer power too large")
    value = base**exponent
    if isinstance(value, complex):  # (-8)**(1/3): Python gives a complex number, a factor cannot be one
        raise ValueError(f"({base!r})**{exponent!r} is not a real number")
    return value
