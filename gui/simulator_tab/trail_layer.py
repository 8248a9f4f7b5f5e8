"""Every run's trail in one item, painted from an image kept in the view's pixels.

Stroking eight antialiased 2-pixel trails of thousands of points takes about 20 ms, more than a
whole 60 fps frame, yet one animation frame only adds a segment or two near each head. So the
trails live in an image the size of the view, in device pixels, and a new frame re-renders just
the small rectangles where segments appeared or disappeared: each rectangle is cleared and every
trail segment that reaches into it is stroked again, in run order. The image therefore stays what a
full redraw would give (the same pixels, the same run on top), on every frame, playing or still.

A zoom, pan, resize or new data redraws the image once. Painting anywhere but the view's own
viewport (an SVG file, a scaled render) strokes the trails directly, as vectors.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QImage, QPaintEngine, QPainter, QPainterPath, QPen, QRegion, QTransform

from gui.simulator_tab.trail_geometry import segments_touching, thin_trail, to_pixels

THIN_TOLERANCE_PX = 0.5  # trail points closer than this to the previous kept one add nothing visible


def trail_rows(thinned: np.ndarray, k: int) -> np.ndarray:
    """Trajectory rows of the trail drawn at row ``k``: the thinned points up to k, then k itself."""
    shown = thinned[: np.searchsorted(thinned, k, side="right")]
    return shown if len(shown) and shown[-1] == k else np.append(shown, k)


def pieces_path(points: np.ndarray, touching: np.ndarray) -> QPainterPath:
    """One path holding the runs of consecutive ``touching`` segments as subpaths. A single path is
    stroked as one shape, so where pieces of a trail cross, edge pixels blend once, as they do in
    the whole trail."""
    used = np.zeros(len(points), dtype=bool)
    used[:-1] |= touching
    used[1:] |= touching
    joins_previous = np.zeros(len(points), dtype=bool)
    joins_previous[1:] = touching
    kept = points[used]
    joins_next = np.append(joins_previous[used][1:], False)  # arrayToQPath: point i joins point i+1
    return pg.functions.arrayToQPath(kept[:, 0], kept[:, 1], connect=joins_next, finiteCheck=False)


@dataclass
class Trail:
    """One run's trail: trajectory points (data coordinates), its pen, and whether it is drawn."""

    xy: np.ndarray
    pen: QPen
    shown: bool = True
    device: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # xy in layer pixels
    thinned: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def last(self) -> int:
        return len(self.xy) - 1


class TrailLayer(pg.GraphicsObject):
    """All trails at row ``frame`` (each run's row clamped to its last), in run order."""

    def __init__(self):
        super().__init__()
        self.antialias = bool(pg.getConfigOption("antialias"))
        self.trails: list[Trail] = []
        self.frame = 0
        self._layer: QImage | None = None
        self._origin = QPoint()  # the layer's top-left corner in viewport coordinates
        self._mapping: QTransform | None = None  # data -> viewport, the one ``device`` points use
        self._margin = 4  # pixels a stroke reaches beyond its points, antialiasing included

    # ---- data ----------------------------------------------------------------------------------

    def set_trails(self, trails: list[Trail]) -> None:
        self.trails = trails
        width = max((trail.pen.widthF() for trail in trails), default=1.0)
        self._margin = math.ceil(width * math.sqrt(2) / 2) + 2  # square caps reach w/2 diagonally
        self._mapping = None
        self._layer = None
        self.prepareGeometryChange()
        self.update()

    def set_shown(self, index: int, shown: bool) -> None:
        if self.trails[index].shown != shown:
            self.trails[index].shown = shown
            self._layer = None
            self.update()

    def set_frame(self, frame: int) -> None:
        previous, self.frame = self.frame, frame
        if previous == frame:
            return
        view = self.getViewWidget()
        if (self._layer is None or not self.isVisible() or view is None or not view.isVisible()
                or not self._same_mapping(self.deviceTransform_())):
            self._layer = None  # the next paint redraws it whole; none is due while unseen
            self.update()
            return
        dirty = []
        for trail in self._drawn():
            low, high = sorted((min(previous, trail.last), min(frame, trail.last)))
            if low == high:
                continue
            # segments between the last kept point at or before ``low`` and row ``high``, and the
            # closing segments to rows ``low`` and ``high`` (trail_rows appends the current row)
            first = np.searchsorted(trail.thinned, low, side="right") - 1
            last = np.searchsorted(trail.thinned, high, side="right")
            rows = np.concatenate([trail.thinned[first:last], [low, high]])
            rect = self._pixel_rect(trail.device[rows])
            if rect is not None:
                dirty.append(rect)
        if dirty:
            self._render(dirty)
            inverse, _ = self._mapping.inverted()
            for rect in dirty:
                self.update(inverse.mapRect(QRectF(rect.translated(self._origin))))

    def drawn_rows(self, index: int) -> np.ndarray:
        """Trajectory rows of trail ``index`` drawn at this frame, thinned for the current zoom
        (all rows before the first paint); empty when the trail is hidden."""
        trail = self.trails[index]
        if not trail.shown or not len(trail.xy):
            return np.zeros(0, dtype=np.int64)
        thinned = trail.thinned if len(trail.thinned) else np.arange(len(trail.xy))
        return trail_rows(thinned, min(self.frame, trail.last))

    def trail_points(self, index: int) -> np.ndarray:
        """The points of trail ``index`` drawn at this frame (data coordinates; empty when hidden)."""
        return self.trails[index].xy[self.drawn_rows(index)]

    def layer_image(self) -> QImage | None:
        """The trails as the view shows them (None until painted, or after a change that redraws)."""
        return self._layer

    def _drawn(self) -> list[Trail]:
        return [trail for trail in self.trails if trail.shown and len(trail.xy)]

    # ---- geometry ------------------------------------------------------------------------------

    def boundingRect(self) -> QRectF:
        # the layer covers the view; what lies outside is clipped by the ViewBox anyway
        view = self.viewRect()
        return QRectF() if view is None else view

    def viewTransformChanged(self) -> None:
        super().viewTransformChanged()
        self.prepareGeometryChange()

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange=None):
        """Auto-range (off once the map's view is set) fits the whole trails."""
        values = [trail.xy[:, axis] for trail in self._drawn()]
        values = np.concatenate(values) if values else np.zeros(0)
        values = values[np.isfinite(values)]
        return (float(values.min()), float(values.max())) if len(values) else None

    def _same_mapping(self, mapping: QTransform | None) -> bool:
        if mapping is None or self._mapping is None:
            return False
        a, b = _coefficients(mapping), _coefficients(self._mapping)
        return all(abs(x - y) <= 1e-9 * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))

    def _pixel_rect(self, points: np.ndarray) -> QRect | None:
        """The layer pixels that strokes through ``points`` can touch, or None if none."""
        points = points[np.all(np.isfinite(points), axis=1)]
        if len(points) == 0:
            return None
        size = self._layer.deviceIndependentSize()
        x0, y0 = np.maximum(points.min(axis=0) - self._margin, 0.0)
        x1, y1 = np.minimum(points.max(axis=0) + self._margin, (size.width(), size.height()))
        if x0 >= x1 or y0 >= y1:
            return None
        return QRect(QPoint(math.floor(x0), math.floor(y0)), QPoint(math.ceil(x1) - 1, math.ceil(y1) - 1))

    # ---- drawing -------------------------------------------------------------------------------

    def _rebuild(self, mapping: QTransform, pixel_ratio: float) -> None:
        """Map every trail into layer pixels for ``mapping`` (data -> viewport), thin it to what
        shows at this zoom, and draw the whole layer."""
        area = mapping.mapRect(self.boundingRect()).toAlignedRect()
        if area.isEmpty():  # not laid out yet
            self._layer = None
            return
        self._origin = area.topLeft()
        self._mapping = QTransform(mapping)
        for trail in self.trails:
            trail.device = _apply(mapping, trail.xy, area.left(), area.top())
            trail.thinned = thin_trail(trail.device, THIN_TOLERANCE_PX, THIN_TOLERANCE_PX)
        size = area.size() * pixel_ratio
        if self._layer is None or self._layer.size() != size or self._layer.devicePixelRatio() != pixel_ratio:
            self._layer = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
            self._layer.setDevicePixelRatio(pixel_ratio)
        self._layer.fill(Qt.GlobalColor.transparent)
        self._render([QRect(QPoint(0, 0), area.size())])

    def _render(self, rects: list[QRect]) -> None:
        """Clear ``rects`` of the layer and stroke, in run order, every trail segment reaching into
        them: the pixels come out as a full redraw would draw them."""
        region = QRegion()
        for rect in rects:
            region = region.united(rect)
        reach = self._margin
        boxes = np.array([(r.left() - reach, r.top() - reach, r.right() + 1 + reach, r.bottom() + 1 + reach)
                          for r in rects], dtype=float)
        painter = QPainter(self._layer)
        try:
            painter.setClipRegion(region)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            painter.fillRect(region.boundingRect(), Qt.GlobalColor.transparent)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, self.antialias)
            for trail in self._drawn():
                points = trail.device[trail_rows(trail.thinned, min(self.frame, trail.last))]
                touching = segments_touching(points, boxes)
                if touching.any():
                    painter.setPen(trail.pen)
                    painter.drawPath(pieces_path(points, touching))
        finally:
            painter.end()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if not self._drawn():
            return
        mapping = painter.worldTransform()  # data -> the widget being painted, whatever the device
        engine = painter.paintEngine()
        raster = engine is not None and engine.type() == QPaintEngine.Type.Raster
        if widget is None or not raster or mapping.isRotating():
            self._paint_vectors(painter, mapping)
            return
        pixel_ratio = painter.device().devicePixelRatioF()
        if (self._layer is None or not self._same_mapping(mapping)
                or self._layer.devicePixelRatio() != pixel_ratio):
            self._rebuild(mapping, pixel_ratio)
            if self._layer is None:
                return
        painter.save()
        painter.setWorldTransform(QTransform())
        painter.drawImage(QPointF(self._origin), self._layer)
        painter.restore()

    def _paint_vectors(self, painter: QPainter, mapping: QTransform) -> None:
        painter.save()
        painter.setWorldTransform(QTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, self.antialias)
        for trail in self._drawn():
            device = _apply(mapping, trail.xy)
            thinned = thin_trail(device, THIN_TOLERANCE_PX, THIN_TOLERANCE_PX)
            points = device[trail_rows(thinned, min(self.frame, trail.last))]
            points = points[np.all(np.isfinite(points), axis=1)]
            painter.setPen(trail.pen)
            painter.drawPath(pg.functions.arrayToQPath(points[:, 0], points[:, 1], finiteCheck=False))
        painter.restore()


def _coefficients(t: QTransform) -> tuple[float, ...]:
    return (t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy())


def _apply(mapping: QTransform, xy: np.ndarray, left: float = 0.0, top: float = 0.0) -> np.ndarray:
    """``mapping`` (affine) applied to rows of ``xy``, less (left, top); huge values of diverged
    runs give inf, as they should."""
    points = np.ascontiguousarray(xy, dtype=np.float64)
    return to_pixels(points, *_coefficients(mapping), float(left), float(top))
