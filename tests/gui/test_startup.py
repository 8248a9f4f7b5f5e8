"""The first seconds: a cold kernel cache is compiled behind a splash that says so, a warm one
shows none, and `main.py prepare` leaves nothing for later starts to compile."""

import os
import subprocess
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSplashScreen

from gui import startup
from gui.scenario import default_scenario

ROOT = Path(__file__).resolve().parents[2]


def _visible_splashes() -> list[QSplashScreen]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QSplashScreen) and w.isVisible()]


def test_a_warm_cache_prepares_the_first_window_without_a_splash(qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(startup, "_wait_behind_splash", lambda *args: shown.append(args))
    startup.prepare_first_window(default_scenario(), "OptiScope")  # fills the cache if it was cold
    shown.clear()  # (and may have needed the splash to do it)
    seconds = startup.prepare_first_window(default_scenario(), "OptiScope")
    assert seconds < startup.SPLASH_AFTER_S and shown == []


def test_a_slow_compile_shows_a_splash_that_says_so_until_it_is_done(qtbot, monkeypatch):
    release = threading.Event()
    seen = {}

    def slow_compute(scenario):
        release.wait(60)  # compiling, as a cold cache would

    def look_then_release():
        splashes = _visible_splashes()
        seen["splashes"] = len(splashes)
        seen["message"] = splashes[0].message() if splashes else ""
        release.set()

    monkeypatch.setattr("gui.scenario.compute", slow_compute)
    monkeypatch.setattr(startup, "SPLASH_AFTER_S", 0.0)
    QTimer.singleShot(300, look_then_release)
    startup.prepare_first_window(default_scenario(), "OptiScope")
    assert release.is_set() and seen["splashes"] == 1
    assert "Preparing the simulator's kernels (first start only)" in seen["message"]
    assert _visible_splashes() == []


def test_prepare_leaves_nothing_to_compile(tmp_path):
    # A fresh cache, filled by `main.py prepare` (make's set-up step); then what the app and Explore
    # run first (every family) must load from it and compile nothing.
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "main.py", "prepare"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    assert "7 kernel families ready" in done.stdout and "L-BFGS:" in done.stdout
    first_use = (
        "import numpy as np\n"
        "from simulator import simulate, simulate_many, sweep\n"
        "from gui.scenario import compute, default_scenario\n"
        "from gui.simulator_tab.trail_geometry import compile_kernels\n"
        "from gui.simulator_tab.contours import compile_kernels as compile_contours\n"
        "compute(default_scenario()); compile_kernels(); compile_contours()\n"
        "starts = np.array([[0.5, 0.5], [-1.0, 2.0], [2.0, 1.0]])\n"
        "simulate('himmelblau', 'LBFGS', steps=4, hyperparams={'line_search_fn': 'strong_wolfe'})\n"
        "simulate('expr:x**2 + 3*y**2', 'SGD', steps=4)\n"
        "simulate_many('beale', 'RMSprop', starts, steps=4)\n"
        "sweep('rosenbrock', 'Adam', starts, steps=4, values=[0.01, 0.1])\n"
        "simulate_many('rosenbrock', 'LBFGS', starts, steps=4)\n"
        "simulate_many('expr:(x - 2)**2 + y**2', 'Adam', starts, steps=4)\n"
    )
    used = subprocess.run([sys.executable, "-c", first_use], cwd=ROOT, env=dict(env, NUMBA_DEBUG_CACHE="1"),
                          capture_output=True, text=True, timeout=900, check=False)
    assert used.returncode == 0, used.stderr
    compiled = [line for line in used.stdout.splitlines() if "data saved to" in line]
    assert "data loaded from" in used.stdout
    assert compiled == [], "compiled after prepare:\n" + "\n".join(compiled)


def test_the_tabs_modules_are_imported_in_the_background(tmp_path, monkeypatch):
    import gc
    import sys

    from gui.startup import TAB_MODULES, preload_in_background

    # the collector is paused while they import: torch's half a million new objects set off full
    # collections that held the GIL, and so froze the window, for up to 290 ms each
    (tmp_path / "optiscope_preload_probe.py").write_text("import gc\nLOADED = True\nCOLLECTING = gc.isenabled()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    thread = preload_in_background(("optiscope_preload_probe", "no_such_module_anywhere"))
    thread.join(30)
    assert not thread.is_alive() and thread.daemon
    probe = sys.modules["optiscope_preload_probe"]
    assert probe.LOADED  # and the missing one was no crash
    assert not probe.COLLECTING and gc.isenabled()
    assert gc.get_freeze_count() > frozen  # what the imports made is out of later collections' reach
    assert "torch" in TAB_MODULES and "gui.training_tab.tab" in TAB_MODULES


def test_quitting_stops_the_background_imports_and_waits_for_the_one_under_way(tmp_path, monkeypatch):
    # Python's exit clearing the modules of a torch that a daemon thread was still importing
    # crashed the app (SIGSEGV in type_dealloc) when it was closed within seconds of its start.
    import sys
    import threading

    from gui.startup import finish_preloads, preload_in_background

    (tmp_path / "optiscope_slow_probe.py").write_text(
        "import optiscope_probe_gate as gate\ngate.entered.set()\ngate.release.wait(30)\n")
    (tmp_path / "optiscope_next_probe.py").write_text("LOADED = True\n")
    gate = type(sys)("optiscope_probe_gate")
    gate.entered, gate.release = threading.Event(), threading.Event()
    monkeypatch.setitem(sys.modules, "optiscope_probe_gate", gate)
    monkeypatch.syspath_prepend(str(tmp_path))
    preload = preload_in_background(("optiscope_slow_probe", "optiscope_next_probe"))
    assert gate.entered.wait(30)
    quitting = threading.Thread(target=finish_preloads)
    quitting.start()
    quitting.join(0.05)
    assert quitting.is_alive()  # it waits: the import under way cannot finish before the release
    gate.release.set()
    quitting.join(30)
    assert not quitting.is_alive() and not preload.is_alive()
    assert "optiscope_next_probe" not in sys.modules  # the next module was never started
    monkeypatch.delitem(sys.modules, "optiscope_slow_probe", raising=False)
