"""The Training tab's tables at a 1280x800 window: every header readable, every cell's full text
in its tooltip, and the run list's short columns wide enough for what they hold."""

import pytest
from PySide6.QtWidgets import QSplitter, QStyle

from gui.training_tab.records import RunRecord
from tests.gui.test_training_tab import tiny


def _needed(header, text: str) -> int:
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    return header.fontMetrics().horizontalAdvance(text) + 2 * margin


def _headers_fit(table) -> bool:
    header = table.horizontalHeader()
    return all(header.sectionSize(c) >= _needed(header, table.horizontalHeaderItem(c).text())
               for c in range(table.columnCount()))


@pytest.fixture
def laptop(window, qtbot):
    window.resize(1280, 800)
    tab = window.show_training()
    tab.panel.load(tiny(optimizer={"name": "Adam", "lr": 0.01, "param_groups": [
        {"match": "^head\\.(weight|bias)$", "name": "head", "lr": 0.1, "weight_decay": 0.01,
         "betas": [0.8, 0.9]}]}))
    qtbot.waitUntil(lambda: window.width() == 1280 and tab.panel.group_table.viewport().width() < 400)
    return tab


def test_every_rule_table_header_is_readable_at_1280(qtbot, laptop):
    table = laptop.panel.group_table
    qtbot.waitUntil(lambda: _headers_fit(table))
    assert table.horizontalHeader().length() <= table.viewport().width()  # and no sideways scrolling
    for column in range(table.columnCount()):
        assert table.horizontalHeaderItem(column).toolTip()  # what the short header stands for


def test_rule_cells_show_their_whole_text_as_a_tooltip(qtbot, laptop):
    table = laptop.panel.group_table
    assert table.item(0, 0).toolTip() == "^head\\.(weight|bias)$"
    assert table.item(0, 4).toolTip() == table.item(0, 4).text() == "betas=0.8,0.9"
    laptop.panel.add_group_rule()
    table.item(1, 0).setText("^layers\\.0\\.(weight|bias)$")  # typed in
    assert table.item(1, 0).toolTip() == "^layers\\.0\\.(weight|bias)$"


def _record(name, status, message="", loss=None, accuracy=None):
    record = RunRecord(name=name, config=tiny(), color="#ff9f1c", status=status, message=message)
    record.best_val_loss, record.best_val_accuracy = loss, accuracy
    return record


def test_the_run_lists_short_columns_are_never_cut(qtbot, laptop):
    runs = laptop.runs
    for record in (_record("run 1: Adam", "finished", "finished 3 epochs", 0.0123, 0.975),
                   _record("run 2: SGD", "diverged", "diverged at step 17: the loss is inf", 78886.123),
                   _record("run 3: a much longer name than usual", "stopped", "stopped at step 4", 0.5)):
        runs.add(record)
    header = runs.horizontalHeader()

    def fits():
        for row in range(runs.rowCount()):
            # the configuration column stretches and a long name gives way: their tooltips hold it all
            for column in (0, 2, 3) if row < 2 else (2, 3):
                item = runs.item(row, column)
                extra = 28 if column == 0 else 0  # the tick box before a name
                if header.sectionSize(column) < runs.fontMetrics().horizontalAdvance(item.text()) + extra:
                    return False
        return True

    qtbot.waitUntil(fits)
    assert header.length() <= runs.viewport().width() + 1
    for row, record in enumerate(runs.records):
        for column in range(runs.columnCount()):
            assert runs.item(row, column).toolTip(), (row, column)
        assert record.message in runs.item(row, 2).toolTip()
    assert runs.item(1, 3).text() == "loss 7.889e+04"  # short enough to fit, whole in the tooltip
    assert "78886.123" in runs.item(1, 3).toolTip()
    assert runs.item(2, 0).toolTip() == "run 3: a much longer name than usual"


def test_a_narrow_run_list_shows_the_selected_runs_configuration_below_it(qtbot, laptop):
    runs = laptop.runs
    first, second = _record("run 1: Adam", "finished"), _record("run 2: SGD", "stopped")
    second.config = tiny(optimizer={"name": "SGD", "lr": 0.1, "momentum": 0.9})
    runs.add(first)
    runs.add(second)  # and selected
    qtbot.waitUntil(lambda: runs.configuration_hidden)  # about 300 pixels wide at 1280
    assert laptop.run_details.isVisible() and laptop.run_details.text() == second.summary()
    runs.selectRow(0)
    assert laptop.run_details.text() == first.summary()
    laptop.window().resize(2400, 1000)
    splitter = laptop.findChildren(QSplitter)[0]
    splitter.setSizes([380, 1200, 700])
    qtbot.waitUntil(lambda: not runs.configuration_hidden)
    assert not laptop.run_details.isVisible()  # the column says it
    assert runs.item(0, 1).text() == first.summary()
