"""What a configuration will do, before it trains: groups, run length, the lr curve; and the
decision boundary of a model over 2-D data. For the Training tab's previews; plain data out.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from trainers.config import RunConfig
from trainers.datasets import Dataset, load_dataset
from trainers.errors import ConfigError
from trainers.factory import ParamAssignment, ScheduleDriver, build_optimizer
from trainers.models import build_model, parameter_count


@dataclass(frozen=True)
class RunPreview:
    dataset: Dataset
    assignment: tuple[ParamAssignment, ...]
    groups: tuple[str, ...]
    parameters: int
    steps_per_epoch: int
    total_steps: int
    learning_rates: dict[str, np.ndarray]  # per group: the lr of each step, from the real scheduler
    lr_depends_on_metrics: bool  # ReduceLROnPlateau: the curve shown assumes no improvement stalls


def load_config_dataset(config: RunConfig) -> Dataset:
    data = config.data
    return load_dataset(data.name, path=data.path, samples=data.samples, noise=data.noise, target=data.target,
                        task=data.task, val_fraction=data.val_fraction, seed=config.train.seed)


def preview_run(config: RunConfig, dataset: Dataset | None = None) -> RunPreview:
    """Everything the run will be built from, checked as training would check it (ConfigError),
    and the lr of every step from torch's own scheduler stepped on a model that does not train.

    Safe to call from a worker thread while another thread trains: the model is built on torch's
    "meta" device (shapes, no values), so it neither seeds nor draws from torch's global random
    generator, which a run being built at the same moment draws its initial weights from."""
    config.validate()
    dataset = dataset if dataset is not None else load_config_dataset(config)
    if len(dataset.x_train) == 0:
        raise ConfigError("data.val_fraction: leaves no training samples")
    with torch.device("meta"):
        model = build_model(config.model, dataset.input_shape, dataset.output_size)
    optimizer, plan = build_optimizer(model, config.optimizer, torch.device("cpu"))
    steps_per_epoch = math.ceil(len(dataset.x_train) / config.data.batch_size)
    driver = ScheduleDriver(optimizer, config.scheduler, steps_per_epoch, config.train.epochs,
                            config.train.max_steps)
    total = driver.total_steps
    lrs = np.empty((len(plan.groups), total))
    # Stalled metrics for a plateau scheduler: the curve shows its reductions at their earliest.
    stalled = {"val_loss": 1.0, "val_accuracy": 0.0, "train_loss": 1.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": nothing trains here
        for step in range(1, total + 1):
            lrs[:, step - 1] = [group.get("lr", math.nan) for group in optimizer.param_groups]
            driver.after_step(step, stalled["train_loss"])
            if step % steps_per_epoch == 0:
                driver.after_epoch(stalled)
    return RunPreview(
        dataset=dataset, assignment=tuple(plan.assignment), groups=tuple(plan.group_names),
        parameters=parameter_count(model), steps_per_epoch=steps_per_epoch, total_steps=total,
        learning_rates={name: lrs[index] for index, name in enumerate(plan.group_names)},
        lr_depends_on_metrics=driver.is_plateau)


@dataclass(frozen=True)
class DecisionGrid:
    """Predicted class (and its probability) over a grid covering 2-D data, in the data's units."""
    xs: np.ndarray  # (W,)
    ys: np.ndarray  # (H,)
    classes: np.ndarray  # (H, W) int
    confidence: np.ndarray  # (H, W) in [1/K, 1]


def decision_grid(model: torch.nn.Module, dataset: Dataset, resolution: int = 120) -> DecisionGrid | None:
    """The model's decision over the (standardised) 2-D feature plane, or None for other data."""
    if dataset.task != "classification" or dataset.input_shape != (2,):
        return None
    points = np.concatenate([dataset.x_train, dataset.x_val]) if len(dataset.x_val) else dataset.x_train
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * (high - low)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution, dtype=np.float32)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution, dtype=np.float32)
    grid_x, grid_y = np.meshgrid(xs, ys)
    inputs = torch.from_numpy(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        probabilities = torch.softmax(model(inputs.to(device)), dim=1).cpu().numpy()
    model.train(was_training)
    shape = (resolution, resolution)
    return DecisionGrid(xs, ys, probabilities.argmax(axis=1).reshape(shape),
                        probabilities.max(axis=1).reshape(shape))
