"""GUI fixtures: a main window with its own settings file, closed after each test."""

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox


@pytest.fixture
def settings(tmp_path):
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    yield store
    store.sync()


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
    main.close()
    assert not main.simulator.playback.playing
