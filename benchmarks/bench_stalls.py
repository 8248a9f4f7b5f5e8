"""The GUI thread's longest stall per user action, measured by an event-loop watchdog.

A 5 ms QTimer ticks on the GUI thread; each action is started from the event loop (as a click
would) and the loop then runs on for a while. The longest gap between two ticks, less the interval,
is the longest time the window could not repaint or react: the target is under 100 ms for every
action. The actions are those a walkthrough found frozen: the first open of the Training tab (after
the background import that the app starts once its window is up), a typed formula's compile,
steps -> 200,000, a basin-map CSV export, switching surface, and entering the path of a
60,000-sample CSV in the Training tab (and loading a configuration that reads it).

Run: .venv/bin/python benchmarks/bench_stalls.py   (about a minute; offscreen)
"""

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

TICK_MS = 5
TARGET_MS = 100


class Watchdog:
    """The longest gap between ticks of a timer on the GUI thread, since the last ``reset``."""

    def __init__(self):
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.reset()

    def reset(self) -> None:
        self.clock.restart()
        self.last = 0
        self.longest = 0

    def _tick(self) -> None:
        now = self.clock.elapsed()
        self.longest = max(self.longest, now - self.last - TICK_MS)
        self.last = now


def run_loop(seconds: float, until=None) -> None:
    loop = QEventLoop()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until is not None and until()):
        loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def measure(watchdog: Watchdog, label: str, action, settle_s: float = 1.0, until=None) -> int:
    """Start ``action`` from the event loop, run the loop until ``until()`` (and ``settle_s``
    more): the longest stall in ms."""
    run_loop(0.2)
    watchdog.reset()
    watchdog.timer.start()
    QTimer.singleShot(0, action)
    run_loop(60.0, until)
    run_loop(settle_s)
    watchdog.timer.stop()
    stall = int(watchdog.longest)
    verdict = "ok" if stall <= TARGET_MS else f"over {TARGET_MS} ms"
    print(f"  {label:<46} longest stall {stall:6d} ms   {verdict}", flush=True)
    return stall


def main() -> None:
    app = QApplication.instance() or QApplication([])
    app.setApplicationName("OptiScope")
    from gui.app import MainWindow
    from gui.settings import AppSettings
    from gui.startup import preload_in_background
    from trainers.config import RunConfig

    folder = Path(tempfile.mkdtemp(prefix="optiscope-stalls-"))
    window = MainWindow(settings=AppSettings(folder / "settings.json"), autoplay=False)
    window.resize(1600, 1000)
    window.show()
    run_loop(0.5)
    print("Longest stall of the GUI thread (event-loop watchdog, 5 ms ticks):")
    preload = preload_in_background()  # as run_app does once the window is up
    run_loop(30.0, lambda: not preload.is_alive())
    measure(Watchdog(), "first open of the Training tab (a click on it)",
            lambda: window.tabs.setCurrentWidget(window._training_holder),
            until=lambda: window.training is not None and window.training.is_built
            and window.training.panel.preview_worker is None)
    watchdog = Watchdog()
    window.tabs.setCurrentWidget(window.simulator)
    model = window.simulator.model
    measure(watchdog, "switching surface (himmelblau -> rastrigin)", lambda: model.set_surface("rastrigin"))
    # a new formula each run (compiled formulas are kept in memory only), typed and entered
    formula = f"(x - 1)**2 + {np.random.default_rng().integers(2, 9)}*sin(y)**2 + 0.3*x*y@-3,3,-3,3"
    panel = window.simulator.scenario_panel

    def enter_formula():
        panel.formula.setText(formula)
        panel.formula.returnPressed.emit()

    measure(watchdog, "a typed formula (compiled for the first time)", enter_formula,
            until=lambda: not model.busy)
    model.set_surface("himmelblau")
    measure(watchdog, "steps -> 200,000", lambda: model.set_steps(200_000), settle_s=0.5,
            until=lambda: not model.busy)
    measure(watchdog, "zoom in on the map (200,000-step trails)",
            lambda: window.simulator.map.set_view((-2.0, 2.0, -2.0, 2.0)), settle_s=0.5)
    model.set_steps(300)
    explore = window.show_explore()
    explore.resolution.setCurrentIndex(3)  # 512 x 512
    explore.compute_basin()
    run_loop(300.0, lambda: not explore.is_busy)
    target = folder / "basin.csv"
    explore._ask = lambda *args: str(target)
    measure(watchdog, "basin map CSV export (512 x 512)", explore.export_basin_dialog,
            until=lambda: not explore.is_busy)
    rows = np.random.default_rng(0).normal(size=(60_000, 4))
    csv = folder / "big.csv"
    with open(csv, "w") as out:
        out.write("a,b,c,y\n")
        np.savetxt(out, np.column_stack([rows[:, :3], rows[:, 3] > 0]), fmt="%.6f", delimiter=",")
    training = window.show_training()
    panel = training.panel
    panel.load(RunConfig.from_dict({"data": {"name": "moons"}}))
    run_loop(30.0, lambda: panel.preview_worker is None)
    panel.set_key("data.name", "csv")  # the dataset chosen first: its path is still missing
    run_loop(30.0, lambda: panel.preview_worker is None)

    def enter_path():
        panel.path.setText(str(csv))
        panel.path.editingFinished.emit()  # as Enter or leaving the field does

    measure(watchdog, "entering a 60,000-sample CSV path", enter_path,
            until=lambda: panel.preview_worker is None)
    panel.load(RunConfig.from_dict({"data": {"name": "moons"}}))
    run_loop(30.0, lambda: panel.preview_worker is None)
    measure(watchdog, "loading a config that reads that CSV",
            lambda: panel.load(RunConfig.from_dict({"data": {"name": "csv", "path": str(csv)}})),
            until=lambda: panel.preview_worker is None)
    window.close()
    run_loop(60.0, lambda: not window.isVisible())


if __name__ == "__main__":
    main()
