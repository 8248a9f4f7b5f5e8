"""The OPTIMIZERS registry: every element-wise torch.optim optimizer, described once.

Each entry says which kernel runs it, how its state is laid out and, for every hyperparameter,
torch's name and default, the range torch accepts, the scale an editor should use and a one-line
help. The CLI, the GUI editors and the tests iterate over this registry; nothing else lists
optimizers by hand. Adding an optimizer is one kernel in ``kernels.py`` plus one entry here.

torch's implementation switches (``foreach``, ``fused``, ``capturable``, ``differentiable``) are
not hyperparameters here: the kernels reproduce the path torch takes by default on a CPU, the
single-tensor one.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulator import kernels, lbfgs
from simulator.errors import SimulatorError
from simulator.hyperparams import BOOL, PAIR, HyperParam


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    kernel_id: int
    summary: str
    hyperparams: tuple[HyperParam, ...]
    state_layout: tuple[tuple[str, int], ...]
    first_moment: str | None = None  # the state vector that is a momentum / first moment
    constants: tuple[float, ...] = ()  # kernel slots fixed by the class (AdamW's decoupling)
    cross_check: Callable[[dict], None] | None = field(default=None, repr=False)
    # A closure optimizer (LBFGS) evaluates the loss several times per step and runs its own
    # compiled loop; it resolves its options itself (whole numbers, choices).
    closure: bool = False
    resolver: Callable[[dict | None], dict] | None = field(default=None, repr=False)

    @property
    def hyperparam_names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hyperparams)

    @property
    def defaults(self) -> dict:
        return {h.name: h.default for h in self.hyperparams}

    @property
    def state_size(self) -> int:
        return sum(size for _, size in self.state_layout)

    @property
    def state_names(self) -> tuple[str, ...]:
        """One name per state slot: vectors get ``_x``/``_y``."""
        names = []
        for name, size in self.state_layout:
            names.extend([name] if size == 1 else [f"{name}_x", f"{name}_y"])
        return tuple(names)

    def state_slice(self, name: str) -> slice:
        start = 0
        for entry, size in self.state_layout:
            if entry == name:
                return slice(start, start + size)
            start += size
        raise KeyError(name)

    def hyperparam(self, name: str) -> HyperParam:
        for h in self.hyperparams:
            if h.name == name:
                return h
        raise SimulatorError(
            f"{self.name} has no hyperparameter '{name}'; "
            f"valid: {', '.join(self.hyperparam_names)}"
        )

    def slot(self, name: str) -> int:
        """Index of hyperparameter ``name`` (its first element for a pair) in the packed vector."""
        index = 0
        for h in self.hyperparams:
            if h.name == name:
                return index
            index += h.slots
        raise KeyError(name)

    def resolve(self, overrides: dict | None = None) -> dict:
        """Defaults merged with ``overrides``, checked with torch's rules; raises SimulatorError."""
        if self.resolver is not None:
            return self.resolver(overrides)
        if overrides is not None and not isinstance(overrides, dict):
            raise SimulatorError(f"{self.name}: hyperparameters must be a mapping of names to values, "
                                 f"got {overrides!r}")
        values = self.defaults
        for name, raw in (overrides or {}).items():
            values[name] = _coerce(self, self.hyperparam(name), raw)
        for h in self.hyperparams:
            _check_range(self, h, values[h.name])
        if self.cross_check is not None:
            self.cross_check(values)
        return values

    def pack(self, values: dict) -> np.ndarray:
        """The kernel's hyperparameter vector for resolved ``values``."""
        flat: list[float] = []
        for h in self.hyperparams:
            value = values[h.name]
            if h.kind == PAIR:
                flat.extend(math.nan if v is None else float(v) for v in value)
            else:
                flat.append(float(value))
        flat.extend(self.constants)
        return np.array(flat, dtype=np.float64)


def _refuse(spec: OptimizerSpec, h: HyperParam, value, why: str, torch_text: str = "") -> None:
    message = f"{spec.name}: invalid {h.name}={_show(value)}: {why}"
    if torch_text:
        message += f" (torch: {torch_text})"
    raise SimulatorError(message)


def _show(value) -> str:
    if isinstance(value, tuple | list):
        return ",".join(_show(v) for v in value)
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _coerce_number(spec, h, raw, allow_none=False):
    if raw is None and allow_none:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | np.integer | np.floating):
        _refuse(spec, h, raw, "expected a number")
    try:
        value = float(raw)
    except OverflowError:  # an integer beyond the largest float
        value = math.inf
    if not math.isfinite(value):
        _refuse(spec, h, raw, "must be a finite number")
    return value


def _coerce(spec: OptimizerSpec, h: HyperParam, raw):
    if h.kind == BOOL:
        if isinstance(raw, bool | np.bool_):
            return bool(raw)
        if isinstance(raw, int | float) and raw in (0, 1):
            return bool(raw)
        _refuse(spec, h, raw, "expected true or false")
    if h.kind == PAIR:
        if not isinstance(raw, tuple | list) or len(raw) != 2:
            _refuse(spec, h, raw, "expected two numbers, e.g. 0.9,0.999")
        first = _coerce_number(spec, h, raw[0], allow_none=h.first_may_be_none)
        return (first, _coerce_number(spec, h, raw[1]))
    return _coerce_number(spec, h, raw)


def _check_range(spec: OptimizerSpec, h: HyperParam, value) -> None:
    if h.kind == BOOL:
        return
    elements = value if h.kind == PAIR else (value,)
    for index, element in enumerate(elements):
        if element is None or h.in_range(element):
            continue
        where = f"element {index} must be" if h.kind == PAIR else "must be"
        torch_text = h.torch_error.format(index=index, index1=index + 1, value=_show(element))
        _refuse(spec, h, value, f"{where} {h.range_text()}", torch_text)


# ---- shared hyperparameter descriptions -------------------------------------------------------


def _lr(default: float, help_text: str = "learning rate: the size of each step") -> HyperParam:
    return HyperParam(
        "lr", default, help_text, minimum=0.0, scale="log", typical=(1e-5, 10.0),
        torch_error="Invalid learning rate: {value}",
    )


def _betas(default=(0.9, 0.999)) -> HyperParam:
    return HyperParam(
        "betas", default,
        "decay rates of the running averages of the gradient and of its square",
        kind=PAIR, minimum=0.0, maximum=1.0, include_maximum=False, typical=(0.0, 0.9999),
        torch_error="Invalid beta parameter at index {index}: {value}",
    )


def _eps(default: float, help_text: str = "added to the denominator for numerical stability"):
    return HyperParam(
        "eps", default, help_text, minimum=0.0, scale="log", typical=(1e-12, 1.0),
        torch_error="Invalid epsilon value: {value}",
    )


def _weight_decay(default: float = 0.0, help_text: str = "L2 penalty added to the gradient"):
    return HyperParam(
        "weight_decay", default, help_text, minimum=0.0, typical=(0.0, 1.0),
        torch_error="Invalid weight_decay value: {value}",
    )


MAXIMIZE = HyperParam("maximize", False, "climb the surface instead of descending it", kind=BOOL)


def _decoupled(help_text: str) -> HyperParam:
    return HyperParam("decoupled_weight_decay", False, help_text, kind=BOOL)


def _check_sgd(values: dict) -> None:
    if values["nesterov"] and (values["momentum"] <= 0 or values["dampening"] != 0):
        raise SimulatorError(
            "SGD: invalid nesterov=True: Nesterov momentum requires momentum > 0 and dampening = 0 "
            "(torch: Nesterov momentum requires a momentum and zero dampening)"
        )


def _check_rprop(values: dict) -> None:
    etaminus, etaplus = values["etas"]
    if not 0.0 < etaminus < 1.0 < etaplus:
        raise SimulatorError(
            f"Rprop: invalid etas={etaminus:g},{etaplus:g}: need 0 < etaminus < 1 < etaplus "
            f"(torch: Invalid eta values: {etaminus:g}, {etaplus:g})"
        )


_ADAM_STATE = (("step", 1), ("exp_avg", 2), ("exp_avg_sq", 2), ("max_exp_avg_sq", 2))
_AMSGRAD = HyperParam("amsgrad", False, "use the maximum of past squared-gradient averages", kind=BOOL)

_SPECS = (
    OptimizerSpec(
        "SGD", kernels.SGD, "stochastic gradient descent, optionally with (Nesterov) momentum",
        (
            _lr(1e-3),
            HyperParam("momentum", 0.0, "momentum factor: how much of the last update is kept",
                       minimum=0.0, typical=(0.0, 0.999),
                       torch_error="Invalid momentum value: {value}"),
            HyperParam("dampening", 0.0, "dampening of the gradient added to the momentum",
                       typical=(0.0, 1.0)),
            _weight_decay(),
            HyperParam("nesterov", False, "Nesterov momentum (needs momentum > 0, dampening 0)",
                       kind=BOOL),
            MAXIMIZE,
        ),
        (("momentum_buffer_set", 1), ("momentum_buffer", 2)),
        first_moment="momentum_buffer",
        cross_check=_check_sgd,
    ),
    OptimizerSpec(
        "Adam", kernels.ADAM, "adaptive moment estimation: momentum over a per-axis RMS scale",
        (
            _lr(1e-3), _betas(), _eps(1e-8), _weight_decay(), _AMSGRAD, MAXIMIZE,
            _decoupled("decay the weights directly (AdamW) instead of through the gradient"),
        ),
        _ADAM_STATE,
        first_moment="exp_avg",
    ),
    OptimizerSpec(
        "AdamW", kernels.ADAM, "Adam with decoupled weight decay",
        (
            _lr(1e-3), _betas(), _eps(1e-8),
            _weight_decay(1e-2, "decoupled weight decay: the point shrinks by lr*weight_decay"),
            _AMSGRAD, MAXIMIZE,
        ),
        _ADAM_STATE,
        first_moment="exp_avg",
        constants=(1.0,),
    ),
    OptimizerSpec(
        "Adamax", kernels.ADAMAX, "Adam with an infinity-norm scale",
        (_lr(2e-3), _betas(), _eps(1e-8), _weight_decay(), MAXIMIZE),
        (("step", 1), ("exp_avg", 2), ("exp_inf", 2)),
        first_moment="exp_avg",
    ),
    OptimizerSpec(
        "Adagrad", kernels.ADAGRAD, "per-axis step shrinking with the sum of squared gradients",
        (
            _lr(1e-2),
            HyperParam("lr_decay", 0.0, "the lr is divided by 1 + (step-1)*lr_decay",
                       minimum=0.0, typical=(0.0, 1.0),
                       torch_error="Invalid lr_decay value: {value}"),
            _weight_decay(),
            HyperParam("initial_accumulator_value", 0.0, "starting value of the squared-gradient sum",
                       minimum=0.0, typical=(0.0, 10.0),
                       torch_error="Invalid initial_accumulator_value value: {value}"),
            _eps(1e-10),
            MAXIMIZE,
        ),
        (("step", 1), ("sum", 2)),
    ),
    OptimizerSpec(
        "Adadelta", kernels.ADADELTA, "step sizes from running averages of squared steps and gradients",
        (
            _lr(1.0, "scales the computed step"),
            HyperParam("rho", 0.9, "decay rate of the running averages", minimum=0.0, maximum=1.0,
                       typical=(0.0, 0.999), torch_error="Invalid rho value: {value}"),
            _eps(1e-6, "added inside both square roots"),
            _weight_decay(),
            MAXIMIZE,
        ),
        (("step", 1), ("square_avg", 2), ("acc_delta", 2)),
    ),
    OptimizerSpec(
        "ASGD", kernels.ASGD, "averaged SGD: a decaying step, plus a running average of the points",
        (
            _lr(1e-2),
            HyperParam("lambd", 1e-4, "decay term", scale="log", typical=(1e-6, 1.0)),
            HyperParam("alpha", 0.75, "power for the eta update", typical=(0.0, 2.0)),
            HyperParam("t0", 1e6, "step at which averaging starts", scale="log",
                       typical=(1.0, 1e6)),
            _weight_decay(),
            MAXIMIZE,
        ),
        (("step", 1), ("eta", 1), ("mu", 1), ("ax", 2)),
    ),
    OptimizerSpec(
        "NAdam", kernels.NADAM, "Adam with Nesterov momentum",
        (
            _lr(2e-3), _betas(), _eps(1e-8), _weight_decay(),
            HyperParam("momentum_decay", 4e-3, "schedule of the momentum factor", minimum=0.0,
                       scale="log", typical=(1e-5, 1.0),
                       torch_error="Invalid momentum_decay value: {value}"),
            _decoupled("decay the weights directly (as AdamW) instead of through the gradient"),
            MAXIMIZE,
        ),
        (("step", 1), ("mu_product", 1), ("exp_avg", 2), ("exp_avg_sq", 2)),
        first_moment="exp_avg",
    ),
    OptimizerSpec(
        "RAdam", kernels.RADAM, "rectified Adam: plain momentum steps until the variance is trusted",
        (
            _lr(1e-3), _betas(), _eps(1e-8), _weight_decay(),
            _decoupled("decay the weights directly (as AdamW) instead of through the gradient"),
            MAXIMIZE,
        ),
        (("step", 1), ("exp_avg", 2), ("exp_avg_sq", 2)),
        first_moment="exp_avg",
    ),
    OptimizerSpec(
        "RMSprop", kernels.RMSPROP, "divides the gradient by a running RMS of recent gradients",
        (
            _lr(1e-2),
            HyperParam("alpha", 0.99, "smoothing constant of the squared-gradient average",
                       minimum=0.0, typical=(0.0, 0.999),
                       torch_error="Invalid alpha value: {value}"),
            _eps(1e-8),
            _weight_decay(),
            HyperParam("momentum", 0.0, "momentum factor", minimum=0.0, typical=(0.0, 0.999),
                       torch_error="Invalid momentum value: {value}"),
            HyperParam("centered", False, "normalise by the variance instead of the raw second moment",
                       kind=BOOL),
            MAXIMIZE,
        ),
        (("step", 1), ("square_avg", 2), ("momentum_buffer", 2), ("grad_avg", 2)),
        first_moment="momentum_buffer",
    ),
    OptimizerSpec(
        "Rprop", kernels.RPROP, "sign-based steps that grow while the gradient sign holds",
        (
            _lr(1e-2, "initial step size (later lr changes are ignored, as in torch)"),
            HyperParam("etas", (0.5, 1.2), "step size factors on a sign flip / a kept sign",
                       kind=PAIR, typical=(0.0, 3.0)),
            HyperParam("step_sizes", (1e-6, 50.0), "minimum and maximum step size", kind=PAIR,
                       scale="log", typical=(1e-9, 100.0)),
            MAXIMIZE,
        ),
        (("step", 1), ("prev", 2), ("step_size", 2)),
        cross_check=_check_rprop,
    ),
    OptimizerSpec(
        "Adafactor", kernels.ADAFACTOR,
        "memory-light Adam variant with relative step sizes (on the point as one vector)",
        (
            _lr(1e-2, "upper bound on the relative step size"),
            HyperParam("beta2_decay", -0.8, "exponent of the squared-gradient decay", maximum=0.0,
                       typical=(-1.0, 0.0),
                       torch_error="beta2_decay should be <= 0 but is: {value}"),
            HyperParam("eps", (None, 1e-3),
                       "eps1 (none = machine epsilon) on the variance, eps2 on the point's RMS",
                       kind=PAIR, minimum=0.0, scale="log", typical=(1e-30, 1.0),
                       torch_error="epsilon{index1} should be >= 0 but is: {value}",
                       first_may_be_none=True),
            HyperParam("d", 1.0, "update clipping threshold", minimum=1.0, typical=(1.0, 10.0),
                       torch_error="Clipping threshold d should be >= 1 but is: {value}"),
            HyperParam("weight_decay", 0.0, "decoupled weight decay", minimum=0.0,
                       typical=(0.0, 1.0),
                       torch_error="weight_decay should be >= 0 but is: {value}"),
            MAXIMIZE,
        ),
        (("step", 1), ("variance", 2)),
    ),
)

LBFGS = OptimizerSpec(
    lbfgs.NAME, -1,
    "quasi-Newton: several loss evaluations per step, optional strong-Wolfe line search",
    lbfgs.LBFGS_OPTIONS,
    (("n_iter", 1), ("func_evals", 1), ("t", 1), ("H_diag", 1), ("d", 2), ("history", 1)),
    closure=True, resolver=lbfgs.resolve_lbfgs_options,
)
_SPECS = (*_SPECS, LBFGS)

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in _SPECS}


def get_optimizer(name: str) -> OptimizerSpec:
    """The registry entry for ``name``, case-insensitive; SimulatorError if unknown."""
    if isinstance(name, str):
        for spec in _SPECS:
            if spec.name.lower() == name.strip().lower():
                return spec
    raise SimulatorError(
        f"unknown optimizer '{name}'; choose from: {', '.join(OPTIMIZERS)}"
    )
