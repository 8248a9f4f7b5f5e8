"""The app's first seconds: what the first window computes is compiled behind a splash when Numba's
cache is cold, and a ready marker is written for whoever waits for the window.

``make`` compiles every kernel once after installing (``main.py prepare``), so a start from
``make run`` finds them cached and opens in about a second. A start that finds the cache cold (an
install without make, sources changed since) would otherwise show nothing for ten seconds or more:
here the compile runs in a thread (LLVM releases the GIL, so the splash keeps painting) and a
splash says what is happening and for how long so far. The window is built once it is done, so
nothing in it ever waits for a compile at start.
"""

import contextlib
import gc
import importlib
import json
import os
import threading
import time

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QSplashScreen

from simulator.atomic import write_atomically
from simulator.errors import SimulatorError
from trainers.collector import collector_paused

READY_FILE_VARIABLE = "OPTISCOPE_READY_FILE"  # a path: written (JSON) once the window is shown
SPLASH_AFTER_S = 0.4  # a warm cache loads the first window's kernels well within this
_SPLASH_SIZE = (560, 150)


def prepare_first_window(scenario, app_name: str) -> float:
    """Compute ``scenario`` once in a thread, which compiles (or loads) every kernel its window
    needs; when that takes longer than SPLASH_AFTER_S, show a splash until it is done. Returns the
    seconds it took. Errors are left for the window to report, as it would without this."""
    from gui.scenario import compute
    from gui.simulator_tab.contours import compile_kernels as compile_contour_kernels
    from gui.simulator_tab.trail_geometry import compile_kernels

    done = threading.Event()

    def compile_first_window():
        try:
            compile_kernels()
            compile_contour_kernels()
            compute(scenario)
        except Exception:
            pass
        finally:
            done.set()

    started = time.perf_counter()
    worker = threading.Thread(target=compile_first_window, name="optiscope-prepare-kernels", daemon=True)
    worker.start()
    if not done.wait(SPLASH_AFTER_S):
        _wait_behind_splash(done, started, app_name)
    worker.join()
    return time.perf_counter() - started


class _Splash(QSplashScreen):
    def mousePressEvent(self, event) -> None:  # a click would hide it; the wait is not over
        event.accept()


def _wait_behind_splash(done: threading.Event, started: float, app_name: str) -> None:
    splash = _Splash(_splash_picture(app_name))
    loop = QEventLoop()

    def tick():
        if done.is_set():
            loop.quit()
            return
        seconds = time.perf_counter() - started
        splash.showMessage(f"Preparing the simulator's kernels (first start only)… {seconds:.0f} s",
                           Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter, QColor("#d8d8d8"))

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(100)
    tick()  # the message first: showing a splash processes events
    splash.show()
    loop.exec()
    timer.stop()
    splash.close()


def _splash_picture(app_name: str) -> QPixmap:
    picture = QPixmap(*_SPLASH_SIZE)
    picture.fill(QColor("#1e1f22"))
    painter = QPainter(picture)
    painter.setPen(QColor("#e8e8e8"))
    font = QFont()
    font.setPointSize(20)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(picture.rect().adjusted(0, 24, 0, -70), Qt.AlignmentFlag.AlignHCenter, app_name)
    font.setPointSize(10)
    font.setBold(False)
    painter.setFont(font)
    painter.setPen(QColor("#a0a0a0"))
    painter.drawText(picture.rect().adjusted(16, 70, -16, -40), Qt.AlignmentFlag.AlignHCenter,
                     "See how optimizers really move")
    painter.end()
    return picture


def announce_when_shown(window, **facts) -> None:
    """If ``OPTISCOPE_READY_FILE`` names a file, write it once the event loop has run with the window
    shown: its title, visibility and size, and ``facts``. Written whole (the atomic writer), so a
    reader never sees half of it."""
    path = os.environ.get(READY_FILE_VARIABLE)
    if not path:
        return

    def write():
        record = {"title": window.windowTitle(), "visible": window.isVisible(),
                  "width": window.width(), "height": window.height(), **facts}
        with contextlib.suppress(SimulatorError):  # whoever asked sees no marker; the app goes on
            write_atomically(path, lambda out: json.dump(record, out), suffix=".json.tmp")

    QTimer.singleShot(0, window, write)


# What the Training and Explore tabs import when first shown: PyTorch alone takes ~2 s, which the
# GUI thread would otherwise spend frozen on the user's first click on the Training tab.
# torch._dynamo: torch imports it on the first optimizer built (about 800 modules, sympy among
# them), which the Training tab's first configuration check would otherwise do as it opens.
# pytorch_optimizer: the second group of the Training tab's optimizer box (1 s after torch).
TAB_MODULES = ("torch", "torch._dynamo", "trainers.factory", "trainers.introspect", "trainers.preview",
               "trainers.loop", "trainers.datasets", "trainers.checkpoint", "sklearn.datasets",
               "pytorch_optimizer", "gui.training_tab.tab", "gui.explore_tab.tab")


_PRELOADS: list[tuple[threading.Thread, threading.Event]] = []


def preload_in_background(modules=TAB_MODULES) -> threading.Thread:
    """Import ``modules`` in a daemon thread, once the first window is up. A tab opened meanwhile
    imports what it needs itself and waits only for the rest of the import it shares (Python's
    import lock); one that fails to import here fails there again, with its own message.
    ``finish_preloads`` stops it between two modules."""
    stop = threading.Event()

    def load() -> None:
        # Importing torch makes about half a million objects: with the collector running, five full
        # collections (93-289 ms each, the GIL held throughout) froze the new window. Modules,
        # classes and functions live as long as the process, so once imported they are frozen:
        # later collections (the Training tab's build, a CSV parse) no longer traverse them.
        # Frozen before the pause ends: the first collection after it would otherwise traverse
        # them all as one young generation (369 ms).
        with collector_paused():
            for name in modules:
                if stop.is_set():
                    return
                with contextlib.suppress(Exception):  # the tab that needs it reports the failure
                    importlib.import_module(name)
            gc.freeze()

    thread = threading.Thread(target=load, name="optiscope-preload", daemon=True)
    _PRELOADS.append((thread, stop))
    thread.start()
    return thread


def finish_preloads() -> None:
    """Stop the background imports and wait for the module each is importing (a second or two at
    most, after the window has gone). Python's exit would otherwise clear the modules of a torch
    half imported by a daemon thread: a segmentation fault on quitting soon after the start."""
    for _, stop in _PRELOADS:
        stop.set()
    while _PRELOADS:
        thread, _ = _PRELOADS.pop()
        thread.join()
