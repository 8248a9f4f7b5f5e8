"""Side plots linked to the timeline: loss and learning rate vs step, and the current frame's numbers.

The loss plot shows f − f* on a log axis where the surface's minimum f* is known, so runs that
approach it keep separating visibly instead of flattening at the bottom of a linear axis. Where no
minimum is known (a saddle, unbounded below; a typed formula; changed surface parameters), f − f*
has no meaning and the plot shows f itself on a linear axis. The table shows, per run, the per-axis
effective step size −Δx/g_x, −Δy/g_y of the next step: for SGD it is the lr on both axes, for
adaptive methods it shows how differently they treat the two directions.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGraphicsItem, QSplitter, QVBoxLayout, QWidget

from gui.scenario import RunResult
from gui.simulator_tab.frame_table import FrameTable
from gui.widgets.log_axis import decade_axes
from gui.widgets.pixmap_budget import reserve_pixmap_cache
from simulator.surface import Surface

GAP_FLOOR = 1e-16
LOSS_GAP_LABEL = "f − f*  (log)"
LOSS_LABEL = "f"
LR_FLOOR = 1e-12
THIN_CURVE_POINTS = 2_000  # about a side plot's width in pixels on a large screen


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
    """Signal: ``step_clicked(step)`` for a left click on the loss or lr plot."""

    step_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss = _plot("Loss", LOSS_GAP_LABEL)
        self.loss.getPlotItem().setLogMode(y=True)
        self.shows_gap = True  # f − f* on a log axis; False: f itself, linear
        self.lr = _plot("Learning rate", "lr  (log)")
        self.lr.getPlotItem().setLogMode(y=True)
        self.lr.setXLink(self.loss)
        for plot in (self.loss, self.lr):
            plot.scene().sigMouseClicked.connect(lambda event, plot=plot: self._clicked(plot, event))
        cursor_pen = pg.mkPen("#ffffff", width=1, style=Qt.PenStyle.DashLine)
        self.cursors = [_Cursor(angle=90, pen=cursor_pen) for _ in range(2)]
        self.loss.addItem(self.cursors[0], ignoreBounds=True)
        self.lr.addItem(self.cursors[1], ignoreBounds=True)
        self.table = FrameTable(self)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        for widget in (self.loss, self.lr, self.table):
            self.splitter.addWidget(widget)
        self.splitter.setSizes([300, 200, 160])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self._curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._drawn: dict[int, tuple] = {}  # curve index -> (trajectory, f*, colour) it shows
        self._results: list[RunResult] = []
        self._shown: list[RunResult] = []  # the runs begun whose curves are drawn
        self._to_draw: list[int] = []  # curves still to be set to them
        self._f_star: float | None = None  # what the loss curves are drawn above (None: f itself)

    def _clicked(self, plot: pg.PlotWidget, event) -> None:
        view = plot.getPlotItem().vb
        if event.button() != Qt.MouseButton.LeftButton or not view.sceneBoundingRect().contains(
                event.scenePos()):
            return  # a click on a title or an axis picks no step
        step = round(view.mapSceneToView(event.scenePos()).x())
        self.step_clicked.emit(max(0, step))  # Playback.go_to keeps it within the run

    def set_results(self, surface: Surface, results: list[RunResult], has_params: bool) -> None:
        """Show ``results`` at once (see :meth:`begin` and :meth:`draw_next` for it in steps)."""
        self.begin(surface, results, has_params)
        while self.draw_next():
            pass

    def begin(self, surface: Surface, results: list[RunResult], has_params: bool) -> None:
        """Start showing ``results``: units and curves now, each run's curves by :meth:`draw_next`.

        A run's two curves of 200,000 steps take ~25 ms to hand to pyqtgraph (fresh arrays, log
        mapping, downsampling); all runs in one go kept the window from answering for 100-160 ms."""
        self._results = results
        shown = [r for r in results if r.trajectory is not None and r.spec.visible]
        lowest = [float(np.min(r.trajectory.loss)) for r in shown]
        gap = bool(surface.minima) and not has_params  # f − f* (log), else f (linear)
        # published minima are rounded: a run may go a hair below
        self._f_star = min([min(m[2] for m in surface.minima), *lowest]) if gap else None
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
        self._shown = shown
        self._to_draw = list(range(len(self._curves)))

    @property
    def drawing(self) -> bool:
        """True while runs begun are still to be drawn."""
        return bool(self._to_draw)

    def draw_next(self) -> bool:
        """Draw the next run whose curves changed (skipping those that did not); then, once all are
        drawn, the table. True while more remain."""
        while self._to_draw:
            index = self._to_draw.pop(0)
            if self._draw(index):
                break
        if not self._to_draw:
            self.table.set_runs(self._results)
        return bool(self._to_draw)

    def _draw(self, index: int) -> bool:
        """Set curve ``index`` to its run; False where nothing changed."""
        loss_curve, lr_curve = self._curves[index]
        if index >= len(self._shown):
            if self._drawn.pop(index, None) is None:
                return False
            loss_curve.setData([], [])
            lr_curve.setData([], [])
            return True
        t = self._shown[index].trajectory
        # Setting a curve's data throws away its cached picture: after one run changed, the
        # others keep theirs (a repaint of all 16 curves costs ~25 ms).
        # The key holds the trajectory itself (compared by identity), so no new one can reuse its id.
        f_star = self._f_star
        previous, look = self._drawn.get(index), (f_star, self._shown[index].spec.color)
        if previous is not None and previous[0] is t and previous[1:] == look:
            return False
        self._drawn[index] = (t, *look)
        steps = np.arange(len(t.loss))
        pen = pg.mkPen(self._shown[index].spec.color, width=_pen_width(len(steps)))
        loss = np.maximum(t.loss - f_star, GAP_FLOOR) if f_star is not None else t.loss
        loss_curve.setData(steps, loss, pen=pen)
        lr_curve.setData(steps, np.maximum(t.lr, LR_FLOOR), pen=pen)  # a log axis: no zeros
        return True

    def set_frame(self, frame: int) -> None:
        for cursor in self.cursors:
            cursor.setValue(frame)
        self.table.set_frame(frame)


def _pen_width(points: int) -> float:
    """1.5 px where the curve is smooth; 1 px once it has more points than a plot has pixels. A long
    curve is drawn peak-downsampled, a zigzag of full-height segments where the loss oscillates, and
    Qt strokes a zigzag wider than 1 px as one self-intersecting outline: 200,000 steps of an
    oscillating run took 450 ms a repaint at 1.5 px and 8 ms at 1 px."""
    return 1.5 if points <= THIN_CURVE_POINTS else 1.0

