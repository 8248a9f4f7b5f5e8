"""The whitelist every typed expression passes before anything computes with it.

A surface formula ``f(x, y)`` (:mod:`simulator.formula`) and a learning-rate factor in ``epoch``
(:mod:`simulator.lr_formula`) are both parsed with ``ast.parse(text, mode="eval")`` and checked
here, node by node, against a :class:`Grammar` (the names and functions it allows): numbers, those
names, ``+ - * / **``, unary ``-`` and ``+``, parentheses and one-argument calls of those functions.
Everything else is refused with a message saying what is not allowed, before any arithmetic on
constants, so hostile input (``__import__('os')``, kilobytes of text) fails fast. Nothing reaches
``eval``.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

from simulator.errors import SimulatorError

MAX_LENGTH = 500  # characters of expression text, spaces not counted
MAX_NODES = 250  # expression nodes in the parsed tree
MAX_DEPTH = 100  # nesting of the parsed tree
MAX_NESTING = 32  # nesting of calls and powers: the chain rule makes derivatives grow with it
MAX_CONSTANT_DIGITS = 300  # a power of two numbers must stay below 10**300 (and above 10**-300)


@dataclass(frozen=True)
class Grammar:
    """What an expression may use: ``names`` (variables, then constants), one-argument
    ``functions``; ``prefix`` starts every refusal (e.g. "formula: "); ``example``: what an empty
    text is told."""

    names: tuple[str, ...]
    functions: tuple[str, ...]
    prefix: str
    example: str

    @property
    def allowed(self) -> str:
        return f"use {', '.join(self.names)} and {', '.join(self.functions)}"

    def refuse(self, what: str) -> SimulatorError:
        return SimulatorError(f"{self.prefix}{what}")


_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED_OPERATORS = {
    ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~",
}  # fmt: skip
_REFUSED_NODES = {
    ast.Attribute: "attribute access is", ast.Subscript: "subscripts (indexing) are",
    ast.Lambda: "lambda is", ast.ListComp: "comprehensions are", ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are", ast.GeneratorExp: "comprehensions are",
    ast.JoinedStr: "strings are", ast.FormattedValue: "strings are", ast.NamedExpr: "assignments (:=) are",
    ast.Compare: "comparisons are", ast.BoolOp: "'and' / 'or' are", ast.IfExp: "'if ... else' is",
    ast.Tuple: "tuples are", ast.List: "lists are", ast.Set: "sets are", ast.Dict: "dicts are",
    ast.Starred: "starred arguments are", ast.Slice: "slices are", ast.Await: "await is",
    ast.Yield: "yield is", ast.YieldFrom: "yield is",
}  # fmt: skip


def checked_tree(text, grammar: Grammar) -> ast.Expression:
    """The parsed expression after every whitelist check; raises SimulatorError on anything else."""
    if not isinstance(text, str):
        raise grammar.refuse(f"expected text, got {type(text).__name__}")
    # Spaces do not count: the canonical spelling (ast.unparse, which the compiled surface and the
    # scenario file carry) spaces out every operator, and must pass wherever the typed text did.
    if sum(not c.isspace() for c in text) > MAX_LENGTH:
        raise grammar.refuse(f"longer than {MAX_LENGTH} characters (spaces not counted)")
    if not text.strip():
        raise grammar.refuse(f"empty; {grammar.example}")
    stripped = text.strip()
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as error:
        detail = f" ({error.msg})" if error.msg and error.msg != "invalid syntax" else ""
        offset = error.offset or 0
        where = f"at column {offset + len(text) - len(text.lstrip())}" \
            if 0 < offset <= len(stripped) else "at the end"
        raise grammar.refuse(f"syntax error {where}{detail}") from None
    except (RecursionError, MemoryError, ValueError):  # parser limits; ValueError: NUL bytes
        raise grammar.refuse("nested too deeply or not parseable") from None
    count = 0
    stack = [(tree.body, 1, 0)]
    while stack:
        node, depth, nesting = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise grammar.refuse(f"more than {MAX_NODES} terms; simplify it")
        if depth > MAX_DEPTH:
            raise grammar.refuse(f"nested more than {MAX_DEPTH} levels deep")
        _check_node(node, grammar)
        if isinstance(node, ast.Call) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)):
            nesting += 1
            if nesting > MAX_NESTING:
                raise grammar.refuse(f"functions and powers nested more than {MAX_NESTING} deep")
        children = [node.left, node.right] if isinstance(node, ast.BinOp) else \
            [node.operand] if isinstance(node, ast.UnaryOp) else \
            node.args if isinstance(node, ast.Call) else []
        stack.extend((child, depth + 1, nesting) for child in children)
    return tree


def _check_node(node, grammar: Grammar) -> None:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise grammar.refuse(f"{value!r} is not allowed (only real numbers)")
        if isinstance(value, str | bytes):
            raise grammar.refuse("strings are not allowed")
        if isinstance(value, complex):
            raise grammar.refuse("complex numbers are not allowed")
        if not isinstance(value, int | float):
            raise grammar.refuse(f"constant {type(value).__name__} is not allowed")
        try:
            magnitude = abs(float(value))
        except OverflowError:
            magnitude = math.inf
        if not magnitude <= 10.0**MAX_CONSTANT_DIGITS:
            raise grammar.refuse(f"number too large (at most 1e{MAX_CONSTANT_DIGITS})")
    elif isinstance(node, ast.Name):
        if node.id not in grammar.names:
            if node.id in grammar.functions:
                example = f"{node.id}({grammar.names[0]})"
                raise grammar.refuse(f"{node.id!r} is a function; call it, e.g. {example}")
            raise grammar.refuse(f"name {node.id!r} is not allowed ({grammar.allowed})")
    elif isinstance(node, ast.BinOp | ast.UnaryOp):
        op = type(node.op)
        if op not in _OPERATORS and op not in (ast.USub, ast.UAdd):
            raise grammar.refuse(f"operator {_REFUSED_OPERATORS.get(op, op.__name__)!r} is not allowed "
                          f"(use + - * / **)")
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            raise grammar.refuse("attribute access is not allowed")
        if not isinstance(node.func, ast.Name):
            raise grammar.refuse(f"only the functions {', '.join(grammar.functions)} can be called")
        name = node.func.id
        if name not in grammar.functions:
            if name in grammar.names:
                raise grammar.refuse(f"{name!r} is not a function")
            raise grammar.refuse(f"function {name!r} is not allowed ({grammar.allowed})")
        if node.keywords:
            raise grammar.refuse("keyword arguments are not allowed")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise grammar.refuse("starred arguments are not allowed")
        if len(node.args) != 1:
            raise grammar.refuse(f"{name}() takes exactly one argument, got {len(node.args)}")
    else:
        what = _REFUSED_NODES.get(type(node), f"this kind of expression ({type(node).__name__}) is")
        raise grammar.refuse(f"{what} not allowed")


