"""Schedules against torch.optim.lr_scheduler driving a real torch optimizer: lr and momentum, exactly."""

import math
import warnings

import numpy as np
import pytest

from simulator import SimulatorError, get_optimizer
from simulator.schedules import SCHEDULES, get_schedule, join_warmup, momentum_key, split_warmup
from simulator.schedules import schedule_arrays as _schedule_arrays

torch = pytest.importorskip("torch")

STEPS = 300


def schedule_arrays(schedule, spec, values, steps):
    """The plan for a run of optimizer ``spec``: its momentum key and name, as the engine passes them."""
    return _schedule_arrays(schedule, momentum_key(spec.hyperparam_names), values, steps, spec.name)

CASES = [
    ("SGD", {"lr": 0.1}, ("StepLR", {"step_size": 30})),
    ("SGD", {"lr": 0.1}, ("StepLR", {"step_size": 7, "gamma": 0.5})),
    ("SGD", {"lr": 0.1}, ("MultiStepLR", {"milestones": [10, 50, 50, 200], "gamma": 0.3})),
    ("SGD", {"lr": 0.1}, ("ConstantLR", {})),
    ("SGD", {"lr": 0.1}, ("ConstantLR", {"factor": 0.7, "total_iters": 40})),
    ("Adam", {"lr": 0.01}, ("LinearLR", {})),
    ("Adam", {"lr": 0.01}, ("LinearLR", {"start_factor": 0.01, "end_factor": 0.5, "total_iters": 120})),
    ("Adam", {"lr": 0.01}, ("ExponentialLR", {"gamma": 0.99})),
    ("Adam", {"lr": 0.01}, ("PolynomialLR", {"total_iters": 100, "power": 2.0})),
    ("SGD", {"lr": 0.1}, ("PolynomialLR", {})),
    ("SGD", {"lr": 0.1}, ("CosineAnnealingLR", {"T_max": 100})),
    ("SGD", {"lr": 0.1}, ("CosineAnnealingLR", {"T_max": 37, "eta_min": 0.001})),
    ("SGD", {"lr": 0.1}, ("CosineAnnealingWarmRestarts", {"T_0": 20})),
    ("SGD", {"lr": 0.1}, ("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2, "eta_min": 0.01})),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 25})),
    ("SGD", {"lr": 0.1}, ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 20, "step_size_down": 50, "mode": "triangular2"})),
    ("Adam", {"lr": 0.01}, ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 15, "mode": "exp_range", "gamma": 0.99})),
    ("RMSprop", {"lr": 0.01}, ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 10})),
    ("Adagrad", {"lr": 0.01}, ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.01, "cycle_momentum": False})),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, ("OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS})),
    ("Adam", {"lr": 0.01}, ("OneCycleLR", {"max_lr": 0.05, "total_steps": STEPS, "anneal_strategy": "linear", "three_phase": True})),
    ("NAdam", {"lr": 0.01}, ("OneCycleLR", {"max_lr": 0.05, "epochs": 3, "steps_per_epoch": 100, "pct_start": 0.1})),
    ("SGD", {"lr": 0.1}, ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 20}), ("CosineAnnealingLR", {"T_max": 280})], "milestones": [20]})),
    ("Adam", {"lr": 0.01}, ("SequentialLR", {"schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 10}), ("ExponentialLR", {"gamma": 0.98}), ("StepLR", {"step_size": 30})], "milestones": [15, 100]})),
    ("SGD", {"lr": 0.1}, ("SequentialLR", {"schedulers": [("LinearLR", {"total_iters": 10}), ("CosineAnnealingWarmRestarts", {"T_0": 40})], "milestones": [10]})),
    ("SGD", {"lr": 0.1}, ("LambdaLR", {"lr_lambda": "0.95**epoch"})),
    ("Adam", {"lr": 0.01}, ("LambdaLR", {"lr_lambda": "1/(1 + 0.1*epoch)"})),
    ("SGD", {"lr": 0.1}, ("LambdaLR", {"lr_lambda": "0.5*(1 + cos(pi*epoch/300)) + 1e-3*sqrt(epoch)"})),
    ("SGD", {"lr": 0.1}, ("LambdaLR", {"lr_lambda": "exp(-epoch/50)*abs(sin(epoch/7)) + 2**-(epoch/30)"})),
    ("SGD", {"lr": 0.1}, ("MultiplicativeLR", {"lr_lambda": "0.99"})),
    ("Adam", {"lr": 0.01}, ("MultiplicativeLR", {"lr_lambda": "1 - 1/(epoch + 10)**2"})),
    ("SGD", {"lr": 0.1}, ("MultiplicativeLR", {"lr_lambda": "log10(epoch + 10)/log10(epoch + 11)"})),
    ("SGD", {"lr": 0.1}, ("ChainedScheduler", {"schedulers": [("ConstantLR", {"factor": 0.1, "total_iters": 2}), ("ExponentialLR", {"gamma": 0.9})]})),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, ("ChainedScheduler", {"schedulers": [("LinearLR", {"total_iters": 20}), ("CosineAnnealingLR", {"T_max": 100}), ("MultiplicativeLR", {"lr_lambda": "0.999"})]})),
    ("Adam", {"lr": 0.01}, ("ChainedScheduler", {"schedulers": [("LambdaLR", {"lr_lambda": "0.97**epoch"}), ("StepLR", {"step_size": 40, "gamma": 0.5})]})),
    ("SGD", {"lr": 0.1}, ("SequentialLR", {"schedulers": [("LambdaLR", {"lr_lambda": "(epoch + 1)/20"}), ("MultiplicativeLR", {"lr_lambda": "0.98"})], "milestones": [20]})),
]

# The Python a user would write for a formula: ``lambda epoch: <formula>`` with math's functions.
MATH_NAMES = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos,
              "atan": math.atan, "arcsin": math.asin, "arccos": math.acos, "arctan": math.atan,
              "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh, "exp": math.exp, "log": math.log,
              "log10": math.log10, "sqrt": math.sqrt, "abs": abs, "pi": math.pi, "e": math.e}


def python_lambda(formula: str):
    return eval(f"lambda epoch: {formula}", {"__builtins__": {}, **MATH_NAMES})  # the test's own text


def _torch_scheduler(optimizer, name, params):
    if name == "SequentialLR":
        inner = [_torch_scheduler(optimizer, n, p) for n, p in params["schedulers"]]
        return torch.optim.lr_scheduler.SequentialLR(optimizer, inner, milestones=params["milestones"])
    if name == "ChainedScheduler":
        inner = [_torch_scheduler(optimizer, n, p) for n, p in params["schedulers"]]
        return torch.optim.lr_scheduler.ChainedScheduler(inner)
    if "lr_lambda" in params:
        params = {**params, "lr_lambda": python_lambda(params["lr_lambda"])}
    return getattr(torch.optim.lr_scheduler, name)(optimizer, **params)


def torch_sequences(optimizer_name, hyperparams, schedule, steps):
    point = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    optimizer = getattr(torch.optim, optimizer_name)([point], **hyperparams)
    scheduler = _torch_scheduler(optimizer, *schedule)
    lrs, momenta = [], []
    group = optimizer.param_groups[0]
    for _ in range(steps):
        lrs.append(group["lr"])
        momenta.append(group["betas"][0] if "betas" in group else group.get("momentum", 0.0))
        point.grad = torch.ones(2, dtype=torch.float64)
        optimizer.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler.step()
    return np.array(lrs), np.array(momenta)


def test_every_schedule_has_cases():
    assert {case[2][0] for case in CASES} | {"ReduceLROnPlateau"} >= set(SCHEDULES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[2][0]}-{c[0]}-{sorted(c[2][1].items())}")
def test_lr_and_momentum_sequences_equal_torchs(case):
    optimizer_name, hyperparams, schedule = case
    spec = get_optimizer(optimizer_name)
    lrs, momenta, _, _ = schedule_arrays(schedule, spec, spec.resolve(hyperparams), STEPS)
    theirs_lr, theirs_momentum = torch_sequences(optimizer_name, hyperparams, schedule, STEPS)
    np.testing.assert_array_equal(lrs[1:], theirs_lr)
    assert lrs[0] == lrs[1]
    if momenta is not None:
        np.testing.assert_array_equal(momenta[1:], theirs_momentum)
    assert len(set(lrs.tolist())) > 1, "the schedule never changed the lr"


@pytest.mark.parametrize("schedule, message", [
    (("Nope", {}), "unknown schedule 'Nope'"),
    (("StepLR", {}), "missing required parameter 'step_size'"),
    (("StepLR", {"step_size": 0}), "invalid step_size=0"),
    (("StepLR", {"step_size": 2.5}), "invalid step_size=2.5"),
    (("StepLR", {"step_size": 5, "gama": 0.1}), "StepLR has no parameter 'gama'"),
    (("ConstantLR", {"factor": 1.5}), "invalid factor=1.5"),
    (("LinearLR", {"start_factor": 0.0}), "invalid start_factor=0"),
    (("CosineAnnealingLR", {"T_max": 0}), "invalid T_max=0"),
    (("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "mode": "sawtooth"}), "invalid mode=sawtooth"),
    (("OneCycleLR", {"max_lr": 0.1, "pct_start": 1.5}), "invalid pct_start=1.5"),
    (("SequentialLR", {"schedulers": [("LinearLR", {}), ("StepLR", {"step_size": 3})], "milestones": []}), "invalid milestones"),
    (("SequentialLR", {"schedulers": [("SequentialLR", {})], "milestones": []}), "cannot be nested"),
    (("ChainedScheduler", {"schedulers": [("SequentialLR", {})]}), "SequentialLR cannot be nested in ChainedScheduler"),
    (("ChainedScheduler", {"schedulers": [("ReduceLROnPlateau", {})]}), "ReduceLROnPlateau cannot be nested in Chained"),
    (("ChainedScheduler", {"schedulers": []}), "invalid schedulers"),
    (("LambdaLR", {}), "missing required parameter 'lr_lambda'"),
    (("LambdaLR", {"lr_lambda": "__import__('os').getcwd()"}), "invalid lr_lambda=.*attribute access is not allowed"),
    (("LambdaLR", {"lr_lambda": "0.9**step"}), r"invalid lr_lambda=0.9\*\*step: name 'step' is not allowed \(use epoch"),
    (("LambdaLR", {"lr_lambda": "lambda epoch: 1"}), "invalid lr_lambda=.*lambda is not allowed"),
    (("MultiplicativeLR", {"lr_lambda": ""}), "invalid lr_lambda=: empty; type a factor in epoch"),
    (("MultiplicativeLR", {"lr_lambda": [0.5]}), "invalid lr_lambda=0.5: expected text, got list"),
    (("LambdaLR", {"lr_lambda": "1/(epoch - 3)"}), r"lr_lambda 1 / \(epoch - 3\) at epoch 3: division by zero"),
    (("LambdaLR", {"lr_lambda": "log(epoch)"}), "lr_lambda log\\(epoch\\) at epoch 0: math domain error"),
    (("LambdaLR", {"lr_lambda": "10**(10*epoch)"}), "at epoch 31: too large for a float"),
    (("MultiplicativeLR", {"lr_lambda": "1e200*1e200*epoch"}), "at epoch 1: not a finite number"),
    (("LambdaLR", {"lr_lambda": "(-8)**(1/3)"}), "is not a real number"),
])
def test_invalid_schedules_are_refused_naming_the_parameter(schedule, message):
    spec = get_optimizer("SGD")
    with pytest.raises(SimulatorError, match=message):
        schedule_arrays(schedule, spec, spec.resolve({"lr": 0.1}), 50)


def test_momentum_cycling_needs_momentum_or_betas_like_torch():
    spec = get_optimizer("Adagrad")
    with pytest.raises(ValueError):
        torch.optim.lr_scheduler.CyclicLR(torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(2))]), 0.01, 0.1)
    with pytest.raises(SimulatorError, match="cycle_momentum=false"):
        schedule_arrays(("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1}), spec, spec.resolve({}), 10)


def test_momentum_key_is_torchs_choice_and_a_missing_one_names_the_optimizer():
    # torch's CyclicLR/OneCycleLR: betas[0] where the optimizer has betas, else momentum
    assert momentum_key(get_optimizer("Adam").hyperparam_names) == "betas"
    assert momentum_key(get_optimizer("SGD").hyperparam_names) == "momentum"
    assert momentum_key(get_optimizer("Adagrad").hyperparam_names) is None
    assert momentum_key(["lr", "momentum", "betas"]) == "betas"
    with pytest.raises(SimulatorError, match=r"cycle_momentum=True: Adagrad has neither momentum nor betas"):
        _schedule_arrays(("OneCycleLR", {"max_lr": 0.1}), None, {"lr": 0.01}, 10, "Adagrad")


@pytest.mark.parametrize("inner", [None, ("StepLR", {"step_size": 5}), ("CosineAnnealingLR", {"T_max": 40})])
def test_a_warmup_joined_in_front_splits_off_again(inner):
    joined = join_warmup(inner, 8)
    ramp = ("LinearLR", {"start_factor": 1.0 / 8, "total_iters": 8})
    assert joined == (ramp if inner is None else ("SequentialLR", {"schedulers": [ramp, inner], "milestones": [8]}))
    assert split_warmup(joined) == (inner, 8)
    assert join_warmup(inner, 0) == inner and split_warmup(inner) == (inner, 0)


def test_one_cycle_defaults_to_the_runs_length():
    spec = get_optimizer("SGD")
    lrs, _, _, _ = schedule_arrays(("OneCycleLR", {"max_lr": 1.0}), spec, spec.resolve({"momentum": 0.9}), 100)
    assert lrs[1] == pytest.approx(1.0 / 25) and lrs[-1] < 1e-3
    assert get_schedule("onecyclelr").name == "OneCycleLR"


SIMULATED = [
    ("SGD", {"lr": 0.001, "momentum": 0.9}, ("CosineAnnealingLR", {"T_max": 150}), True),
    ("SGD", {"lr": 0.001}, ("OneCycleLR", {"max_lr": 0.002, "total_steps": 300}), True),  # torch switches momentum on
    ("Adam", {"lr": 0.01}, ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.05, "step_size_up": 40}), False),
    ("RMSprop", {"lr": 0.001}, ("CyclicLR", {"base_lr": 0.0001, "max_lr": 0.002, "step_size_up": 30}), False),
    ("Rprop", {}, ("StepLR", {"step_size": 10, "gamma": 0.1}), True),  # Rprop ignores the lr after step 1
    ("Adam", {"lr": 0.02}, ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 30}), ("ExponentialLR", {"gamma": 0.99})], "milestones": [30]}), False),
    ("SGD", {"lr": 0.001, "momentum": 0.9}, ("LambdaLR", {"lr_lambda": "1/(1 + 0.01*epoch)"}), True),
    ("Adam", {"lr": 0.02}, ("MultiplicativeLR", {"lr_lambda": "0.995"}), False),
    ("SGD", {"lr": 0.001, "momentum": 0.9}, ("ChainedScheduler", {"schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 20}), ("LambdaLR", {"lr_lambda": "0.99**epoch"})]}), True),
]


@pytest.mark.parametrize("case", SIMULATED, ids=lambda c: f"{c[0]}-{c[2][0]}")
def test_scheduled_trajectories_match_torch_given_the_same_gradients(case):
    from simulator import simulate

    optimizer_name, hyperparams, schedule, bit_exact = case
    steps = 300
    trajectory = simulate("rosenbrock", optimizer_name, start=(-1.5, 2.0), steps=steps,
                          hyperparams=hyperparams, schedule=schedule)
    assert trajectory.steps == steps, trajectory.message
    point = torch.nn.Parameter(torch.tensor(trajectory.xy[0], dtype=torch.float64))
    optimizer = getattr(torch.optim, optimizer_name)([point], **hyperparams)
    scheduler = _torch_scheduler(optimizer, *schedule)
    positions, lrs = [trajectory.xy[0]], []
    for k in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        point.grad = torch.tensor(trajectory.grad[k], dtype=torch.float64)
        optimizer.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler.step()
        positions.append(point.detach().numpy().copy())
    np.testing.assert_array_equal(trajectory.lr[1:], lrs)
    positions = np.array(positions)
    if bit_exact:  # no torch.sqrt on these paths
        np.testing.assert_array_equal(trajectory.xy, positions)
    else:
        assert np.max(np.abs(trajectory.xy - positions) / np.abs(positions)) <= 1e-12


# ReduceLROnPlateau watches the loss: torch's scheduler is stepped with the loss at the point each
# optimizer step reaches, and the simulator runs the same rule inside its compiled loop.
PLATEAU = [
    ("SGD", {"lr": 0.002, "momentum": 0.9}, {"patience": 3, "threshold": 0.05}, True),
    ("SGD", {"lr": 0.001}, {"mode": "max", "patience": 2, "factor": 0.7, "eps": 1e-5}, True),
    ("Adam", {"lr": 0.05}, {"patience": 5, "factor": 0.5, "threshold_mode": "abs", "threshold": 0.01,
                            "cooldown": 5, "min_lr": 0.004}, False),
    ("RMSprop", {"lr": 0.01}, {"patience": 0, "threshold": 0.02, "cooldown": 2}, False),
    ("Rprop", {}, {"patience": 1, "threshold": 0.1}, True),  # Rprop ignores the lr after step 1
]


@pytest.mark.parametrize("case", PLATEAU, ids=lambda c: f"{c[0]}-{sorted(c[2].items())}")
def test_reduce_lr_on_plateau_matches_torch_stepped_with_the_reached_loss(case):
    from simulator import get_surface, simulate

    optimizer_name, hyperparams, params, bit_exact = case
    steps = 400
    trajectory = simulate("rosenbrock", optimizer_name, start=(-1.5, 2.0), steps=steps,
                          hyperparams=hyperparams, schedule=("ReduceLROnPlateau", params))
    assert trajectory.steps == steps, trajectory.message
    surface = get_surface("rosenbrock")
    point = torch.nn.Parameter(torch.tensor(trajectory.xy[0], dtype=torch.float64))
    optimizer = getattr(torch.optim, optimizer_name)([point], **hyperparams)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **params)
    positions, lrs = [trajectory.xy[0]], []
    for k in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        point.grad = torch.tensor(trajectory.grad[k], dtype=torch.float64)
        optimizer.step()
        positions.append(point.detach().numpy().copy())
        scheduler.step(surface.value(*positions[-1]))
    np.testing.assert_array_equal(trajectory.lr[1:], lrs)
    assert len(set(lrs)) >= 3, "the plateau rule never reduced the lr twice"
    positions = np.array(positions)
    if bit_exact:
        np.testing.assert_array_equal(trajectory.xy, positions)
    else:
        assert np.max(np.abs(trajectory.xy - positions) / np.abs(positions)) <= 1e-12
    assert trajectory.schedule[0] == "ReduceLROnPlateau" and trajectory.schedule[1]["patience"] == params["patience"]


@pytest.mark.parametrize("params, message", [
    ({"factor": 1.0}, r"invalid factor=1.0: must be >= 0 and < 1 \(torch: Factor should be < 1.0.\)"),
    ({"mode": "lowest"}, "invalid mode=lowest"),
    ({"threshold_mode": "relative"}, "invalid threshold_mode=relative"),
    ({"patience": -1}, "invalid patience=-1"),
    ({"patience": 1.5}, "invalid patience=1.5"),
    ({"min_lr": -0.1}, "invalid min_lr=-0.1"),
])
def test_invalid_plateau_parameters_are_refused(params, message):
    from simulator import simulate

    with pytest.raises(SimulatorError, match=message):
        simulate("rosenbrock", "SGD", steps=5, schedule=("ReduceLROnPlateau", params))


def test_plateau_cannot_be_nested_in_sequential_lr_like_torch():
    from simulator import simulate

    schedule = ("SequentialLR", {"schedulers": [("LinearLR", {}), ("ReduceLROnPlateau", {})], "milestones": [5]})
    with pytest.raises(SimulatorError, match="ReduceLROnPlateau cannot be nested in SequentialLR"):
        simulate("rosenbrock", "SGD", steps=5, schedule=schedule)
