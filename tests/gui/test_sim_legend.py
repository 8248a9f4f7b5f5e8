"""The map's legend never covers a start marker: it takes a corner free of them."""

import pytest
from PySide6.QtCore import QPointF, QRectF

from gui.scenario import Scenario, presets

MARKER_HALF = 10  # pixels: half the shared start's 18 px crosshair, and a pixel of air


def covered_starts(tab) -> list[tuple[float, float]]:
    """The start markers (in data coordinates) that the legend's rectangle overlaps on screen."""
    legend = tab.map.legend.sceneBoundingRect()
    markers = [tab.map.shared_start, *(items.own_start for items in tab.map.run_items()
                                       if items.own_start is not None and items.own_start.isVisible())]
    covered = []
    for marker in markers:
        centre = tab.map.plot.vb.mapViewToScene(marker.pos())
        box = QRectF(centre - QPointF(MARKER_HALF, MARKER_HALF), centre + QPointF(MARKER_HALF, MARKER_HALF))
        if legend.intersects(box):
            covered.append((marker.pos().x(), marker.pos().y()))
    return covered


def shown(qtbot, window):
    window.resize(1280, 768)
    tab = window.simulator
    qtbot.waitUntil(lambda: tab.map.legend.isVisible() and tab.map.legend.sceneBoundingRect().width() > 20)
    return tab


def legend_corner(tab) -> tuple[bool, bool]:
    """(right, top): which corner of the plot area the legend is in."""
    legend, area = tab.map.legend.sceneBoundingRect(), tab.map.plot.vb.sceneBoundingRect()
    return legend.center().x() > area.center().x(), legend.center().y() < area.center().y()


def test_the_legend_stays_top_right_where_no_start_is(qtbot, window):
    tab = shown(qtbot, window)
    assert covered_starts(tab) == []
    assert legend_corner(tab) == (True, True)


def test_a_preset_starting_top_right_keeps_its_start_clear(qtbot, window):
    tab = shown(qtbot, window)
    by_file = {path.name: path for _, path in presets()}
    tab.load_scenario(Scenario.load(by_file["05-learning-rate-schedules.json"]))  # starts at (4.5, 4.5)
    qtbot.waitUntil(lambda: tab.map.shared_start.pos().x() == pytest.approx(4.5))
    assert covered_starts(tab) == []


@pytest.mark.parametrize("corner", [(0.9, 0.9), (-0.9, 0.9), (0.9, -0.9), (-0.9, -0.9)])
def test_the_shared_start_dragged_into_any_corner_is_never_covered(qtbot, window, corner):
    tab = shown(qtbot, window)
    (xmin, xmax), (ymin, ymax) = tab.map.plot.vb.viewRange()
    x = (xmin + xmax) / 2 + corner[0] * (xmax - xmin) / 2
    y = (ymin + ymax) / 2 + corner[1] * (ymax - ymin) / 2
    tab.map.shared_start.setPos(QPointF(x, y))  # what a drag does
    assert tab.model.scenario.shared_start() == pytest.approx((x, y))
    assert covered_starts(tab) == []


def test_a_pan_that_brings_a_start_under_the_legend_moves_it(qtbot, window):
    tab = shown(qtbot, window)
    start = tab.model.scenario.shared_start()
    tab.map.set_view((start[0] - 3.6, start[0] + 0.4, start[1] - 3.6, start[1] + 0.4))  # start near top right
    qtbot.waitUntil(lambda: covered_starts(tab) == [])
