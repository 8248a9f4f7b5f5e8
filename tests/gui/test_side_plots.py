"""The loss plot: f − f* on a log axis where the minimum is known, f itself where it is not."""

import numpy as np

from gui.scenario import Scenario, presets
from gui.simulator_tab.side_plots import LOSS_GAP_LABEL, LOSS_LABEL


def loss_label(tab) -> str:
    return tab.side.loss.getPlotItem().getAxis("left").labelText


def log_axis(tab) -> bool:
    return tab.side.loss.getPlotItem().getAxis("left").logMode


def first_curve(tab):
    return tab.side._curves[0][0].getData()


def test_a_surface_without_a_known_minimum_plots_f_itself(window):
    tab = window.simulator
    by_file = {path.name: path for _, path in presets()}
    tab.load_scenario(Scenario.load(by_file["03-saddle-escape.json"]))
    assert not tab.side.shows_gap and loss_label(tab) == LOSS_LABEL and not log_axis(tab)
    trajectory = next(r.trajectory for r in tab.model.results if r.trajectory is not None and r.spec.visible)
    _, y = first_curve(tab)
    assert np.array_equal(y, trajectory.loss)  # f, falling without bound: not a flat line at the floor
    assert y[-1] < y[0] - 1.0
    tab.model.set_surface("himmelblau")
    assert tab.side.shows_gap and loss_label(tab) == LOSS_GAP_LABEL and log_axis(tab)
