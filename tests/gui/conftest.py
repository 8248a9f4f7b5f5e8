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
    stopped = []

    def close_for_real(widget):
        # pytest-qt closes and deletes the widgets it was given before fixtures tear down: a close
        # deferred for a thread still running (a preview being built) must end before the window is
        # deleted, or Qt aborts ("QThread: Destroyed while thread is still running").
        widget.close()
        qtbot.waitUntil(lambda: not widget.isVisible(), timeout=60_000)
        stopped.append(not widget.simulator.playback.playing)

    qtbot.addWidget(main, before_close_func=close_for_real)
    main.resize(1400, 900)
    main.show()
    # the side plots draw the first results one run a turn after the map: a test starts once they have
    qtbot.waitUntil(lambda: not main.simulator.side_pending)
    yield main
    assert stopped == [True]
