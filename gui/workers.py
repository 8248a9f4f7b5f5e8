"""Qt workers that run headless generators in a thread and hand their plain-data events over.

``TrainingWorker`` builds a :class:`trainers.loop.TrainingRun` and iterates its events in its own
thread. It never touches a widget: everything it emits is plain data (events, numpy arrays,
strings) delivered to the GUI thread by queued signals. Step events are batched (at most one
signal per ``flush_seconds``), so a fast run does not flood the GUI's event queue.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QThread, Signal


class TrainingWorker(QThread):
    built = Signal(object, object)  # RunStarted, (2-D points, labels) of a 2-D classification or None
    steps = Signal(list)  # [StepLogged, ...] since the last batch
    epoch = Signal(object, object)  # EpochEnded, DecisionGrid or None
    paused = Signal(int)
    resumed = Signal(int)
    ended = Signal(object)  # RunEnded
    failed = Signal(str)  # the run could not be built (a configuration error) or crashed

    def __init__(self, config, checkpoint_path=None, flush_seconds: float = 0.05,
                 boundary_resolution: int = 100, parent=None):
        super().__init__(parent)
        self.config = config.copy()
        self.checkpoint_path = checkpoint_path
        self.flush_seconds = flush_seconds
        self.boundary_resolution = boundary_resolution
        self.training = None  # the TrainingRun, once built (read it only after `ended`)
        self._stop_requested = False
        self._pause_requested = False

    # -- control, from the GUI thread ------------------------------------------------------------
    def stop(self) -> None:
        self._stop_requested = True
        if self.training is not None:
            self.training.stop()

    def pause(self) -> None:
        self._pause_requested = True
        if self.training is not None:
            self.training.pause()

    def resume(self) -> None:
        self._pause_requested = False
        if self.training is not None:
            self.training.resume()

    def stop_and_wait(self, timeout_ms: int = 30_000) -> bool:
        """Stop the run and wait for the thread to finish (closing the window, deleting a run)."""
        self.stop()
        return self.wait(timeout_ms)

    # -- the thread --------------------------------------------------------------------------------
    def run(self) -> None:
        from trainers.errors import ConfigError
        from trainers.loop import EpochEnded, Paused, Resumed, RunEnded, RunStarted, StepLogged, TrainingRun
        from trainers.preview import decision_grid

        try:
            training = TrainingRun(self.config, checkpoint_path=self.checkpoint_path)
        except Exception as error:
            self.failed.emit(_failure_text(error, ConfigError))
            return
        self.training = training
        if self._pause_requested:
            training.pause()
        if self._stop_requested:
            training.stop()
        pending: list = []
        last_flush = time.perf_counter()
        try:
            for event in training.events():
                if isinstance(event, StepLogged):
                    pending.append(event)
                    now = time.perf_counter()
                    if now - last_flush >= self.flush_seconds:
                        self.steps.emit(pending)
                        pending, last_flush = [], now
                    continue
                if pending:
                    self.steps.emit(pending)
                    pending, last_flush = [], time.perf_counter()
                if isinstance(event, RunStarted):
                    self.built.emit(event, _points(training.dataset))
                elif isinstance(event, EpochEnded):
                    # The generator is suspended here, so the model is not changing under us.
                    self.epoch.emit(event, decision_grid(training.model, training.dataset,
                                                         self.boundary_resolution))
                elif isinstance(event, Paused):
                    self.paused.emit(event.step)
                elif isinstance(event, Resumed):
                    self.resumed.emit(event.step)
                elif isinstance(event, RunEnded):
                    self.ended.emit(event)
        except Exception as error:
            self.failed.emit(_failure_text(error, ConfigError))


def _points(dataset, limit: int = 2000):
    """Up to ``limit`` training points of a 2-D classification, to draw under its decision boundary."""
    if dataset.task != "classification" or dataset.input_shape != (2,):
        return None
    return dataset.x_train[:limit].copy(), dataset.y_train[:limit].copy()


class JobWorker(QThread):
    """Runs ``job(progress)`` in a thread: ``progress(done, total)`` reports and returns False once
    :meth:`cancel` was called (the job then stops early). ``done(result)`` or ``failed(message)``."""

    progressed = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, job, parent=None):
        super().__init__(parent)
        self.job = job
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def _progress(self, done: int, total: int) -> bool:
        self.progressed.emit(done, total)
        return not self._cancelled

    def run(self) -> None:
        from simulator.errors import SimulatorError

        try:
            result = self.job(self._progress)
        except Exception as error:
            self.failed.emit(_failure_text(error, SimulatorError))
            return
        self.done.emit(result)


def _failure_text(error: Exception, expected: type) -> str:
    """The message for the user: an expected error (a refused value) speaks for itself; anything else
    is named too, and reaches the GUI rather than a terminal nobody reads."""
    return str(error) if isinstance(error, expected) else f"{type(error).__name__}: {error}"
