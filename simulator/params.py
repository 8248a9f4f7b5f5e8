"""Param: the one description of a named option (default, range, scale, help) every registry uses.

Optimizer hyperparameters, schedule parameters, LBFGS options and the Training tab's torch options
(``trainers.introspect``) are all :class:`Param` records; editors are generated from them alone, and
every refusal of a value comes from one place here, as a SimulatorError carrying its culprit.

The kinds say how a value is typed and edited: FLOAT (a number), BOOL, PAIR (two numbers, e.g.
betas), INT (a whole number), CHOICE (one of ``choices``; None stands for Python's None), INT_LIST
(whole numbers, e.g. milestones), SCHEDULE_LIST (SequentialLR's schedules: the schedule registry
resolves its items) and FORMULA (text such as LambdaLR's ``0.95**epoch``: its ``resolve_item``
checks it and gives its canonical spelling).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from simulator.errors import SimulatorError
from simulator.values import is_finite_number, shown

FLOAT, BOOL, PAIR, INT, CHOICE, INT_LIST, SCHEDULE_LIST, FORMULA = (
    "float", "bool", "pair", "int", "choice", "int_list", "schedule_list", "formula",
)
KINDS = (FLOAT, BOOL, PAIR, INT, CHOICE, INT_LIST, SCHEDULE_LIST, FORMULA)
_NUMBER_TYPES = (int, float, np.integer, np.floating)


@dataclass(frozen=True)
class Param:
    """One named option.

    ``minimum``/``maximum`` bound the accepted values (``None``: unbounded; for a pair they bound
    each element); ``typical`` is the range an editor's slider spans; ``torch_error`` is torch's own
    message for an out-of-range value (``{value}``, ``{index}``, ``{index1}`` filled in), quoted in
    ours. ``none_allowed``: None is a valid value, meaning ``none_means``; ``first_may_be_none``: the
    first element of a pair may be None (Adafactor's eps). ``unbounded_text``: the range text of a
    number without bounds. ``resolve_item(param, owner, item)``: for a SCHEDULE_LIST, one item
    resolved by its registry; for a FORMULA, the text checked and spelled canonically.
    """

    name: str
    default: object
    help: str
    kind: str = FLOAT
    minimum: float | None = None
    maximum: float | None = None
    include_minimum: bool = True
    include_maximum: bool = True
    scale: str = "linear"
    typical: tuple[float, float] | None = None
    torch_error: str = ""
    required: bool = False
    choices: tuple = ()
    none_allowed: bool = False
    none_means: str = ""
    first_may_be_none: bool = False
    unbounded_text: str = "any finite number"
    resolve_item: Callable | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")

    @property
    def slots(self) -> int:
        """How many numbers the value takes in a kernel's vector."""
        return 2 if self.kind == PAIR else 1

    # ---- people's view of it ---------------------------------------------------------------

    def show(self, value) -> str:
        """``value`` as a message shows it: ``none``, ``0.9,0.999``, ``1e-08``, ``True``.

        Text is quoted only where None is one of the values this option takes, so that the word
        someone typed and the value none read apart (``line_search_fn='none…'``)."""
        if value is None:
            return "none"
        if isinstance(value, list | tuple):
            return ",".join(self.show(v) for v in value)
        if isinstance(value, str) and not self._takes_none:
            return value if len(value) <= 80 else shown(value)
        return shown(value)

    @property
    def _takes_none(self) -> bool:
        return self.none_allowed or None in self.choices

    def range_text(self) -> str:
        """What values are valid, in words: ``>= 0 and < 1``, ``one of min, max``."""
        if self.kind == BOOL:
            return "true or false"
        if self.kind == CHOICE:
            return "one of " + ", ".join("none" if c is None else str(c) for c in self.choices)
        if self.kind == INT_LIST:
            return "a list of whole numbers"
        if self.kind == SCHEDULE_LIST:
            return "a list of (name, parameters) schedules"
        if self.kind == FORMULA:
            return "a formula"
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>=' if self.include_minimum else '>'} {_bound(self.minimum)}")
        if self.maximum is not None:
            parts.append(f"{'<=' if self.include_maximum else '<'} {_bound(self.maximum)}")
        text = " and ".join(parts) if parts else self.unbounded_text
        if self.kind == INT:
            text = "a whole number " + text if parts else "a whole number"
        if self.none_allowed:
            text += f", or none ({self.none_means})" if self.none_means else ", or none"
        return text

    def in_range(self, x) -> bool:
        above_minimum = self.minimum is None or x > self.minimum or (
            x == self.minimum and self.include_minimum
        )
        below_maximum = self.maximum is None or x < self.maximum or (
            x == self.maximum and self.include_maximum
        )
        return above_minimum and below_maximum

    # ---- checking values ---------------------------------------------------------------------

    def refuse(self, owner: str, value, why: str, torch_text: str = ""):
        """Raise the SimulatorError for ``value`` of this option of ``owner``."""
        message = f"{owner}: invalid {self.name}={self.show(value)}: {why}"
        if torch_text:
            message += f" (torch: {torch_text})"
        raise SimulatorError(message, param=self.name, value=value, owner=owner,
                             torch_text=torch_text or None)

    def coerce(self, raw, owner: str):
        """The value ``raw`` stands for, of this option's kind and in range; else SimulatorError."""
        if raw is None and self._takes_none:
            return None
        if self.kind == BOOL:
            if isinstance(raw, bool | np.bool_):
                return bool(raw)
            if isinstance(raw, int | float) and raw in (0, 1):
                return bool(raw)
            self.refuse(owner, raw, "expected true or false")
        if self.kind == CHOICE:
            return self._coerce_choice(raw, owner)
        if self.kind == INT_LIST:
            items = raw if isinstance(raw, list | tuple) else [raw]
            return [self._whole(item, owner) for item in items]
        if self.kind == SCHEDULE_LIST:
            if not isinstance(raw, list | tuple) or not raw:
                self.refuse(owner, raw, "expected a list of (name, parameters) schedules")
            return [self.resolve_item(self, owner, item) for item in raw]
        if self.kind == FORMULA:
            return self.resolve_item(self, owner, raw)
        if self.kind == PAIR:
            if not isinstance(raw, tuple | list) or len(raw) != 2:
                self.refuse(owner, raw, "expected two numbers, e.g. 0.9,0.999")
            first = None if raw[0] is None and self.first_may_be_none else self._number(raw[0], owner)
            value = (first, self._number(raw[1], owner))
        else:
            value = self._whole(raw, owner) if self.kind == INT else self._number(raw, owner)
        self.check(value, owner, as_given=raw)
        return value

    def check(self, value, owner: str, as_given=None) -> None:
        """Refuse a value of the right kind that lies outside this option's range (shown as it was
        given, ``as_given``, when that differs: ``-1``, not ``-1.0``)."""
        if self.kind not in (FLOAT, INT, PAIR):
            return
        given = value if as_given is None else as_given
        elements, given_elements = (value, given) if self.kind == PAIR else ((value,), (given,))
        for index, (element, given_element) in enumerate(zip(elements, given_elements, strict=True)):
            if element is None or self.in_range(element):
                continue
            where = f"element {index} must be" if self.kind == PAIR else "must be"
            torch_text = self.torch_error.format(index=index, index1=index + 1,
                                                 value=self.show(given_element))
            self.refuse(owner, given, f"{where} {self.range_text()}", torch_text)

    def _number(self, raw, owner: str, what: str = "a number") -> float:
        if isinstance(raw, bool | np.bool_) or not isinstance(raw, _NUMBER_TYPES):
            self.refuse(owner, raw, f"expected {what}")
        if not is_finite_number(raw):
            self.refuse(owner, raw, "must be a finite number")
        return float(raw)

    def _whole(self, raw, owner: str) -> int:
        if isinstance(raw, int | np.integer) and not isinstance(raw, bool):
            return int(raw)  # exactly, also beyond 2**53
        if not self._number(raw, owner, "a whole number").is_integer():
            self.refuse(owner, raw, "expected a whole number")
        return int(raw)

    def _coerce_choice(self, raw, owner: str):
        if isinstance(raw, str):
            text = raw.strip()
            if None in self.choices and text.lower() in ("none", ""):
                return None
            for choice in self.choices:
                if isinstance(choice, str) and choice.lower() == text.lower():
                    return choice
        elif any(raw is choice for choice in self.choices):  # True is not 1 here
            return raw
        self.refuse(owner, raw, f"must be {self.range_text()}", self.torch_error)


def _bound(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)  # a count's limit as the whole number it is


def find_param(params, name: str, owner: str, noun: str = "hyperparameter") -> Param:
    """The Param called ``name`` among ``params``; SimulatorError naming the valid ones if none."""
    for param in params:
        if param.name == name:
            return param
    raise SimulatorError(f"{owner} has no {noun} '{name}'; valid: {', '.join(p.name for p in params)}",
                         param=name, owner=owner)


def coerce_given(params, overrides, owner: str, noun: str = "hyperparameter") -> dict:
    """The values of ``overrides`` coerced by their Params, in registry order; unknown names and
    missing required ones refused."""
    if overrides is not None and not isinstance(overrides, Mapping):
        raise SimulatorError(f"{owner}: {noun}s must be a mapping of names to values, got {overrides!r}",
                             value=overrides, owner=owner)
    given = {}
    for name, raw in (overrides or {}).items():
        param = find_param(params, name, owner, noun)
        given[param.name] = param.coerce(raw, owner)
    for param in params:
        if param.required and param.name not in given:
            raise SimulatorError(f"{owner}: missing required {noun} '{param.name}'", param=param.name,
                                 owner=owner)
    return {param.name: given[param.name] for param in params if param.name in given}


class Resolved(dict):
    """The options a person gave (this mapping, coerced and checked) and the complete values they
    resolve to (``values``: defaults filled in, derived ones computed), for ``owner``.

    Resolving is done once, where a value enters (an editor, a file); a registry handed a Resolved
    of its own returns ``values`` without checking again. ``context`` is what the values depend on
    besides the options (a schedule's run length), or None. Read-only: edit a copy (``dict(it)``).
    """

    def __init__(self, given: dict, values: dict, owner: str, context=None):
        super().__init__(given)
        self.values, self.owner, self.context = dict(values), owner, context

    def matches(self, owner: str, context=None) -> bool:
        return self.owner == owner and self.context in (None, context)

    def completed(self) -> "Resolved":
        """The complete values, as a Resolved of their own (given = values)."""
        if dict(self) == self.values:
            return self
        return Resolved(self.values, self.values, self.owner, self.context)

    def _read_only(self, *args, **kwargs):
        raise TypeError("a Resolved mapping is read-only; edit dict(it) and resolve that")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only

    def __reduce__(self):
        return Resolved, (dict(self), self.values, self.owner, self.context)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self  # read-only: a copy would be the same
