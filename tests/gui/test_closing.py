"""Closing the window while a worker thread runs: the close waits for the thread (without blocking
the GUI thread), says so, and then closes for real. A QThread destroyed while running aborts the
process, so nothing may ever close over a running one."""

import threading
import time

import pytest

from trainers.config import RunConfig
from trainers.loop import TrainingRun

WAIT_MS = 60_000


def config(**sections) -> RunConfig:
    raw = {"data": {"name": "moons", "samples": 2000, "batch_size": 2000},
           "model": {"hidden": [32]},
           "optimizer": {"name": "Adam", "lr": 0.01},
           "train": {"epochs": 50, "device": "cpu", "seed": 1}}
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    return RunConfig.from_dict(raw)


# One step that never ends on its own: the repro of a close that blocked 30 s, then aborted.
NEVER_ENDING_LBFGS = {"name": "LBFGS", "lr": 1.0, "max_iter": 10_000_000, "tolerance_grad": 0,
                      "tolerance_change": 0}


@pytest.fixture
def inside_lbfgs_step(monkeypatch):
    """Set once the training thread is inside an LBFGS step."""
    inside = threading.Event()
    original = TrainingRun._lbfgs_step

    def marking_step(self, x, y):
        inside.set()
        return original(self, x, y)

    monkeypatch.setattr(TrainingRun, "_lbfgs_step", marking_step)
    return inside


def test_closing_inside_a_never_ending_lbfgs_step_waits_for_the_thread(qtbot, window, inside_lbfgs_step):
    tab = window.show_training()
    tab.panel.load(config(optimizer=NEVER_ENDING_LBFGS))
    record = tab.start()
    assert record is not None, tab.panel.error.text()
    qtbot.waitUntil(inside_lbfgs_step.is_set, timeout=WAIT_MS)
    assert window.close() is False  # deferred: the thread is still in the step
    assert window.isVisible() and window.statusBar().currentMessage() == "Stopping…"
    assert record.worker.isRunning()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert record.worker.isFinished() and not record.worker.isRunning()
    assert record.status == "stopped"
    assert record.message == "stopped at step 0 (step 1 was interrupted and undone)"
    assert window.settings.path.exists()  # the real close ran: settings saved


def test_closing_a_paused_run_wakes_it_to_stop(qtbot, window):
    tab = window.show_training()
    tab.panel.load(config(data={"samples": 4000, "batch_size": 4}))
    record = tab.start()
    qtbot.waitUntil(lambda: record.steps.size >= 3, timeout=WAIT_MS)
    tab.toggle_pause()
    qtbot.waitUntil(lambda: record.status == "paused", timeout=WAIT_MS)
    assert window.close() is False and window.statusBar().currentMessage() == "Stopping…"
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert record.worker.isFinished() and record.status == "stopped"


def test_closing_again_while_stopping_still_closes_once(qtbot, window, inside_lbfgs_step):
    tab = window.show_training()
    tab.panel.load(config(optimizer=NEVER_ENDING_LBFGS))
    record = tab.start()
    qtbot.waitUntil(inside_lbfgs_step.is_set, timeout=WAIT_MS)
    assert window.close() is False
    window.close()  # an impatient second click changes nothing
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert record.worker.isFinished() and window._closing_after == []


def test_closing_during_an_explore_job_waits_for_it(qtbot, window):
    explore = window.show_explore()
    started, cancelled = threading.Event(), []

    def job(progress):
        started.set()
        while progress(0, 1):  # a job that only ends when cancelled
            time.sleep(0.005)  # its work
        cancelled.append(True)
        return None

    assert explore._run(job, lambda _result: None, "endless job")
    qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
    worker = explore.worker
    assert window.close() is False and window.statusBar().currentMessage() == "Stopping…"
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert cancelled == [True] and worker.isFinished()


def test_a_thread_that_ends_while_the_close_is_deferred_still_lets_the_window_close(qtbot, window, monkeypatch):
    """The race: a worker was running when the close asked, and ended before the close connected
    to its ``finished``. The close must still happen (a close() from inside closeEvent is ignored)."""
    from PySide6.QtCore import QThread

    ended = QThread()
    ended.start()
    ended.quit()
    assert ended.wait(WAIT_MS)
    stop_workers = window._stop_workers
    calls = []

    def running_until_asked():
        calls.append(True)
        return [ended] if len(calls) == 1 else stop_workers()  # seen running, ended since

    monkeypatch.setattr(window, "_stop_workers", running_until_asked)
    assert window.close() is False
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert window._closing_after == [] and len(calls) == 2
