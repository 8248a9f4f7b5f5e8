"""Parity with the optimizers beyond torch.optim: each kernel against its reference class in the
pytorch_optimizer package (pinned: 4.1.0), fed the very gradients the simulator recorded.

The same acceptance rule as tests/simulator/test_torch_parity.py: 2000 steps, bit for bit where the
reference has no ``sqrt`` (Lion), otherwise 1e-12 relative (MKL's square root is 1 ulp off the
IEEE one for some inputs). Besides the hand-picked cases, each optimizer runs a few configurations
drawn at random over all its options, and its invalid values must be refused as the reference
refuses them.
"""

import importlib
import inspect
import math
from dataclasses import dataclass

import numpy as np
import pytest

from simulator import OPTIMIZERS, SimulatorError, get_optimizer, simulate
from tests.simulator.parity import assert_same_path, replay_gradients

torch = pytest.importorskip("torch")
pytest.importorskip("pytorch_optimizer")

STEPS = 2000
RELATIVE_TOLERANCE = 1e-12
SURFACES = ("rosenbrock", "himmelblau", "beale", "styblinski_tang", "rastrigin")
START = {"rosenbrock": (-1.5, 2.0), "himmelblau": (0.5, -4.0), "beale": (1.0, 1.5),
         "styblinski_tang": (0.1, 0.2), "rastrigin": (2.2, -3.1)}
# Options pytorch_optimizer reads from ``**kwargs`` (not in the signature) that the records offer.
KWARG_OPTIONS = {"cautious": False, "adam_debias": False}


@dataclass(frozen=True)
class ExtraOptimizerInfo:
    """As test_torch_parity's OptimizerInfo: the cases, the refused inputs, whether bit for bit,
    and how to draw a random configuration (``draw(rng) -> hyperparameters``)."""

    name: str
    inputs: tuple  # (hyperparameters, surface, start)
    error_inputs: tuple = ()  # (hyperparameters, culprit, whether the reference refuses it too)
    bit_exact: bool = False
    draw: object = None


def _flag(rng) -> bool:
    return bool(rng.integers(2))


def _rarely(rng) -> bool:
    return bool(rng.integers(4) == 0)


def _betas(rng):
    return (float(rng.choice([0.0, 0.5, 0.9, 0.95])), float(rng.choice([0.0, 0.9, 0.99, 0.999])))


def _decay(rng) -> dict:
    return {"weight_decay": float(rng.choice([0.0, 0.01, 0.1])), "weight_decouple": _flag(rng),
            "fixed_decay": _flag(rng)}


def _draw_lion(rng) -> dict:
    return {"lr": float(10 ** rng.uniform(-4, -2)), "betas": _betas(rng), **_decay(rng),
            "maximize": _rarely(rng), "cautious": _flag(rng)}


def _draw_adabelief(rng) -> dict:
    return {"lr": float(10 ** rng.uniform(-3, -1)), "betas": _betas(rng), **_decay(rng),
            "rectify": _flag(rng), "n_sma_threshold": int(rng.integers(4, 9)),
            "degenerated_to_sgd": _flag(rng), "ams_bound": _flag(rng),
            "eps": float(rng.choice([1e-16, 1e-8, 1e-3])), "maximize": _rarely(rng),
            "adam_debias": _flag(rng)}


def _draw_adopt(rng) -> dict:
    return {"lr": float(10 ** rng.uniform(-3, -1)), "betas": _betas(rng),
            "clip_lambda": [None, 0.25, 0.1, 0.5][int(rng.integers(4))], **_decay(rng),
            "eps": float(rng.choice([1e-6, 1e-10, 1e-2])), "maximize": _rarely(rng),
            "cautious": _flag(rng)}


def _draw_adan(rng) -> dict:
    return {"lr": float(10 ** rng.uniform(-3, -1.5)), "betas": _betas(rng),
            "beta3": float(rng.choice([0.5, 0.9, 0.99, 0.999])),
            "weight_decay": float(rng.choice([0.0, 0.01, 0.1])), "weight_decouple": _flag(rng),
            "eps": float(rng.choice([1e-8, 1e-3])), "maximize": _rarely(rng)}


def _draw_lamb(rng) -> dict:
    return {"lr": float(10 ** rng.uniform(-3, -1.5)), "betas": _betas(rng), **_decay(rng),
            "rectify": _flag(rng), "degenerated_to_sgd": _flag(rng),
            "n_sma_threshold": int(rng.integers(4, 9)), "grad_averaging": _flag(rng),
            "max_grad_norm": float(rng.choice([0.0, 1.0, 5.0])), "adam": _flag(rng),
            "eps": float(rng.choice([1e-6, 1e-10, 1e-3])), "maximize": _rarely(rng),
            "adam_debias": _flag(rng)}


def _draw_ademamix(rng) -> dict:
    betas = (float(rng.choice([0.5, 0.9, 0.95])), _betas(rng)[1])  # a warm-up takes log(beta1)
    return {"lr": float(10 ** rng.uniform(-3, -1.5)), "betas": betas,
            "beta3": float(rng.choice([0.99, 0.999, 0.9999])), **_decay(rng),
            "alpha": float(rng.choice([0.0, 1.0, 5.0, 8.0])),
            "t_alpha_beta3": [None, 50.0, 500.0, 5000.0][int(rng.integers(4))],
            "eps": float(rng.choice([1e-8, 1e-3])), "maximize": _rarely(rng),
            "cautious": _flag(rng)}


def _draw_prodigy(rng) -> dict:
    return {"lr": float(rng.choice([1.0, 0.5, 2.0])), "betas": _betas(rng),
            "beta3": [None, 0.9, 0.99][int(rng.integers(3))],
            "d0": float(10 ** rng.uniform(-7, -3)), "d_coef": float(rng.choice([0.5, 1.0, 2.0])),
            "growth_rate": [None, 1.02, 2.0][int(rng.integers(3))], **_decay(rng),
            "bias_correction": _flag(rng), "safeguard_warmup": _flag(rng),
            "eps": [1e-8, None, 1e-4][int(rng.integers(3))], "maximize": _rarely(rng)}


INFOS = (
    ExtraOptimizerInfo(
        "Lion",
        bit_exact=True,
        draw=_draw_lion,
        inputs=(
            ({"lr": 1e-3}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 3e-3, "betas": (0.95, 0.98), "weight_decay": 0.1}, "himmelblau", (0.5, -4.0)),
            ({"lr": 3e-3, "weight_decay": 0.5, "fixed_decay": True}, "beale", (1.0, 1.5)),
            ({"lr": 1e-3, "weight_decay": 0.1, "weight_decouple": False}, "rastrigin", (2.2, -3.1)),
            ({"lr": 1e-3, "cautious": True}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 2e-3, "maximize": True, "betas": (0.0, 0.5)}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"lr": -0.1}, "lr", True),
            ({"betas": (1.0, 0.99)}, "betas", True),
            ({"betas": (0.9, -0.1)}, "betas", True),
            ({"weight_decay": -1.0}, "weight_decay", True),
        ),
    ),
    ExtraOptimizerInfo(
        "AdaBelief",
        draw=_draw_adabelief,
        inputs=(
            ({"lr": 0.01}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.02, "weight_decay": 0.1, "weight_decouple": False}, "himmelblau", (-4.0, 4.0)),
            ({"lr": 0.02, "weight_decay": 0.1, "fixed_decay": True, "eps": 1e-8}, "beale", (1.0, 1.5)),
            ({"lr": 0.01, "rectify": True}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.01, "rectify": True, "degenerated_to_sgd": False, "n_sma_threshold": 8},
             "himmelblau", (0.5, -4.0)),
            ({"lr": 0.05, "ams_bound": True, "betas": (0.8, 0.99)}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.02, "rectify": True, "ams_bound": True, "adam_debias": True}, "beale", (1.0, 1.5)),
            ({"lr": 0.01, "maximize": True, "adam_debias": True}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"lr": -1.0}, "lr", True),
            ({"betas": (0.9, 1.0)}, "betas", True),
            ({"eps": -1e-8}, "eps", True),
            ({"weight_decay": -0.1}, "weight_decay", True),
            ({"rectify": True, "n_sma_threshold": 3}, "n_sma_threshold", False),
        ),
    ),
    ExtraOptimizerInfo(
        "ADOPT",
        draw=_draw_adopt,
        inputs=(
            ({"lr": 0.01}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.02, "clip_lambda": None}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.02, "clip_lambda": 0.1, "betas": (0.5, 0.9)}, "himmelblau", (0.5, -4.0)),
            ({"lr": 0.02, "weight_decay": 0.1}, "himmelblau", (-4.0, 4.0)),
            ({"lr": 0.02, "weight_decay": 0.1, "weight_decouple": True, "fixed_decay": True},
             "beale", (1.0, 1.5)),
            ({"lr": 0.01, "cautious": True, "eps": 1e-3}, "rastrigin", (2.2, -3.1)),
            ({"lr": 0.01, "maximize": True}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"lr": -1.0}, "lr", True),
            ({"betas": (-0.1, 0.9)}, "betas", True),
            ({"eps": -1.0}, "eps", True),
            ({"clip_lambda": "sqrt"}, "clip_lambda", False),
        ),
    ),
    ExtraOptimizerInfo(
        "Adan",
        draw=_draw_adan,
        inputs=(
            ({"lr": 0.01}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.02, "betas": (0.9, 0.9), "beta3": 0.999}, "himmelblau", (0.5, -4.0)),
            ({"lr": 0.02, "weight_decay": 0.1}, "beale", (1.0, 1.5)),
            ({"lr": 0.02, "weight_decay": 0.1, "weight_decouple": True, "eps": 1e-3}, "rastrigin", (2.2, -3.1)),
            ({"lr": 0.01, "maximize": True}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"lr": -1.0}, "lr", True),
            ({"betas": (0.98, 1.0)}, "betas", True),
            ({"beta3": 1.5}, "beta3", True),
            ({"max_grad_norm": -1.0}, "max_grad_norm", True),
            ({"max_grad_norm": 1.0}, "max_grad_norm", False),
            ({"eps": -1.0}, "eps", True),
        ),
    ),
    ExtraOptimizerInfo(
        "Lamb",
        draw=_draw_lamb,
        inputs=(
            ({"lr": 0.01}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.02, "weight_decay": 0.1}, "himmelblau", (0.5, -4.0)),
            ({"lr": 0.02, "weight_decay": 0.1, "weight_decouple": False, "grad_averaging": False},
             "beale", (1.0, 1.5)),
            ({"lr": 0.02, "adam": True, "adam_debias": True, "fixed_decay": True, "weight_decay": 0.1},
             "rastrigin", (2.2, -3.1)),
            ({"lr": 0.01, "rectify": True}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.01, "rectify": True, "degenerated_to_sgd": True, "weight_decay": 0.1,
              "n_sma_threshold": 6}, "himmelblau", (-4.0, 4.0)),
            ({"lr": 0.01, "rectify": True, "weight_decay": 0.1, "weight_decouple": False},
             "beale", (1.0, 1.5)),
            ({"lr": 0.01, "maximize": True}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"lr": -1.0}, "lr", True),
            ({"betas": (1.2, 0.9)}, "betas", True),
            ({"max_grad_norm": -1.0}, "max_grad_norm", True),
            ({"eps": -1.0}, "eps", True),
            ({"pre_norm": True}, "pre_norm", False),
            ({"rectify": True, "n_sma_threshold": 2}, "n_sma_threshold", False),
        ),
    ),
    ExtraOptimizerInfo(
        "AdEMAMix",
        draw=_draw_ademamix,
        inputs=(
            ({"lr": 0.01}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.01, "t_alpha_beta3": 300.0}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.02, "alpha": 2.0, "beta3": 0.999, "betas": (0.8, 0.99)}, "himmelblau", (0.5, -4.0)),
            ({"lr": 0.02, "weight_decay": 0.1}, "beale", (1.0, 1.5)),
            ({"lr": 0.02, "weight_decay": 0.1, "weight_decouple": True, "fixed_decay": True},
             "rastrigin", (2.2, -3.1)),
            ({"lr": 0.01, "cautious": True, "t_alpha_beta3": 1000.0}, "himmelblau", (-4.0, 4.0)),
            ({"lr": 0.01, "maximize": True, "eps": 1e-3}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"lr": -1.0}, "lr", True),
            ({"betas": (0.9, 1.0)}, "betas", True),
            ({"beta3": 1.5}, "beta3", True),
            ({"alpha": -1.0}, "alpha", True),
            ({"t_alpha_beta3": -1.0}, "t_alpha_beta3", True),
            ({"weight_decay": -1.0}, "weight_decay", True),
            ({"eps": -1.0}, "eps", True),
            ({"t_alpha_beta3": 0.0}, "t_alpha_beta3", False),
            ({"t_alpha_beta3": 10.0, "betas": (0.0, 0.9)}, "betas", False),
            ({"t_alpha_beta3": 10.0, "beta3": 0.0}, "beta3", False),
        ),
    ),
    ExtraOptimizerInfo(
        "Prodigy",
        draw=_draw_prodigy,
        inputs=(
            ({}, "rosenbrock", (-1.5, 2.0)),
            ({"d0": 1e-4, "growth_rate": 1.05}, "himmelblau", (0.5, -4.0)),
            ({"bias_correction": True, "safeguard_warmup": True, "beta3": 0.9}, "beale", (1.0, 1.5)),
            ({"eps": None, "d_coef": 0.5}, "rosenbrock", (-1.5, 2.0)),
            ({"weight_decay": 0.1}, "himmelblau", (-4.0, 4.0)),
            ({"weight_decay": 0.1, "weight_decouple": False}, "rastrigin", (2.2, -3.1)),
            ({"weight_decay": 0.05, "fixed_decay": True, "lr": 0.5}, "beale", (1.0, 1.5)),
            ({"maximize": True, "d0": 1e-5}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"lr": -1.0}, "lr", True),
            ({"betas": (0.9, 1.0)}, "betas", True),
            ({"beta3": 1.5}, "beta3", True),
            ({"weight_decay": -1.0}, "weight_decay", True),
            ({"eps": -1.0}, "eps", True),
            ({"d0": 0.0}, "d0", False),
            ({"growth_rate": 0.5}, "growth_rate", False),
        ),
    ),
)

RANDOM_DRAWS = 6
CASES = [(info.name, *case) for info in INFOS for case in info.inputs]
for _info in INFOS:
    _rng = np.random.default_rng(sum(map(ord, _info.name)))
    for _ in range(RANDOM_DRAWS):
        _surface = SURFACES[int(_rng.integers(len(SURFACES)))]
        _hyperparams = _info.draw(_rng)
        if _hyperparams["maximize"]:  # a climb stays bounded near Styblinski-Tang's local maximum
            _surface = "styblinski_tang"
        CASES.append((_info.name, _hyperparams, _surface, START[_surface]))
INVALID = [(info.name, *case) for info in INFOS for case in info.error_inputs]
BIT_EXACT = {info.name for info in INFOS if info.bit_exact}


def _case_id(case):
    name, hp, surface, _ = case
    return f"{name}-{surface}-" + ",".join(f"{k}={v}" for k, v in hp.items())


def reference_class(name: str):
    module, class_name = get_optimizer(name).reference_class
    return getattr(importlib.import_module(module), class_name)


def reference_kwargs(name: str, hyperparams: dict) -> dict:
    """The reference's arguments for our hyperparameters: ADOPT's clip_lambda is a function of the
    step there, ``step ** q`` with our exponent q (None: no clipping, in both)."""
    kwargs = dict(hyperparams)
    if name in ("Adan", "AdEMAMix") and ("betas" in kwargs or "beta3" in kwargs):
        spec = get_optimizer(name)
        kwargs["betas"] = (*kwargs.get("betas", spec.defaults["betas"]),
                           kwargs.pop("beta3", spec.defaults["beta3"]))
    if name == "Prodigy" and "growth_rate" in kwargs and kwargs["growth_rate"] is None:
        kwargs["growth_rate"] = math.inf
    if name == "ADOPT" and kwargs.get("clip_lambda") is not None:
        exponent = kwargs["clip_lambda"]
        kwargs["clip_lambda"] = lambda step: math.pow(step, exponent)
    return kwargs


def replay_in_reference(trajectory, name: str, hyperparams: dict) -> np.ndarray:
    point = torch.nn.Parameter(torch.tensor(trajectory.xy[0], dtype=torch.float64))
    return replay_gradients(trajectory, reference_class(name)([point], **reference_kwargs(name, hyperparams)),
                            point)


def test_every_optimizer_beyond_torch_optim_has_cases():
    beyond = {name for name, spec in OPTIMIZERS.items()
              if spec.reference_class is not None and spec.torch_class is None}
    assert {case[0] for case in CASES} == beyond
    for name in beyond:
        assert get_optimizer(name).reference_class[0] == "pytorch_optimizer"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_positions_match_pytorch_optimizer_given_the_same_gradients(case):
    name, hyperparams, surface, start = case
    trajectory = simulate(surface, name, start=start, steps=STEPS, hyperparams=hyperparams)
    assert trajectory.steps >= 200, trajectory.message
    theirs = replay_in_reference(trajectory, name, hyperparams)
    assert_same_path(trajectory, theirs, name in BIT_EXACT, RELATIVE_TOLERANCE)


@pytest.mark.parametrize("name, hyperparams, culprit, reference_refuses", INVALID)
def test_invalid_hyperparameters_are_refused_like_the_reference(name, hyperparams, culprit,
                                                                  reference_refuses):
    if reference_refuses:
        with pytest.raises(Exception, match="must be"):  # ValueError, or its NegativeLRError
            reference_class(name)([torch.nn.Parameter(torch.zeros(2))],
                                  **reference_kwargs(name, hyperparams))
    with pytest.raises(SimulatorError, match=rf"{name}: invalid {culprit}=") as raised:
        get_optimizer(name).resolve(hyperparams)
    assert raised.value.param == culprit


@pytest.mark.parametrize("name", sorted({info.name for info in INFOS}))
def test_registry_defaults_are_the_references(name):
    spec = get_optimizer(name)
    signature = inspect.signature(reference_class(name).__init__)
    for h in spec.hyperparams:
        if h.name in KWARG_OPTIONS:
            assert h.default == KWARG_OPTIONS[h.name]
        elif name in ("Adan", "AdEMAMix") and h.name in ("betas", "beta3"):  # the reference's triple
            triple = (*spec.defaults["betas"], spec.defaults["beta3"])
            assert signature.parameters["betas"].default == triple
        elif h.name == "clip_lambda":  # the exponent of the reference's default lambda
            assert signature.parameters[h.name].default(16) == math.pow(16, h.default)
        elif h.name == "growth_rate":  # none: no limit, the reference's inf
            assert signature.parameters[h.name].default == math.inf and h.default is None
        else:
            assert h.name in signature.parameters, f"{name} has no argument {h.name}"
            default = signature.parameters[h.name].default
            assert (tuple(h.default) if isinstance(default, tuple) else h.default) == default, h.name
    ignored = {"self", "params", "foreach", "kwargs"}
    folded = {"beta3"} if name in ("Adan", "AdEMAMix") else set()  # in the reference's betas
    assert set(signature.parameters) - ignored == set(spec.hyperparam_names) - set(KWARG_OPTIONS) - folded


def test_unsupported_reference_options_are_refused_by_name():
    # pytorch_optimizer's **kwargs options the kernels do not reproduce
    for name, option in (("Lion", "adanorm"), ("AdaBelief", "adanorm"), ("Lion", "use_gc"),
                         ("ADOPT", "stable_adamw"), ("Adan", "adanorm"), ("Adan", "use_gc"),
                         ("Lamb", "adanorm"), ("AdEMAMix", "stable_adamw")):
        with pytest.raises(SimulatorError, match=f"no hyperparameter '{option}'"):
            get_optimizer(name).resolve({option: True})


def test_lion_moves_lr_per_axis_and_the_failed_rectification_stands_still():
    lion = simulate("rosenbrock", "Lion", start=(-1.5, 2.0), steps=3, hyperparams={"lr": 0.125})
    assert np.all(np.abs(np.diff(lion.xy, axis=0)) == 0.125)
    # rectify without degenerated_to_sgd: no step until the moving average reaches the threshold
    still = simulate("rosenbrock", "AdaBelief", start=(-1.5, 2.0), steps=4,
                     hyperparams={"lr": 0.01, "rectify": True, "degenerated_to_sgd": False})
    assert np.all(still.xy == still.xy[0])
