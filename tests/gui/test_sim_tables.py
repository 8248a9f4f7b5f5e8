"""The Simulator's side table and run list: every value shown whole, the full text in a tooltip."""

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QToolTip


def laptop(qtbot, window):
    window.resize(1280, 768)
    qtbot.waitUntil(lambda: window.width() == 1280 and window.simulator.side.table.viewport().width() > 0)
    qtbot.waitUntil(lambda: not window.simulator.side_pending)  # the table follows results a turn later


def tooltip_at(qtbot, view, row: int, column: int) -> str:
    """The tooltip a hover over the cell shows (Qt's own ToolTip event, as the mouse sends it)."""
    rect = view.visualRect(view.model().index(row, column))
    QToolTip.hideText()
    event = QHelpEvent(QEvent.Type.ToolTip, rect.center(), view.viewport().mapToGlobal(rect.center()))
    view.viewportEvent(event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    return QToolTip.text()


def assert_no_column_cut(view, columns):
    """Every cell (but one spanning columns: an error's prose) and header is as wide as its text."""
    header = view.header() if hasattr(view, "header") else view.horizontalHeader()
    model = view.model()
    for column in columns:
        for row in range(model.rowCount()):
            if hasattr(view, "columnSpan") and view.columnSpan(row, column) > 1:
                continue
            index = model.index(row, column)
            # a table draws its grid line inside each cell, a pixel the size hint leaves out
            needed = view.sizeHintForIndex(index).width() + (1 if getattr(view, "showGrid", bool)() else 0)
            assert needed <= view.columnWidth(column), (row, column, index.data(), needed, view.columnWidth(column))
        assert header.sectionSizeHint(column) <= view.columnWidth(column), column
    assert not view.horizontalScrollBar().isVisible()


@pytest.fixture
def stopped_runs(window):
    """The default four, one of them diverging, and one that cannot run at all."""
    model = window.simulator.model
    model.update_run(0, hyperparams={"lr": 0.5})
    assert model.results[0].trajectory.status == "diverged"
    model.add_run()
    model.update_run(4, schedule=("OneCycleLR", {"max_lr": 0.05, "total_steps": 5}))
    assert model.results[4].trajectory is None and model.results[4].error
    return model


def test_the_side_table_shows_every_value_whole_on_a_laptop(qtbot, window, stopped_runs):
    laptop(qtbot, window)
    tab = window.simulator
    table = tab.side.table
    diverged_at = stopped_runs.results[0].trajectory.diverged_at
    for frame in (0, 37, 40, diverged_at, tab.playback.last):  # at 40 Adam steps -0.000808 along x
        tab.playback.seek(frame)
        assert_no_column_cut(table, range(table.columnCount()))
    tab.playback.seek(tab.playback.last)
    last_point = len(stopped_runs.results[0].trajectory.xy) - 1
    assert table.item(0, 1).text() == f"{last_point} ✕"
    assert tooltip_at(qtbot, table, 0, 1) == f"diverged at step {diverged_at}; step {last_point} is its last point"
    tab.playback.seek(37)
    loss = stopped_runs.results[1].trajectory.loss[37]
    assert tooltip_at(qtbot, table, 1, 2) == f"loss {float(loss)!r}"  # every digit
    assert float(table.item(1, 2).text()) == pytest.approx(loss, rel=1e-3)
    error = stopped_runs.results[4].error
    assert table.columnSpan(4, 2) == table.columnCount() - 2  # the error has the row's value columns
    assert tooltip_at(qtbot, table, 4, 2) == error
    stopped_runs.update_run(4, schedule=None)  # it runs again: the span goes
    qtbot.waitUntil(lambda: not window.simulator.side_pending)
    assert table.columnSpan(4, 2) == 1 and table.item(4, 2).text() != error


def test_the_run_list_shows_names_and_results_whole_on_a_laptop(qtbot, window, stopped_runs):
    laptop(qtbot, window)
    tree = window.simulator.run_list.tree
    stopped_runs.remove_run(4)  # an error is prose: it may be cut, its tooltip holds it whole
    assert_no_column_cut(tree, range(2))
    assert tree.topLevelItem(1).toolTip(0) == "SGD + momentum"


def test_a_long_name_leaves_the_result_room_and_keeps_its_tooltip(qtbot, window, stopped_runs):
    laptop(qtbot, window)
    model = stopped_runs
    long_name = "Adam with a name far too long for any column of a laptop's left panel"
    model.rename_run(3, long_name)
    tree = window.simulator.run_list.tree
    for row in range(4):  # the results stay whole; the error's prose (row 4) is cut, whole in its tooltip
        assert tree.sizeHintForIndex(tree.model().index(row, 1)).width() <= tree.columnWidth(1), row
    assert tree.topLevelItem(4).toolTip(1) == model.results[4].error
    assert tree.topLevelItem(3).toolTip(0) == long_name
    assert tooltip_at(qtbot, tree, 3, 0) == long_name


@pytest.mark.parametrize("value", [7.88860123e-05, -1.2345e-123, 5.7509, 1e300, -0.000808123, -9.9999e-100,
                                   123456.0, float("inf"), float("-inf"), float("nan"), -5e-324])
def test_a_short_number_is_never_longer_than_its_column_allows(value):
    from gui.simulator_tab.frame_table import WIDEST, short_number

    for column, digits in ((2, 4), (3, 3), (4, 3)):
        text = short_number(value, digits, max(len(t) for t in WIDEST[column]))
        assert len(text) <= max(len(t) for t in WIDEST[column]), (column, text)
        if value == value and abs(value) != float("inf"):
            assert float(text) == pytest.approx(value, rel=0.5, abs=1e-320)  # a digit at the least


def test_minus_zero_reads_as_zero():
    from gui.simulator_tab.frame_table import short_number

    assert short_number(-0.0, 3, 9) == "0"
