"""GUI fixtures: a main window with its own settings file, closed after each test."""

import pytest
from PySide6.QtWidgets import QMessageBox

from gui.settings import AppSettings


@pytest.fixture
def settings(tmp_path):
    return AppSettings(tmp_path / "settings.json")


@pytest.fixture
def dialogs(monkeypatch):
    """Message boxes recorded instead of shown (a modal dialog would block a headless test)."""
    shown = []
    for name in ("warning", "information"):
        monkeypatch.setattr(QMessageBox, name, lambda parent, title, text, *a, **k: shown.append(text))
    return shown


@pytest.fixture
def window(qtbot, settings, dialogs):
    from gui.app import MainWindow

    main = MainWindow(settings=settings, autoplay=False)
    qtbot.addWidget(main)
    main.resize(1400, 900)
    main.show()
    yield main
    main.close()  # a run still in flight defers the close until its thread has finished
    qtbot.waitUntil(lambda: not main.isVisible(), timeout=60_000)
    assert not main.simulator.playback.playing
