"""Editor descriptions of torch's optimizer and scheduler arguments, read from torch itself.

``optimizer_options("AdamW")`` lists every keyword argument of ``torch.optim.AdamW`` as a
:class:`simulator.params.Param` (the type the simulator's registries use): its default (from the
signature), its kind (from the annotation: a number, a whole number, a pair such as ``betas``, a
switch, a choice, a list of whole numbers) and a one-line help (from the docstring's ``Args:``
section). Where the simulator's registry knows the same optimizer, its valid ranges, torch's
messages and log/linear slider scales are added. The GUI builds its forms from
these, so a new torch optimizer appears with no change here.
"""

from __future__ import annotations

import inspect
import re

from simulator.lr_formula import EXAMPLES as FACTOR_EXAMPLES
from simulator.lr_formula import resolve_factor
from simulator.params import BOOL, CHOICE, FLOAT, FORMULA, INT, INT_LIST, PAIR, Param
from trainers.factory import FORMULA_SCHEDULERS, class_options, optimizer_class, scheduler_class

# Arguments that are not options of a run: torch's bookkeeping, or Python objects a form cannot hold
# (LambdaLR's and MultiplicativeLR's lr_lambda is one: a formula in epoch, see _options).
_NOT_EDITABLE = {"last_epoch", "verbose", "scale_fn", "lr_lambda", "schedulers", "optimizer"}
# Text options whose annotation is a bare ``str``: their values, from torch's documentation.
_TEXT_CHOICES = {"line_search_fn": ("strong_wolfe",), "adjust_lr_fn": ("original", "match_rms_adamw")}
_LITERAL = re.compile(r"Literal\[([^\]]*)\]")
_ARG_LINE = re.compile(r"^(\s*)(\w+) \(([^)]*)\):\s*(.*)$")


# What an option's range says where the simulator does not know torch's bounds for it.
_UNKNOWN_RANGE = "checked by torch"


def _option(**fields) -> Param:
    return Param(unbounded_text=_UNKNOWN_RANGE, **fields)


def optimizer_options(name: str) -> list[Param]:
    cls = optimizer_class(name)
    known = _simulator_hyperparams(name)
    return _options(cls, known)


def scheduler_options(name: str) -> list[Param]:
    return _options(scheduler_class(name), {})


def _simulator_hyperparams(name: str) -> dict:
    from simulator.optimizers import with_reference

    spec = with_reference(name)  # the record whose reference is that class
    return {h.name: h for h in spec.hyperparams} if spec is not None else {}


def _options(cls: type, known: dict) -> list[Param]:
    helps = docstring_help(cls.__doc__ or "")
    specs = []
    for name, parameter in class_options(cls, skip=1).items():
        if name == "lr_lambda" and cls.__name__ in FORMULA_SCHEDULERS:
            specs.append(Param(name, None, "a formula in epoch (the scheduler's step count), e.g. "
                               + ", ".join(FACTOR_EXAMPLES[:2]), kind=FORMULA, required=True,
                               resolve_item=resolve_factor))
            continue
        if name in _NOT_EDITABLE:
            continue
        spec = _describe(name, parameter, helps.get(name, ""), known.get(name))
        if spec is not None:
            specs.append(spec)
    return specs


def _describe(name: str, parameter: inspect.Parameter, help_text: str, hyperparam) -> Param | None:
    annotation = parameter.annotation if isinstance(parameter.annotation, str) else \
        inspect.formatannotation(parameter.annotation)
    required = parameter.default is inspect.Parameter.empty
    default = None if required else parameter.default
    none_allowed = "None" in annotation or (default is None and not required)
    common = {"name": name, "default": default, "help": help_text or name.replace("_", " "),
              "required": required}
    if "Callable" in annotation or (isinstance(default, tuple) and len(default) != 2):
        return None  # a function, or a tuple no form field fits (Muon's ns_coefficients): torch's default
    if name in _TEXT_CHOICES:
        return _option(**common, kind=CHOICE, choices=(None, *_TEXT_CHOICES[name]) if none_allowed
                       else _TEXT_CHOICES[name])
    literal = _LITERAL.search(annotation)
    if literal:
        choices = tuple(v.strip().strip("'\"") for v in literal.group(1).split(","))
        return _option(**common, kind=CHOICE, choices=(None, *choices) if none_allowed else choices)
    if isinstance(default, bool) or annotation.startswith("bool"):
        if default is None:  # foreach / fused: None lets torch choose
            return _option(**common, kind=CHOICE, choices=(None, True, False))
        return _option(**common, kind=BOOL)
    if isinstance(default, tuple) and len(default) == 2:
        return _option(**common, kind=PAIR, first_may_be_none=default[0] is None, **_ranges(hyperparam))
    if re.search(r"(list|Iterable|Sequence)\[int\]", annotation):
        return _option(**common, kind=INT_LIST)
    if annotation.split(" |")[0] == "int" or (isinstance(default, int) and not annotation and default != 0):
        return _option(**common, kind=INT, none_allowed=none_allowed)
    if "float" in annotation or isinstance(default, float | int):
        return _option(**common, kind=FLOAT, none_allowed=none_allowed, **_ranges(hyperparam))
    if annotation.startswith("str") and isinstance(default, str):
        return _option(**common, kind=CHOICE, choices=(default,))
    return None


def _ranges(hyperparam) -> dict:
    if hyperparam is None:
        return {}
    return {"minimum": hyperparam.minimum, "maximum": hyperparam.maximum, "scale": hyperparam.scale,
            "typical": hyperparam.typical, "include_minimum": hyperparam.include_minimum,
            "include_maximum": hyperparam.include_maximum, "torch_error": hyperparam.torch_error}


def docstring_help(doc: str) -> dict[str, str]:
    """``{argument: first sentence of its help}`` from a Google-style ``Args:`` section."""
    helps: dict[str, list[str]] = {}
    lines = inspect.cleandoc(doc).splitlines()
    in_args, indent, current = False, None, None
    for line in lines:
        if line.strip() in ("Args:", "Arguments:"):
            in_args, indent, current = True, None, None
            continue
        if not in_args:
            continue
        if line.strip() and not line.startswith(" "):
            break  # the next section
        match = _ARG_LINE.match(line)
        if match and (indent is None or len(match.group(1)) == indent):
            indent = len(match.group(1))
            current = match.group(2)
            helps[current] = [match.group(4)]
        elif current and line.strip():
            helps[current].append(line.strip())
    return {name: _first_sentence(" ".join(parts)) for name, parts in helps.items()}


def _first_sentence(text: str) -> str:
    text = re.sub(r"\s*\([Dd]efault[^)]*\)+", "", text)  # "(default: 1e-3)": the form shows defaults
    text = re.sub(r"\s*Default:[^.]*(\.\d+[^.]*)*\.?\s*$", "", text)
    text = re.sub(r"`+([^`]*)`+_?", r"\1", text)
    text = re.sub(r":(math|ref|class|func):", "", text)
    end = re.search(r"(?<=[a-z0-9)])\. ", text)
    sentence = text[:end.start() + 1] if end else text
    return sentence.strip().rstrip(".") or text.strip()
