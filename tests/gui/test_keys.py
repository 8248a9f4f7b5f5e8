"""The Simulator's keys act on the Simulator only while it is shown, never inside a text field, and a
run is removed from the keyboard only once the user says so."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


def frame(window) -> int:
    return window.simulator.playback.frame


@pytest.mark.parametrize("show", ["show_training", "show_explore"])
def test_space_and_arrows_leave_the_hidden_simulator_alone(qtbot, window, show):
    getattr(window, show)()
    playback = window.simulator.playback
    playback.pause()
    playback.first()
    runs = len(window.simulator.model.scenario.runs)
    for key in (Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_End, Qt.Key.Key_Delete):
        qtbot.keyClick(window, key)
    assert not playback.playing and frame(window) == 0
    assert len(window.simulator.model.scenario.runs) == runs
    window.tabs.setCurrentWidget(window.simulator)
    window.simulator.map.setFocus()
    qtbot.keyClick(window.simulator.map, Qt.Key.Key_Right)
    assert frame(window) == 1  # shown again, the keys work again
    playback.pause()


def test_space_in_the_speed_box_is_not_play(qtbot, window):
    playback, speed = window.simulator.playback, window.simulator.bar.speed
    playback.pause()
    speed.setFocus()
    qtbot.waitUntil(speed.hasFocus)
    before = speed.value()
    qtbot.keyClick(speed, Qt.Key.Key_Space)
    assert not playback.playing
    speed.interpretText()
    assert speed.value() == before and speed.text().strip() != ""


@pytest.mark.parametrize("answer, removed", [(QMessageBox.StandardButton.Cancel, False),
                                             (QMessageBox.StandardButton.Yes, True)])
def test_delete_asks_before_removing_a_run(qtbot, window, monkeypatch, answer, removed):
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text, *a, **k: asked.append(text) or answer)
    model = window.simulator.model
    model.select(1)
    name = model.scenario.runs[1].name
    runs = len(model.scenario.runs)
    window.simulator.map.setFocus()
    qtbot.keyClick(window.simulator.map, Qt.Key.Key_Delete)
    assert asked == [f"Remove the run “{name}”?"]
    assert len(model.scenario.runs) == runs - removed
    assert (name in [r.name for r in model.scenario.runs]) is not removed


def test_each_tab_shows_its_own_hint(window):
    from gui.app import EXPLORE_HINT, TRAINING_HINT, WELCOME

    window.show_training()
    assert window.statusBar().currentMessage() == TRAINING_HINT
    window.show_explore()
    assert window.statusBar().currentMessage() == EXPLORE_HINT
    window.tabs.setCurrentWidget(window.simulator)
    assert window.statusBar().currentMessage() == WELCOME
