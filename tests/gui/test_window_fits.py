"""A first start opens within the screen, on a laptop's 1280x800 as on 1920x1080."""

import json

import pytest

from tests.gui.app_process import start_app


@pytest.mark.parametrize("width, height", [(1280, 800), (1920, 1080)])
def test_a_first_start_opens_within_the_screen(tmp_path, width, height):
    screens = tmp_path / "screens.json"
    screens.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": width,
                                                "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                                "dpr": 1}]}))
    started = start_app(tmp_path, platform=f"offscreen:configfile={screens}")
    assert started.shown is not None, started.stderr
    shown = started.shown
    assert shown["width"] <= width and shown["height"] <= height - 32, shown
    assert shown["width"] >= min(1560, width) - 1  # as large as the screen lets it be


MEASURE_THE_TABS = r"""
import json, sys
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QHeaderView, QLineEdit, QSizePolicy, QWidget
app = QApplication(sys.argv)
from gui.app import MainWindow
from gui.settings import AppSettings

def settle(window):
    for _ in range(20):  # layouts and deferred polishing run from posted events: drain them
        app.processEvents()

def overstated(widget) -> bool:
    # A spin box's line edit hints 20 px high inside a spin box laid out 17 px high by its own style:
    # the box draws the text, never the edit's frame. A header view's minimum hint is a square of
    # its default section size (68x68), while a header is one line high by design.
    if isinstance(widget, QLineEdit) and isinstance(widget.parent(), QAbstractSpinBox):
        return True
    return isinstance(widget, QHeaderView)

def least(widget) -> tuple[int, int]:
    # what a layout gives a widget at the least (Qt's qSmartMinSize): its minimum size where set,
    # else its minimum size hint, unless its size policy says to ignore the hint
    size, hint, policy = widget.minimumSize(), widget.minimumSizeHint(), widget.sizePolicy()
    return tuple(explicit if explicit > 0 else (0 if kind == QSizePolicy.Policy.Ignored else max(hinted, 0))
                 for explicit, hinted, kind in ((size.width(), hint.width(), policy.horizontalPolicy()),
                                                (size.height(), hint.height(), policy.verticalPolicy())))

window = MainWindow(settings=AppSettings(sys.argv[1]), autoplay=False)
window.show()
settle(window)
def overflowing(view) -> bool:
    # a plot whose graphics layout needs more room than its view has is cut at the view's edge
    least = view.centralWidget.effectiveSizeHint(Qt.SizeHint.MinimumSize)
    room = view.viewport().size()
    return least.width() > room.width() + 0.5 or least.height() > room.height() + 0.5

report = {"window": [window.width(), window.height()], "squeezed": {}, "overflowing": {}}
for index in range(window.tabs.count()):
    window.tabs.setCurrentIndex(index)
    settle(window)
    if window.training is not None and window.tabs.widget(index) is window.training.parent():
        window.training.finish_building()  # a click builds it in steps: measure it whole
        record = window.training.start()  # and with a run's curves, labels and boundary in it
        while record.status not in ("finished", "failed", "diverged"):
            app.processEvents()
        window.training.refresh_plots()
        settle(window)
        report["trained"] = record.status
    tab = window.tabs.widget(index)
    report["overflowing"][window.tabs.tabText(index)] = [
        f"{type(view).__name__} {view.width()}x{view.height()}" for view in tab.findChildren(pg.GraphicsView)
        if view.isVisible() and view.centralWidget is not None and overflowing(view)]
    report["squeezed"][window.tabs.tabText(index)] = [
        f"{type(w).__name__} {w.objectName() or ''} in {type(w.parent()).__name__}: {w.width()}x{w.height()}"
        f" < {'x'.join(map(str, least(w)))} {getattr(w, 'text', lambda: '')()!r}"
        for w in (tab, *tab.findChildren(QWidget))
        if w.isVisible() and not overstated(w) and (w.width() < least(w)[0] or w.height() < least(w)[1])]
    if index == 0:
        simulator = window.simulator
        tree, table = simulator.run_list.tree, simulator.side.table
        report["run rows shown"] = tree.viewport().height() // tree.sizeHintForRow(0)
        report["table"] = {"columns": sum(table.columnWidth(c) for c in range(table.columnCount())),
                           "room": table.viewport().width(), "rows": table.rowCount(),
                           "across": table.horizontalScrollBar().isVisible(),
                           "down": table.verticalScrollBar().isVisible(),
                           "rows in view": table.viewport().height() // table.rowHeight(0)}
window.tabs.setCurrentIndex(0)
window.close()
while window.isVisible():  # a close waits for the tabs' worker threads to stop
    app.processEvents()
print("REPORT " + json.dumps(report))
"""


def measure_tabs(tmp_path, width, height) -> dict:
    import os
    import subprocess
    import sys

    from tests.gui.app_process import ROOT, WINDOW_LIMIT_S

    screens = tmp_path / "screens.json"
    screens.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": width,
                                                "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                                "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screens}", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", MEASURE_THE_TABS, str(tmp_path / "settings.json")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=WINDOW_LIMIT_S)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("REPORT "))
    return json.loads(line[len("REPORT "):])


@pytest.fixture(scope="module", params=[(1280, 800), (1920, 1080)], ids=["1280x800", "1920x1080"])
def measured(request, tmp_path_factory):
    width, height = request.param
    return measure_tabs(tmp_path_factory.mktemp(f"screen{width}"), width, height)


@pytest.mark.parametrize("tab", ["Simulator", "Explore", "Training"])
def test_no_widget_is_squeezed_below_its_minimum(measured, tab):
    assert measured["squeezed"][tab] == [], measured["window"]


@pytest.mark.parametrize("tab", ["Simulator", "Explore", "Training"])
def test_no_plot_is_wider_or_taller_than_its_view(measured, tab):
    assert measured["trained"] == "finished"  # the Training tab was measured with a run's curves
    assert measured["overflowing"][tab] == [], measured["window"]


def test_the_simulator_shows_its_runs_and_whole_table(measured):
    assert measured["run rows shown"] >= 5, measured  # the default four without scrolling, and room
    table = measured["table"]
    assert table["columns"] <= table["room"] and not table["across"], table  # no column cut at the side
    assert table["rows in view"] >= table["rows"] or table["down"], table  # the rest a scroll away
