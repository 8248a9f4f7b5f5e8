"""The OPTIMIZERS registry: every element-wise torch.optim optimizer, and six beyond it, described once.

Each entry says which kernel runs it, how its state is laid out and, for every hyperparameter,
torch's name and default, the range torch accepts, the scale an editor should use and a one-line
help, and its reference implementation (a torch.optim class name, a ``pytorch_optimizer`` class
for the optimizers beyond torch.optim, or a NumPy function). The CLI, the GUI editors and the
tests iterate over this registry; nothing else lists optimizers by hand. Adding an optimizer is
one kernel in ``kernels.py`` plus one entry here (naming that kernel), plus one test record: the
kernel table, the ids and the compiled dispatch follow from the entries.

torch's implementation switches (``foreach``, ``fused``, ``capturable``, ``differentiable``) are
not hyperparameters here: the kernels reproduce the path torch takes by default on a CPU, the
single-tensor one (for pytorch_optimizer's classes, the path they take by default on a CPU).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulator import kernels, lbfgs
from simulator.errors import SimulatorError
from simulator.params import BOOL, INT, PAIR, Param, Resolved, coerce_given, find_param


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    # The jitted update (simulator.kernels): the kernel table, its ids and the compiled dispatch are
    # built from these. None for a closure optimizer, which runs a loop of its own.
    kernel: Callable | None
    summary: str
    hyperparams: tuple[Param, ...]
    state_layout: tuple[tuple[str, int], ...]
    first_moment: str | None = None  # the state vector that is a momentum / first moment
    constants: tuple[float, ...] = ()  # kernel slots fixed by the class (AdamW's decoupling)
    cross_check: Callable[[dict], None] | None = field(default=None, repr=False)
    # A closure optimizer (LBFGS) evaluates the loss several times per step and runs its own
    # compiled loop.
    closure: bool = False
    # Fills in values derived from the others once they are checked (LBFGS's max_eval=None).
    complete: Callable[[dict], None] | None = field(default=None, repr=False)
    # What the parity tests hold the kernel to: the name of a torch.optim class (a string: the
    # simulator never imports torch), a dotted ``module.Class`` beyond torch.optim (the
    # pytorch_optimizer package's, e.g. "pytorch_optimizer.Lion"), or a plain NumPy function
    # ``reference(point, hyperparams)`` returning ``step(grad)``, which moves ``point`` in place as
    # ``optimizer.step()`` would.
    reference: str | Callable | None = field(default=None, repr=False)

    @property
    def kernel_id(self) -> int:
        """The id the compiled loops dispatch on: the kernel's place in KERNELS (-1: no kernel)."""
        return -1 if self.kernel is None else KERNELS.index(self.kernel)

    @property
    def torch_class(self) -> str | None:
        """The torch.optim class this optimizer reproduces, when its reference is one."""
        if isinstance(self.reference, str) and "." not in self.reference:
            return self.reference
        return None

    @property
    def reference_class(self) -> tuple[str, str] | None:
        """(module, class) of the optimizer class this one reproduces, torch.optim's or another
        package's; None for a NumPy reference."""
        if not isinstance(self.reference, str):
            return None
        module, _, name = self.reference.rpartition(".")
        return (module or "torch.optim", name)

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

    def hyperparam(self, name: str) -> Param:
        return find_param(self.hyperparams, name, self.name)

    def slot(self, name: str) -> int:
        """Index of hyperparameter ``name`` (its first element for a pair) in the packed vector."""
        index = 0
        for h in self.hyperparams:
            if h.name == name and name != "lr":
                return index
            if h.name != "lr":
                index += h.slots
        raise KeyError(name)

    def check(self, overrides: dict | None = None) -> Resolved:
        """``overrides`` coerced and checked with torch's rules, with the complete values they
        resolve to; raises SimulatorError carrying the culprit. A Resolved of this optimizer is
        returned as it is: values are checked once, where they enter."""
        if isinstance(overrides, Resolved) and overrides.matches(self.name):
            return overrides
        given = coerce_given(self.hyperparams, overrides, self.name)
        values = {**self.defaults, **given}
        if self.cross_check is not None:
            self.cross_check(values)
        if self.complete is not None:
            self.complete(values)
        return Resolved(given, values, self.name)

    def resolve(self, overrides: dict | None = None) -> dict:
        """Defaults merged with ``overrides``, checked with torch's rules; raises SimulatorError."""
        return dict(self.check(overrides).values)

    def pack(self, values: dict) -> np.ndarray:
        """The kernel's hyperparameter vector for resolved ``values``. The lr is not in it: it reaches
        the kernel as an argument of its own, since schedules change it every step."""
        flat: list[float] = []
        for h in self.hyperparams:
            if h.name == "lr":
                continue
            value = values[h.name]
            if h.kind == PAIR:
                flat.extend(math.nan if v is None else float(v) for v in value)
            else:
                flat.append(math.nan if value is None else float(value))  # None: NaN, as in pairs
        flat.extend(self.constants)
        return np.array(flat, dtype=np.float64)


# ---- shared hyperparameter descriptions -------------------------------------------------------


def _lr(default: float, help_text: str = "learning rate: the size of each step") -> Param:
    return Param(
        "lr", default, help_text, minimum=0.0, scale="log", typical=(1e-5, 10.0),
        torch_error="Invalid learning rate: {value}",
    )


def _betas(default=(0.9, 0.999)) -> Param:
    return Param(
        "betas", default,
        "decay rates of the running averages of the gradient and of its square",
        kind=PAIR, minimum=0.0, maximum=1.0, include_maximum=False, typical=(0.0, 0.9999),
        torch_error="Invalid beta parameter at index {index}: {value}",
    )


def _eps(default: float, help_text: str = "added to the denominator for numerical stability"):
    return Param(
        "eps", default, help_text, minimum=0.0, scale="log", typical=(1e-12, 1.0),
        torch_error="Invalid epsilon value: {value}",
    )


def _weight_decay(default: float = 0.0, help_text: str = "L2 penalty added to the gradient"):
    return Param(
        "weight_decay", default, help_text, minimum=0.0, typical=(0.0, 1.0),
        torch_error="Invalid weight_decay value: {value}",
    )


MAXIMIZE = Param("maximize", False, "climb the surface instead of descending it", kind=BOOL)


def _decoupled(help_text: str) -> Param:
    return Param("decoupled_weight_decay", False, help_text, kind=BOOL)


def _check_sgd(values: dict) -> None:
    if values["nesterov"] and (values["momentum"] <= 0 or values["dampening"] != 0):
        raise SimulatorError(
            "SGD: invalid nesterov=True: Nesterov momentum requires momentum > 0 and dampening = 0 "
            "(torch: Nesterov momentum requires a momentum and zero dampening)",
            param="nesterov", value=True, owner="SGD",
            torch_text="Nesterov momentum requires a momentum and zero dampening",
        )


def _check_rprop(values: dict) -> None:
    etaminus, etaplus = values["etas"]
    if not 0.0 < etaminus < 1.0 < etaplus:
        torch_text = f"Invalid eta values: {etaminus:g}, {etaplus:g}"
        raise SimulatorError(
            f"Rprop: invalid etas={etaminus:g},{etaplus:g}: need 0 < etaminus < 1 < etaplus "
            f"(torch: {torch_text})",
            param="etas", value=values["etas"], owner="Rprop", torch_text=torch_text,
        )



# ---- beyond torch.optim: pytorch_optimizer 4.1.0, its checks and its messages ---------------------
# Its BaseOptimizer validates lr >= 0 (NegativeLRError), each beta in [0, 1) and weight_decay, eps
# >= 0. Options it takes only through ``**kwargs`` are offered where the kernel reproduces them
# (``cautious``, ``adam_debias``); the others (``adanorm``, ``use_gc``, ``stable_adamw``) are not
# hyperparameters here, so the registry refuses them by name.


def _po_lr(default: float) -> Param:
    return Param(
        "lr", default, "learning rate: the size of each step", minimum=0.0, scale="log",
        typical=(1e-5, 10.0), torch_error="learning rate must be positive. ({value} > 0)",
    )


def _po_betas(default) -> Param:
    return Param(
        "betas", default, "decay rates of the first and second running averages",
        kind=PAIR, minimum=0.0, maximum=1.0, include_maximum=False, typical=(0.0, 0.9999),
        torch_error="beta{index1} must be in the range [0.0, 1.0)",
    )


def _po_non_negative(name: str, default: float, help_text: str, scale: str = "linear",
                     typical=(0.0, 1.0)) -> Param:
    return Param(name, default, help_text, minimum=0.0, scale=scale, typical=typical,
                 torch_error=f"{name} must be non-negative")


def _po_weight_decay(decouple_default: bool) -> tuple[Param, ...]:
    return (
        _po_non_negative("weight_decay", 0.0, "weight decay (decoupled or L2, see weight_decouple)"),
        Param("weight_decouple", decouple_default,
              "decay the point directly (as AdamW) instead of adding the L2 term to the gradient",
              kind=BOOL),
        Param("fixed_decay", False, "decoupled decay not scaled by the lr: the point shrinks by "
              "weight_decay per step", kind=BOOL),
    )


_CAUTIOUS = Param("cautious", False, "zero the update where its sign disagrees with the gradient's, "
                  "rescale the rest (Cautious optimizers)", kind=BOOL)


def _check_rectify(owner: str) -> Callable[[dict], None]:
    # With rectify, the reference takes math.sqrt of a product that is negative once the moving
    # average length passes a threshold below 4 (a math domain error): not a rule to imitate.
    def check(values: dict) -> None:
        if values["rectify"] and values["n_sma_threshold"] < 4:
            threshold = values["n_sma_threshold"]
            raise SimulatorError(
                f"{owner}: invalid n_sma_threshold={threshold}: with rectify=True it must be >= 4 "
                "(below, pytorch_optimizer's rectification takes the square root of a negative "
                "number: math domain error)",
                param="n_sma_threshold", value=threshold, owner=owner,
            )

    return check


_FLOAT32_NORM = ("pytorch_optimizer computes the clipping factor from the global gradient norm in "
                 "float32 with MKL's square root, one ulp off the IEEE one for about 17% of inputs: "
                 "not reproducible to 1e-12")


def _check_adan(values: dict) -> None:
    if values["max_grad_norm"] != 0.0:
        raise SimulatorError(
            f"Adan: invalid max_grad_norm={values['max_grad_norm']:g}: only 0 (no clipping) is "
            f"supported ({_FLOAT32_NORM})",
            param="max_grad_norm", value=values["max_grad_norm"], owner="Adan",
        )


def _check_lamb(values: dict) -> None:
    if values["pre_norm"]:
        raise SimulatorError(
            f"Lamb: invalid pre_norm=True: not supported ({_FLOAT32_NORM})",
            param="pre_norm", value=True, owner="Lamb",
        )
    _check_rectify("Lamb")(values)


def _check_ademamix(values: dict) -> None:
    t_alpha_beta3 = values["t_alpha_beta3"]
    if t_alpha_beta3 is None:
        return
    if t_alpha_beta3 == 0.0:
        raise SimulatorError(
            "AdEMAMix: invalid t_alpha_beta3=0: must be > 0, or none for no warm-up (the reference "
            "divides by it: ZeroDivisionError)",
            param="t_alpha_beta3", value=t_alpha_beta3, owner="AdEMAMix",
        )
    beta1 = values["betas"][0]
    if beta1 == 0.0 or values["beta3"] == 0.0:
        culprit, value = ("betas", values["betas"]) if beta1 == 0.0 else ("beta3", values["beta3"])
        raise SimulatorError(
            f"AdEMAMix: invalid {culprit}={value}: with t_alpha_beta3 the beta1 and beta3 must be "
            "> 0 (the reference's warm-up takes their logarithms: math domain error)",
            param=culprit, value=value, owner="AdEMAMix",
        )


def _third_beta(default: float, help_text: str) -> Param:
    return Param("beta3", default, help_text + " (the reference's third beta)", minimum=0.0,
                 maximum=1.0, typical=(0.0, 0.9999),
                 torch_error="beta3 must be in the range [0.0, 1.0]")


def _n_sma_threshold() -> Param:
    return Param("n_sma_threshold", 5, "moving-average length from which the rectified update is "
                 "adaptive (with rectify: >= 4)", kind=INT, typical=(4, 20))


_ADAM_STATE = (("step", 1), ("exp_avg", 2), ("exp_avg_sq", 2), ("max_exp_avg_sq", 2))
_AMSGRAD = Param("amsgrad", False, "use the maximum of past squared-gradient averages", kind=BOOL)

_SPECS = (
    OptimizerSpec(
        "SGD", kernels.sgd_step, "stochastic gradient descent, optionally with (Nesterov) momentum",
        (
            _lr(1e-3),
            Param("momentum", 0.0, "momentum factor: how much of the last update is kept",
                       minimum=0.0, typical=(0.0, 0.999),
                       torch_error="Invalid momentum value: {value}"),
            Param("dampening", 0.0, "dampening of the gradient added to the momentum",
                       typical=(0.0, 1.0)),
            _weight_decay(),
            Param("nesterov", False, "Nesterov momentum (needs momentum > 0, dampening 0)",
                       kind=BOOL),
            MAXIMIZE,
        ),
        (("momentum_buffer_set", 1), ("momentum_buffer", 2)),
        first_moment="momentum_buffer",
        cross_check=_check_sgd,
        reference="SGD",
    ),
    OptimizerSpec(
        "Adam", kernels.adam_step, "adaptive moment estimation: momentum over a per-axis RMS scale",
        (
            _lr(1e-3), _betas(), _eps(1e-8), _weight_decay(), _AMSGRAD, MAXIMIZE,
            _decoupled("decay the weights directly (AdamW) instead of through the gradient"),
        ),
        _ADAM_STATE,
        first_moment="exp_avg",
        reference="Adam",
    ),
    OptimizerSpec(
        "AdamW", kernels.adam_step, "Adam with decoupled weight decay",
        (
            _lr(1e-3), _betas(), _eps(1e-8),
            _weight_decay(1e-2, "decoupled weight decay: the point shrinks by lr*weight_decay"),
            _AMSGRAD, MAXIMIZE,
        ),
        _ADAM_STATE,
        first_moment="exp_avg",
        constants=(1.0,),
        reference="AdamW",
    ),
    OptimizerSpec(
        "Adamax", kernels.adamax_step, "Adam with an infinity-norm scale",
        (_lr(2e-3), _betas(), _eps(1e-8), _weight_decay(), MAXIMIZE),
        (("step", 1), ("exp_avg", 2), ("exp_inf", 2)),
        first_moment="exp_avg",
        reference="Adamax",
    ),
    OptimizerSpec(
        "Adagrad", kernels.adagrad_step, "per-axis step shrinking with the sum of squared gradients",
        (
            _lr(1e-2),
            Param("lr_decay", 0.0, "the lr is divided by 1 + (step-1)*lr_decay",
                       minimum=0.0, typical=(0.0, 1.0),
                       torch_error="Invalid lr_decay value: {value}"),
            _weight_decay(),
            Param("initial_accumulator_value", 0.0, "starting value of the squared-gradient sum",
                       minimum=0.0, typical=(0.0, 10.0),
                       torch_error="Invalid initial_accumulator_value value: {value}"),
            _eps(1e-10),
            MAXIMIZE,
        ),
        (("step", 1), ("sum", 2)),
        reference="Adagrad",
    ),
    OptimizerSpec(
        "Adadelta", kernels.adadelta_step, "step sizes from running averages of squared steps and gradients",
        (
            _lr(1.0, "scales the computed step"),
            Param("rho", 0.9, "decay rate of the running averages", minimum=0.0, maximum=1.0,
                       typical=(0.0, 0.999), torch_error="Invalid rho value: {value}"),
            _eps(1e-6, "added inside both square roots"),
            _weight_decay(),
            MAXIMIZE,
        ),
        (("step", 1), ("square_avg", 2), ("acc_delta", 2)),
        reference="Adadelta",
    ),
    OptimizerSpec(
        "ASGD", kernels.asgd_step, "averaged SGD: a decaying step, plus a running average of the points",
        (
            _lr(1e-2),
            Param("lambd", 1e-4, "decay term", scale="log", typical=(1e-6, 1.0)),
            Param("alpha", 0.75, "power for the eta update", typical=(0.0, 2.0)),
            Param("t0", 1e6, "step at which averaging starts", scale="log",
                       typical=(1.0, 1e6)),
            _weight_decay(),
            MAXIMIZE,
        ),
        (("step", 1), ("eta", 1), ("mu", 1), ("ax", 2)),
        reference="ASGD",
    ),
    OptimizerSpec(
        "NAdam", kernels.nadam_step, "Adam with Nesterov momentum",
        (
            _lr(2e-3), _betas(), _eps(1e-8), _weight_decay(),
            Param("momentum_decay", 4e-3, "schedule of the momentum factor", minimum=0.0,
                       scale="log", typical=(1e-5, 1.0),
                       torch_error="Invalid momentum_decay value: {value}"),
            _decoupled("decay the weights directly (as AdamW) instead of through the gradient"),
            MAXIMIZE,
        ),
        (("step", 1), ("mu_product", 1), ("exp_avg", 2), ("exp_avg_sq", 2)),
        first_moment="exp_avg",
        reference="NAdam",
    ),
    OptimizerSpec(
        "RAdam", kernels.radam_step, "rectified Adam: plain momentum steps until the variance is trusted",
        (
            _lr(1e-3), _betas(), _eps(1e-8), _weight_decay(),
            _decoupled("decay the weights directly (as AdamW) instead of through the gradient"),
            MAXIMIZE,
        ),
        (("step", 1), ("exp_avg", 2), ("exp_avg_sq", 2)),
        first_moment="exp_avg",
        reference="RAdam",
    ),
    OptimizerSpec(
        "RMSprop", kernels.rmsprop_step, "divides the gradient by a running RMS of recent gradients",
        (
            _lr(1e-2),
            Param("alpha", 0.99, "smoothing constant of the squared-gradient average",
                       minimum=0.0, typical=(0.0, 0.999),
                       torch_error="Invalid alpha value: {value}"),
            _eps(1e-8),
            _weight_decay(),
            Param("momentum", 0.0, "momentum factor", minimum=0.0, typical=(0.0, 0.999),
                       torch_error="Invalid momentum value: {value}"),
            Param("centered", False, "normalise by the variance instead of the raw second moment",
                       kind=BOOL),
            MAXIMIZE,
        ),
        (("step", 1), ("square_avg", 2), ("momentum_buffer", 2), ("grad_avg", 2)),
        first_moment="momentum_buffer",
        reference="RMSprop",
    ),
    OptimizerSpec(
        "Rprop", kernels.rprop_step, "sign-based steps that grow while the gradient sign holds",
        (
            _lr(1e-2, "initial step size (later lr changes are ignored, as in torch)"),
            Param("etas", (0.5, 1.2), "step size factors on a sign flip / a kept sign",
                       kind=PAIR, typical=(0.0, 3.0)),
            Param("step_sizes", (1e-6, 50.0), "minimum and maximum step size", kind=PAIR,
                       scale="log", typical=(1e-9, 100.0)),
            MAXIMIZE,
        ),
        (("step", 1), ("prev", 2), ("step_size", 2)),
        cross_check=_check_rprop,
        reference="Rprop",
    ),
    OptimizerSpec(
        "Adafactor", kernels.adafactor_step,
        "memory-light Adam variant with relative step sizes (on the point as one vector)",
        (
            _lr(1e-2, "upper bound on the relative step size"),
            Param("beta2_decay", -0.8, "exponent of the squared-gradient decay", maximum=0.0,
                       typical=(-1.0, 0.0),
                       torch_error="beta2_decay should be <= 0 but is: {value}"),
            Param("eps", (None, 1e-3),
                       "eps1 (none = machine epsilon) on the variance, eps2 on the point's RMS",
                       kind=PAIR, minimum=0.0, scale="log", typical=(1e-30, 1.0),
                       torch_error="epsilon{index1} should be >= 0 but is: {value}",
                       first_may_be_none=True),
            Param("d", 1.0, "update clipping threshold", minimum=1.0, typical=(1.0, 10.0),
                       torch_error="Clipping threshold d should be >= 1 but is: {value}"),
            Param("weight_decay", 0.0, "decoupled weight decay", minimum=0.0,
                       typical=(0.0, 1.0),
                       torch_error="weight_decay should be >= 0 but is: {value}"),
            MAXIMIZE,
        ),
        (("step", 1), ("variance", 2)),
        reference="Adafactor",
    ),
    OptimizerSpec(
        "Lion", kernels.lion_step, "sign of an interpolated momentum: every step moves lr per axis",
        (
            _po_lr(1e-4),
            _po_betas((0.9, 0.99)),
            *_po_weight_decay(True),
            MAXIMIZE,
            _CAUTIOUS,
        ),
        (("exp_avg", 2),),
        first_moment="exp_avg",
        reference="pytorch_optimizer.Lion",
    ),
    OptimizerSpec(
        "AdaBelief", kernels.adabelief_step,
        "Adam scaled by the belief in the gradient: the variance of its prediction error",
        (
            _po_lr(1e-3),
            _po_betas((0.9, 0.999)),
            *_po_weight_decay(True),
            Param("rectify", False, "rectified update as in RAdam", kind=BOOL),
            _n_sma_threshold(),
            Param("degenerated_to_sgd", True, "below the threshold take SGD-with-momentum steps "
                  "(otherwise none)", kind=BOOL),
            Param("ams_bound", False, "use the maximum of past variances (AMSGrad)", kind=BOOL),
            _po_non_negative("eps", 1e-16, "added to the variance and to the denominator",
                             scale="log", typical=(1e-20, 1.0)),
            MAXIMIZE,
            Param("adam_debias", False, "AdamD: do not bias-correct the first moment's step size",
                  kind=BOOL),
        ),
        (("step", 1), ("exp_avg", 2), ("exp_avg_var", 2), ("max_exp_avg_var", 2)),
        first_moment="exp_avg",
        cross_check=_check_rectify("AdaBelief"),
        reference="pytorch_optimizer.AdaBelief",
    ),
    OptimizerSpec(
        "ADOPT", kernels.adopt_step,
        "Adam with the previous second moment and clipped normalised gradients",
        (
            _po_lr(1e-3),
            _po_betas((0.9, 0.9999)),
            Param("clip_lambda", 0.25, "normalised gradients are clipped to +-step**clip_lambda "
                  "(the reference takes a function of the step; this is its exponent), none: no "
                  "clipping", none_allowed=True, none_means="no clipping", typical=(0.0, 1.0)),
            *_po_weight_decay(False),
            _po_non_negative("eps", 1e-6, "lower bound of the denominator", scale="log",
                             typical=(1e-12, 1.0)),
            MAXIMIZE,
            _CAUTIOUS,
        ),
        (("step", 1), ("exp_avg", 2), ("exp_avg_sq", 2)),
        first_moment="exp_avg",
        reference="pytorch_optimizer.ADOPT",
    ),
    OptimizerSpec(
        "Adan", kernels.adan_step,
        "adaptive Nesterov momentum: averages of the gradient, of its change and of their square",
        (
            _po_lr(1e-3),
            Param("betas", (0.98, 0.92), "beta1, beta2: decay rates of the gradient and gradient "
                  "difference averages (the reference's betas are (beta1, beta2, beta3))",
                  kind=PAIR, minimum=0.0, maximum=1.0, include_maximum=False,
                  typical=(0.0, 0.9999), torch_error="beta{index1} must be in the range [0.0, 1.0)"),
            _third_beta(0.99, "decay rate of the squared corrected gradient average"),
            _po_non_negative("weight_decay", 0.0, "weight decay: decoupled, or else proximal (the "
                             "point divided by 1 + lr*weight_decay after the step)"),
            Param("weight_decouple", False, "decay the point before the step (as AdamW) instead "
                  "of dividing it after", kind=BOOL),
            _po_non_negative("max_grad_norm", 0.0, "global gradient norm clipping: only 0 (off) "
                             "is supported", typical=(0.0, 10.0)),
            _po_non_negative("eps", 1e-8, "added to the denominator", scale="log",
                             typical=(1e-12, 1.0)),
            MAXIMIZE,
        ),
        (("step", 1), ("exp_avg", 2), ("exp_avg_sq", 2), ("exp_avg_diff", 2),
         ("previous_grad", 2)),
        first_moment="exp_avg",
        cross_check=_check_adan,
        reference="pytorch_optimizer.Adan",
    ),
    OptimizerSpec(
        "Lamb", kernels.lamb_step,
        "Adam steps scaled by a trust ratio: the point's norm over the update's",
        (
            _po_lr(1e-3),
            _po_betas((0.9, 0.999)),
            *_po_weight_decay(True),
            Param("rectify", False, "rectified update as in RAdam", kind=BOOL),
            Param("degenerated_to_sgd", False, "with rectify, below the threshold take "
                  "SGD-with-momentum steps (otherwise none)", kind=BOOL),
            _n_sma_threshold(),
            Param("grad_averaging", True, "scale the gradient added to the first moment by "
                  "1 - beta1", kind=BOOL),
            _po_non_negative("max_grad_norm", 1.0, "reference norm of pre_norm's gradient "
                             "scaling (no effect without it)", typical=(0.0, 10.0)),
            Param("adam", False, "a trust ratio of 1: plain Adam steps", kind=BOOL),
            Param("pre_norm", False, "divide gradients by a factor from their global norm (not "
                  "supported: float32 maths)", kind=BOOL),
            _po_non_negative("eps", 1e-6, "added to the denominator and to the update's norm",
                             scale="log", typical=(1e-12, 1.0)),
            MAXIMIZE,
            Param("adam_debias", False, "AdamD: do not bias-correct the first moment's step size",
                  kind=BOOL),
        ),
        (("step", 1), ("exp_avg", 2), ("exp_avg_sq", 2)),
        first_moment="exp_avg",
        cross_check=_check_lamb,
        reference="pytorch_optimizer.Lamb",
    ),
    OptimizerSpec(
        "AdEMAMix", kernels.ademamix_step,
        "Adam whose step mixes a fast and a slow (weighted by alpha) gradient average",
        (
            _po_lr(1e-3),
            Param("betas", (0.9, 0.999), "beta1, beta2: decay rates of the fast gradient average "
                  "and of the squared gradient average (the reference's betas are (beta1, beta2, "
                  "beta3))", kind=PAIR, minimum=0.0, maximum=1.0, include_maximum=False,
                  typical=(0.0, 0.9999), torch_error="beta{index1} must be in the range [0.0, 1.0)"),
            _third_beta(0.9999, "decay rate of the slow gradient average"),
            *_po_weight_decay(False),
            _po_non_negative("alpha", 5.0, "weight of the slow average in the step",
                             typical=(0.0, 20.0)),
            Param("t_alpha_beta3", None, "steps over which alpha and beta3 warm up; none: no "
                  "warm-up", minimum=0.0, none_allowed=True,
                  none_means="no warm-up", scale="log", typical=(1.0, 1e5),
                  torch_error="t_alpha_beta3 must be non-negative"),
            _po_non_negative("eps", 1e-8, "added to the denominator", scale="log",
                             typical=(1e-12, 1.0)),
            MAXIMIZE,
            _CAUTIOUS,
        ),
        (("step", 1), ("exp_avg", 2), ("exp_avg_sq", 2), ("exp_avg_slow", 2)),
        first_moment="exp_avg",
        cross_check=_check_ademamix,
        reference="pytorch_optimizer.AdEMAMix",
    ),
    OptimizerSpec(
        "Prodigy", kernels.prodigy_step,
        "Adam that learns its own step size d from how far the point has come (leave lr at 1)",
        (
            _po_lr(1.0),
            _po_betas((0.9, 0.999)),
            Param("beta3", None, "decay rate of the step-size estimate's sums; none: sqrt(beta2)",
                  minimum=0.0, maximum=1.0, include_maximum=False, none_allowed=True,
                  none_means="sqrt(beta2)", typical=(0.0, 0.9999),
                  torch_error="beta3 must be in the range [0.0, 1.0)"),
            Param("d0", 1e-6, "initial estimate of the step size d", minimum=0.0, include_minimum=False,
                  scale="log", typical=(1e-8, 1.0)),
            Param("d_coef", 1.0, "factor on each new estimate of d", minimum=0.0, include_minimum=False,
                  scale="log", typical=(0.1, 10.0)),
            Param("growth_rate", None, "how much d may grow per step (a factor); none: without limit "
                  "(the reference's inf)", minimum=1.0, none_allowed=True, none_means="no limit",
                  scale="log", typical=(1.0, 100.0)),
            _po_non_negative("weight_decay", 0.0, "decoupled weight decay (see weight_decouple)"),
            Param("weight_decouple", True, "decay the point directly, as AdamW; false: the "
                  "reference adds the L2 term to the gradient after the step used it (no effect)",
                  kind=BOOL),
            Param("fixed_decay", False, "decoupled decay not scaled by the lr: the point shrinks by "
                  "weight_decay per step", kind=BOOL),
            Param("bias_correction", False, "Adam's bias correction of the step size", kind=BOOL),
            Param("safeguard_warmup", False, "leave the lr out of the estimate's sums (safer with "
                  "a warm-up)", kind=BOOL),
            Param("eps", 1e-8, "added to the denominator; none: the update is atan2(m, sqrt(v))",
                  minimum=0.0, none_allowed=True, none_means="the atan2 update", scale="log",
                  typical=(1e-12, 1.0), torch_error="eps must be non-negative"),
            MAXIMIZE,
        ),
        (("step", 1), ("d", 1), ("d_max", 1), ("d_numerator", 1), ("s", 2), ("p0", 2), ("exp_avg", 2),
         ("exp_avg_sq", 2)),
        first_moment="exp_avg",
        reference="pytorch_optimizer.Prodigy",
    ),
)

LBFGS = OptimizerSpec(
    lbfgs.NAME, None,
    "quasi-Newton: several loss evaluations per step, optional strong-Wolfe line search",
    lbfgs.LBFGS_OPTIONS,
    (("n_iter", 1), ("func_evals", 1), ("t", 1), ("H_diag", 1), ("d", 2), ("history", 1)),
    closure=True, complete=lbfgs.complete_options, reference="LBFGS",
)
_SPECS = (*_SPECS, LBFGS)

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in _SPECS}

# The kernel table, in registry order (a kernel two records share, Adam's, once): a record's
# kernel_id is its kernel's index here, and the compiled dispatch is built from it.
KERNELS = tuple(dict.fromkeys(spec.kernel for spec in _SPECS if spec.kernel is not None))


def with_torch_class(name: str) -> OptimizerSpec | None:
    """The record whose reference is the torch.optim class ``name`` (any case), or None."""
    for spec in _SPECS:
        if spec.torch_class is not None and spec.torch_class.lower() == name.strip().lower():
            return spec
    return None


def with_reference(name: str) -> OptimizerSpec | None:
    """The record that reproduces ``name``: a torch.optim class (``AdamW``) or another package's
    class by its qualified name (``pytorch_optimizer.Lion``), any case; None if none does."""
    if "." not in name:
        return with_torch_class(name)
    for spec in _SPECS:
        if isinstance(spec.reference, str) and spec.reference.lower() == name.strip().lower():
            return spec
    return None


def get_optimizer(name: str) -> OptimizerSpec:
    """The registry entry for ``name``, case-insensitive; SimulatorError if unknown."""
    if isinstance(name, str):
        for spec in _SPECS:
            if spec.name.lower() == name.strip().lower():
                return spec
    raise SimulatorError(
        f"unknown optimizer '{name}'; choose from: {', '.join(OPTIMIZERS)}", param="optimizer", value=name,
    )
