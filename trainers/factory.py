"""torch objects from a configuration: device, parameter groups, optimizer, scheduler.

Torch's own classes do the work; this module finds them by name (any case), checks options against
their signatures, and turns torch's errors into messages that name the configuration key.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
import warnings
from dataclasses import dataclass

import torch
from torch.optim import lr_scheduler

from simulator.errors import SimulatorError
from simulator.lr_formula import EXAMPLES as FACTOR_EXAMPLES
from simulator.lr_formula import factor_function
from simulator.schedules import warmup_ramp
from simulator.values import shown
from trainers.config import OptimizerConfig, SchedulerConfig
from trainers.errors import ConfigError
from trainers.models import is_bias_or_norm

DEFAULT_GROUP = "default"
NO_DECAY_GROUP = "no_decay"
# Schedulers whose arguments are other schedulers, and that argument: usable from the Python API
# (pass the objects in scheduler.options) but not from a TOML/JSON file or a form.
PYTHON_ONLY_SCHEDULERS = {"SequentialLR": "schedulers", "ChainedScheduler": "schedulers"}
# Schedulers whose lr_lambda is a Python function: from a file, a form or the command line it is a
# formula in epoch (simulator.lr_formula), the same text the Simulator takes; from Python, either.
FORMULA_SCHEDULERS = ("LambdaLR", "MultiplicativeLR")


def optimizer_classes() -> dict[str, type]:
    """Every optimizer class in ``torch.optim``, by lower-case name."""
    return {name.lower(): cls for name, cls in vars(torch.optim).items()
            if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)
            and cls is not torch.optim.Optimizer}


LIBRARY = "pytorch_optimizer"  # its optimizers are named "pytorch_optimizer.Lion" in a configuration
# pytorch_optimizer's classes a plain training step (loss.backward(); optimizer.step()) cannot drive,
# and why: they are not offered, and naming one says so.
NOT_TRAINABLE_HERE = {
    "AliG": "needs a closure that returns the loss at every step",
    "AdaHessian": "needs Hessian-vector products (backward with create_graph=True)",
    "SophiaH": "needs Hessian-vector products (backward with create_graph=True)",
    "AdaLOMO": "fuses the update into the backward pass of a model it is given",
    "LOMO": "fuses the update into the backward pass of a model it is given",
    "AdamMini": "is built from the model (its named parameters), not from parameter groups",
    "PCGrad": "wraps another optimizer for multi-task losses",
    "SafeFP16Optimizer": "wraps another optimizer for float16 training",
    "Lookahead": "wraps another optimizer", "OrthoGrad": "wraps another optimizer",
    "ScheduleFreeWrapper": "wraps another optimizer", "TRAC": "wraps another optimizer",
    "Magma": "wraps another optimizer",
    "SAM": "wraps another optimizer and needs a closure", "FriendlySAM": "wraps another optimizer",
    "GSAM": "wraps another optimizer and needs the model", "LookSAM": "wraps another optimizer",
    "WSAM": "wraps another optimizer", "BSAM": "needs the dataset size and a closure",
    "DeMo": "needs the einops package, which OptiScope does not install",
    "SpectralSphere": "takes 2-D (matrix) parameters only; every model here has biases",
    "Muon": "needs parameter groups marked use_muon (matrices apart from biases)",
    "AdaMuon": "needs parameter groups marked use_muon (matrices apart from biases)",
    "NorMuon": "needs parameter groups marked use_muon (matrices apart from biases)",
    "MuonClip": "needs parameter groups marked use_muon (matrices apart from biases)",
    "DistributedMuon": "needs parameter groups marked use_muon and a process group",
    "AdaGO": "needs parameter groups marked use_muon (matrices apart from biases)",
}


def library_optimizer_classes() -> dict[str, type]:
    """pytorch_optimizer's own optimizer classes (not torch's, which it re-exports), by lower-case
    qualified name (``pytorch_optimizer.lion``), those listed in NOT_TRAINABLE_HERE included.
    Imported on first use; {} where the package is not installed."""
    try:
        import pytorch_optimizer
    except ImportError:
        return {}
    return {f"{LIBRARY}.{name}".lower(): cls for name, cls in vars(pytorch_optimizer).items()
            if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)
            and not cls.__module__.startswith("torch")}


@functools.cache
def trainable_library_optimizers() -> list[str]:
    """The qualified names the Training tab offers: a plain step drives them, no argument but the
    parameters is required (Ranger21 needs num_iterations: a configuration file can give it)."""
    names = []
    for cls in library_optimizer_classes().values():
        required = [p for p in class_options(cls, skip=0).values() if p.default is inspect.Parameter.empty
                    and p.name != "params"]
        if cls.__name__ not in NOT_TRAINABLE_HERE and not required:
            names.append(f"{LIBRARY}.{cls.__name__}")
    return sorted(names, key=str.lower)


def scheduler_classes() -> dict[str, type]:
    """Every learning-rate scheduler class in ``torch.optim.lr_scheduler``, by lower-case name."""
    base = (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)
    return {name.lower(): cls for name, cls in vars(lr_scheduler).items()
            if isinstance(cls, type) and issubclass(cls, base) and not name.startswith("_")
            and cls is not lr_scheduler.LRScheduler}


def class_options(cls: type, skip: int) -> dict[str, inspect.Parameter]:
    """Keyword arguments of ``cls.__init__`` after ``self`` and the first ``skip`` positionals."""
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1 + skip:]
    return {p.name: p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def optimizer_class(name: str) -> type:
    if name.lower().startswith(f"{LIBRARY}."):
        return _library_optimizer_class(name)
    classes = optimizer_classes()
    cls = classes.get(name.lower())
    if cls is None:
        names = sorted(c.__name__ for c in classes.values())
        raise ConfigError(f"optimizer.name: unknown optimizer '{name}' (torch.optim has: {', '.join(names)})",
                          param="optimizer.name")
    if cls is torch.optim.SparseAdam:
        raise ConfigError("optimizer.name: SparseAdam needs sparse gradients (nn.Embedding(sparse=True)); "
                          "OptiScope's models have dense ones, use Adam", param="optimizer.name")
    return cls


def _library_optimizer_class(name: str) -> type:
    cls = library_optimizer_classes().get(name.lower())
    if cls is None:
        raise ConfigError(f"optimizer.name: {LIBRARY} has no optimizer '{name.split('.', 1)[1]}' (the "
                          "Training tab's optimizer box lists those it can train)", param="optimizer.name")
    why = NOT_TRAINABLE_HERE.get(cls.__name__)
    if why:
        raise ConfigError(f"optimizer.name: {cls.__name__} {why}: OptiScope's training step cannot drive it",
                          param="optimizer.name")
    return cls


def scheduler_class(name: str) -> type:
    classes = scheduler_classes()
    cls = classes.get(name.lower())
    if cls is None:
        names = sorted(c.__name__ for c in classes.values())
        raise ConfigError(f"scheduler.name: unknown scheduler '{name}' "
                          f"(torch.optim.lr_scheduler has: {', '.join(names)})", param="scheduler.name")
    return cls


# -- device ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeviceChoice:
    device: torch.device
    note: str  # why this device, for people ("no CUDA or MPS device found: CPU")


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(requested: str) -> DeviceChoice:
    """``auto`` picks CUDA, then MPS, then CPU; a named device that is not there is an error."""
    if requested == "auto":
        if torch.cuda.is_available():
            return DeviceChoice(torch.device("cuda"), f"auto: CUDA ({torch.cuda.get_device_name(0)})")
        if mps_available():
            return DeviceChoice(torch.device("mps"), "auto: Apple MPS")
        return DeviceChoice(torch.device("cpu"), "auto: no CUDA or MPS device found, using the CPU")
    if requested == "cpu":
        return DeviceChoice(torch.device("cpu"), "cpu")
    if requested == "mps":
        if not mps_available():
            raise ConfigError("train.device: mps is not available on this machine (use auto or cpu)",
                              param="train.device")
        return DeviceChoice(torch.device("mps"), "mps")
    if not torch.cuda.is_available():
        raise ConfigError(f"train.device: {requested} requested but CUDA is not available on this "
                          "machine (torch.cuda.is_available() is False); use auto or cpu",
                          param="train.device")
    index = int(requested.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise ConfigError(f"train.device: {requested} does not exist (this machine has {count} CUDA "
                          f"device{'s' if count != 1 else ''}: cuda:0..cuda:{count - 1})",
                          param="train.device")
    return DeviceChoice(torch.device("cuda", index), f"{requested} ({torch.cuda.get_device_name(index)})")


# -- parameter groups -----------------------------------------------------------------------

@dataclass(frozen=True)
class ParamAssignment:
    name: str
    shape: tuple[int, ...]
    group: str


@dataclass
class GroupPlan:
    """Which parameter goes to which group, and each group's own options."""
    groups: list[tuple[str, dict, list[str]]]  # (group name, options, parameter names), in order
    assignment: list[ParamAssignment]

    @property
    def group_names(self) -> list[str]:
        return [name for name, _, _ in self.groups]


def plan_param_groups(model: torch.nn.Module, config: OptimizerConfig) -> GroupPlan:
    """Apply the rules: the first matching rule wins; then, with ``no_decay_bias_norm``, biases and
    normalisation weights go to a ``no_decay`` group; everything else to ``default``."""
    rules = config.param_groups
    members: dict[str, list[str]] = {rule.get("name", rule["match"]): [] for rule in rules}
    options = {rule.get("name", rule["match"]): {k: v for k, v in rule.items() if k not in ("match", "name")}
               for rule in rules}
    members[NO_DECAY_GROUP], options[NO_DECAY_GROUP] = [], {"weight_decay": 0.0}
    members[DEFAULT_GROUP], options[DEFAULT_GROUP] = [], {}
    matched_any = [False] * len(rules)
    assignment = []
    for name, parameter in model.named_parameters():
        group = None
        for index, rule in enumerate(rules):
            if re.search(rule["match"], name):
                matched_any[index] = True
                if group is None:
                    group = rule.get("name", rule["match"])
        if group is None:
            group = NO_DECAY_GROUP if config.no_decay_bias_norm and is_bias_or_norm(model, name) \
                else DEFAULT_GROUP
        members[group].append(name)
        assignment.append(ParamAssignment(name, tuple(parameter.shape), group))
    all_names = [name for name, _ in model.named_parameters()]
    for index, rule in enumerate(rules):
        group = rule.get("name", rule["match"])
        where = f"optimizer.param_groups[{index}].match"
        if not matched_any[index]:
            raise ConfigError(f"{where}: '{rule['match']}' matches no parameter "
                              f"(parameters: {', '.join(all_names)})", param=where)
        if not members[group]:
            raise ConfigError(f"{where}: every parameter '{rule['match']}' matches is taken by an earlier "
                              "rule (the first matching rule wins)", param=where)
    groups = [(name, options[name], names) for name, names in members.items() if names]
    return GroupPlan(groups, assignment)


# -- optimizer ------------------------------------------------------------------------------

def _check_option_names(cls: type, options: dict, where: str) -> None:
    known = class_options(cls, skip=1)
    for key in options:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{where}.{key}: {cls.__name__} has no option '{key}'{hint} "
                              f"(options: {', '.join(known)})", param=f"{where}.{key}")


def _check_option_types(cls: type, options: dict, where: str) -> None:
    """Refuse text where torch takes numbers: torch would only say "'<=' not supported between
    instances of 'float' and 'str'" (optimizers) or fail at its first step (schedulers)."""
    known = class_options(cls, skip=1)
    for key, value in options.items():
        annotation = known[key].annotation if key in known else None
        text = annotation if isinstance(annotation, str) else str(annotation)
        takes_numbers = re.search(r"\b(int|float)\b", text) and \
            not re.search(r"\b(str|Literal|Callable)\b", text)
        items = value if isinstance(value, list | tuple) else (value,)
        words = [item for item in items if isinstance(item, str)]
        if takes_numbers and words:
            kind = "numbers" if isinstance(value, list | tuple) else "a number"
            raise ConfigError(f"{where}.{key}: {key} must be {kind}, not {shown(words[0])}",
                              param=f"{where}.{key}")


def _torch_message(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _probe_optimizer(cls: type, options: dict, where: str, device: torch.device) -> None:
    """Build ``cls`` on a throw-away parameter so torch validates ``options``; name the bad key."""
    def build(opts):
        probe = torch.zeros(2, 2, device=device, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cls([probe], **opts)

    _check_option_types(cls, options, where)
    missing = [name for name, p in class_options(cls, skip=1).items()
               if p.default is inspect.Parameter.empty and name not in options]
    if missing:  # pytorch_optimizer's Ranger21 needs num_iterations: name it, not the first option
        raise ConfigError(f"{where}.{missing[0]}: required by {cls.__name__}", param=f"{where}.{missing[0]}")
    refusals = (ValueError, TypeError, RuntimeError, OverflowError)  # OverflowError: a 400-digit int
    try:
        build(options)
    except refusals as error:
        for key, value in options.items():
            try:
                build({key: value})
            except refusals as single:
                raise ConfigError(f"{where}.{key}: {_torch_message(single)}", param=f"{where}.{key}",
                                  value=value, torch_text=_torch_message(single)) from None
        raise ConfigError(f"{where}: {_torch_message(error)}", param=where,
                          torch_text=_torch_message(error)) from None


def build_optimizer(model: torch.nn.Module, config: OptimizerConfig, device: torch.device):
    """The torch optimizer with one param group per planned group; returns (optimizer, plan)."""
    cls = optimizer_class(config.name)
    _check_option_names(cls, config.options, "optimizer")
    _probe_optimizer(cls, config.options, "optimizer", device)
    plan = plan_param_groups(model, config)
    for index, rule in enumerate(config.param_groups):
        own = {k: v for k, v in rule.items() if k not in ("match", "name")}
        where = f"optimizer.param_groups[{index}]"
        _check_option_names(cls, own, where)
        _probe_optimizer(cls, {**config.options, **own}, where, device)
    parameters = dict(model.named_parameters())
    flat = [name for name, parameter in parameters.items() if parameter.dim() != 2]
    if cls.__name__ == "Muon" and flat:
        # torch's own words ("only supports 2D parameters") do not say what to do about it
        shown = ", ".join(flat[:3]) + (", …" if len(flat) > 3 else "")
        raise ConfigError(
            f"optimizer.name: Muon orthogonalises 2-D weight matrices only, and this model also has "
            f"{len(flat)} parameters of another shape ({shown}); Muon's users train those with a "
            "companion optimizer (AdamW), but a run here has one optimizer: choose another one",
            param="optimizer.name", value="Muon")
    torch_groups = [{"params": [parameters[n] for n in names], "name": name, **options}
                    for name, options, names in plan.groups]
    try:
        optimizer = cls(torch_groups, **config.options)
    except (ValueError, TypeError, RuntimeError) as error:
        raise ConfigError(f"optimizer.name: {cls.__name__}: {_torch_message(error)}",
                          param="optimizer.name", torch_text=_torch_message(error)) from None
    return optimizer, plan


# -- scheduler ------------------------------------------------------------------------------

class ScheduleDriver:
    """Steps the configured scheduler at the right moments and keeps its state for checkpoints.

    ``interval = "step"`` without plateau: warm-up and schedule are one SequentialLR, stepped per
    optimizer step. Otherwise the warm-up is a LinearLR stepped per step for its first steps and
    the main scheduler is stepped per epoch (or with the step loss, for a per-step plateau); both
    act on the same learning rate, chained as torch's ChainedScheduler does.
    """

    def __init__(self, optimizer, config: SchedulerConfig, steps_per_epoch: int, epochs: int,
                 max_steps: int | None):
        self.interval = config.effective_interval
        self.warmup_steps = config.warmup_steps
        self.monitor = config.monitor
        self.main = None
        self.warmup = None
        # The run's length in optimizer steps: what the training loop and the lr preview run for.
        self.total_steps = steps_per_epoch * epochs if max_steps is None else \
            min(max_steps, steps_per_epoch * epochs)
        if self.warmup_steps and self.interval == "step" and (config.name or "").lower() in (
                name.lower() for name in PYTHON_ONLY_SCHEDULERS):
            # torch's SequentialLR restarts a schedule at its milestone with step(0), which neither
            # SequentialLR nor ChainedScheduler takes: the warm-up goes in as their first schedule
            raise ConfigError(f"scheduler.warmup_steps: a warm-up cannot go in front of {config.name} "
                              "stepped per step; make the warm-up (LinearLR) its first schedule",
                              param="scheduler.warmup_steps")
        if self.warmup_steps:
            # the simulator's own warm-up ramp, so a schedule sent from training to a surface is the
            # same schedule
            ramp_name, ramp = warmup_ramp(self.warmup_steps)
            self.warmup = getattr(lr_scheduler, ramp_name)(optimizer, **ramp)
        self.scheduler_steps = self.total_steps - self.warmup_steps if self.interval == "step" else epochs
        if config.name is not None:
            self.main = _build_main_scheduler(optimizer, config, self.interval, self.scheduler_steps)
        self.is_plateau = isinstance(self.main, lr_scheduler.ReduceLROnPlateau)
        if self.warmup is not None and self.main is not None and self.interval == "step" \
                and not self.is_plateau:
            self.main = lr_scheduler.SequentialLR(optimizer, [self.warmup, self.main],
                                                  milestones=[self.warmup_steps])
            self.warmup = None

    @property
    def steps_per_step(self) -> bool:
        """Whether anything happens after an optimizer step (else the loop skips the call)."""
        return self.warmup is not None or (self.main is not None and self.interval == "step")

    def after_step(self, step: int, train_loss: float) -> None:
        """Called after optimizer step number ``step`` (1-based)."""
        if self.warmup is not None and step <= self.warmup_steps:
            self.warmup.step()
        if self.main is not None and self.interval == "step":
            if self.is_plateau:
                self.main.step(train_loss)
            else:
                self.main.step()

    def after_epoch(self, metrics: dict) -> None:
        if self.main is None or self.interval != "epoch":
            return
        if self.is_plateau:
            self.main.step(metrics[self.monitor])
        else:
            self.main.step()

    def state_dict(self) -> dict:
        return {"main": None if self.main is None else self.main.state_dict(),
                "warmup": None if self.warmup is None else self.warmup.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if self.main is not None:
            self.main.load_state_dict(state["main"])
            inner = getattr(self.main, "_schedulers", [self.main])
            _check_one_cycle_fits(inner[-1], self.scheduler_steps)  # the saved cycle length rules
        if self.warmup is not None:
            self.warmup.load_state_dict(state["warmup"])


def _build_main_scheduler(optimizer, config: SchedulerConfig, interval: str, scheduler_steps: int):
    """The configured scheduler; ``scheduler_steps``: how often the run will step it."""
    cls = scheduler_class(config.name)
    options = dict(config.options)
    if cls.__name__ in FORMULA_SCHEDULERS and not callable(options.get("lr_lambda")):
        options["lr_lambda"] = _factor_of(options.get("lr_lambda"), cls.__name__)
    if cls.__name__ in PYTHON_ONLY_SCHEDULERS and _described(options.get("schedulers")):
        options["schedulers"] = _inner_schedulers(optimizer, cls.__name__, options["schedulers"], interval,
                                                  scheduler_steps)
    given_objects = any(callable(v) or (isinstance(v, list | tuple) and v and
                                        not isinstance(v[0], int | float)) for v in options.values())
    if cls.__name__ in PYTHON_ONLY_SCHEDULERS and not given_objects:
        raise ConfigError(f"scheduler.name: {cls.__name__} needs {PYTHON_ONLY_SCHEDULERS[cls.__name__]} "
                          "as Python objects (use the Python API); for a warm-up use scheduler.warmup_steps",
                          param="scheduler.name")
    if cls is lr_scheduler.ChainedScheduler:  # its first argument is the schedulers, not the optimizer
        unknown = [key for key in options if key != "schedulers"]
        if unknown:
            raise ConfigError(f"scheduler.{unknown[0]}: ChainedScheduler has no option '{unknown[0]}' "
                              "(options: schedulers)", param=f"scheduler.{unknown[0]}")
        return lr_scheduler.ChainedScheduler(list(options["schedulers"]), optimizer=optimizer)
    known = class_options(cls, skip=1)
    _check_option_names(cls, options, "scheduler")
    _check_option_types(cls, options, "scheduler")
    if cls is lr_scheduler.OneCycleLR and not any(k in options for k in ("total_steps", "epochs")):
        options["total_steps"] = max(1, scheduler_steps)  # the run's length, in the scheduler's unit
    if cls is lr_scheduler.ReduceLROnPlateau and "mode" not in options and config.monitor == "val_accuracy":
        options["mode"] = "max"  # accuracy improves upwards
    missing = [name for name, p in known.items() if p.default is inspect.Parameter.empty
               and name not in options]
    if missing:
        raise ConfigError(f"scheduler.{missing[0]}: required by {cls.__name__} (this run has "
                          f"{scheduler_steps} scheduler steps of one {interval} each)",
                          param=f"scheduler.{missing[0]}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler = cls(optimizer, **options)
    except (ValueError, TypeError, RuntimeError, KeyError, OverflowError) as error:
        message = _torch_message(error)
        key = next((k for k in options if re.search(rf"\b{re.escape(k)}\b", message)), None)
        raise ConfigError(f"scheduler.{key or 'name'}: {cls.__name__}: {message}",
                          param=f"scheduler.{key or 'name'}", torch_text=message) from None
    _check_one_cycle_fits(scheduler, scheduler_steps)
    return scheduler


def _described(items) -> bool:
    """Whether ``items`` describes schedules (names, or [name, {options}] pairs, as a file holds
    them) rather than being torch scheduler objects (the Python API's)."""
    return isinstance(items, list | tuple) and bool(items) and all(
        isinstance(item, str) or (isinstance(item, list | tuple) and item and isinstance(item[0], str))
        for item in items)


def _inner_schedulers(optimizer, owner: str, items, interval: str, scheduler_steps: int) -> list:
    """SequentialLR's or ChainedScheduler's schedulers built from a file's ``[name, {options}]``
    pairs, in order, on ``optimizer`` (as torch's users build them); a refusal names its item."""
    built = []
    for index, item in enumerate(items):
        key = f"scheduler.schedulers[{index}]"
        name, options = (item, {}) if isinstance(item, str) else (item[0], item[1] if len(item) > 1 else {})
        if not (isinstance(item, str) or (len(item) == 2 and isinstance(options, dict))):
            raise ConfigError(f"{key}: expected a scheduler name or [name, {{options}}], got {shown(item)}",
                              param=key)
        try:
            inner = scheduler_class(name)
            if inner.__name__ in (*PYTHON_ONLY_SCHEDULERS, "ReduceLROnPlateau"):
                raise ConfigError(f"scheduler.name: {inner.__name__} cannot be nested in {owner}",
                                  param="scheduler.name")
            built.append(_build_main_scheduler(optimizer, SchedulerConfig(name=name, options=dict(options)),
                                               interval, scheduler_steps))
        except ConfigError as error:  # its keys are the item's: scheduler.schedulers[1].T_max
            message = str(error).replace("scheduler.", f"{key}.", 1).replace(f"{key}.name", key, 1)
            param = (error.param or "scheduler.name").replace("scheduler.", f"{key}.", 1)
            raise ConfigError(message, param=param.replace(f"{key}.name", key), value=error.value,
                              torch_text=error.torch_text) from None
    return built


def _factor_of(formula, scheduler: str):
    """lr_lambda from its formula text; a ConfigError naming scheduler.lr_lambda if it is not one.
    The factor raises a ValueError (SimulatorError) at the step where it divides by zero or
    overflows: the run then fails at that step, saying so."""
    if formula is None:
        raise ConfigError(f"scheduler.lr_lambda: required by {scheduler}: a formula in epoch, e.g. "
                          f"{', '.join(FACTOR_EXAMPLES[:2])}", param="scheduler.lr_lambda")
    try:
        return factor_function(formula)
    except SimulatorError as error:
        raise ConfigError(f"scheduler.lr_lambda: {scheduler}: invalid lr_lambda={formula!s}: {error}",
                          param="scheduler.lr_lambda", value=formula) from None


def _check_one_cycle_fits(scheduler, scheduler_steps: int) -> None:
    """OneCycleLR raises on the step after its last: refuse a run longer than its cycle up front."""
    if isinstance(scheduler, lr_scheduler.OneCycleLR) and scheduler.total_steps < scheduler_steps:
        raise ConfigError(f"scheduler.total_steps: OneCycleLR would run out after {scheduler.total_steps} "
                          f"steps but this run takes {scheduler_steps} (leave total_steps out to fit a "
                          "new run; a resumed run cannot outgrow its cycle)", param="scheduler.total_steps")
