"""A typed lr factor is its Python lambda exactly, and nothing outside the whitelist runs."""

import math
import types

import pytest

from simulator import SimulatorError
from simulator.lr_formula import EXAMPLES, factor_function, normalize_factor
from tests.simulator.test_schedules import python_lambda

FORMULAS = [*EXAMPLES, "2**-(epoch/30)", "1 - epoch/5000", "(epoch + 1)**-0.5", "abs(sin(epoch/7))*e**-1",
            "sqrt(epoch + 1)/sqrt(epoch + 2)", "tanh(epoch/100)*arctan(epoch) + log10(epoch + 1)/log(epoch + 2)",
            "+-epoch*0.5 + 3*epoch", "0.5", "3"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_factor_is_what_the_python_lambda_returns_bit_for_bit(formula):
    ours, theirs = factor_function(formula), python_lambda(formula)
    for epoch in range(2001):
        expected = theirs(epoch)
        assert ours(epoch) == expected and type(ours(epoch)) is type(expected), epoch


def test_the_factor_is_a_plain_function_so_torch_saves_nothing_of_it():
    # LambdaLR.state_dict keeps a callable object's __dict__, and nothing of a function
    factor = factor_function("0.95**epoch")
    assert isinstance(factor, types.FunctionType) and factor.formula == "0.95 ** epoch"


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "attribute access is not allowed"),
    ("open('x')", "function 'open' is not allowed"),
    ("epoch if epoch else 1", "'if ... else' is not allowed"),
    ("epoch // 30", "operator '//' is not allowed"),
    ("x + 1", "name 'x' is not allowed (use epoch, pi, e"),
    ("exp", "'exp' is a function; call it, e.g. exp(epoch)"),
    ("1" * 600, "longer than 500 characters"),
    ("9**9**9**9", None),  # checks as text: whole-number powers are guarded where they are computed
    ("", "empty; type a factor in epoch"),
    (None, "expected text, got NoneType"),
])
def test_what_is_not_allowed_is_said_before_anything_runs(text, message):
    if message is None:
        canonical = normalize_factor(text)
        with pytest.raises(SimulatorError, match="at epoch 0: too large for a float"):
            factor_function(canonical)(0)
        return
    with pytest.raises(SimulatorError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        normalize_factor(text)


def test_a_number_stands_for_itself():
    assert normalize_factor(0.5) == "0.5" and factor_function(2)(7) == 2
    assert factor_function("pi")(0) == math.pi
