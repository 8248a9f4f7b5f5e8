"""The Training tab built in steps from the event loop (``build_now=False``), so opening it never
freezes the window: it returns at once with its frame, says it is preparing, and is whole after a
few turns of the loop; an action taken meanwhile finishes the build first."""

import pytest
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from gui.training_tab.tab import TrainingTab
from tests.gui.test_training_tab import WAIT_MS, tiny


@pytest.fixture
def host(qtbot):
    widget = QWidget()
    QVBoxLayout(widget)
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    widget.show()
    tabs = []

    def make(config=None) -> TrainingTab:
        tab = TrainingTab(config, parent=widget, build_now=False)
        widget.layout().addWidget(tab)
        tab.show()
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()  # waits for a configuration check's thread


def test_the_tab_returns_with_its_frame_and_builds_the_rest_from_the_event_loop(qtbot, host):
    tab = host(tiny())
    assert not tab.is_built and tab.progress.text().startswith("preparing the Training tab")
    assert not tab.panel.forms and not hasattr(tab.plots, "loss")  # nothing heavy built yet
    assert not tab.start_button.isEnabled() and tab.runs.rowCount() == 0
    steps = []
    tab.built.connect(lambda: steps.append("built"))
    tab.progress.valueChanged.connect(steps.append)  # it counts the steps done
    qtbot.waitUntil(lambda: tab.is_built, timeout=WAIT_MS)
    assert steps[-1] == "built" and steps[:-1] == sorted(steps[:-1]) and len(steps) > 10
    assert tab.progress.format() == "ready"
    assert tab.plots.loss.isVisibleTo(tab) and tab.plots.boundary.isVisibleTo(tab)
    assert tab.panel.current_config() == tiny()
    qtbot.waitUntil(lambda: tab.start_button.isEnabled(), timeout=WAIT_MS)  # the check ran
    assert tab.panel.optimizer_form.fields["lr"].edit.text() == "0.01"


def test_an_action_before_the_tab_is_whole_finishes_building_it_first(qtbot, host):
    tab = host(tiny())
    assert not tab.is_built
    record = tab.start()  # what Ctrl+Enter does as the tab opens
    assert tab.is_built and record is not None
    qtbot.waitUntil(lambda: not tab.is_running, timeout=WAIT_MS)
    assert record.status == "finished"


def test_a_tab_shut_down_while_being_built_stops_building(qtbot, host):
    tab = host(tiny())
    tab.shutdown()
    assert not tab._build_timer.isActive() and not tab._build_queue  # no step is left to run
    QApplication.processEvents()
    assert not tab.is_built and not tab.panel.forms and tab.panel.preview_worker is None


def test_built_at_once_by_default(qtbot, host, window):
    tab = window.show_training()
    assert tab.is_built and tab.progress.format() == "ready" and tab.plots.loss.isVisibleTo(tab)
