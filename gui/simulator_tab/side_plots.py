"""Side plots linked to the timeline: loss and learning rate vs step, and the current frame's numbers.

The loss plot shows f − f* on a log axis where the surface's minimum f* is known, so runs that
approach it keep separating visibly instead of flattening at the bottom of a linear axis. Where no
minimum is known (a saddle, unbounded below; a typed formula; changed surface parameters), f − f*
has no meaning and the plot shows f itself on a linear axis. The table shows, per run, the per-axis
effective step size −Δx/g_x, −Δy/g_y of the next step: for SGD it is the lr on both axes, for
adaptive methods it shows how differently they treat the two directions.
"""

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from gui.scenario import RunResult
from gui.widgets.log_axis import decade_axes
from gui.widgets.pixmap_budget import reserve_pixmap_cache
from simulator.surface import Surface

GAP_FLOOR = 1e-16
LOSS_GAP_LABEL = "f − f*  (log)"
LOSS_LABEL = "f"
LR_FLOOR = 1e-12
COLUMNS = ("run", "step", "loss", "lr", "eff. step x", "eff. step y")


def _plot(title: str, left: str) -> pg.PlotWidget:
    widget = pg.PlotWidget(background="#121418", axisItems=decade_axes("left"), enableMenu=False)
    item = widget.getPlotItem()
    item.setTitle(title, color="#d0d0d0", size="10pt")
    item.setLabel("bottom", "step")
    item.setLabel("left", left)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setMenuEnabled(False)
    item.hideButtons()
    for name in ("left", "bottom"):
        _cache_pixels(item.getAxis(name))  # the grid lines are the axes' own: the cursor crosses them
    return widget


def _cache_pixels(item) -> None:
    """Keep what ``item`` paints as a pixmap until it changes. The cursor line moves every animation
    frame, and Qt repaints whatever lies under it: replaying 5,000-point curves and the axes' grid
    took ~45 ms a frame, copying their pixels takes well under one."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class _Cursor(pg.InfiniteLine):
    """The current-step line. It is added with ``ignoreBounds``, so its moves never change the plot's
    auto-range; reporting them anyway (pyqtgraph's default) makes the ViewBox recompute its range
    and repaint its whole area on every animation frame instead of the two strips the line left
    and entered."""

    def informViewBoundsChanged(self) -> None:
        pass


class SidePlots(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss = _plot("Loss", LOSS_GAP_LABEL)
        self.loss.getPlotItem().setLogMode(y=True)
        self.shows_gap = True  # f − f* on a log axis; False: f itself, linear
        self.lr = _plot("Learning rate", "lr  (log)")
        self.lr.getPlotItem().setLogMode(y=True)
        self.lr.setXLink(self.loss)
        cursor_pen = pg.mkPen("#ffffff", width=1, style=Qt.PenStyle.DashLine)
        self.cursors = [_Cursor(angle=90, pen=cursor_pen) for _ in range(2)]
        self.loss.addItem(self.cursors[0], ignoreBounds=True)
        self.lr.addItem(self.cursors[1], ignoreBounds=True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        # fixed widths: resizing to contents on every frame would lay the table out 60 times a second
        for column, width in enumerate((120, 48, 70, 56, 76)):
            self.table.setColumnWidth(column, width)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("At the current frame. eff. step = −Δ/gradient per axis: the step size the "
                              "optimizer really applies along x and y (for plain SGD, the lr).")
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        for widget in (self.loss, self.lr, self.table):
            splitter.addWidget(widget)
        splitter.setSizes([300, 200, 160])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._drawn: dict[int, tuple] = {}  # curve index -> (trajectory, f*, colour) it shows
        self._results: list[RunResult] = []

    def set_results(self, surface: Surface, results: list[RunResult], has_params: bool) -> None:
        self._results = results
        shown = [r for r in results if r.trajectory is not None and r.spec.visible]
        lowest = [float(np.min(r.trajectory.loss)) for r in shown]
        gap = bool(surface.minima) and not has_params  # f − f* (log), else f (linear)
        # published minima are rounded: a run may go a hair below
        f_star = min([min(m[2] for m in surface.minima), *lowest]) if gap else None
        if gap != self.shows_gap:
            self.shows_gap = gap
            item = self.loss.getPlotItem()
            item.setLogMode(y=gap)
            item.setLabel("left", LOSS_GAP_LABEL if gap else LOSS_LABEL)
            self._drawn.clear()  # every curve is drawn again in the new units
        while len(self._curves) < len(shown):  # curves are reused: setData is far cheaper than re-adding
            curves = (self.loss.plot(), self.lr.plot())
            for curve in curves:
                _cache_pixels(curve.curve)
                curve.setClipToView(True)
                curve.setDownsampling(auto=True, method="peak")
            self._curves.append(curves)
        for plot in (self.loss, self.lr):  # the two axes (their grids span the plot) and every curve
            reserve_pixmap_cache(plot, 2 + len(self._curves))
        for index, (loss_curve, lr_curve) in enumerate(self._curves):
            if index >= len(shown):
                if self._drawn.pop(index, None) is not None:
                    loss_curve.setData([], [])
                    lr_curve.setData([], [])
                continue
            t = shown[index].trajectory
            # Setting a curve's data throws away its cached picture: after one run changed, the
            # others keep theirs (a repaint of all 16 curves costs ~25 ms).
            # The key holds the trajectory itself (compared by identity), so no new one can reuse its id.
            previous, look = self._drawn.get(index), (f_star, shown[index].spec.color)
            if previous is not None and previous[0] is t and previous[1:] == look:
                continue
            self._drawn[index] = (t, *look)
            steps = np.arange(len(t.loss))
            pen = pg.mkPen(shown[index].spec.color, width=1.5)
            loss = np.maximum(t.loss - f_star, GAP_FLOOR) if gap else t.loss
            loss_curve.setData(steps, loss, pen=pen)
            lr_curve.setData(steps, np.maximum(t.lr, LR_FLOOR), pen=pen)  # a log axis: no zeros
        self.table.setRowCount(len(results))
        for row, result in enumerate(results):
            name = QTableWidgetItem(result.spec.name)
            name.setForeground(QColor(result.spec.color))
            self.table.setItem(row, 0, name)

    def set_frame(self, frame: int) -> None:
        for cursor in self.cursors:
            cursor.setValue(frame)
        for row, result in enumerate(self._results):
            t = result.trajectory
            if t is None:
                values = ("—", result.error[:60], "", "", "")
            else:
                last = len(t.xy) - 1
                k = min(frame, last)
                step_text = str(k) if t.status == "ok" or k < last else t.message
                effective = ("", "")
                if k < last:
                    delta = t.xy[k + 1] - t.xy[k]
                    effective = tuple(_effective(delta[i], t.grad[k, i]) for i in range(2))
                values = (step_text, f"{t.loss[k]:.5g}", f"{t.lr[min(k + 1, last)]:.3g}", *effective)
            for column, text in enumerate(values, start=1):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, column, item)
                item.setText(text)


def _effective(delta: float, gradient: float) -> str:
    if gradient == 0.0 or not math.isfinite(gradient):
        return "—"
    return f"{-delta / gradient:.3g}"
