"""Values people hand OptiScope: the syntax they type, the files they load, the way messages show them.

Typed (the CLI's flags, the GUI's text fields): a number, ``true``/``false``, ``none``, a comma tuple
of those (``0.9,0.999``) or a bare word. Files (scenarios, run configurations): JSON or TOML, read
by :func:`parse_document` only. In messages: :func:`shown`.
"""

import json
import math
import os
import sys
import tomllib

from simulator.errors import SimulatorError


def parse_value(text: str):
    """``"0.1"`` -> 0.1, ``"3"`` -> 3, ``"0.9,0.99"`` -> (0.9, 0.99), ``"none"`` -> None, a word -> itself;
    JSON that starts with ``[`` or ``{`` -> its lists and mappings (SequentialLR's schedulers:
    ``[["LinearLR", {"total_iters": 5}], ["StepLR", {"step_size": 10}]]``)."""
    text = text.strip()
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass  # not JSON: read as before
    if "," in text:
        return tuple(parse_value(part) for part in text.split(","))
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def is_finite_number(value) -> bool:
    """``math.isfinite``, False (not OverflowError) for an integer beyond the largest float."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


# Deeper than any file OptiScope writes (a scenario's SequentialLR milestones sit 7 levels down),
# shallow enough that nothing recursive downstream (deepcopy, the value checks) can overflow.
MAX_NESTING = 32


def parse_document(content: bytes, path, kind: str, error: type[Exception] = SimulatorError):
    """The plain data of a JSON or TOML file's ``content`` (``kind``: "JSON" or "TOML"), or
    ``error`` with one line naming ``path``.

    Every file people hand OptiScope (run configurations, scenarios) is read here: a UTF-8 BOM is
    accepted (editors on Windows write one), and what the parsers raise besides their own syntax
    errors (an integer of more than 4,300 digits, nesting deeper than Python's recursion) becomes
    the same one-line refusal.
    """
    path = os.fspath(path)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"'{path}' is not a text file (not UTF-8)") from None
    try:
        data = json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as refused:
        raise error(f"'{path}' is not valid {kind}: {refused}") from None
    except ValueError:  # int(): the digit limit that guards against quadratic-time conversions
        raise error(f"'{path}' is not usable {kind}: it holds an integer of more than "
                    f"{sys.get_int_max_str_digits()} digits") from None
    except RecursionError:
        raise error(f"'{path}' is not usable {kind}: it is nested more than {MAX_NESTING} levels "
                    "deep") from None
    if _nesting(data) > MAX_NESTING:
        raise error(f"'{path}' is not usable {kind}: it is nested more than {MAX_NESTING} levels deep")
    return data


def _nesting(data) -> int:
    """How many lists/tables deep ``data`` goes, counted without recursion."""
    deepest, pending = 0, [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_NESTING:
                break
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return deepest


def shown(value) -> str:
    """``repr`` for messages, with NumPy scalars as the plain numbers they are (``-3.5``, never
    ``np.float64(-3.5)``; values from the GUI's widgets and plots are often NumPy's)."""
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(shown(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if type(value).__module__ == "numpy" and callable(getattr(value, "item", None)):
        value = value.item()
    text = repr(value)
    # a 4,000-digit number is still one line, but not one anybody reads
    return text if len(text) <= 80 else f"{text[:40]}… ({len(text)} characters)"
