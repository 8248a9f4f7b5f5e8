"""The app's settings file: plain JSON read back as plain values, so it can neither run code nor
stop a start. Anything unreadable gives the default with one line on stderr; closing rewrites it."""

import base64
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from gui.scenario import default_scenario
from gui.settings import MAX_BYTES, AppSettings
from gui.startup import READY_FILE_VARIABLE
from tests.gui.app_process import ROOT, WINDOW_LIMIT_S, start_app

DEFAULT_RUNS = [run.name for run in default_scenario().runs]
def default_size(window) -> tuple[int, int]:
    """The size a window without saved geometry opens at on this (offscreen) screen, no smaller
    than the window's own minimum."""
    from PySide6.QtWidgets import QApplication

    from gui.app import DEFAULT_SIZE, TITLE_BAR_ALLOWANCE

    available = QApplication.primaryScreen().availableGeometry()
    least = window.minimumSizeHint()
    return (max(least.width(), min(DEFAULT_SIZE[0], available.width())),
            max(least.height(), min(DEFAULT_SIZE[1], available.height() - TITLE_BAR_ALLOWANCE)))


class Payload:
    """Pickles to a call of os.system: unpickling it creates ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def open_window(qtbot, path):
    from gui.app import MainWindow

    window = MainWindow(settings=AppSettings(path), autoplay=False)
    qtbot.addWidget(window)
    window.show()
    return window


def close(qtbot, window):
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)


def run_names(window):
    return [run.name for run in window.simulator.model.scenario.runs]


def view_of(window) -> dict:
    """What the Simulator remembers of how it was viewed, as the widgets show it."""
    tab = window.simulator
    return {"speed": tab.bar.speed.value(), "playback speed": tab.playback.speed,
            "loop": tab.bar.loop.isChecked(), "playback loop": tab.playback.loop,
            "loop action": window.loop_action.isChecked(),
            "arrow boxes": {kind: box.isChecked() for kind, box in tab.arrow_boxes.items()},
            "map arrows": dict(tab.map.arrows_shown),
            "splitter": tab.splitter.sizes(), "plots splitter": tab.side.splitter.sizes()}


def reference_window(qtbot, tmp_path):
    """A window of a first start (no settings file), shown at the same size as the one compared."""
    from gui.app import MainWindow

    reference = MainWindow(settings=AppSettings(tmp_path / "first-start.json"), autoplay=False)
    qtbot.addWidget(reference)
    reference.show()
    return reference


# -- (a) a planted pickle never runs -----------------------------------------------------------------

def test_a_pickled_object_in_any_settings_file_never_runs(tmp_path, qapp):
    marker = tmp_path / "pwned"
    folder = tmp_path / "config" / "OptiScope"
    folder.mkdir(parents=True)
    legacy = QSettings(str(folder / "OptiScope.conf"), QSettings.Format.IniFormat)
    for key in ("geometry", "scenario", "folder"):
        legacy.setValue(key, Payload(marker))
    legacy.sync()
    variant_text = next(line.split("=", 1)[1] for line in (folder / "OptiScope.conf").read_text().splitlines()
                        if line.startswith("geometry="))
    assert "PyObjectWrapper" in variant_text  # what PySide6 would unpickle on reading it
    pickled = base64.b64encode(pickle.dumps(Payload(marker))).decode()
    (folder / "settings.json").write_text(json.dumps({
        "geometry": pickled,  # base64 of a pickle: bytes for restoreGeometry, never unpickled
        "scenario": {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [f"touch {marker}"]}]},
        "folder": variant_text,
    }))
    started = start_app(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "config"))
    err = started.stderr
    assert not marker.exists(), "a pickled object from the settings ran"
    assert started.shown is not None and started.alive, f"no window (exit status {started.returncode}):\n{err}"
    shown = started.shown
    assert shown["runs"] == 4 and shown["playing"] is True  # the default scenario
    from gui.app import MainWindow

    reference = MainWindow(settings=AppSettings(tmp_path / "none.json"), autoplay=False)
    assert (shown["width"], shown["height"]) == default_size(reference)
    reference.deleteLater()
    notes = sorted(line for line in err.splitlines() if line.startswith("OptiScope: "))
    assert len(notes) == 2, err  # the folder is just text naming no folder: quietly the default
    assert notes[0].startswith("OptiScope: ignoring the saved scenario (unknown scenario key")
    assert notes[1] == "OptiScope: ignoring the saved window geometry (not a saved geometry)"
    assert "Traceback" not in err


OPEN_A_DIALOG_THEN_CLOSE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
import gui.app

def reject_the_dialog():
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QFileDialog) and widget.isVisible():
            widget.reject()

def use_the_window(window, **facts):
    def open_then_close():
        rejecter = QTimer(window)
        rejecter.timeout.connect(reject_the_dialog)
        rejecter.start(50)
        window.open_scenario()  # Qt's own file dialog: it reads QtProject.conf, if it may
        rejecter.stop()
        window.close()
    QTimer.singleShot(0, window, open_then_close)

gui.app.announce_when_shown = use_the_window
sys.exit(gui.app.run_app())
"""


def test_qt_dialogs_never_read_a_planted_qtproject_conf(tmp_path):
    marker = tmp_path / "pwned"
    config = tmp_path / "config"
    config.mkdir()
    planted = QSettings(str(config / "QtProject.conf"), QSettings.Format.IniFormat)
    for key in ("FileDialog/history", "FileDialog/lastVisited", "FileDialog/qtVersion",
                "FileDialog/shortcuts", "FileDialog/sidebarWidth", "FileDialog/viewMode", "Qt/customColors"):
        planted.setValue(key, Payload(marker))
    planted.sync()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(config), HOME=str(tmp_path))
    env.pop(READY_FILE_VARIABLE, None)
    done = subprocess.run([sys.executable, "-c", OPEN_A_DIALOG_THEN_CLOSE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=WINDOW_LIMIT_S)
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), "a pickled object in Qt's own settings ran"
    assert (config / "OptiScope" / "settings.json").exists()  # it did open and close for real


# -- (b) a damaged value never stops a start ---------------------------------------------------------

DEEP = "[" * 50_000 + "]" * 50_000
HUGE = "9" * 5000

DAMAGED = {
    # key: (the file's text, what the one line on stderr says)
    "geometry-not-base64": ('{"geometry": "hello"}', "the saved window geometry (not valid base64)"),
    "geometry-qsettings-rect": ('{"geometry": "@Rect(0 0 640 480)"}',
                                "the saved window geometry (not valid base64)"),
    "geometry-number": ('{"geometry": 12}', "the saved window geometry (a number, not base64 text)"),
    "geometry-list": ('{"geometry": [1, 2]}', "the saved window geometry (a list, not base64 text)"),
    "geometry-not-ascii": ('{"geometry": "\\u00e9\\u00e9\\u00e9\\u00e9"}',
                           "the saved window geometry (not valid base64)"),
    "geometry-junk-bytes": (json.dumps({"geometry": base64.b64encode(b"junk" * 10).decode()}),
                            "the saved window geometry (not a saved geometry)"),
    "scenario-text": ('{"scenario": "a, b"}', "the saved scenario (text, not a JSON object)"),
    "scenario-number": ('{"scenario": 7}', "the saved scenario (a number, not a JSON object)"),
    "scenario-bad-runs": ('{"scenario": {"runs": 5}}', "the saved scenario (runs must be a list)"),
    "scenario-unknown-surface": ('{"scenario": {"surface": "nowhere"}}', "the saved scenario ("),
    "scenario-nested": ('{"scenario": {"runs": [' + "[" * 500 + "]" * 500 + "]}}",
                        "the saved scenario ("),
    "scenario-huge-steps": ('{"scenario": {"steps": 1e999}}', "the saved scenario ("),
    "folder-number": ('{"folder": 5}', "the saved folder (a number, not a folder path)"),
    "speed-text": ('{"speed": "fast"}', "the saved playback speed (text, not a whole number from 1 to 1000)"),
    "speed-zero": ('{"speed": 0}', "the saved playback speed (0, not a whole number from 1 to 1000)"),
    "speed-huge": ('{"speed": 1e300}', "the saved playback speed (1e+300, not a whole number from 1 to 1000)"),
    "speed-fraction": ('{"speed": 2.5}', "the saved playback speed (2.5, not a whole number from 1 to 1000)"),
    "speed-boolean": ('{"speed": true}', "the saved playback speed (a boolean, not a whole number from 1 to"),
    "loop-text": ('{"loop": "yes"}', "the saved loop setting (text, not true or false)"),
    "loop-number": ('{"loop": 1}', "the saved loop setting (a number, not true or false)"),
    "arrows-list": ('{"arrows": ["gradient"]}', "the saved arrows (a list, not an object of true/false"),
    "arrows-text-value": ('{"arrows": {"gradient": "on"}}', "the saved arrows ('gradient' is not one of"),
    "arrows-unknown-kind": ('{"arrows": {"curl": true}}', "the saved arrows ('curl' is not one of"),
    "splitters-list": ('{"splitters": [1, 2, 3]}', "the saved splitter sizes (a list, not an object of lists"),
    "splitter-too-few": ('{"splitters": {"simulator": [100, 200]}}',
                         "the saved sizes of the simulator splitter (not 3 whole numbers of pixels"),
    "splitter-negative": ('{"splitters": {"simulator": [100, -5, 200]}}',
                          "the saved sizes of the simulator splitter (not 3 whole numbers of pixels"),
    "splitter-zeros": ('{"splitters": {"simulator plots": [0, 0, 0]}}',
                       "the saved sizes of the simulator plots splitter (not 3 whole numbers of pixels"),
    "splitter-text": ('{"splitters": {"simulator plots": "300,200,160"}}',
                      "the saved sizes of the simulator plots splitter (not 3 whole numbers of pixels"),
    "folder-nul": ('{"folder": "/tmp\\u0000x"}', "the saved folder (a path with a NUL character)"),
    "file-truncated": ('{"geometry": "AdnQywADAAAAAAAA', "the settings file {path} (not valid JSON: "),
    "file-empty": ("", "the settings file {path} (not valid JSON: "),
    "file-list": ("[1, 2]", "the settings file {path} (the top level is a list, not an object)"),
    "file-null": ("null", "the settings file {path} (the top level is null, not an object)"),
    "file-deep": ('{"scenario": ' + DEEP + "}", "the settings file {path} (nested too deeply)"),
    "file-huge-int": ('{"scenario": {"seed": ' + HUGE + "}}",
                      "the settings file {path} (not valid JSON: Exceeds the limit (4300 digits)"),
    "file-binary": (b"\xff\xfe\x00\x81garbage\x00", "the settings file {path} (not UTF-8 text)"),
    "file-too-big": ('{"folder": "' + "x" * MAX_BYTES + '"}',
                     f"the settings file {{path}} (larger than {MAX_BYTES // 1024} KiB)"),
}


@pytest.mark.parametrize("content, note", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_setting_is_ignored_with_one_line_and_rewritten_on_close(qtbot, tmp_path, capfd, content,
                                                                         note):
    path = tmp_path / "settings.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    window = open_window(qtbot, path)
    assert run_names(window) == DEFAULT_RUNS
    assert (window.width(), window.height()) == default_size(window)
    assert window.settings.folder("home") == "home"
    assert view_of(window) == view_of(reference_window(qtbot, tmp_path))  # the defaults, all of them
    lines = capfd.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("OptiScope: ignoring " + note.format(path=path)), lines
    status = window.statusBar().currentMessage()
    lost_the_scenario = note.startswith(("the saved scenario", "the settings file"))
    assert ("could not be restored" in status) == lost_the_scenario, status
    close(qtbot, window)
    saved = json.loads(path.read_text())
    assert [run["name"] for run in saved["scenario"]["runs"]] == DEFAULT_RUNS
    again = AppSettings(path)
    assert again.notes == [] and again.geometry() is not None


def test_a_settings_path_that_is_a_folder_is_ignored(qtbot, tmp_path, capfd):
    path = tmp_path / "settings.json"
    path.mkdir()
    window = open_window(qtbot, path)
    assert run_names(window) == DEFAULT_RUNS
    assert capfd.readouterr().err.splitlines() == [
        f"OptiScope: ignoring the settings file {path} (not a regular file)"]
    close(qtbot, window)  # cannot be written either: the window closes all the same
    assert not window.isVisible()
    assert "cannot save the settings" in capfd.readouterr().err


# -- what is kept ----------------------------------------------------------------------------------

def test_geometry_scenario_and_folder_come_back_exactly(qtbot, tmp_path):
    path = tmp_path / "settings.json"
    first = open_window(qtbot, path)
    first.resize(1200, 700)
    first.simulator.model.set_steps(123)
    first.settings.set_folder(str(tmp_path))
    close(qtbot, first)
    saved = json.loads(path.read_text())
    assert set(saved) == {"geometry", "scenario", "folder", "speed", "loop", "arrows", "splitters"}
    assert isinstance(saved["geometry"], str) and saved["folder"] == str(tmp_path)
    second = open_window(qtbot, path)
    # the offscreen screen is 800 pixels wide: restoring fits the width to it, not the height
    assert second.height() == 700 and second.width() <= default_size(second)[0]
    assert second.simulator.model.scenario.steps == 123 and run_names(second) == DEFAULT_RUNS
    assert second.settings.folder("home") == str(tmp_path) and second.settings.notes == []
    close(qtbot, second)


def test_a_folder_that_is_gone_quietly_gives_the_default(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"folder": str(tmp_path / "gone")}))
    settings = AppSettings(path)
    assert settings.folder("home") == "home" and settings.notes == []


def test_the_default_file_is_in_the_config_folder_and_never_the_qsettings_one(tmp_path, monkeypatch):
    from gui.settings import default_settings_path

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_settings_path() == tmp_path / "OptiScope" / "settings.json"


def test_speed_loop_arrows_and_splitter_sizes_come_back(qtbot, tmp_path):
    path = tmp_path / "settings.json"
    first = open_window(qtbot, path)
    first.resize(790, 700)  # within the offscreen screen's 800 pixels: restored as it is
    tab = first.simulator
    tab.bar.speed.setValue(250)
    tab.bar.loop.setChecked(True)
    tab.arrow_boxes["gradient"].setChecked(True)
    tab.arrow_boxes["update"].setChecked(False)
    qtbot.waitUntil(lambda: tab.splitter.sizes()[1] > 0 and tab.side.splitter.sizes()[2] > 0)
    left, middle, right = tab.splitter.sizes()
    # the plots collapsed (their handle dragged to the right edge): the offscreen screen's 800
    # pixels leave no other width to choose, every column being at its least
    tab.splitter.setSizes([left, middle + right, 0])
    loss, lr, table = tab.side.splitter.sizes()
    tab.side.splitter.setSizes([loss - 80, lr, table + 80])  # a taller table
    chosen = view_of(first)
    assert chosen["splitter"] != view_of(reference_window(qtbot, tmp_path))["splitter"]
    close(qtbot, first)
    saved = json.loads(path.read_text())
    assert saved["speed"] == 250 and saved["loop"] is True
    assert saved["arrows"] == {"gradient": True, "update": False, "momentum": False}
    assert saved["splitters"] == {"simulator": chosen["splitter"], "simulator plots": chosen["plots splitter"]}
    second = open_window(qtbot, path)
    assert second.size() == first.size()
    qtbot.waitUntil(lambda: view_of(second) == chosen)
    assert second.settings.notes == []
    close(qtbot, second)
