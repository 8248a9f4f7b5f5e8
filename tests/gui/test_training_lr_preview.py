"""The Training tab's lr preview: a log axis labelled plainly, a constant lr drawn where it can be
read, one legend entry per parameter group, and the colour and line style the live lr plot will
give each group once the run starts."""

import numpy as np
import pytest

from tests.gui.test_training_tab import WAIT_MS, run_to_end, tiny


@pytest.fixture
def tab(window):
    training = window.show_training()
    training.panel.load(tiny())
    return training


def _curves(panel):
    return panel.lr_preview.getPlotItem().listDataItems()


def _labelled_ticks(plot) -> list[float]:
    """The lr values the left axis labels now (its first tick level), as numbers."""
    axis = plot.getAxis("left")
    low, high = plot.getViewBox().viewRange()[1]
    levels = axis.tickValues(low, high, axis.height() or 130)
    return [10.0 ** v for v in levels[0][1]]


def test_the_lr_preview_is_a_log_axis_without_an_si_prefix(qtbot, tab):
    panel = tab.panel
    panel.set_key("scheduler.name", "StepLR")  # 0.01, 0.001, 0.0001: one stage per epoch
    assert panel.check_now()
    plot = panel.lr_preview.getPlotItem()
    axis = plot.getAxis("left")
    assert axis.logMode and plot.getViewBox().state["logMode"][1]
    assert axis.labelString().find("×") < 0 and "x0" not in axis.labelString()
    assert not axis.autoSIPrefix and not plot.getAxis("bottom").autoSIPrefix
    low, high = plot.getViewBox().viewRange()[1]
    assert low <= np.log10(1e-4) and high >= np.log10(1e-2)  # the last stage is seen, not "0"


def test_a_constant_lr_is_a_visible_line_with_round_ticks_around_it(qtbot, tab):
    panel = tab.panel
    assert panel.check_now()  # no scheduler: 0.01 throughout
    low, high = panel.lr_preview.getPlotItem().getViewBox().viewRange()[1]
    assert low < -2 < high and high - low >= 0.5  # the line inside a readable range, not on an edge
    assert low + 0.1 * (high - low) < -2 < high - 0.1 * (high - low)
    ticks = _labelled_ticks(panel.lr_preview.getPlotItem())
    assert len(ticks) >= 2 and all(1e-3 <= t <= 1e-1 for t in ticks)
    assert any(t == pytest.approx(0.01) for t in ticks)


def test_several_groups_are_named_in_a_legend_one_group_is_not(qtbot, tab):
    panel = tab.panel
    assert panel.check_now()
    legend = panel.lr_preview.getPlotItem().legend
    assert legend is None or not legend.isVisible() or not legend.items
    panel.add_group_rule()  # "^head\\." named group1
    panel.group_table.item(0, 2).setText("0.1")
    assert panel.check_now()
    legend = panel.lr_preview.getPlotItem().legend
    assert legend is not None and legend.isVisible()
    assert [label.text for _, label in legend.items] == list(panel.preview.learning_rates)
    assert sorted(panel.preview.learning_rates) == ["default", "group1"]


def test_the_preview_draws_each_group_as_the_live_lr_plot_will(qtbot, tab):
    panel = tab.panel
    panel.add_group_rule()
    panel.group_table.item(0, 2).setText("0.1")
    assert panel.check_now()
    preview = {curve.name(): curve.opts["pen"] for curve in _curves(panel)}
    record = run_to_end(qtbot, tab)
    assert record.status == "finished"
    for group in ("default", "group1"):
        live = tab.plots._curves[(id(record), f"lr/{group}")].opts["pen"]
        assert preview[group].color().name() == live.color().name() == record.color.lower()
        assert preview[group].style() == live.style()
    assert preview["default"].style() != preview["group1"].style()
    # the next preview is drawn in the colour of the run that Start adds next
    qtbot.waitUntil(lambda: panel.preview_worker is None, timeout=WAIT_MS)
    assert panel.check_now()
    again = {curve.name(): curve.opts["pen"] for curve in _curves(panel)}
    second = run_to_end(qtbot, tab)
    assert again["default"].color().name() == second.color.lower() != record.color.lower()
