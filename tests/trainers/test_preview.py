"""Editor descriptions read from torch, previews of a run before it trains, the reproducing command."""

import shlex

import numpy as np
import pytest
import torch

import cli
from cli.train import config_from_args
from tests.trainers.conftest import small_config
from tests.trainers.test_config import FULL
from trainers.command import command_line
from trainers.config import RunConfig
from trainers.errors import ConfigError
from trainers.factory import optimizer_classes
from trainers.introspect import INT_LIST, docstring_help, optimizer_options, scheduler_options
from trainers.loop import TrainingRun
from trainers.models import parameter_count
from trainers.preview import decision_grid, preview_run


def test_optimizer_options_come_from_torchs_signature_and_docstring():
    specs = {s.name: s for s in optimizer_options("adam")}
    assert list(specs)[:5] == ["lr", "betas", "eps", "weight_decay", "amsgrad"]
    assert (specs["betas"].kind, specs["betas"].default) == ("pair", (0.9, 0.999))
    assert specs["amsgrad"].kind == "bool" and specs["foreach"].choices == (None, True, False)
    assert specs["lr"].help == "learning rate" and specs["lr"].scale == "log"  # scale from the simulator
    assert specs["weight_decay"].kind == "float"  # torch's default is the int 0
    lbfgs = {s.name: s for s in optimizer_options("LBFGS")}
    assert lbfgs["line_search_fn"].choices == (None, "strong_wolfe") and lbfgs["max_iter"].kind == "int"


@pytest.mark.parametrize("name", [c.__name__ for c in optimizer_classes().values() if c.__name__ != "SparseAdam"])
def test_every_optimizer_gets_a_form_with_help(name):
    specs = optimizer_options(name)
    assert specs[0].name == "lr" and all(s.help for s in specs)


def test_scheduler_options_know_required_arguments_and_kinds():
    step = {s.name: s for s in scheduler_options("StepLR")}
    assert step["step_size"].required and step["step_size"].kind == "int" and step["gamma"].default == 0.1
    assert {s.name: s for s in scheduler_options("MultiStepLR")}["milestones"].kind == INT_LIST
    plateau = {s.name: s for s in scheduler_options("ReduceLROnPlateau")}
    assert plateau["mode"].choices == ("min", "max") and "last_epoch" not in plateau


def test_docstring_help_takes_first_sentences():
    doc = """Does things.

    Args:
        alpha (float, optional): the rate. Longer text here
            over two lines (default: 0.5)
        beta (int): a count (default: 3)

    Example:
        >>> nothing
    """
    assert docstring_help(doc) == {"alpha": "the rate", "beta": "a count"}


@pytest.mark.parametrize("scheduler", [
    {"name": "OneCycleLR", "max_lr": 0.05},
    {"name": "StepLR", "step_size": 1, "gamma": 0.5, "warmup_steps": 5},
    {"name": "CosineAnnealingLR", "T_max": 20, "interval": "step", "warmup_steps": 3},
])
def test_lr_preview_equals_what_training_logs(scheduler):
    config = small_config(scheduler=scheduler, optimizer={"param_groups": [{"match": "head", "lr": 0.1}]},
                          train={"epochs": 3})
    preview = preview_run(config)
    run = TrainingRun(config)
    list(run.events())
    assert preview.groups == ("head", "default") and preview.total_steps == run.total_steps == 24
    for group in preview.groups:
        assert preview.learning_rates[group].tolist() == run.metrics.series(f"lr/{group}")[1]
    assert [a.group for a in preview.assignment] == [a.group for a in run.plan.assignment]


def test_preview_refuses_what_training_would():
    with pytest.raises(ConfigError, match="matches no parameter"):
        preview_run(small_config(optimizer={"param_groups": [{"match": "^nothing"}]}))


def test_decision_grid_on_2d_classification_only():
    run = TrainingRun(small_config(train={"epochs": 4}))
    list(run.events())
    grid = decision_grid(run.model, run.dataset, resolution=40)
    assert grid.classes.shape == (40, 40) and set(np.unique(grid.classes)) == {0, 1}
    assert np.all((grid.confidence >= 0.5) & (grid.confidence <= 1.0))
    regression = TrainingRun(small_config(data={"name": "sine", "samples": 100}))
    assert decision_grid(regression.model, regression.dataset) is None


@pytest.mark.parametrize("raw", [FULL, {}, {"scheduler": {"name": "MultiStepLR", "milestones": [2, 4]},
                                            "data": {"name": "csv", "path": "/tmp/x y.csv", "target": "label"}}])
def test_command_line_reproduces_the_configuration(raw):
    config = RunConfig.from_dict(raw)
    words = shlex.split(command_line(config))
    assert words[:3] == ["python", "main.py", "train"]
    args = cli.build_parser().parse_args(words[2:])
    assert config_from_args(args) == config


def test_preview_leaves_torchs_global_generator_alone():
    # A preview is built in a worker thread while a run may be drawing its initial weights from
    # torch's global generator in another: seeding or drawing from it here would change that run.
    torch.manual_seed(12345)
    before = torch.random.get_rng_state()
    preview = preview_run(small_config(optimizer={"name": "Adagrad"}))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert preview.parameters == parameter_count(TrainingRun(small_config()).model) == 2 * 16 + 16 + 16 * 2 + 2
