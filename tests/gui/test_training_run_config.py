"""A past run's configuration goes back into the editor (run list: context menu, button, or a
double-click off the name), all or nothing as loading a file is."""

import pytest
from PySide6.QtCore import Qt

from gui.training_tab.records import RunRecord
from tests.gui.test_training_tab import WAIT_MS, run_to_end, tiny
from trainers.config import RunConfig


@pytest.fixture
def tab(window):
    training = window.show_training()
    training.panel.load(tiny())
    return training


def _load_action(tab):
    return next(a for a in tab.runs.actions() if a.text().startswith("Load its configuration"))


def _double_click(qtbot, table, row: int, column: int) -> None:
    # as a mouse does: a press first (Qt takes a double-click only on the item it was pressed on)
    centre = table.visualRect(table.model().index(row, column)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)


def test_a_finished_runs_configuration_goes_back_into_the_editor(qtbot, tab):
    first = run_to_end(qtbot, tab)
    tab.panel.set_key("optimizer.name", "SGD")
    tab.panel.optimizer_form.fields["lr"].edit.setText("0.1")
    tab.panel.optimizer_form.fields["lr"]._edited()
    second = run_to_end(qtbot, tab)
    assert second.config != first.config
    action = _load_action(tab)
    tab.runs.selectRow(0)
    assert action.isEnabled() and tab.load_run_button.isEnabled()
    action.trigger()
    assert tab.panel.current_config() == first.config
    assert tab.panel.optimizer_box.currentText() == "Adam"
    assert tab.panel.optimizer_form.fields["lr"].edit.text() == "0.01"
    qtbot.waitUntil(lambda: tab.panel.preview_worker is None, timeout=WAIT_MS)
    assert tab.start_button.isEnabled()
    tab.panel.set_key("train.epochs", 7)  # editing the copy leaves the run's own configuration alone
    assert first.config.train.epochs == 3
    tab.runs.selectRow(1)
    tab.load_run_button.click()
    assert tab.panel.current_config() == second.config


def test_double_clicking_off_the_name_loads_and_on_the_name_renames(qtbot, tab):
    first = run_to_end(qtbot, tab)
    tab.panel.set_key("train.epochs", 2)
    assert tab.panel.current_config() != first.config
    _double_click(qtbot, tab.runs, 0, 2)  # the status cell
    assert tab.panel.current_config() == first.config
    tab.panel.set_key("train.epochs", 2)
    _double_click(qtbot, tab.runs, 0, 0)  # the name: an editor opens, the configuration stays
    qtbot.waitUntil(lambda: tab.runs.state() == tab.runs.State.EditingState)
    assert tab.panel.config.train.epochs == 2


def test_a_run_still_training_offers_no_load(qtbot, tab):
    assert not _load_action(tab).isEnabled()  # nothing selected
    tab.panel.set_key("train.epochs", 200)
    record = tab.start()
    assert record is not None and record.is_active
    assert not _load_action(tab).isEnabled() and not tab.load_run_button.isEnabled()
    tab.load_selected_config()  # as a stray shortcut would: nothing happens
    assert tab.panel.config.train.epochs == 200
    tab.stop()
    qtbot.waitUntil(lambda: not tab.is_running, timeout=WAIT_MS)
    assert _load_action(tab).isEnabled()


def test_a_configuration_the_editor_cannot_show_changes_nothing(qtbot, tab, dialogs):
    shown = tab.panel.current_config()
    form = tab.panel.optimizer_form
    odd = RunRecord(name="from elsewhere", config=RunConfig.from_dict({"optimizer": {"name": "Adamm"}}),
                    color="#ff9f1c", status="finished")
    tab.runs.add(odd)
    _load_action(tab).trigger()
    assert tab.panel.current_config() == shown and tab.panel.optimizer_form is form
    assert dialogs and "unknown optimizer 'Adamm'" in dialogs[-1] and "unchanged" in dialogs[-1]
