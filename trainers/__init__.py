"""OptiScope's training engine: real PyTorch training, headless (torch, numpy, scikit-learn; never Qt).

The names below load on first use, so ``trainers.errors`` or ``trainers.config`` alone stay cheap
(no torch import).
"""

import importlib

_EXPORTS = {
    "ConfigError": "trainers.errors",
    "RunConfig": "trainers.config",
    "DATASETS": "trainers.datasets",
    "load_dataset": "trainers.datasets",
    "TrainingRun": "trainers.loop",
    "MetricsLog": "trainers.metrics",
    "read_metrics_csv": "trainers.metrics",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'trainers' has no attribute {name!r}")
