"""Optimizers, parameter groups, schedulers and devices built from a configuration."""

import pytest
import torch
from torch.optim import lr_scheduler

from tests.simulator.test_schedules import python_lambda
from tests.trainers.conftest import small_config
from trainers.config import ModelConfig, OptimizerConfig
from trainers.errors import ConfigError
from trainers.factory import (
    build_optimizer,
    optimizer_classes,
    plan_param_groups,
    resolve_device,
    scheduler_classes,
)
from trainers.loop import TrainingRun
from trainers.models import build_model, is_bias_or_norm

ALL_OPTIMIZERS = sorted(c.__name__ for c in optimizer_classes().values())
# SparseAdam needs sparse gradients and Muon 2-D parameters only: both are refused with a message.
TRAINABLE = [name for name in ALL_OPTIMIZERS if name not in ("SparseAdam", "Muon")]


def test_every_torch_optimizer_is_offered():
    expected = {name for name, cls in vars(torch.optim).items()
                if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) and name != "Optimizer"}
    assert set(ALL_OPTIMIZERS) == expected and "AdamW" in expected and "LBFGS" in expected


@pytest.mark.parametrize("name", TRAINABLE)
def test_every_optimizer_trains_a_few_steps(name):
    config = small_config(optimizer={"name": name.lower(), "lr": 0.01}, train={"max_steps": 4})
    run = TrainingRun(config)
    events = list(run.events())
    assert run.ended.status == "finished", run.ended.message
    assert isinstance(run.optimizer, getattr(torch.optim, name))
    assert len(run.metrics.series("train_loss")[1]) == 4
    assert events[-1] is run.ended


@pytest.mark.parametrize(("name", "message"), [
    ("SparseAdam", "SparseAdam needs sparse gradients"),
    ("Muon", "optimizer.name: Muon orthogonalises 2-D weight matrices only, and this model also has 2 "
             "parameters of another shape"),
    ("Adamm", "unknown optimizer 'Adamm' (torch.optim has: ASGD, Adadelta"),
])
def test_optimizers_that_cannot_train_these_models_say_why(name, message):
    with pytest.raises(ConfigError) as caught:
        TrainingRun(small_config(optimizer={"name": name}))
    assert message in str(caught.value)


@pytest.mark.parametrize(("options", "message"), [
    ({"lr": -1.0}, "optimizer.lr: Invalid learning rate: -1.0"),
    ({"betas": [0.9, 1.5]}, "optimizer.betas: Invalid beta parameter at index 1: 1.5"),
    ({"eps": -1e-8}, "optimizer.eps: Invalid epsilon value"),
    ({"lrr": 0.1}, "optimizer.lrr: Adam has no option 'lrr' (did you mean 'lr'?)"),
    ({"param_groups": [{"match": "head", "lr": -2.0}]}, "optimizer.param_groups[0].lr: Invalid learning rate"),
    ({"param_groups": [{"match": "head", "momentum": 0.9}]}, "optimizer.param_groups[0].momentum: Adam has no"),
    ({"param_groups": [{"match": "^decoder"}]}, "optimizer.param_groups[0].match: '^decoder' matches no parameter"),
    ({"param_groups": [{"match": "head"}, {"match": "head.bias", "name": "b"}]},
     "optimizer.param_groups[1].match: every parameter 'head.bias' matches is taken by an earlier rule"),
])
def test_torch_checks_the_values_and_the_message_names_the_key(options, message):
    with pytest.raises(ConfigError) as caught:
        TrainingRun(small_config(optimizer=options))
    assert message in str(caught.value)


@pytest.mark.parametrize(("options", "param", "value", "torch_text"), [
    ({"lr": -1.0}, "optimizer.lr", -1.0, "Invalid learning rate: -1.0"),
    ({"lrr": 0.1}, "optimizer.lrr", None, None),
    ({"param_groups": [{"match": "head", "lr": -2.0}]}, "optimizer.param_groups[0].lr", -2.0,
     "Invalid learning rate: -2.0"),
    ({"param_groups": [{"match": "^decoder"}]}, "optimizer.param_groups[0].match", None, None),
])
def test_a_refusal_carries_its_key_value_and_torchs_words(options, param, value, torch_text):
    with pytest.raises(ConfigError) as caught:
        TrainingRun(small_config(optimizer=options))
    error = caught.value
    assert (error.param, error.torch_text) == (param, torch_text)
    if value is not None:
        assert error.value == value
    with pytest.raises(ConfigError) as caught:
        small_config(data={"batch_size": 0})
    assert (caught.value.param, caught.value.value) == ("data.batch_size", 0)


def test_first_matching_rule_wins_and_the_rest_is_default():
    model = build_model(ModelConfig(name="mlp", hidden=[8, 8]), (2,), 2)
    config = OptimizerConfig(name="SGD", options={"lr": 0.1, "weight_decay": 1e-3}, param_groups=[
        {"match": r"^head\.", "lr": 1.0, "name": "head"},
        {"match": r"weight$", "weight_decay": 0.0, "name": "weights"},
    ])
    plan = plan_param_groups(model, config)
    groups = {a.name: a.group for a in plan.assignment}
    assert groups == {"layers.0.weight": "weights", "layers.0.bias": "default",
                      "layers.1.weight": "weights", "layers.1.bias": "default",
                      "head.weight": "head", "head.bias": "head"}
    optimizer, _ = build_optimizer(model, config, torch.device("cpu"))
    by_name = {g["name"]: g for g in optimizer.param_groups}
    assert by_name["head"]["lr"] == 1.0 and by_name["head"]["weight_decay"] == 1e-3
    assert by_name["weights"]["lr"] == 0.1 and by_name["weights"]["weight_decay"] == 0.0
    assert by_name["default"]["lr"] == 0.1 and by_name["default"]["weight_decay"] == 1e-3


def test_no_decay_shorthand_takes_biases_and_norm_weights():
    model = build_model(ModelConfig(name="cnn", hidden=[4, 8]), (1, 8, 8), 10)
    config = OptimizerConfig(name="AdamW", options={"weight_decay": 0.1}, no_decay_bias_norm=True)
    optimizer, plan = build_optimizer(model, config, torch.device("cpu"))
    no_decay = {a.name for a in plan.assignment if a.group == "no_decay"}
    assert no_decay == {"convs.0.bias", "convs.1.bias", "norms.0.weight", "norms.0.bias",
                        "norms.1.weight", "norms.1.bias", "head.bias"}
    assert all(is_bias_or_norm(model, name) for name in no_decay)
    decays = {g["name"]: g["weight_decay"] for g in optimizer.param_groups}
    assert decays == {"no_decay": 0.0, "default": 0.1}


def test_model_parameter_names_are_readable():
    mlp = build_model(ModelConfig(name="mlp", hidden=[5, 6]), (3,), 2)
    assert [n for n, _ in mlp.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "head.weight", "head.bias"]
    linear = build_model(ModelConfig(name="linear"), (4,), 1)
    assert [n for n, _ in linear.named_parameters()] == ["head.weight", "head.bias"]
    with pytest.raises(ConfigError, match="cnn needs image data"):
        build_model(ModelConfig(name="cnn"), (2,), 2)


# -- schedulers: the lr each step used equals torch's scheduler replayed on its own ----------

SCHEDULES = [
    ({"name": "StepLR", "step_size": 1, "gamma": 0.5}, None),
    ({"name": "MultiStepLR", "milestones": [1, 2], "gamma": 0.3}, None),
    ({"name": "ExponentialLR", "gamma": 0.9, "interval": "step"}, None),
    ({"name": "CosineAnnealingLR", "T_max": 10, "interval": "step"}, None),
    ({"name": "CosineAnnealingWarmRestarts", "T_0": 5, "interval": "step"}, None),
    ({"name": "PolynomialLR", "total_iters": 20, "power": 2.0, "interval": "step"}, None),
    ({"name": "LinearLR", "start_factor": 0.2, "total_iters": 6, "interval": "step"}, None),
    ({"name": "ConstantLR", "factor": 0.5, "total_iters": 3, "interval": "step"}, None),
    ({"name": "CyclicLR", "base_lr": 0.001, "max_lr": 0.01, "step_size_up": 4}, None),
    ({"name": "OneCycleLR", "max_lr": 0.05}, None),
    ({"name": "CosineAnnealingLR", "T_max": 20, "interval": "step", "warmup_steps": 4}, "sequential"),
    ({"name": "StepLR", "step_size": 1, "gamma": 0.5, "warmup_steps": 5}, "chained"),
    ({"warmup_steps": 6}, "warmup only"),
    ({"name": "LambdaLR", "lr_lambda": "0.8**epoch"}, None),
    ({"name": "LambdaLR", "lr_lambda": "1/(1 + 0.5*epoch)", "interval": "step", "warmup_steps": 3}, "sequential"),
    ({"name": "MultiplicativeLR", "lr_lambda": "0.95 - 0.01*epoch", "interval": "step"}, None),
]


def _replay(config, steps_per_epoch, total_steps):
    """The lr per step from torch's own scheduler on a lone parameter, stepped as configured."""
    scheduler_config = config.scheduler
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = getattr(torch.optim, config.optimizer.name)([parameter], **config.optimizer.options)
    options = dict(scheduler_config.options)
    warmup_steps = scheduler_config.warmup_steps
    warmup = lr_scheduler.LinearLR(optimizer, 1 / warmup_steps, 1.0, warmup_steps) if warmup_steps else None
    interval = scheduler_config.effective_interval
    main = None
    if scheduler_config.name:
        if scheduler_config.name == "OneCycleLR":
            options["total_steps"] = total_steps
        if "lr_lambda" in options:  # the formula as the Python lambda a user would write
            options["lr_lambda"] = python_lambda(options["lr_lambda"])
        main = getattr(lr_scheduler, scheduler_config.name)(optimizer, **options)
        if warmup and interval == "step":
            main, warmup = lr_scheduler.SequentialLR(optimizer, [warmup, main], [warmup_steps]), None
    lrs = []
    for step in range(1, total_steps + 1):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if warmup and step <= warmup_steps:
            warmup.step()
        if main and interval == "step":
            main.step()
        if main and interval == "epoch" and step % steps_per_epoch == 0:
            main.step()
    return lrs


@pytest.mark.parametrize(("scheduler", "how"), SCHEDULES,
                         ids=[f"{s.get('name', 'none')}-{h or s.get('interval', 'epoch')}" for s, h in SCHEDULES])
def test_learning_rates_follow_torchs_scheduler(scheduler, how):
    config = small_config(optimizer={"name": "SGD", "lr": 0.02, "momentum": 0.9}, scheduler=scheduler,
                          train={"epochs": 3})
    run = TrainingRun(config)
    list(run.events())
    _, lrs = run.metrics.series("lr/default")
    assert len(lrs) == run.total_steps == 24
    assert lrs == _replay(config, run.steps_per_epoch, run.total_steps)
    assert len(set(lrs)) > 1


def test_plateau_gets_the_validation_metric_each_epoch():
    config = small_config(optimizer={"name": "SGD", "lr": 0.5}, train={"epochs": 6},
                          scheduler={"name": "ReduceLROnPlateau", "patience": 0, "factor": 0.5,
                                     "threshold": 0.2})
    run = TrainingRun(config)
    list(run.events())
    _, val_losses = run.metrics.series("val_loss")
    _, lrs = run.metrics.series("lr/default")
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=0.5)
    reference = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5, threshold=0.2)
    expected = []
    for val_loss in val_losses:
        expected.extend([optimizer.param_groups[0]["lr"]] * run.steps_per_epoch)
        reference.step(val_loss)
    assert lrs == expected and min(lrs) < 0.5


def test_plateau_on_accuracy_defaults_to_max_mode():
    run = TrainingRun(small_config(scheduler={"name": "ReduceLROnPlateau", "monitor": "val_accuracy"}))
    assert run.schedule.main.mode == "max"


@pytest.mark.parametrize(("scheduler", "message"), [
    ({"name": "StepLR"}, "scheduler.step_size: required by StepLR"),
    ({"name": "StepLRR"}, "scheduler.name: unknown scheduler 'StepLRR'"),
    ({"name": "CosineAnnealingWarmRestarts", "T_0": -1}, "scheduler.T_0: CosineAnnealingWarmRestarts: Expected "
                                                          "positive integer T_0"),
    ({"name": "StepLR", "step_size": 2, "gama": 0.1}, "scheduler.gama: StepLR has no option 'gama'"),
    ({"name": "LambdaLR"}, "scheduler.lr_lambda: required by LambdaLR: a formula in epoch"),
    ({"name": "LambdaLR", "lr_lambda": "__import__('os')"}, "scheduler.lr_lambda: LambdaLR: invalid "
                                                             "lr_lambda=__import__('os'): function '__import__' is not allowed"),
    ({"name": "MultiplicativeLR", "lr_lambda": "0.9**step"}, "name 'step' is not allowed (use epoch"),
    ({"name": "LambdaLR", "lr_lambda": "log(epoch)"}, "scheduler.lr_lambda: LambdaLR: lr_lambda log(epoch) at "
                                                       "epoch 0: math domain error"),
    ({"name": "ChainedScheduler"}, "ChainedScheduler needs schedulers as Python objects"),
    ({"name": "ChainedScheduler", "schedulers": [["StepLR", {}]]}, "scheduler.schedulers[0].step_size: required by StepLR"),
    ({"name": "ChainedScheduler", "schedulers": [["ReduceLROnPlateau", {}]]},
     "scheduler.schedulers[0]: ReduceLROnPlateau cannot be nested in ChainedScheduler"),
    ({"name": "SequentialLR", "schedulers": [["StepLR", {"step_size": 1}], "Nope"], "milestones": [1]},
     "scheduler.schedulers[1]: unknown scheduler 'Nope'"),
    ({"name": "SequentialLR", "schedulers": [["StepLR", {"step_size": 1}], ["StepLR", 3]], "milestones": [1]},
     "scheduler.schedulers[1]: expected a scheduler name or [name, {options}], got"),
    ({"name": "SequentialLR", "schedulers": [["ConstantLR", {}], ["ExponentialLR", {"gamma": 0.9}]],
      "milestones": [2], "interval": "step", "warmup_steps": 3},
     "scheduler.warmup_steps: a warm-up cannot go in front of SequentialLR stepped per step"),
    ({"name": "OneCycleLR", "max_lr": 0.1, "total_steps": 3}, "scheduler.total_steps: OneCycleLR would run out"),
])
def test_scheduler_mistakes_are_refused_before_training(scheduler, message):
    with pytest.raises(ConfigError) as caught:
        TrainingRun(small_config(scheduler=scheduler))
    assert message in str(caught.value)


def test_a_factor_that_fails_mid_run_ends_the_run_saying_where():
    config = small_config(optimizer={"name": "SGD", "lr": 0.1}, train={"epochs": 3},
                          scheduler={"name": "LambdaLR", "lr_lambda": "1/(epoch - 2)"})
    run = TrainingRun(config)
    ended = list(run.events())[-1]
    assert ended.status == "failed" and "lr_lambda 1 / (epoch - 2) at epoch 2: division by zero" in ended.message


def test_a_chained_schedule_from_a_file_follows_torchs():
    config = small_config(optimizer={"name": "SGD", "lr": 0.1}, train={"epochs": 3},
                          scheduler={"name": "ChainedScheduler", "interval": "step", "schedulers": [
                              ["ConstantLR", {"factor": 0.5, "total_iters": 5}],
                              ["MultiplicativeLR", {"lr_lambda": "0.95"}]]})
    run = TrainingRun(config)
    list(run.events())
    _, lrs = run.metrics.series("lr/default")
    point = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([point], lr=0.1)
    chained = lr_scheduler.ChainedScheduler([
        lr_scheduler.ConstantLR(optimizer, factor=0.5, total_iters=5),
        lr_scheduler.MultiplicativeLR(optimizer, lambda epoch: 0.95)])
    expected = []
    for _ in range(run.total_steps):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        chained.step()
    assert lrs == expected and len(set(lrs)) > 5


def test_python_api_accepts_lambda_schedulers():
    config = small_config(optimizer={"name": "SGD", "lr": 0.1})
    config.scheduler.name = "LambdaLR"
    config.scheduler.options = {"lr_lambda": lambda epoch: 0.5 ** epoch}
    run = TrainingRun(config)
    list(run.events())
    _, lrs = run.metrics.series("lr/default")
    assert lrs[0] == 0.1 and lrs[-1] == 0.05


def test_every_scheduler_class_is_found_by_name():
    classes = scheduler_classes()
    assert {"steplr", "onecyclelr", "reducelronplateau", "sequentiallr", "cosineannealingwarmrestarts"} <= set(classes)
    assert "lrscheduler" not in classes


def test_devices():
    assert resolve_device("cpu").device == torch.device("cpu")
    if not torch.cuda.is_available():
        assert "using the CPU" in resolve_device("auto").note
        with pytest.raises(ConfigError, match=r"train\.device: cuda:1 requested but CUDA is not available"):
            resolve_device("cuda:1")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_on_cuda_matches_cpu_closely():
    cuda_run = TrainingRun(small_config(train={"device": "cuda"}))
    cpu_run = TrainingRun(small_config())
    list(cuda_run.events())
    list(cpu_run.events())
    assert cuda_run.ended.status == "finished" and str(cuda_run.device).startswith("cuda")
    cuda_losses = cuda_run.metrics.series("train_loss")[1]
    cpu_losses = cpu_run.metrics.series("train_loss")[1]
    assert cuda_losses == pytest.approx(cpu_losses, rel=1e-3)
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
