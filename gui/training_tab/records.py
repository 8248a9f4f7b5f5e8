"""One training run as the Training tab keeps it: its configuration, status and growing curves.

Plain Python and numpy (no widgets): the worker's events are appended here in the GUI thread and
the plots read the arrays. Arrays grow by doubling, so appending is amortised O(1) and the plots
get views without copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The displayed loss is a bias-corrected exponential moving average over about 1/100 of the run
# (2 to 200 steps): smooth enough to read a trend, short enough not to lag behind it.
SMOOTHING_SHARE, SMOOTHING_MIN, SMOOTHING_MAX = 0.01, 2, 200
RUNNING, PAUSED, QUEUED = "running", "paused", "queued"


class Series:
    """A growable float array (``values`` is a view of the filled part)."""

    def __init__(self, capacity: int = 1024):
        self._data = np.empty(capacity)
        self.size = 0

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=float)
        needed = self.size + len(values)
        if needed > len(self._data):
            grown = np.empty(max(needed, 2 * len(self._data)))
            grown[:self.size] = self._data[:self.size]
            self._data = grown
        self._data[self.size:needed] = values
        self.size = needed

    @property
    def values(self) -> np.ndarray:
        return self._data[:self.size]


@dataclass
class RunRecord:
    name: str
    config: object  # trainers.config.RunConfig
    color: str
    status: str = QUEUED
    message: str = ""
    total_steps: int = 0
    steps: Series = field(default_factory=Series)
    train_loss: Series = field(default_factory=Series)
    smoothed_loss: Series = field(default_factory=Series)
    grad_norm: Series = field(default_factory=Series)
    lrs: dict[str, Series] = field(default_factory=dict)
    epoch_steps: Series = field(default_factory=lambda: Series(64))
    epoch_train_loss: Series = field(default_factory=lambda: Series(64))
    val_loss: Series = field(default_factory=lambda: Series(64))
    val_accuracy: Series = field(default_factory=lambda: Series(64))
    best_val_loss: float | None = None
    best_val_accuracy: float | None = None
    boundary: object = None  # the latest trainers.preview.DecisionGrid
    points: tuple | None = None  # (xy, labels) of the training data drawn under the boundary
    samples_per_s: float = 0.0
    worker: object = None  # gui.workers.TrainingWorker while it exists
    checkpoint_path: str | None = None
    _ema: float = 0.0
    _ema_weight: float = 0.0

    def add_steps(self, events) -> None:
        if not events:
            return
        self.steps.extend([e.step for e in events])
        losses = [e.train_loss for e in events]
        self.train_loss.extend(losses)
        window = min(max(SMOOTHING_SHARE * self.total_steps, SMOOTHING_MIN), SMOOTHING_MAX)
        keep = 1.0 - 1.0 / window
        smoothed = []
        for loss in losses:
            if np.isfinite(loss):
                self._ema = keep * self._ema + (1 - keep) * loss
                self._ema_weight = keep * self._ema_weight + (1 - keep)
            smoothed.append(self._ema / self._ema_weight if self._ema_weight else np.nan)
        self.smoothed_loss.extend(smoothed)
        self.grad_norm.extend([e.grad_norm for e in events])
        for group in events[0].lrs:
            self.lrs.setdefault(group, Series()).extend([e.lrs[group] for e in events])
        self.samples_per_s = events[-1].samples_per_s

    def add_epoch(self, event) -> None:
        self.epoch_steps.extend([event.step])
        self.epoch_train_loss.extend([event.train_loss])
        self.val_loss.extend([np.nan if event.val_loss is None else event.val_loss])
        self.val_accuracy.extend([np.nan if event.val_accuracy is None else event.val_accuracy])
        if event.val_loss is not None and (self.best_val_loss is None or event.val_loss < self.best_val_loss):
            self.best_val_loss = event.val_loss
        if event.val_accuracy is not None and \
                (self.best_val_accuracy is None or event.val_accuracy > self.best_val_accuracy):
            self.best_val_accuracy = event.val_accuracy

    @property
    def is_active(self) -> bool:
        return self.status in (RUNNING, PAUSED, QUEUED) and self.worker is not None

    @property
    def done_steps(self) -> int:
        return int(self.steps.values[-1]) if self.steps.size else 0

    def summary(self) -> str:
        """What tells this run from the others: data, model, the optimizer with every option given,
        schedule, groups, batch size, epochs and seed."""
        c = self.config
        schedule = f", {c.scheduler.name}" if c.scheduler.name else ""
        options = "".join(f" {key}={_short(value)}" for key, value in c.optimizer.options.items())
        groups = f", {len(c.optimizer.param_groups)} rules" if c.optimizer.param_groups else ""
        # a linear model has no hidden layers, whatever model.hidden holds
        widths = "×".join(map(str, c.model.hidden))
        model = c.model.name if c.model.name == "linear" else f"{c.model.name} {widths}"
        return (f"{c.data.name} · {model} · {c.optimizer.name}{options}{schedule}{groups} · "
                f"batch {c.data.batch_size} · {c.train.epochs} ep · seed {c.train.seed}")

    def best_metric(self) -> str:
        if self.best_val_accuracy is not None:
            return f"acc {self.best_val_accuracy:.1%}"
        if self.best_val_loss is not None:
            return f"loss {self.best_val_loss:.4g}"
        return "—"

    def best_metric_detail(self) -> str:
        """The best validation metrics to full precision (the column shows them rounded to fit)."""
        parts = []
        if self.best_val_accuracy is not None:
            accuracy = self.best_val_accuracy
            parts.append(f"best validation accuracy {accuracy:.10g} ({accuracy:.2%})")
        if self.best_val_loss is not None:
            parts.append(f"best validation loss {self.best_val_loss:.10g}")
        return "; ".join(parts) or "no validation yet"


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ",".join(_short(v) for v in value)
    return str(value)
