"""Learning-rate schedules, exact to torch.optim.lr_scheduler, and the SCHEDULES registry.

torch's schedulers do their arithmetic on Python floats kept in the optimizer's param group; the
classes below replay that arithmetic on a one-group stand-in (``_Group``) in the same order, with
the same recursive forms, the same construction side effects (``initial_lr``, momentum written at
construction) and SequentialLR's undo-and-restart dance, so the sequences agree bit for bit.
Everything except ReduceLROnPlateau depends on the step count only and is computed ahead of the
run (``schedule_arrays``); ReduceLROnPlateau watches the loss, so the compiled loops run it
(``simulator.plateau``) with the loss at the point each step reaches.

Momentum cycling (CyclicLR, OneCycleLR): torch writes ``betas[0]`` for optimizers that have betas
and ``momentum`` otherwise (:func:`momentum_key`); the arrays carry it per step and the engine
writes it into the optimizer's hyperparameter slot before each step. Schedules know an optimizer
only by that key and its name (for messages): this module imports no optimizer registry.

A linear warm-up in front of a schedule is spelled once, here (:func:`join_warmup`,
:func:`split_warmup`): the CLI's ``--warmup``, the Simulator tab's editor and the training
engine's ``warmup_steps`` all build the same schedule.
"""

import math
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from simulator.errors import SimulatorError
from simulator.lr_formula import EXAMPLES as FACTOR_EXAMPLES
from simulator.lr_formula import factor_function, resolve_factor
from simulator.params import (
    BOOL,
    CHOICE,
    FLOAT,
    FORMULA,
    INT,
    INT_LIST,
    SCHEDULE_LIST,
    Param,
    Resolved,
    coerce_given,
    find_param,
)
from simulator.plateau import ReduceLROnPlateau


class _Group(dict):
    """The single param group torch's schedulers read and write."""


class _Scheduler:
    """torch.optim.lr_scheduler.LRScheduler, for one param group and last_epoch=-1."""

    def __init__(self, group: _Group):
        self.group = group
        group.setdefault("initial_lr", group["lr"])
        self.base_lr = group["initial_lr"]
        self.last_epoch = -1
        self.initial_step()

    def initial_step(self):
        self.step_count = 0
        self.is_initial = True
        self.step()
        self.is_initial = False

    def step(self):
        self.step_count += 1
        self.update_lr()

    def update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            value = self.get_lr()
        else:
            self.last_epoch = epoch
            value = self.closed_form_lr() if hasattr(self, "closed_form_lr") else self.get_lr()
        self.group["lr"] = value

    def get_lr(self) -> float:
        raise NotImplementedError


class LambdaLR(_Scheduler):
    """The initial lr times ``lr_lambda(epoch)``: the formula's factor, computed as its Python lambda."""

    def __init__(self, group, lr_lambda):
        self.factor = factor_function(lr_lambda)
        super().__init__(group)

    def get_lr(self):
        return self.base_lr * self.factor(self.last_epoch)


class MultiplicativeLR(_Scheduler):
    """The lr in force times ``lr_lambda(epoch)`` at every step after the first."""

    def __init__(self, group, lr_lambda):
        self.factor = factor_function(lr_lambda)
        super().__init__(group)

    def get_lr(self):
        return self.group["lr"] if self.is_initial else self.group["lr"] * self.factor(self.last_epoch)


class StepLR(_Scheduler):
    def __init__(self, group, step_size, gamma=0.1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(group)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.group["lr"]
        return self.group["lr"] * self.gamma

    def closed_form_lr(self):
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class MultiStepLR(_Scheduler):
    def __init__(self, group, milestones, gamma=0.1):
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(group)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self.group["lr"]
        return self.group["lr"] * self.gamma ** self.milestones[self.last_epoch]

    def closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return self.base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)


class ConstantLR(_Scheduler):
    def __init__(self, group, factor=1.0 / 3, total_iters=5):
        self.factor, self.total_iters = factor, total_iters
        super().__init__(group)

    def get_lr(self):
        if self.last_epoch == 0:
            return self.group["lr"] * self.factor
        if self.last_epoch != self.total_iters:
            return self.group["lr"]
        return self.group["lr"] * (1.0 / self.factor)

    def closed_form_lr(self):
        return self.base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))


class LinearLR(_Scheduler):
    def __init__(self, group, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(group)

    def get_lr(self):
        if self.last_epoch == 0:
            return self.group["lr"] * self.start_factor
        if self.is_initial or self.last_epoch > self.total_iters:
            return self.group["lr"]
        rise = self.end_factor - self.start_factor
        return self.group["lr"] * (
            1.0 + rise / (self.total_iters * self.start_factor + (self.last_epoch - 1) * rise)
        )

    def closed_form_lr(self):
        progress = min(self.total_iters, self.last_epoch)
        return self.base_lr * (
            self.start_factor + (self.end_factor - self.start_factor) * progress / self.total_iters
        )


class ExponentialLR(_Scheduler):
    def __init__(self, group, gamma):
        self.gamma = gamma
        super().__init__(group)

    def get_lr(self):
        return self.group["lr"] if self.is_initial else self.group["lr"] * self.gamma

    def closed_form_lr(self):
        return self.base_lr * self.gamma**self.last_epoch


class PolynomialLR(_Scheduler):
    def __init__(self, group, total_iters=5, power=1.0):
        self.total_iters, self.power = total_iters, power
        super().__init__(group)

    def get_lr(self):
        if self.is_initial or self.last_epoch > self.total_iters:
            return self.group["lr"]
        decay_factor = (
            (1.0 - self.last_epoch / self.total_iters) / (1.0 - (self.last_epoch - 1) / self.total_iters)
        ) ** self.power
        return self.group["lr"] * decay_factor

    def closed_form_lr(self):
        return self.base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power


class CosineAnnealingLR(_Scheduler):
    def __init__(self, group, T_max, eta_min=0.0):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(group)

    def get_lr(self):
        lr, eta_min, t_max = self.group["lr"], self.eta_min, self.T_max
        if self.is_initial:
            return lr
        if self.step_count == 1 and self.last_epoch > 0:
            return eta_min + (self.base_lr - eta_min) * (1 + math.cos(self.last_epoch * math.pi / t_max)) / 2
        if (self.last_epoch - 1 - t_max) % (2 * t_max) == 0:
            return lr + (self.base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        return (
            (1 + math.cos(math.pi * self.last_epoch / t_max))
            / (1 + math.cos(math.pi * (self.last_epoch - 1) / t_max))
            * (lr - eta_min)
            + eta_min
        )

    def closed_form_lr(self):
        return self.eta_min + (self.base_lr - self.eta_min) * (
            1 + math.cos(math.pi * self.last_epoch / self.T_max)
        ) / 2


class CosineAnnealingWarmRestarts(_Scheduler):
    def __init__(self, group, T_0, T_mult=1, eta_min=0.0):
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = -1
        super().__init__(group)

    def get_lr(self):
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2

    def step(self):
        self.step_count += 1
        if self.last_epoch < 0:
            epoch = 0
            self.T_i, self.T_cur = self.T_0, 0
        else:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        self.last_epoch = epoch
        self.group["lr"] = self.get_lr()


def _set_momentum(group: _Group, value: float) -> None:
    if "betas" in group:
        group["betas"] = (value, group["betas"][1])
    else:
        group["momentum"] = value


class CyclicLR(_Scheduler):
    def __init__(self, group, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8, max_momentum=0.9):
        group["lr"] = base_lr
        self.max_lr = max_lr
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        self.mode, self.gamma = mode, gamma
        self.scale_mode = {"triangular": "cycle", "triangular2": "cycle", "exp_range": "iterations"}[mode]
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.base_momentum, self.max_momentum = base_momentum, max_momentum
            _set_momentum(group, max_momentum)
        super().__init__(group)
        self.base_lr = base_lr  # torch replaces base_lrs after its constructor's first step

    def scale_fn(self, x):
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self):
        base_lr = self.base_lr
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale_at = cycle if self.scale_mode == "cycle" else self.last_epoch
        lr = base_lr + (self.max_lr - base_lr) * scale_factor * self.scale_fn(scale_at)
        if self.cycle_momentum:
            base_height = (self.max_momentum - self.base_momentum) * scale_factor
            _set_momentum(self.group, self.max_momentum - base_height * self.scale_fn(scale_at))
        return lr


class OneCycleLR(_Scheduler):
    def __init__(self, group, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False):
        self.total_steps = total_steps if total_steps is not None else epochs * steps_per_epoch
        total = self.total_steps
        if three_phase:
            self.phases = [
                (float(pct_start * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * total) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self.phases = [
                (float(pct_start * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        self.anneal_strategy = anneal_strategy
        group["initial_lr"] = max_lr / div_factor
        group["max_lr"] = max_lr
        group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            _set_momentum(group, max_momentum)
            group["max_momentum"], group["base_momentum"] = max_momentum, base_momentum
        super().__init__(group)

    def anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            cos_out = math.cos(math.pi * pct) + 1
            return end + (start - end) / 2.0 * cos_out
        return (end - start) * pct + start

    def get_lr(self):
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise SimulatorError(
                f"OneCycleLR: stepped {step_num} times but total_steps is {self.total_steps}"
            )
        start_step = 0.0
        for i, (end_step, start_lr, end_lr, start_momentum, end_momentum) in enumerate(self.phases):
            if step_num <= end_step or i == len(self.phases) - 1:
                pct = (step_num - start_step) / (end_step - start_step)
                lr = self.anneal(self.group[start_lr], self.group[end_lr], pct)
                if self.cycle_momentum:
                    momentum = self.anneal(self.group[start_momentum], self.group[end_momentum], pct)
                    _set_momentum(self.group, momentum)
                return lr
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")


class SequentialLR:
    def __init__(self, group, schedulers, milestones):
        self.group, self.schedulers, self.milestones = group, schedulers, milestones
        self.last_epoch = 0
        group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        schedulers[bisect_right(milestones, 0)].initial_step()

    def step(self):
        self.last_epoch += 1
        index = bisect_right(self.milestones, self.last_epoch)
        scheduler = self.schedulers[index]
        if index > 0 and self.milestones[index - 1] == self.last_epoch:
            scheduler.update_lr(0)
        else:
            scheduler.step()


class ChainedScheduler:
    """Schedules built one after another on the same lr, each stepped in turn at every step."""

    def __init__(self, group, schedulers):
        self.group, self.schedulers = group, schedulers

    def step(self):
        for scheduler in self.schedulers:
            scheduler.step()


COMPOSITE = ("SequentialLR", "ChainedScheduler")  # schedules made of schedules


# ---- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    summary: str
    params: tuple[Param, ...]
    build: type

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        return find_param(self.params, name, self.name, "parameter")

    def check(self, overrides: dict | None, steps: int | None = None) -> Resolved:
        """``overrides`` coerced and checked, with the complete values they resolve to; raises
        SimulatorError carrying the culprit. A Resolved of this schedule (for these ``steps``, where
        they matter) is returned as it is: values are checked once, where they enter."""
        if isinstance(overrides, Resolved) and overrides.matches(self.name, steps):
            return overrides
        given = coerce_given(self.params, overrides, self.name, "parameter")
        values = {p.name: given.get(p.name, p.default) for p in self.params}
        depends_on_steps = None
        if self.name == "OneCycleLR" and values["total_steps"] is None and values["epochs"] is None:
            values["total_steps"] = depends_on_steps = steps  # a simulated run is one epoch of `steps` steps
        _CROSS_CHECKS.get(self.name, lambda spec, v: None)(self, values)
        return Resolved(given, values, self.name, depends_on_steps)

    def resolve(self, overrides: dict | None, steps: int | None = None) -> Resolved:
        """Defaults merged with ``overrides`` and checked; raises SimulatorError naming the key. The
        result is itself a Resolved (of the complete values): handed back, it is not checked again."""
        return self.check(overrides, steps).completed()


def _refuse(spec: ScheduleSpec, name: str, value, why: str):
    spec.param(name).refuse(spec.name, value, why)


def _resolve_inner(param: Param, owner: str, item) -> tuple[str, dict]:
    """One item of SequentialLR's or ChainedScheduler's schedulers: a name or (name, parameters),
    resolved."""
    if isinstance(item, str):
        name, params = item, {}
    elif isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[1], dict | None):
        name, params = item
    else:  # a file can hold anything here; say what a schedule looks like
        param.refuse(owner, item, "expected a schedule name or (name, parameters)")
    inner = get_schedule(name)
    if inner.name in (*COMPOSITE, "ReduceLROnPlateau"):
        param.refuse(owner, name, f"{inner.name} cannot be nested in {owner}")
    return inner.name, inner.resolve(params)



def _check_sequential(spec, values):
    if len(values["milestones"]) != len(values["schedulers"]) - 1:
        _refuse(spec, "milestones", values["milestones"],
                f"needs one milestone fewer than schedulers ({len(values['schedulers'])})")


def _check_cyclic(spec, values):
    if values["step_size_down"] is not None and values["step_size_down"] < 0:
        _refuse(spec, "step_size_down", values["step_size_down"], "must be >= 0")


def _check_one_cycle(spec, values):
    if values["total_steps"] is None and (values["epochs"] is None or values["steps_per_epoch"] is None):
        _refuse(spec, "total_steps", None, "give total_steps, or epochs and steps_per_epoch")


_CROSS_CHECKS = {"SequentialLR": _check_sequential, "CyclicLR": _check_cyclic, "OneCycleLR": _check_one_cycle}


def _p(name, default, help_text, kind=FLOAT, **options) -> Param:
    return Param(name, default, help_text, kind=kind, **options)


_POSITIVE_INT = {"kind": INT, "minimum": 1}
_LR_LAMBDA_HELP = ("a formula in epoch (the scheduler's step count), e.g. " + ", ".join(FACTOR_EXAMPLES[:2]))
_FACTOR = {"minimum": 0.0, "maximum": 1.0}
_MOMENTUM_CYCLING = (
    _p("cycle_momentum", True, "cycle betas[0] / momentum inversely to the lr", BOOL),
)

_SPECS = (
    ScheduleSpec("LambdaLR", "the initial lr times a factor typed in epoch, e.g. 0.95**epoch", (
        _p("lr_lambda", None, "factor of the initial lr: " + _LR_LAMBDA_HELP, FORMULA, required=True,
           resolve_item=resolve_factor),
    ), LambdaLR),
    ScheduleSpec("MultiplicativeLR", "the lr multiplied at every step by a factor typed in epoch", (
        _p("lr_lambda", None, "factor applied at each step: " + _LR_LAMBDA_HELP, FORMULA, required=True,
           resolve_item=resolve_factor),
    ), MultiplicativeLR),
    ScheduleSpec("StepLR", "multiply the lr by gamma every step_size steps", (
        _p("step_size", None, "steps between decays", required=True, **_POSITIVE_INT),
        _p("gamma", 0.1, "decay factor", scale="log", typical=(1e-3, 1.0)),
    ), StepLR),
    ScheduleSpec("MultiStepLR", "multiply the lr by gamma at each milestone", (
        _p("milestones", None, "steps at which to decay", INT_LIST, required=True),
        _p("gamma", 0.1, "decay factor", scale="log", typical=(1e-3, 1.0)),
    ), MultiStepLR),
    ScheduleSpec("ConstantLR", "a constant factor on the lr until total_iters", (
        _p("factor", 1.0 / 3, "lr multiplier until total_iters", **_FACTOR),
        _p("total_iters", 5, "steps with the factor applied", kind=INT, minimum=0),
    ), ConstantLR),
    ScheduleSpec("LinearLR", "linear ramp of the lr factor from start_factor to end_factor", (
        _p("start_factor", 1.0 / 3, "factor at step 0", minimum=0.0, include_minimum=False, maximum=1.0),
        _p("end_factor", 1.0, "factor from total_iters on", **_FACTOR),
        _p("total_iters", 5, "length of the ramp in steps", **_POSITIVE_INT),
    ), LinearLR),
    ScheduleSpec("ExponentialLR", "multiply the lr by gamma every step", (
        _p("gamma", None, "decay factor per step", required=True, typical=(0.9, 1.0)),
    ), ExponentialLR),
    ScheduleSpec("PolynomialLR", "polynomial decay to zero over total_iters steps", (
        _p("total_iters", 5, "steps of decay", **_POSITIVE_INT),
        _p("power", 1.0, "power of the polynomial", typical=(0.1, 5.0)),
    ), PolynomialLR),
    ScheduleSpec("CosineAnnealingLR", "cosine from the lr down to eta_min over T_max steps", (
        _p("T_max", None, "half period in steps", required=True, **_POSITIVE_INT),
        _p("eta_min", 0.0, "lowest lr", minimum=0.0),
    ), CosineAnnealingLR),
    ScheduleSpec("CosineAnnealingWarmRestarts", "cosine annealing restarted every T_i steps", (
        _p("T_0", None, "steps until the first restart", required=True, **_POSITIVE_INT),
        _p("T_mult", 1, "factor growing T_i after each restart", **_POSITIVE_INT),
        _p("eta_min", 0.0, "lowest lr", minimum=0.0),
    ), CosineAnnealingWarmRestarts),
    ScheduleSpec("CyclicLR", "lr cycles between base_lr and max_lr (momentum the other way)", (
        _p("base_lr", None, "lower lr of the cycle", required=True, minimum=0.0, scale="log"),
        _p("max_lr", None, "upper lr of the cycle", required=True, minimum=0.0, scale="log"),
        _p("step_size_up", 2000, "steps rising", **_POSITIVE_INT),
        _p("step_size_down", None, "steps falling (none = step_size_up)", kind=INT, none_allowed=True),
        _p("mode", "triangular", "cycle shape", CHOICE, choices=("triangular", "triangular2", "exp_range")),
        _p("gamma", 1.0, "exp_range decay per step", typical=(0.9, 1.0)),
        *_MOMENTUM_CYCLING,
        _p("base_momentum", 0.8, "momentum at the lr peak", **_FACTOR),
        _p("max_momentum", 0.9, "momentum at the lr trough", **_FACTOR),
    ), CyclicLR),
    ScheduleSpec("OneCycleLR", "warm up to max_lr, then anneal far below the start (1cycle)", (
        _p("max_lr", None, "peak lr", required=True, minimum=0.0, scale="log"),
        _p("total_steps", None, "length of the cycle (none = the run's steps)", kind=INT, minimum=1,
           none_allowed=True),
        _p("epochs", None, "with steps_per_epoch, instead of total_steps", kind=INT, minimum=1,
           none_allowed=True),
        _p("steps_per_epoch", None, "with epochs, instead of total_steps", kind=INT, minimum=1,
           none_allowed=True),
        _p("pct_start", 0.3, "fraction of the cycle spent rising", **_FACTOR),
        _p("anneal_strategy", "cos", "shape of the ramps", CHOICE, choices=("cos", "linear")),
        *_MOMENTUM_CYCLING,
        _p("base_momentum", 0.85, "momentum at the lr peak", **_FACTOR),
        _p("max_momentum", 0.95, "momentum at the start and end", **_FACTOR),
        _p("div_factor", 25.0, "initial lr = max_lr / div_factor", minimum=0.0, include_minimum=False),
        _p("final_div_factor", 1e4, "final lr = initial lr / final_div_factor", minimum=0.0,
           include_minimum=False),
        _p("three_phase", False, "rise, fall back to the initial lr, then anneal", BOOL),
    ), OneCycleLR),
    ScheduleSpec("ReduceLROnPlateau", "multiply the lr by factor when the loss stops improving", (
        _p("mode", "min", "min: the loss should fall; max: it should rise", CHOICE, choices=("min", "max")),
        _p("factor", 0.1, "lr multiplier at each reduction", minimum=0.0, maximum=1.0,
           include_maximum=False, scale="log", typical=(1e-3, 0.9),
           torch_error="Factor should be < 1.0."),
        _p("patience", 10, "steps without improvement tolerated before reducing", kind=INT, minimum=0,
           typical=(0, 100)),
        _p("threshold", 1e-4, "how much better counts as an improvement", minimum=0.0, scale="log",
           typical=(1e-8, 1e-1)),
        _p("threshold_mode", "rel", "rel: relative to the best loss; abs: absolute", CHOICE,
           choices=("rel", "abs")),
        _p("cooldown", 0, "steps after a reduction before counting again", kind=INT, minimum=0,
           typical=(0, 100)),
        _p("min_lr", 0.0, "lower bound on the lr", minimum=0.0),
        _p("eps", 1e-8, "reductions smaller than this are skipped", minimum=0.0, scale="log"),
    ), ReduceLROnPlateau),
    ScheduleSpec("SequentialLR", "schedules one after another, switching at milestones", (
        _p("schedulers", None, "list of (name, parameters)", SCHEDULE_LIST, required=True,
           resolve_item=_resolve_inner),
        _p("milestones", None, "steps at which to switch", INT_LIST, required=True),
    ), SequentialLR),
    ScheduleSpec("ChainedScheduler", "several schedules at once: each step applies every one in turn", (
        _p("schedulers", None, "list of (name, parameters)", SCHEDULE_LIST, required=True,
           resolve_item=_resolve_inner),
    ), ChainedScheduler),
)

SCHEDULES: dict[str, ScheduleSpec] = {spec.name: spec for spec in _SPECS}


def get_schedule(name) -> ScheduleSpec:
    """The registry entry for ``name``, case-insensitive; SimulatorError if unknown."""
    if isinstance(name, str):
        for spec in _SPECS:
            if spec.name.lower() == name.strip().lower():
                return spec
    raise SimulatorError(f"unknown schedule '{name}'; choose from: {', '.join(SCHEDULES)}", param="schedule",
                         value=name)


def momentum_key(hyperparam_names) -> str | None:
    """What CyclicLR and OneCycleLR cycle in an optimizer with these hyperparameters, as torch picks
    it: "betas" (its first element) where there are betas, else "momentum", else None (nothing)."""
    names = tuple(hyperparam_names)
    return "betas" if "betas" in names else "momentum" if "momentum" in names else None


def _build(spec: ScheduleSpec, values: dict, group: _Group, key: str | None, optimizer_name: str):
    if spec.name in COMPOSITE:
        inner = [
            _build(get_schedule(name), params, group, key, optimizer_name)
            for name, params in values["schedulers"]
        ]
        if spec.name == "ChainedScheduler":
            return ChainedScheduler(group, inner)
        return SequentialLR(group, inner, values["milestones"])
    if values.get("cycle_momentum") and key is None:
        _refuse(spec, "cycle_momentum", True,
                f"{optimizer_name} has neither momentum nor betas; set cycle_momentum=false")
    return spec.build(group, **values)


class SchedulePlan(NamedTuple):
    """What the compiled loops need to follow a schedule.

    ``lrs[k]``: the lr step k uses (row 0: the one in force at the start); ``momenta``: the cycled
    momentum per step, or None; ``momentum_key``: the hyperparameter it drives ("betas" ->
    betas[0]); ``plateau``: ReduceLROnPlateau's vector, or an empty array. With a plateau the
    loop rewrites ``lrs`` as it goes, since the lr then depends on the losses reached.
    """

    lrs: np.ndarray
    momenta: np.ndarray | None
    momentum_key: str | None
    plateau: np.ndarray


def resolve_schedule(schedule, steps: int) -> tuple[str, dict]:
    """``(name, params)`` (or a bare name) checked and completed with defaults: (torch name, values)."""
    if isinstance(schedule, str):
        name, params = schedule, {}
    else:
        try:
            name, params = schedule
        except (TypeError, ValueError):
            raise SimulatorError(
                f"invalid schedule {schedule!r}: expected a name or (name, parameters)",
                param="schedule", value=schedule,
            ) from None
    if params is not None and not isinstance(params, dict):
        raise SimulatorError(f"invalid schedule parameters {params!r}: expected a mapping of names to values",
                             param="schedule", value=params)
    spec = get_schedule(name)
    return spec.name, spec.resolve(params, steps)


def schedule_arrays(schedule, key: str | None, values: dict, steps: int,
                    optimizer_name: str = "this optimizer") -> SchedulePlan:
    """The SchedulePlan of ``schedule`` (a name or ``(name, params)``) for a run of ``steps`` steps.

    ``key``: what momentum cycling drives (:func:`momentum_key`), its value in ``values``;
    ``optimizer_name`` names the optimizer where a schedule cycles momentum it does not have."""
    name, resolved = resolve_schedule(schedule, steps)
    spec = get_schedule(name)
    group = _Group(lr=values["lr"])
    if spec.name == "ReduceLROnPlateau":
        plateau = ReduceLROnPlateau(group, **resolved).vector
        return SchedulePlan(np.full(steps + 1, values["lr"], dtype=np.float64), None, None, plateau)
    if key is not None:
        group[key] = values[key]
    scheduler = _build(spec, resolved, group, key, optimizer_name)
    lrs = np.empty(steps + 1)
    momenta = np.empty(steps + 1)
    for k in range(1, steps + 1):
        lrs[k] = group["lr"]
        momenta[k] = group["betas"][0] if key == "betas" else group.get("momentum", 0.0)
        if k < steps:  # the step after the last one changes nothing the run uses
            scheduler.step()
    lrs[0], momenta[0] = (lrs[1], momenta[1]) if steps else (group["lr"], 0.0)
    inner = [params for _, params in resolved.get("schedulers", [])]
    cycles = any(params.get("cycle_momentum") for params in [resolved, *inner])
    return SchedulePlan(lrs, momenta if cycles and key else None, key, np.zeros(0))


# ---- a linear warm-up in front of a schedule: the one spelling the CLI, the GUI and training share ----


def warmup_ramp(steps: int) -> tuple[str, dict]:
    """lr/steps on the first step, the full lr after ``steps`` steps: a LinearLR from 1/steps."""
    return ("LinearLR", {"start_factor": 1.0 / steps, "total_iters": steps})


def join_warmup(schedule, warmup: int):
    """``schedule`` (a name or (name, params), or None: a constant lr) after ``warmup`` warm-up steps."""
    if warmup <= 0:
        return schedule
    ramp = warmup_ramp(warmup)
    if schedule is None:
        return ramp  # after total_iters LinearLR holds the optimizer's lr
    return ("SequentialLR", {"schedulers": [ramp, schedule], "milestones": [warmup]})


def split_warmup(schedule) -> tuple[tuple | None, int]:
    """(inner schedule or None, warm-up steps) for a run's schedule; (schedule, 0) when it is not
    a warm-up in front of something as :func:`join_warmup` builds it."""
    if schedule is None:
        return None, 0
    name, params = schedule
    if name == "LinearLR" and set(params) == {"start_factor", "total_iters"} and \
            params["start_factor"] == 1.0 / params["total_iters"]:
        return None, params["total_iters"]
    if name == "SequentialLR":
        inner, milestones = params.get("schedulers", []), params.get("milestones", [])
        if len(inner) == 2 and len(milestones) == 1:
            ramp_name, ramp = inner[0]
            w = milestones[0]
            is_ramp = ramp_name == "LinearLR" and ramp.get("total_iters") == w
            if is_ramp and ramp.get("start_factor") == 1.0 / w and ramp.get("end_factor", 1.0) == 1.0:
                return (inner[1][0], dict(inner[1][1])), w
    return schedule, 0
