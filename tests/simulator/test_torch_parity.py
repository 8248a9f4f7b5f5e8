"""Parity with torch.optim itself: the acceptance test of the simulator's kernels.

Each case runs ``simulate`` for 2000 steps, then feeds the very gradients the simulator recorded
into the real torch optimizer on a float64 2-element parameter and compares positions step by step.
Optimizers whose torch code has no ``torch.sqrt`` must agree bit for bit; the others use MKL's
``vmdSqrt`` in torch, which is 1 ulp off the IEEE square root for about 1% of inputs (see
../shared/reference/torch-optim-numerics.md, pitfall 2), so they are held to 1e-12 relative.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest

from simulator import OPTIMIZERS, SimulatorError, get_optimizer, simulate
from tests.simulator.parity import assert_same_path, replay_gradients

torch = pytest.importorskip("torch")

STEPS = 2000
RELATIVE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class OptimizerInfo:
    """One optimizer's test record, as torch's ``common_optimizers.OptimizerInfo``: the runs that
    must match the reference its registry record declares, and the hyperparameters that must be
    refused (``optim_error_inputs_func``). Adding an optimizer adds one of these."""

    name: str
    inputs: tuple  # (hyperparameters, surface, start): a spread of every option
    error_inputs: tuple = ()  # (hyperparameters, the culprit the message must name)
    bit_exact: bool = False  # the reference has no sqrt (MKL's rounds differently): bit for bit


OPTIMIZER_INFOS = (
    OptimizerInfo(
        "SGD",
        bit_exact=True,
        inputs=(
            ({"lr": 1e-3}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 1e-3, "momentum": 0.9}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 5e-4, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.01, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01}, "himmelblau", (0.5, -4.0)),
            ({"lr": 0.01, "maximize": True}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"lr": -0.1}, "lr"),
            ({"momentum": -0.5}, "momentum"),
            ({"weight_decay": -1.0}, "weight_decay"),
            ({"nesterov": True}, "nesterov"),
            ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov"),
        ),
    ),
    OptimizerInfo(
        "Adam",
        inputs=(
            ({"lr": 0.01}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.05, "betas": (0.8, 0.99), "amsgrad": True}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.02, "weight_decay": 0.1}, "himmelblau", (-4.0, 4.0)),
            ({"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True, "eps": 1e-3}, "beale", (1.0, 1.5)),
            ({"lr": 0.01, "maximize": True, "betas": (0.0, 0.5)}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"betas": (1.0, 0.999)}, "betas"),
            ({"betas": (0.9, -0.1)}, "betas"),
            ({"eps": -1e-8}, "eps"),
        ),
    ),
    OptimizerInfo(
        "AdamW",
        inputs=(
            ({"lr": 0.01}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.03, "weight_decay": 0.5, "amsgrad": True}, "rastrigin", (2.2, -3.1)),
        ),
        error_inputs=(
            ({"lr": -1.0}, "lr"),
        ),
    ),
    OptimizerInfo(
        "Adamax",
        inputs=(
            ({"lr": 0.02}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.05, "weight_decay": 0.05, "betas": (0.5, 0.9), "maximize": True}, "styblinski_tang", (0.3, -0.2)),
        ),
        error_inputs=(
            ({"betas": (0.9, 1.5)}, "betas"),
        ),
    ),
    OptimizerInfo(
        "Adagrad",
        inputs=(
            ({"lr": 0.5}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.5, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-6}, "himmelblau", (0.0, 0.0)),
        ),
        error_inputs=(
            ({"lr_decay": -0.1}, "lr_decay"),
            ({"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
        ),
    ),
    OptimizerInfo(
        "Adadelta",
        inputs=(
            ({}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 2.0, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.01}, "himmelblau", (-1.0, 0.5)),
        ),
        error_inputs=(
            ({"rho": 1.5}, "rho"),
        ),
    ),
    OptimizerInfo(
        "ASGD",
        bit_exact=True,
        inputs=(
            ({"lr": 1e-3}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.01, "lambd": 0.01, "alpha": 0.5, "t0": 100.0, "weight_decay": 0.01}, "himmelblau", (1.0, 1.0)),
            ({"lr": 0.01, "maximize": True, "t0": 10.0}, "styblinski_tang", (0.1, 0.3)),
        ),
        error_inputs=(
            ({"weight_decay": -0.1}, "weight_decay"),
        ),
    ),
    OptimizerInfo(
        "NAdam",
        inputs=(
            ({"lr": 0.01}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.02, "weight_decay": 0.1, "momentum_decay": 0.01}, "himmelblau", (-1.0, -1.0)),
            ({"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}, "styblinski_tang", (0.2, 0.1)),
        ),
        error_inputs=(
            ({"momentum_decay": -0.1}, "momentum_decay"),
        ),
    ),
    OptimizerInfo(
        "RAdam",
        inputs=(
            ({"lr": 0.01}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.05, "weight_decay": 0.1, "betas": (0.9, 0.99)}, "himmelblau", (-1.0, 1.0)),
            ({"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}, "beale", (1.0, 1.0)),
        ),
        error_inputs=(
            ({"betas": (0.9, 1.0)}, "betas"),
        ),
    ),
    OptimizerInfo(
        "RMSprop",
        inputs=(
            ({"lr": 1e-3}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 1e-3, "momentum": 0.9, "centered": True}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.01, "alpha": 0.9, "weight_decay": 0.01, "eps": 1e-4, "maximize": True}, "styblinski_tang", (0.1, 0.1)),
        ),
        error_inputs=(
            ({"alpha": -0.1}, "alpha"),
            ({"momentum": -0.1}, "momentum"),
        ),
    ),
    OptimizerInfo(
        "Rprop",
        bit_exact=True,
        inputs=(
            ({}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (1e-4, 1.0)}, "rastrigin", (3.3, -2.2)),
            ({"maximize": True}, "styblinski_tang", (0.5, 0.5)),
        ),
        error_inputs=(
            ({"etas": (1.2, 0.5)}, "etas"),
            ({"etas": (0.0, 1.2)}, "etas"),
        ),
    ),
    OptimizerInfo(
        "Adafactor",
        bit_exact=True,
        inputs=(
            ({}, "rosenbrock", (-1.5, 2.0)),
            ({"lr": 0.1, "beta2_decay": -0.5, "eps": (1e-20, 1e-2), "d": 2.0, "weight_decay": 0.01}, "himmelblau", (-4.0, 4.0)),
            ({"lr": 0.05, "maximize": True}, "styblinski_tang", (0.1, 0.2)),
        ),
        error_inputs=(
            ({"beta2_decay": 0.5}, "beta2_decay"),
            ({"d": 0.5}, "d"),
            ({"eps": (-1.0, 1e-3)}, "eps"),
        ),
    ),
)

CASES = [(info.name, *case) for info in OPTIMIZER_INFOS for case in info.inputs]
INVALID = [(info.name, *case) for info in OPTIMIZER_INFOS for case in info.error_inputs]
BIT_EXACT = {info.name for info in OPTIMIZER_INFOS if info.bit_exact}


def _case_id(case):
    name, hp, surface, _ = case
    return f"{name}-{surface}-" + ",".join(f"{k}={v}" for k, v in hp.items())


def replay_in_reference(trajectory, optimizer_name, hyperparams):
    """Positions the record's reference reaches when given the simulator's recorded gradients: the
    torch.optim class it names, or its NumPy function (handed the resolved hyperparameters)."""
    spec = get_optimizer(optimizer_name)
    if spec.torch_class is None:
        point = trajectory.xy[0].copy()
        step = spec.reference(point, spec.resolve(hyperparams))
        positions = [point.copy()]
        for k in range(trajectory.steps):
            step(trajectory.grad[k].copy())
            positions.append(point.copy())
        return np.array(positions)
    point = torch.nn.Parameter(torch.tensor(trajectory.xy[0], dtype=torch.float64))
    return replay_gradients(trajectory, getattr(torch.optim, spec.torch_class)([point], **hyperparams), point)


def test_every_optimizer_has_cases():
    # LBFGS (a closure optimizer) has its own parity tests: tests/simulator/test_lbfgs.py; the
    # optimizers beyond torch.optim (a pytorch_optimizer reference): test_extra_optimizers.py
    in_torch = {name for name, spec in OPTIMIZERS.items()
                if not spec.closure and (spec.torch_class is not None or callable(spec.reference))}
    assert {case[0] for case in CASES} == in_torch
    assert all(spec.reference is not None for spec in OPTIMIZERS.values())


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_positions_match_torch_given_the_same_gradients(case):
    name, hyperparams, surface, start = case
    trajectory = simulate(surface, name, start=start, steps=STEPS, hyperparams=hyperparams)
    assert trajectory.steps >= 200, trajectory.message
    theirs = replay_in_reference(trajectory, name, hyperparams)
    assert_same_path(trajectory, theirs, name in BIT_EXACT, RELATIVE_TOLERANCE)


def _rosenbrock_torch(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


@pytest.mark.parametrize("name, hyperparams", [
    ("SGD", {"lr": 1e-3, "momentum": 0.9}),
    ("Adam", {"lr": 0.01}),
    ("RMSprop", {"lr": 1e-3}),
    ("Adagrad", {"lr": 0.5}),
    ("Rprop", {}),
    ("NAdam", {"lr": 0.01}),
])
def test_whole_trajectory_matches_torch_with_autograd_on_rosenbrock(name, hyperparams):
    steps = 1000
    trajectory = simulate("rosenbrock", name, start=(-1.5, 2.0), steps=steps, hyperparams=hyperparams)
    point = torch.nn.Parameter(torch.tensor([-1.5, 2.0], dtype=torch.float64))
    optimizer = getattr(torch.optim, get_optimizer(name).torch_class)([point], **hyperparams)
    positions, losses = [], []
    for _ in range(steps + 1):
        optimizer.zero_grad()
        loss = _rosenbrock_torch(point)
        loss.backward()
        positions.append(point.detach().numpy().copy())
        losses.append(loss.item())
        optimizer.step()
    positions = np.array(positions[: steps + 1])
    # autograd rounds the gradient differently from the analytic formula (last bits), and
    # those differences travel along the path: the whole run still agrees to 1e-9.
    assert np.max(np.abs(trajectory.xy - positions)) <= 1e-9
    np.testing.assert_allclose(trajectory.loss, losses, rtol=1e-9, atol=1e-12)




@pytest.mark.parametrize("name, hyperparams, culprit", INVALID)
def test_invalid_hyperparameters_are_refused_like_torch(name, hyperparams, culprit):
    torch_class = get_optimizer(name).torch_class
    if torch_class is not None:  # a NumPy reference checks nothing: our refusal is the rule
        with pytest.raises(ValueError):
            getattr(torch.optim, torch_class)([torch.nn.Parameter(torch.zeros(2))], **hyperparams)
    with pytest.raises(SimulatorError, match=rf"{name}: invalid {culprit}="):
        get_optimizer(name).resolve(hyperparams)


@pytest.mark.parametrize("name", [name for name, spec in OPTIMIZERS.items() if spec.torch_class is not None])
def test_registry_defaults_are_torchs(name):
    import inspect

    spec = get_optimizer(name)
    signature = inspect.signature(getattr(torch.optim, spec.torch_class).__init__)
    for h in spec.hyperparams:
        assert h.name in signature.parameters, f"{name} has no argument {h.name}"
        default = signature.parameters[h.name].default
        if isinstance(default, tuple):
            assert tuple(h.default) == default
        else:
            assert h.default == default or (math.isclose(h.default, default)), h.name
    ignored = {"self", "params", "foreach", "differentiable", "capturable", "fused"}
    assert set(signature.parameters) - ignored == set(spec.hyperparam_names)


def test_fused_multiply_add_detection_agrees_with_torch():
    from simulator.numerics import FUSED, fma

    generator = np.random.default_rng(0)
    for _ in range(10_000):
        a, b, w = generator.normal(size=3) * np.array([1.0, 1.0, 0.2])
        fused, plain = fma(w, b - a, a), w * (b - a) + a
        if fused != plain:
            break
    else:
        pytest.fail("no sample tells fused from plain multiply-add")
    theirs = torch.tensor([a], dtype=torch.float64).lerp_(torch.tensor([b], dtype=torch.float64), float(w)).item()
    assert theirs == (fused if FUSED else plain)
