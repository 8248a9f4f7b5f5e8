"""A plot's title never widens the plot past its view: it shortens, then elides."""

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from gui.widgets.fitted_title import ELLIPSIS, fit_title

LONG = "decision boundary, epoch 10"


def laid_out(qtbot, width: int) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(width, 200)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def settle(qtbot, plot: pg.PlotWidget) -> None:
    for _ in range(5):  # the graphics layout is redone from posted events
        pg.QtWidgets.QApplication.processEvents()


def overflow(plot: pg.PlotWidget) -> float:
    """How much wider the plot's layout must be than the view that shows it."""
    least = plot.getPlotItem().effectiveSizeHint(Qt.SizeHint.MinimumSize).width()
    return least - plot.viewport().width()


def test_pyqtgraphs_own_title_widens_a_narrow_plot_past_its_view(qtbot):
    # the defect this title exists for: at a third of a laptop's plot area, the right of the plot was cut
    plot = laid_out(qtbot, 150)
    plot.setTitle(LONG, size="10pt")
    settle(qtbot, plot)
    assert overflow(plot) > 0


@pytest.mark.parametrize("width", [70, 150, 190, 260, 600])
def test_a_fitted_title_shows_the_longest_text_that_fits_and_never_widens_the_plot(qtbot, width):
    plot = laid_out(qtbot, width)
    title = fit_title(plot.getPlotItem(), LONG, "boundary, epoch 10", "epoch 10")
    settle(qtbot, plot)
    assert overflow(plot) <= 0
    assert 0 < title.text_width() <= title.width()
    if width == 600:
        assert title.shown == LONG
    if width <= 150:
        assert title.shown != LONG
    if title.shown in title.texts:  # and no longer form would have fitted: alone, each is elided
        for longer in title.texts[:title.texts.index(title.shown)]:
            title.set_texts(longer)
            assert title.shown != longer
    else:
        assert width == 70  # too narrow for any of them
        assert title.shown.endswith(ELLIPSIS) and "epoch 10".startswith(title.shown[:-1])


def test_the_title_follows_the_plot_as_it_widens_and_narrows(qtbot):
    plot = laid_out(qtbot, 150)
    title = fit_title(plot.getPlotItem(), LONG, "boundary, epoch 10")
    settle(qtbot, plot)
    narrow = title.shown
    assert narrow != LONG
    plot.resize(700, 200)
    settle(qtbot, plot)
    assert title.shown == LONG
    plot.resize(150, 200)
    settle(qtbot, plot)
    assert title.shown == narrow and overflow(plot) <= 0


def test_set_title_and_set_texts_replace_the_texts(qtbot):
    plot = laid_out(qtbot, 700)
    title = fit_title(plot.getPlotItem(), "first")
    plot.setTitle("through pyqtgraph", size="10pt")
    settle(qtbot, plot)
    assert title.texts == ("through pyqtgraph",) and title.shown == "through pyqtgraph"
    title.set_texts("decision boundary, epoch 3", "epoch 3")
    settle(qtbot, plot)
    assert title.shown == "decision boundary, epoch 3"
