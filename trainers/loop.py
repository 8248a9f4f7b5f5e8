"""The training loop as a stream of small plain-data events.

``TrainingRun(config)`` builds everything first (data, model, optimizer, scheduler), so a bad
configuration fails before the first step. ``run.events()`` then trains and yields a
:class:`RunStarted`, a :class:`StepLogged` per optimizer step, an :class:`EpochEnded` per epoch and
one final :class:`RunEnded`. Between steps it honours :meth:`TrainingRun.stop` and
:meth:`TrainingRun.pause` (both safe to call from another thread). LBFGS also sees a stop inside a
step, whose closure may be evaluated for minutes: that step is undone, so a stopped run is always
at a step boundary, like any other stop, and its checkpoint continues exactly. It never touches Qt.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from trainers.config import RunConfig
from trainers.datasets import Dataset, load_dataset
from trainers.errors import ConfigError
from trainers.factory import (
    ParamAssignment,
    ScheduleDriver,
    build_optimizer,
    resolve_device,
)
from trainers.metrics import MetricsLog
from trainers.models import build_model, loss_for, parameter_count

FINISHED, STOPPED, DIVERGED, FAILED = "finished", "stopped", "diverged", "failed"
_VALIDATION_CHUNK = 8192  # samples per forward pass when validating


# -- events (plain data; safe to hand to another thread) --------------------------------------

@dataclass(frozen=True, slots=True)
class RunStarted:
    device: str
    device_note: str
    epochs: int
    steps_per_epoch: int
    total_steps: int
    start_step: int  # 0, or the step a resumed run continues after
    train_samples: int
    val_samples: int
    task: str
    parameters: int
    groups: tuple[str, ...]
    assignment: tuple[ParamAssignment, ...]
    threads: int  # torch's CPU threads for this run (train.threads)


@dataclass(frozen=True, slots=True)
class StepLogged:
    epoch: int
    step: int
    train_loss: float
    grad_norm: float
    lrs: dict[str, float]  # the learning rate each group used for this step
    samples_per_s: float


@dataclass(frozen=True, slots=True)
class EpochEnded:
    epoch: int
    step: int
    train_loss: float  # mean over the epoch's samples
    val_loss: float | None
    val_accuracy: float | None  # classification only
    seconds: float
    samples_per_s: float


@dataclass(frozen=True, slots=True)
class Paused:
    step: int


@dataclass(frozen=True, slots=True)
class Resumed:
    step: int


@dataclass(frozen=True, slots=True)
class RunEnded:
    status: str  # finished, stopped, diverged or failed
    message: str  # for people: "finished 10 epochs", "diverged at step 57: train loss is nan"
    epoch: int
    step: int
    seconds: float
    best_val_loss: float | None
    best_val_accuracy: float | None


Event = RunStarted | StepLogged | EpochEnded | Paused | Resumed | RunEnded


class _StopInsideStep(Exception):  # noqa: N818 (control flow out of torch's step, not an error)
    """Raised from LBFGS's closure once a stop is asked for: the only way out of torch's step."""


@dataclass
class Position:
    """Where the run is: what a checkpoint needs to continue exactly."""
    epoch: int = 1  # the epoch in progress (1-based)
    batch: int = 0  # the next batch of that epoch
    step: int = 0  # optimizer steps done
    permutation: torch.Tensor | None = None  # this epoch's sample order
    epoch_loss_sum: float = 0.0
    epoch_samples: int = 0
    best_val_loss: float | None = None
    best_val_accuracy: float | None = None
    epoch_seconds: float = 0.0  # time spent in this epoch so far (a resumed epoch goes on counting)


class TrainingRun:
    """One training run: build it (validates everything), then iterate :meth:`events`."""

    def __init__(self, config: RunConfig, *, checkpoint_path=None):
        config.validate()
        self.config = config.copy()
        self.checkpoint_path = checkpoint_path
        choice = resolve_device(self.config.train.device)
        self.device, self.device_note = choice.device, choice.note
        data = self.config.data
        self.dataset: Dataset = load_dataset(
            data.name, path=data.path, samples=data.samples, noise=data.noise, target=data.target,
            task=data.task, val_fraction=data.val_fraction, seed=self.config.train.seed)
        if len(self.dataset.x_train) == 0:
            raise ConfigError("data.val_fraction: leaves no training samples")
        torch.manual_seed(self.config.train.seed)  # the model's initial weights
        self.model = build_model(self.config.model, self.dataset.input_shape, self.dataset.output_size)
        self.model.to(self.device)
        self.optimizer, self.plan = build_optimizer(self.model, self.config.optimizer, self.device)
        self.is_lbfgs = isinstance(self.optimizer, torch.optim.LBFGS)
        self.parameters = list(self.model.parameters())
        self.grad_clip = self.config.train.grad_clip
        self.loss_fn = loss_for(self.dataset.task)
        self.train_samples = len(self.dataset.x_train)
        self.steps_per_epoch = math.ceil(self.train_samples / data.batch_size)
        self.schedule = ScheduleDriver(self.optimizer, self.config.scheduler, self.steps_per_epoch,
                                       self.config.train.epochs, self.config.train.max_steps)
        self.total_steps = self.schedule.total_steps
        # Data moves to the device once; batches are index_select-ed there.
        self.x_train = torch.as_tensor(self.dataset.x_train, device=self.device)
        self.y_train = torch.as_tensor(self.dataset.y_train, device=self.device)
        self.x_val = torch.as_tensor(self.dataset.x_val, device=self.device)
        self.y_val = torch.as_tensor(self.dataset.y_val, device=self.device)
        self.shuffle_generator = torch.Generator().manual_seed(self.config.train.seed)
        self.position = Position()
        self.metrics = MetricsLog()
        self.group_names = tuple(self.plan.group_names)
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.ended: RunEnded | None = None

    # -- control (any thread) -------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused run wakes up to stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def is_paused(self) -> bool:
        return not self._running.is_set()

    # -- the loop -------------------------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        started = time.perf_counter()
        position = self.position
        # In the thread that trains: torch's sums (and so the run's numbers) depend on the count,
        # and a thread's own OpenMP count is set where it computes.
        torch.set_num_threads(self.config.train.threads)
        yield RunStarted(
            device=str(self.device), device_note=self.device_note, epochs=self.config.train.epochs,
            steps_per_epoch=self.steps_per_epoch, total_steps=self.total_steps, start_step=position.step,
            train_samples=self.train_samples, val_samples=len(self.dataset.x_val), task=self.dataset.task,
            parameters=parameter_count(self.model), groups=self.group_names,
            assignment=tuple(self.plan.assignment), threads=self.config.train.threads)
        try:
            ended = yield from self._train(started)
            self._save_checkpoint_if_asked()
        except (RuntimeError, ValueError) as error:  # out of memory, a full disk: keep what was logged
            ended = self._end(FAILED, f"failed at step {position.step}: {error}", started)
        except Exception as error:  # a third-party optimizer's own error type (NoClosureError, ...)
            ended = self._end(FAILED, f"failed at step {position.step}: {type(error).__name__}: {error}",
                              started)
        yield ended

    def _train(self, started: float):
        position, config = self.position, self.config
        batch_size, max_steps = config.data.batch_size, config.train.max_steps
        # Looked up once, not per step: small models take well under a millisecond per step.
        # (After a checkpoint load the optimizer holds new group dicts, hence here, not in __init__.)
        named_groups = list(zip(self.group_names, self.optimizer.param_groups, strict=True))
        lr_metrics = [f"lr/{name}" for name in self.group_names]
        log = self.metrics.rows.append
        steps_schedule = self.schedule.steps_per_step
        while position.epoch <= config.train.epochs and not self._reached_max_steps():
            if position.permutation is None:  # a new epoch (a resumed one keeps its sample order)
                position.permutation = self._new_permutation()
                position.epoch_loss_sum, position.epoch_samples = 0.0, 0
                position.epoch_seconds = 0.0
            epoch_started = time.perf_counter() - position.epoch_seconds
            order = position.permutation.to(self.device)
            while position.batch < self.steps_per_epoch:
                if not self._running.is_set():
                    yield Paused(position.step)
                    paused_at = time.perf_counter()
                    self._running.wait()
                    epoch_started += time.perf_counter() - paused_at
                    yield Resumed(position.step)
                if self._stop.is_set():
                    position.epoch_seconds = time.perf_counter() - epoch_started
                    return self._end(STOPPED, f"stopped at step {position.step}", started)
                indices = order[position.batch * batch_size:(position.batch + 1) * batch_size]
                step_started = time.perf_counter()
                # NaN for an optimizer without one (pytorch_optimizer's A2Grad computes its own steps)
                lrs = {name: group.get("lr", math.nan) for name, group in named_groups}
                try:
                    loss, grad_norm = self._step(self.x_train[indices], self.y_train[indices])
                except _StopInsideStep:  # the step was undone: the run is where it was before it
                    position.epoch_seconds = time.perf_counter() - epoch_started
                    return self._end(STOPPED, f"stopped at step {position.step} (step {position.step + 1} "
                                     "was interrupted and undone)", started)
                count = len(indices)
                position.batch += 1
                position.step += 1
                step, epoch = position.step, position.epoch
                log((epoch, step, "train_loss", loss))
                log((epoch, step, "grad_norm", grad_norm))
                for metric, lr in zip(lr_metrics, lrs.values(), strict=True):
                    log((epoch, step, metric, float(lr)))
                rate = count / max(time.perf_counter() - step_started, 1e-9)
                yield StepLogged(position.epoch, step, loss, grad_norm, lrs, rate)
                if not math.isfinite(loss):
                    return self._end(DIVERGED, f"diverged at step {step}: train loss is {loss}", started)
                position.epoch_loss_sum += loss * count
                position.epoch_samples += count
                if steps_schedule:
                    self.schedule.after_step(step, loss)
                if max_steps is not None and step >= max_steps:
                    break  # the partial epoch still gets its validation
            yield self._end_epoch(time.perf_counter() - epoch_started)
        if self._reached_max_steps():
            return self._end(FINISHED, f"finished: reached max_steps = {config.train.max_steps}", started)
        epochs = config.train.epochs
        return self._end(FINISHED, f"finished {epochs} epoch{'s' if epochs != 1 else ''}", started)

    def _reached_max_steps(self) -> bool:
        max_steps = self.config.train.max_steps
        return max_steps is not None and self.position.step >= max_steps

    def _new_permutation(self) -> torch.Tensor:
        if self.config.data.shuffle:
            return torch.randperm(self.train_samples, generator=self.shuffle_generator)
        return torch.arange(self.train_samples)

    def _step(self, x, y) -> tuple[float, float]:
        """One optimizer step on a batch; returns (loss before the step, gradient norm)."""
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn
        if self.is_lbfgs:
            return self._lbfgs_step(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        loss_value, grad_norm = self._loss_and_grad_norm(loss)
        if math.isfinite(loss_value):  # a diverged step would only spoil the weights kept so far
            optimizer.step()
        return loss_value, grad_norm

    def _lbfgs_step(self, x, y) -> tuple[float, float]:
        first = []
        before = self._state_before_step()

        def closure():  # LBFGS re-evaluates the batch several times per step
            if self._stop.is_set():
                raise _StopInsideStep
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(x), y)
            loss.backward()
            if not first:  # report the evaluation at the step's starting point, like other optimizers
                first.append(self._loss_and_grad_norm(loss))
            elif self.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(self.parameters, self.grad_clip)
            return loss

        try:
            self.optimizer.step(closure)
        except _StopInsideStep:
            self._restore_state(before)
            raise
        return first[0]

    def _state_before_step(self) -> tuple:
        """What an LBFGS step changes, copied so that an interrupted step can be undone: the
        weights and buffers, the optimizer's state and the RNG states (a model may draw in forward).
        torch's LBFGS changes in place only its counters, ``prev_flat_grad`` and its history lists
        (append, pop); every other tensor it rebinds. So the top-level tensors are cloned and the
        lists copied, not the history tensors themselves: about three copies of the weights per step."""
        model = {name: value.detach().clone() for name, value in self.model.state_dict().items()}
        optimizer = {
            param: {key: value.clone() if isinstance(value, torch.Tensor) else
                    list(value) if isinstance(value, list) else value for key, value in state.items()}
            for param, state in self.optimizer.state.items()}
        rng = torch.get_rng_state()
        cuda_rng = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return model, optimizer, rng, cuda_rng

    def _restore_state(self, before: tuple) -> None:
        model, optimizer, rng, cuda_rng = before
        with torch.no_grad():
            self.model.load_state_dict(model)  # copies into the same tensors the optimizer holds
        self.optimizer.state.clear()
        self.optimizer.state.update(optimizer)
        torch.set_rng_state(rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state(cuda_rng, self.device)

    def _loss_and_grad_norm(self, loss: torch.Tensor) -> tuple[float, float]:
        """The loss and the total L2 norm of all gradients (before clipping, which is applied when
        configured), as Python floats."""
        grads = [p.grad for p in self.parameters if p.grad is not None]
        if self.grad_clip is not None:
            total = torch.nn.utils.clip_grad_norm_(self.parameters, self.grad_clip)
            return loss.item(), total.item()
        # Per-tensor norms in one fused kernel, summed here: half the cost of torch's total-norm
        # helper, which matters for small models where a step takes well under a millisecond.
        norms = torch._foreach_norm(grads)
        return loss.item(), math.sqrt(math.fsum(n.item() ** 2 for n in norms))

    def _end_epoch(self, seconds: float) -> EpochEnded:
        position = self.position
        val_loss, val_accuracy = self.evaluate()
        train_loss = position.epoch_loss_sum / max(position.epoch_samples, 1)
        epoch, step = position.epoch, position.step
        if val_loss is not None:
            self.metrics.add(epoch, step, "val_loss", val_loss)
            if position.best_val_loss is None or val_loss < position.best_val_loss:
                position.best_val_loss = val_loss
        if val_accuracy is not None:
            self.metrics.add(epoch, step, "val_accuracy", val_accuracy)
            if position.best_val_accuracy is None or val_accuracy > position.best_val_accuracy:
                position.best_val_accuracy = val_accuracy
        monitored = {"val_loss": val_loss, "val_accuracy": val_accuracy, "train_loss": train_loss}
        self.schedule.after_epoch(monitored)
        event = EpochEnded(epoch, step, train_loss, val_loss, val_accuracy, seconds,
                           position.epoch_samples / max(seconds, 1e-9))
        position.epoch += 1
        position.batch = 0
        position.permutation = None
        position.epoch_seconds = 0.0
        self._save_checkpoint_if_asked()
        return event

    @torch.no_grad()
    def evaluate(self) -> tuple[float | None, float | None]:
        """Validation loss (mean per sample) and accuracy (classification), or Nones without data."""
        total = len(self.x_val)
        if total == 0:
            return None, None
        was_training = self.model.training
        self.model.eval()
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        correct = torch.zeros((), device=self.device, dtype=torch.int64)
        classification = self.dataset.task == "classification"
        for begin in range(0, total, _VALIDATION_CHUNK):
            x = self.x_val[begin:begin + _VALIDATION_CHUNK]
            y = self.y_val[begin:begin + _VALIDATION_CHUNK]
            output = self.model(x)
            loss_sum += self.loss_fn(output, y).double() * len(x)
            if classification:
                correct += (output.argmax(dim=1) == y).sum()
        self.model.train(was_training)
        val_loss = loss_sum.item() / total
        return val_loss, (correct.item() / total if classification else None)

    def _end(self, status: str, message: str, started: float) -> RunEnded:
        position = self.position
        # Between epochs the position already points at the next one; report the one just done.
        epoch = position.epoch - 1 if position.permutation is None and position.epoch > 1 else position.epoch
        self.ended = RunEnded(status, message, epoch, position.step, time.perf_counter() - started,
                              position.best_val_loss, position.best_val_accuracy)
        return self.ended

    # -- checkpoints ----------------------------------------------------------------------------
    def save_checkpoint(self, path) -> None:
        from trainers.checkpoint import save_checkpoint

        save_checkpoint(self, path)

    def _save_checkpoint_if_asked(self) -> None:
        if self.checkpoint_path is not None:
            self.save_checkpoint(self.checkpoint_path)

    @classmethod
    def from_checkpoint(cls, path, *, overrides: dict | None = None, checkpoint_path=None) -> TrainingRun:
        from trainers.checkpoint import load_checkpoint

        return load_checkpoint(cls, path, overrides=overrides, checkpoint_path=checkpoint_path)
