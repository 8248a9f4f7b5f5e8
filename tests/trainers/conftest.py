"""Small, fast configurations shared by the training-engine tests."""

import pytest

from trainers.config import RunConfig


def small_config(**sections) -> RunConfig:
    """Moons with 240 samples, a 16-wide MLP, Adam, 2 epochs of 8 steps: about 0.1 s of training."""
    raw = {
        "data": {"name": "moons", "samples": 240, "batch_size": 24, "val_fraction": 0.2},
        "model": {"name": "mlp", "hidden": [16]},
        "optimizer": {"name": "Adam", "lr": 0.01},
        "train": {"epochs": 2, "device": "cpu", "seed": 3},
    }
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    return RunConfig.from_dict(raw)


@pytest.fixture
def make_config():
    return small_config
