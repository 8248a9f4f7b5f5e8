"""The loss plot: f − f* on a log axis where the minimum is known, f itself where it is not."""

import numpy as np

from gui.scenario import Scenario, presets
from gui.simulator_tab.side_plots import GAP_FLOOR, LOSS_GAP_LABEL, LOSS_LABEL, LR_FLOOR


def loss_label(tab) -> str:
    return tab.side.loss.getPlotItem().getAxis("left").labelText


def log_axis(tab) -> bool:
    return tab.side.loss.getPlotItem().getAxis("left").logMode


def first_curve(tab):
    return tab.side._curves[0][0].getData()


def side_settled(qtbot, tab):
    """The side plots follow new results after the map, one run a turn of the event loop."""
    qtbot.waitUntil(lambda: not tab.side_pending, timeout=10_000)


def test_a_surface_without_a_known_minimum_plots_f_itself(qtbot, window):
    tab = window.simulator
    by_file = {path.name: path for _, path in presets()}
    tab.load_scenario(Scenario.load(by_file["03-saddle-escape.json"]))
    side_settled(qtbot, tab)
    assert not tab.side.shows_gap and loss_label(tab) == LOSS_LABEL and not log_axis(tab)
    trajectory = next(r.trajectory for r in tab.model.results if r.trajectory is not None and r.spec.visible)
    _, y = first_curve(tab)
    assert np.array_equal(y, trajectory.loss)  # f, falling without bound: not a flat line at the floor
    assert y[-1] < y[0] - 1.0
    tab.model.set_surface("himmelblau")
    qtbot.waitUntil(lambda: not tab.model.busy, timeout=60_000)
    side_settled(qtbot, tab)
    assert tab.side.shows_gap and loss_label(tab) == LOSS_GAP_LABEL and log_axis(tab)


def click_plot(qtbot, plot, step: float, value: float):
    """A left click on ``plot`` where it draws (step, value) (value in the axis' own units)."""
    from PySide6.QtCore import QPointF, Qt

    scene_point = plot.getPlotItem().vb.mapViewToScene(QPointF(step, value))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     plot.mapFromScene(scene_point))


def test_clicking_a_side_plot_seeks_to_that_step(qtbot, window):
    tab = window.simulator
    playback = tab.playback
    qtbot.waitUntil(lambda: tab.side.loss.height() > 100 and tab.side.lr.height() > 100)
    playback.play()
    (_, _), (low, high) = tab.side.loss.getPlotItem().vb.viewRange()
    click_plot(qtbot, tab.side.loss, 300, (low + high) / 2)
    assert not playback.playing  # as dragging the timeline does: the user chose a step
    assert abs(playback.frame - 300) <= 2  # a pixel is about a step here
    assert tab.bar.slider.value() == playback.frame and tab.side.cursors[0].value() == playback.frame
    (_, _), (low, high) = tab.side.lr.getPlotItem().vb.viewRange()
    click_plot(qtbot, tab.side.lr, 120, (low + high) / 2)
    assert abs(playback.frame - 120) <= 2
    from PySide6.QtCore import QPoint, Qt

    qtbot.mouseClick(tab.side.lr.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))  # the title
    assert abs(playback.frame - 120) <= 2  # only a click among the curves picks a step


def test_long_curves_are_drawn_with_a_thin_pen(qtbot, window):
    """A peak-downsampled 200,000-step curve of an oscillating run is a zigzag that Qt strokes in
    ~0.5 s at 1.5 px and in milliseconds at 1 px (benchmarks/bench_stalls.py: steps -> 200,000)."""
    from gui.simulator_tab.side_plots import THIN_CURVE_POINTS

    tab = window.simulator
    widths = lambda: {curve.opts["pen"].widthF() for pair in tab.side._curves for curve in pair}  # noqa: E731
    assert widths() == {1.5}
    tab.model.set_steps(THIN_CURVE_POINTS + 1)
    qtbot.waitUntil(lambda: not tab.model.busy, timeout=60_000)
    side_settled(qtbot, tab)
    assert widths() == {1.0}


def test_new_results_reach_the_side_plots_one_run_a_turn_and_end_as_drawn_at_once(qtbot, window):
    tab = window.simulator
    turns = []
    original = tab.side.draw_next
    tab.side.draw_next = lambda: turns.append(len(turns)) or original()
    tab.model.set_steps(450)  # every run changes
    qtbot.waitUntil(lambda: not tab.model.busy, timeout=60_000)
    assert tab.side_pending and turns == []  # the map first
    side_settled(qtbot, tab)
    runs = [r for r in tab.model.results if r.trajectory is not None and r.spec.visible]
    assert len(turns) == len(runs) == 4  # one turn each, never two runs' curves at once
    f_star = min(float(np.min(r.trajectory.loss)) for r in runs)
    f_star = min(f_star, *(m[2] for m in tab.model.surface.minima))
    for (loss_curve, lr_curve), run in zip(tab.side._curves, runs, strict=True):
        steps, loss = loss_curve.getOriginalDataset()  # as given: getData is the log-mapped one
        assert np.array_equal(steps, np.arange(451))
        assert np.array_equal(loss, np.maximum(run.trajectory.loss - f_star, GAP_FLOOR))
        assert np.array_equal(lr_curve.getOriginalDataset()[1], np.maximum(run.trajectory.lr, LR_FLOOR))
    assert tab.side.cursors[0].value() == tab.playback.frame  # the cursors follow once all are drawn
