"""File > New scenario: back to the scenario of a first start, asking first when work would be lost."""

import pytest
from PySide6.QtWidgets import QMessageBox

from gui.scenario import default_scenario

DEFAULT = default_scenario()


def new_scenario_action(window):
    file_menu = window.menuBar().actions()[0].menu()
    return next(action for action in file_menu.actions() if action.text().replace("&", "") == "New scenario")


@pytest.fixture
def answers(monkeypatch):
    """QMessageBox.question recorded and answered with the next answer queued (none: a failure)."""
    queued, asked = [], []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return queued.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    return queued, asked


def runs_of(window):
    return [(run.name, run.optimizer, dict(run.hyperparams)) for run in window.simulator.model.scenario.runs]


DEFAULT_RUNS = [(run.name, run.optimizer, dict(run.hyperparams)) for run in DEFAULT.runs]


def test_new_scenario_asks_before_dropping_edited_runs(qtbot, window, answers):
    queued, asked = answers
    tab = window.simulator
    tab.model.add_run()
    tab.model.set_surface("himmelblau")
    tab.model.set_steps(77)
    edited = runs_of(window)
    queued.append(QMessageBox.StandardButton.Cancel)
    new_scenario_action(window).trigger()
    assert len(asked) == 1 and "5 runs" in asked[0]
    assert runs_of(window) == edited and tab.model.scenario.surface == "himmelblau"  # kept
    queued.append(QMessageBox.StandardButton.Yes)
    new_scenario_action(window).trigger()
    qtbot.waitUntil(lambda: runs_of(window) == DEFAULT_RUNS)
    scenario = tab.model.scenario
    assert (scenario.surface, scenario.steps, scenario.start) == (DEFAULT.surface, DEFAULT.steps, DEFAULT.start)
    qtbot.waitUntil(lambda: all(r.trajectory is not None for r in tab.model.results))
    assert tab.map.view() == pytest.approx(tab.model.surface.bounds)
    assert tab.playback.frame == 0 and tab.playback.last == DEFAULT.steps
    assert "Four classics" in window.statusBar().currentMessage()
    tab.playback.pause()


def test_new_scenario_from_the_default_one_asks_nothing(qtbot, window, answers):
    _, asked = answers
    tab = window.simulator
    tab.map.set_view((0.0, 1.0, 0.0, 1.0))  # a zoom is no work lost
    new_scenario_action(window).trigger()
    assert asked == []
    qtbot.waitUntil(lambda: tab.map.view() == pytest.approx(tab.model.surface.bounds))
    assert runs_of(window) == DEFAULT_RUNS
    tab.playback.pause()
