"""The map: the surface as a heat map with contour lines, and every run drawn at the current frame.

The heat map and contours are recomputed for the visible range after each pan or zoom, on a colour
scale fixed per surface so colours keep their meaning while zooming. The field is computed in a
worker thread (``compute_field``: 300x300 values, their scale and 16 contour levels take 25-60 ms
on a 2-core machine, which added to the repaint kept the window from answering for over 100 ms);
the newest request wins, and the old field stays until the new one is ready.

Run items (current point, arrows, start markers) are created once per run and updated in place:
``set_frame`` only slices precomputed arrays. All trails are one TrailLayer, which re-renders only
what a frame changes (see trail_layer.py).
"""

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QGraphicsItem

from gui.scenario import RunResult, Scenario
from gui.simulator_tab.contours import ValueScale, contour_segments
from gui.simulator_tab.trail_layer import Trail, TrailLayer
from gui.widgets.image_files import VECTOR_SUFFIX, image_format, save_widget_picture
from gui.widgets.pixmap_budget import reserve_pixmap_cache
from gui.workers import JobWorker
from simulator import get_optimizer
from simulator.surface import Surface

GRID_POINTS = 300
CONTOUR_LEVELS = 16
ARROW_FRACTION = 0.08  # gradient/momentum arrows: a fixed length, this fraction of the view
# Far from every run colour of the palette (gui/scenario.py), so an arrow never reads as a run.
ARROW_COLORS = {"gradient": "#d00000", "update": "#ffffff", "momentum": "#1e40ff"}
ARROW_NAMES = {
    "gradient": "−gradient (direction)", "update": "next update", "momentum": "−momentum (direction)",
}
BACKGROUND = "#121418"
FIELD_COLORS = ["#0b0d12", "#1b2230", "#2e3a4f", "#4a5873", "#75839c", "#a9b3c4"]


@dataclass(frozen=True)
class FieldRequest:
    """What the field shows: a surface with its parameters, over a view, on a colour scale (None:
    the scale of this surface is still to be computed, over its bounds)."""

    surface: Surface
    params: tuple
    view: tuple[float, float, float, float]
    scale: ValueScale | None

    def same_as(self, other: "FieldRequest | None") -> bool:
        return (other is not None and self.surface is other.surface and self.params == other.params
                and self.view == other.view and (self.scale is None or self.scale is other.scale))


@dataclass(frozen=True)
class FieldPicture:
    request: FieldRequest
    scale: ValueScale
    values: np.ndarray  # (GRID_POINTS, GRID_POINTS) on the scale
    segments: np.ndarray  # contour segment end points, in pairs


def compute_field(request: FieldRequest) -> FieldPicture:
    """The heat map and contours of ``request``; touches no Qt object, so any thread may call it."""
    surface, params = request.surface, dict(request.params)
    scale = request.scale
    if scale is None:
        xmin, xmax, ymin, ymax = surface.bounds
        z = surface.grid(np.linspace(xmin, xmax, GRID_POINTS), np.linspace(ymin, ymax, GRID_POINTS), params)
        known = min((m[2] for m in surface.minima), default=None) if not params else None
        scale = ValueScale(z, surface.log_levels, known)
    xmin, xmax, ymin, ymax = request.view
    xs = np.linspace(xmin, xmax, GRID_POINTS)
    ys = np.linspace(ymin, ymax, GRID_POINTS)
    with np.errstate(all="ignore"):
        values = scale.apply(surface.grid(xs, ys, params))
    segments = contour_segments(xs, ys, values, scale.levels(CONTOUR_LEVELS))
    return FieldPicture(request, scale, values, segments)


class _Arrow:
    """A shaft (data coordinates) and a head that keeps its size in pixels."""

    def __init__(self, plot: pg.PlotItem, color: str, width: float):
        self.shaft = pg.PlotCurveItem(pen=pg.mkPen(color, width=width))
        self.head = pg.ArrowItem(headLen=10, tipAngle=35, pen=pg.mkPen(color), brush=color)
        for item in (self.shaft, self.head):
            item.setZValue(30)
            plot.addItem(item)
        self.hide()

    def show_from(self, x: float, y: float, dx: float, dy: float, pixel: tuple[float, float]) -> None:
        if not (math.isfinite(dx) and math.isfinite(dy)) or (dx == 0.0 and dy == 0.0):
            self.hide()
            return
        self.shaft.setData([x, x + dx], [y, y + dy])
        screen_angle = math.degrees(math.atan2(dy / pixel[1], dx / pixel[0]))
        self.head.setStyle(angle=180.0 - screen_angle)
        self.head.setPos(x + dx, y + dy)
        self.shaft.show()
        self.head.show()

    def hide(self) -> None:
        self.shaft.hide()
        self.head.hide()

    def remove(self, plot: pg.PlotItem) -> None:
        plot.removeItem(self.shaft)
        plot.removeItem(self.head)


class _RunItems:
    def __init__(self, plot: pg.PlotItem):
        # the trail itself is drawn by the map's TrailLayer; this line is its legend sample, and
        # clicking the sample hides or shows the trail
        self.legend_line = pg.PlotCurveItem()
        self.trials = pg.ScatterPlotItem(size=4, pen=None)
        self.trials.setZValue(9)
        self.head = pg.ScatterPlotItem(size=12)
        self.head.setZValue(20)
        self.end = pg.ScatterPlotItem(size=16, symbol="x", pen=pg.mkPen("#ff3030", width=3), brush="#ff3030")
        self.end.setZValue(21)
        for item in (self.trials, self.head, self.end):
            plot.addItem(item)
        self.arrows = {kind: _Arrow(plot, ARROW_COLORS[kind], 2.5 if kind == "update" else 2.0)
                       for kind in ARROW_COLORS}
        self.own_start: pg.TargetItem | None = None
        self.result: RunResult | None = None
        self.momentum_columns: tuple[int, int] | None = None
        self.trial_points = np.zeros((0, 2))
        self.trial_rows = np.zeros(0, dtype=np.int64)

    def items(self):
        return (self.trials, self.head, self.end)

    def remove(self, plot: pg.PlotItem) -> None:
        for item in self.items():
            plot.removeItem(item)
        for arrow in self.arrows.values():
            arrow.remove(plot)
        if self.own_start is not None:
            plot.removeItem(self.own_start)


class MapView(pg.PlotWidget):
    """Signals: ``start_moved(run index or -1 for the shared start, x, y)`` while a start marker is
    dragged; ``map_clicked(x, y, modifiers)`` for a plain click on the map."""

    start_moved = Signal(int, float, float)
    map_clicked = Signal(float, float, object)

    def __init__(self, parent=None, background_fields: bool = True):
        """``background_fields=False`` computes each field at once, on the calling thread (the
        headless renderer, which has no event loop to wait in)."""
        super().__init__(parent, background=BACKGROUND, enableMenu=False)
        self.background_fields = background_fields
        self.plot = self.getPlotItem()
        self.plot.setLabel("bottom", "x")
        self.plot.setLabel("left", "y")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        # a dark, low-saturation field: the runs' bright colours stay readable on every part of it
        self.colormap = pg.ColorMap(np.linspace(0.0, 1.0, len(FIELD_COLORS)), FIELD_COLORS)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(self.colormap)
        self.image.setZValue(-20)
        self.plot.addItem(self.image)
        self.contours = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 60, width=1), connect="pairs")
        self.contours.setZValue(-10)
        self.plot.addItem(self.contours)
        self.colorbar = pg.ColorBarItem(colorMap=self.colormap, interactive=False, width=14)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.minima = pg.ScatterPlotItem(symbol="star", size=18, pen=pg.mkPen("#101010", width=1),
                                         brush="#ffffff")
        self.minima.setZValue(5)
        self.plot.addItem(self.minima)
        self.trails = TrailLayer()
        self.trails.setZValue(10)  # over the line-search points, under the current points
        self.plot.addItem(self.trails)
        # The field, contours and minima change only with the view, yet Qt repaints every item under
        # the heads and arrows that move each animation frame; stroking the contour path alone took
        # ~0.8 ms a frame. Kept as pixmaps, they are copied instead.
        self._still_items = (self.image, self.contours, self.minima)
        self._cache_still_items(True)
        reserve_pixmap_cache(self, 2)  # the field and the contours span the view; the minima are small
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextColor="#e8e8e8",
                                          brush=pg.mkBrush(18, 20, 24, 200))
        self._legend_key: list | None = None  # what the legend lists now, to skip needless rebuilds
        self.shared_start = pg.TargetItem(size=18, symbol="crosshair", pen=pg.mkPen("#ffffff", width=2),
                                          movable=True)
        self.shared_start.setZValue(40)
        self.shared_start.setToolTip("Shared start: drag it, or click on the map")
        self.plot.addItem(self.shared_start)
        self.shared_start.sigPositionChanged.connect(lambda item: self._start_dragged(-1, item))

        # legend samples for the arrow kinds (never drawn on the map: some runs have no such arrow)
        self._arrow_samples = {kind: pg.PlotDataItem(pen=pg.mkPen(color, width=2.5))
                               for kind, color in ARROW_COLORS.items()}
        self.surface: Surface | None = None
        self.surface_params: dict = {}
        self.scale: ValueScale | None = None
        self._drawn_field: FieldRequest | None = None  # what the field and contours show now
        self._field_worker: JobWorker | None = None
        self.arrows_shown = {"gradient": False, "update": True, "momentum": False}
        self.frame = 0
        self._runs: list[_RunItems] = []
        self._syncing = False
        self._redraw = QTimer(self, singleShot=True, interval=40)
        self._redraw.timeout.connect(self.draw_surface)
        self.plot.vb.sigRangeChanged.connect(self._range_changed)
        self.scene().sigMouseClicked.connect(self._clicked)

    def close(self) -> bool:
        self._redraw.stop()  # pyqtgraph's close() drops the plot: a pending redraw would find none
        return super().close()

    def stop_all(self) -> list[JobWorker]:
        """The field worker if it still runs (a window closing waits for it); its field is dropped."""
        self._redraw.stop()
        self.surface = None
        worker = self._field_worker
        return [worker] if worker is not None and worker.isRunning() else []

    # ---- the surface -------------------------------------------------------------------------

    def set_surface(self, surface: Surface, params: dict | None = None) -> None:
        self.surface, self.surface_params = surface, dict(params or {})
        drawn = self._drawn_field
        same = drawn is not None and drawn.surface is surface and drawn.params == self._params_key()
        self.scale = drawn.scale if same else None  # None: computed with this surface's first field
        if surface.minima and not self.surface_params:
            self.minima.setData([m[0] for m in surface.minima], [m[1] for m in surface.minima])
            self.minima.setToolTip("known minima: " + "; ".join(f"({x:g}, {y:g}) → {f:g}"
                                                                for x, y, f in surface.minima))
        else:
            self.minima.setData([], [])
        self.draw_surface()

    def reset_view(self) -> None:
        if self.surface is not None:
            self.set_view(self.surface.bounds)

    def set_view(self, view) -> None:
        xmin, xmax, ymin, ymax = view
        self.plot.vb.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0)

    def view(self) -> tuple[float, float, float, float]:
        (xmin, xmax), (ymin, ymax) = self.plot.vb.viewRange()
        return (float(xmin), float(xmax), float(ymin), float(ymax))

    @property
    def field_pending(self) -> bool:
        """True until the field shows the current surface over the current view."""
        wanted = self._wanted_field()
        return wanted is not None and not wanted.same_as(self._drawn_field)

    def _wanted_field(self) -> FieldRequest | None:
        if self.surface is None:
            return None
        return FieldRequest(self.surface, self._params_key(), self.view(), self.scale)

    def _params_key(self) -> tuple:
        return tuple(sorted(self.surface_params.items()))

    def draw_surface(self) -> None:
        """Bring the field to the current surface and view: in the worker, or at once without one.
        A field already drawn for the same request is not computed again."""
        if not self.field_pending:
            return
        if not self.background_fields:
            self.finish_field()
        elif self._field_worker is None:
            self._start_field_worker(self._wanted_field())
        # else: when the running worker is done, _field_computed asks again for the newest request

    def finish_field(self) -> None:
        """Draw the wanted field now, on this thread (before an export: the picture must be current)."""
        wanted = self._wanted_field()
        if wanted is not None and not wanted.same_as(self._drawn_field):
            self._show_field(compute_field(wanted))

    def _start_field_worker(self, request: FieldRequest) -> None:
        worker = JobWorker(lambda progress: compute_field(request), self)
        worker.done.connect(self._field_computed)  # a bound method: queued, run on the GUI thread
        worker.failed.connect(self._field_failed)
        worker.finished.connect(worker.deleteLater)
        self._field_worker = worker
        worker.start()

    def _field_computed(self, picture: FieldPicture) -> None:
        self._field_worker = None
        wanted = self._wanted_field()
        if wanted is None or wanted.same_as(self._drawn_field):
            return  # stopped (the window closes), or drawn meanwhile (before an export)
        if picture.request.surface is wanted.surface and picture.request.params == wanted.params:
            if self.scale is None:
                self.scale = picture.scale  # the scale of this surface, kept while zooming
            if picture.request.view == wanted.view:
                self._show_field(picture)
                return
        self.draw_surface()  # the surface or view changed meanwhile: the newest request now

    def _field_failed(self, message: str) -> None:
        self._field_worker = None
        # A surface's grid cannot fail on finite views; should it, the field is drawn (and the
        # error raised) on this thread, where it reaches the user like any other slot's error.
        self.finish_field()

    def _show_field(self, picture: FieldPicture) -> None:
        request, scale = picture.request, picture.scale
        if self.scale is None:
            self.scale = scale
        self._drawn_field = FieldRequest(request.surface, request.params, request.view, scale)
        self.colorbar.setLevels((scale.low, scale.high))
        self.colorbar.axis.setLabel(scale.label)
        xmin, xmax, ymin, ymax = request.view
        self.image.setImage(picture.values, levels=(scale.low, scale.high), autoLevels=False)
        self.image.setRect(QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
        segments = picture.segments
        self.contours.setData(segments[:, 0], segments[:, 1], connect="pairs")
        self._drop_cached_pixels()

    def _drop_cached_pixels(self) -> None:
        # Qt keeps a DeviceCoordinateCache pixmap through changes of an item's content made together
        # with a change of its transform or bounds (a new field over a new rect, after a zoom):
        # parts of the old field and contours stayed on screen. Switching the cache off and on
        # discards the pixmaps; it is done only when the field is redrawn, never per frame.
        self._cache_still_items(False)
        self._cache_still_items(True)

    def _range_changed(self, *_):
        self._redraw.start()
        self.set_frame(self.frame)  # arrow heads are drawn in pixels

    # ---- runs ----------------------------------------------------------------------------------

    def set_results(self, scenario: Scenario, results: list[RunResult]) -> None:
        """Show ``results`` (one per run of ``scenario``); items are reused, so this is cheap."""
        while len(self._runs) > len(results):
            self._runs.pop().remove(self.plot)
        while len(self._runs) < len(results):
            items = _RunItems(self.plot)
            items.legend_line.visibleChanged.connect(lambda items=items: self._legend_toggled(items))
            self._runs.append(items)
        self._syncing = True
        try:
            self._move_target(self.shared_start, scenario.shared_start())
            for index, (items, result) in enumerate(zip(self._runs, results, strict=True)):
                self._bind(index, items, result)
        finally:
            self._syncing = False
        self._rebuild_legend()
        self.trails.set_trails([self._trail_of(items) for items in self._runs])
        self.set_frame(self.frame)

    def _trail_of(self, items: _RunItems) -> Trail:
        trajectory = items.result.trajectory
        xy = np.zeros((0, 2)) if trajectory is None else trajectory.xy
        return Trail(xy, items.legend_line.opts["pen"], shown=self._trail_shown(items))

    @staticmethod
    def _trail_shown(items: _RunItems) -> bool:
        result = items.result
        return (result is not None and result.trajectory is not None and result.spec.visible
                and items.legend_line.isVisible())

    def _legend_toggled(self, items: _RunItems) -> None:
        index = self._runs.index(items) if items in self._runs else -1
        if 0 <= index < len(self.trails.trails):  # else set_results is binding it and sets trails next
            self.trails.set_shown(index, self._trail_shown(items))

    def _bind(self, index: int, items: _RunItems, result: RunResult) -> None:
        items.result = result
        spec, trajectory = result.spec, result.trajectory
        color = pg.mkColor(spec.color)
        items.legend_line.setPen(pg.mkPen(color, width=2.2))
        items.legend_line.setVisible(True)  # a recompute shows a trail hidden from the legend again
        items.head.setBrush(pg.mkBrush(color))
        items.head.setPen(pg.mkPen("#101010", width=1.5))
        faint = pg.mkColor(spec.color)
        faint.setAlpha(110)
        items.trials.setBrush(pg.mkBrush(faint))
        items.head.setVisible(spec.visible and trajectory is not None)
        items.momentum_columns = None
        items.trial_points, items.trial_rows = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        if trajectory is not None:
            moment = get_optimizer(trajectory.optimizer).first_moment
            names = trajectory.state_names
            if moment and f"{moment}_x" in names:
                items.momentum_columns = (names.index(f"{moment}_x"), names.index(f"{moment}_y"))
            if trajectory.trials is not None:
                items.trial_points, items.trial_rows = self._drawable_trials(trajectory)
        # shown only when they have points: Qt calls paint() on every visible item under a changed
        # area, empty or not, and the markers of eight runs are repainted every animation frame
        items.trials.setVisible(spec.visible and len(items.trial_rows) > 0)
        items.end.setVisible(False)
        if spec.start is None:
            if items.own_start is not None:
                self.plot.removeItem(items.own_start)
                items.own_start = None
        else:
            if items.own_start is None:
                items.own_start = pg.TargetItem(size=15, symbol="crosshair", movable=True)
                items.own_start.setZValue(40)
                items.own_start.sigPositionChanged.connect(
                    lambda item, run=items: self._start_dragged(self._runs.index(run), item))
                self.plot.addItem(items.own_start)
            items.own_start.setPen(pg.mkPen(color, width=2))
            items.own_start.setToolTip(f"Start of {spec.name}: drag it")
            items.own_start.setVisible(spec.visible)
            self._move_target(items.own_start, spec.start)

    def _drawable_trials(self, trajectory):
        trials = trajectory.trials
        rows = np.repeat(np.arange(len(trials.count)), trials.count)
        xmin, xmax, ymin, ymax = self.surface.bounds
        span = max(xmax - xmin, ymax - ymin)
        xy = trials.xy
        keep = np.all(np.isfinite(xy), axis=1) & (np.abs(xy[:, 0] - (xmin + xmax) / 2) < 5 * span) \
            & (np.abs(xy[:, 1] - (ymin + ymax) / 2) < 5 * span)
        return xy[keep], rows[keep]

    def _rebuild_legend(self) -> None:
        entries = [(items.legend_line, items.result.spec.name) for items in self._runs
                   if items.result is not None and items.result.spec.visible
                   and items.result.trajectory is not None]
        entries += [(self._arrow_samples[kind], ARROW_NAMES[kind])
                    for kind, shown in self.arrows_shown.items() if shown and self._runs]
        # Rebuilding the legend costs ~9 ms (a label item per entry), so only when its entries change,
        # not after every recompute. A sample draws its item's current pen: a new colour needs no rebuild.
        key = [(id(sample), name) for sample, name in entries]
        if key == self._legend_key:
            return
        self._legend_key = key
        self.legend.clear()
        for sample, name in entries:
            self.legend.addItem(sample, name)

    def set_arrows(self, **shown: bool) -> None:
        self.arrows_shown.update(shown)
        self._rebuild_legend()
        self.set_frame(self.frame)

    def set_frame(self, frame: int) -> None:
        self.frame = frame
        self.trails.set_frame(frame)
        if not self._runs or self.surface is None:
            return
        xmin, xmax, ymin, ymax = self.view()
        length = ARROW_FRACTION * max(xmax - xmin, ymax - ymin)
        pixel = self.plot.vb.viewPixelSize()
        pixel = (pixel[0] or 1.0, pixel[1] or 1.0)
        for items in self._runs:
            result = items.result
            trajectory = None if result is None else result.trajectory
            if trajectory is None or not result.spec.visible:
                for arrow in items.arrows.values():
                    arrow.hide()
                items.end.hide()
                continue
            last = len(trajectory.xy) - 1
            k = min(frame, last)
            xy = trajectory.xy
            x, y = float(xy[k, 0]), float(xy[k, 1])
            items.head.setData([x], [y])
            stopped = trajectory.status == "diverged" and frame >= last
            if stopped:
                items.end.setData([x], [y])
            items.end.setVisible(stopped)
            if len(items.trial_rows):
                tried = items.trial_rows <= k
                items.trials.setData(items.trial_points[tried, 0], items.trial_points[tried, 1])
            self._arrows(items, trajectory, k, last, length, pixel)

    def _arrows(self, items: _RunItems, trajectory, k: int, last: int, length: float, pixel) -> None:
        x, y = trajectory.xy[k]
        directions = {}
        if self.arrows_shown["gradient"]:
            directions["gradient"] = _scaled(-trajectory.grad[k], length)
        if self.arrows_shown["update"] and k < last:
            directions["update"] = trajectory.xy[k + 1] - trajectory.xy[k]
        if self.arrows_shown["momentum"] and items.momentum_columns is not None:
            # the momentum carried into step k+1, before g_k is mixed in: gradient + momentum -> update
            moment = trajectory.state[k, list(items.momentum_columns)]
            directions["momentum"] = _scaled(-moment, length)
        for kind, arrow in items.arrows.items():
            if kind in directions and directions[kind] is not None:
                dx, dy = directions[kind]
                arrow.show_from(float(x), float(y), float(dx), float(dy), pixel)
            else:
                arrow.hide()

    # ---- start points ----------------------------------------------------------------------------

    def _move_target(self, target: pg.TargetItem, point) -> None:
        current = target.pos()
        if (current.x(), current.y()) != tuple(point):
            target.setPos(QPointF(float(point[0]), float(point[1])))

    def _start_dragged(self, index: int, item: pg.TargetItem) -> None:
        if self._syncing:
            return
        pos = item.pos()
        self.start_moved.emit(index, float(pos.x()), float(pos.y()))

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        if not self.plot.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        point = self.plot.vb.mapSceneToView(event.scenePos())
        self.map_clicked.emit(float(point.x()), float(point.y()), event.modifiers())

    def save_image(self, path: str) -> None:
        """The map as drawn: PNG (or another raster type by suffix) or SVG (vector), written whole
        or not at all; SimulatorError says why not.

        SVG goes through Qt's own QSvgGenerator: pyqtgraph's SVG exporter cannot parse the
        paths this Qt writes.
        """
        self.finish_field()
        vector = image_format(path) == VECTOR_SUFFIX
        if vector:
            self._cache_still_items(False)  # Qt would write the cached pixmaps into the SVG
        try:
            save_widget_picture(self, path, title="OptiScope map")
        finally:
            if vector:
                self._cache_still_items(True)

    def _cache_still_items(self, cached: bool) -> None:
        mode = QGraphicsItem.CacheMode.DeviceCoordinateCache if cached else QGraphicsItem.CacheMode.NoCache
        for item in self._still_items:
            item.setCacheMode(mode)

    def run_items(self) -> list[_RunItems]:
        """The drawn items of each run (tests and the renderer read them)."""
        return list(self._runs)


def _scaled(vector: np.ndarray, length: float):
    norm = float(np.hypot(vector[0], vector[1]))
    if not math.isfinite(norm) or norm == 0.0:
        return None
    return vector * (length / norm)
