"""Where the map's legend goes: the corner of the plot area that covers no start marker.

A start marker is what a user drags; one under the legend can be neither seen nor grabbed. The
legend keeps the top right where that is free, else takes the first free corner, preferring one
that covers the fewest trail points. It is placed again whenever what it could cover moves: the
view (pan, zoom, resize), the runs (a start dragged, a recompute) and the legend's own size.
"""

import numpy as np
from PySide6.QtCore import QObject, QRectF

MARGIN = 10  # pixels between the legend and the plot area's edge
MARKER_HALF = 10  # pixels: half a start marker's crosshair (18 px), and a pixel of air
TRAIL_SAMPLES = 2_000  # points looked at per trail: enough to see where it runs, cheap on every pan
# (right, top) in the order they are preferred: the top right is where a legend is looked for
CORNERS = ((True, True), (False, True), (True, False), (False, False))


class LegendPlacer(QObject):
    def __init__(self, map_view):
        super().__init__(map_view)
        self.map = map_view
        self._placing = False
        view = map_view.plot.vb
        view.sigRangeChanged.connect(self.place)
        view.sigResized.connect(self.place)
        map_view.legend.geometryChanged.connect(self.place)  # entries added or removed
        map_view.shared_start.sigPositionChanged.connect(self.place)

    def place(self, *_) -> None:
        if self._placing:  # moving the legend changes its geometry: that is no news
            return
        self._placing = True
        try:
            self._place()
        finally:
            self._placing = False

    def _place(self) -> None:
        legend, view = self.map.legend, self.map.plot.vb
        area = view.boundingRect()
        size = legend.boundingRect().size()
        if area.width() <= 0 or size.width() <= 0:
            return  # not laid out yet
        starts, trails = self._points()
        best = min(CORNERS, key=lambda corner: (
            _inside(starts, _rect(area, size, corner).adjusted(-MARKER_HALF, -MARKER_HALF,
                                                                MARKER_HALF, MARKER_HALF)),
            _inside(trails, _rect(area, size, corner)),
            CORNERS.index(corner)))
        right, top = best
        offset = (-MARGIN if right else MARGIN, MARGIN if top else -MARGIN)
        if tuple(legend.opts["offset"]) != offset:  # (``legend.offset`` is the one it was made with)
            legend.setOffset(offset)

    def _points(self) -> tuple[np.ndarray, np.ndarray]:
        """The start markers and (a sample of) the shown trails, in the view box's pixels."""
        markers = [self.map.shared_start]
        trails = []
        for items in self.map.run_items():
            if items.own_start is not None and items.own_start.isVisible():
                markers.append(items.own_start)
            result = items.result
            if result is not None and result.trajectory is not None and result.spec.visible:
                xy = result.trajectory.xy
                trails.append(xy[::max(1, len(xy) // TRAIL_SAMPLES)])
        starts = np.array([[m.pos().x(), m.pos().y()] for m in markers], dtype=float)
        trail_points = np.concatenate(trails) if trails else np.zeros((0, 2))
        return self._to_pixels(starts), self._to_pixels(trail_points)

    def _to_pixels(self, xy: np.ndarray) -> np.ndarray:
        view = self.map.plot.vb
        (xmin, xmax), (ymin, ymax) = view.viewRange()
        area = view.boundingRect()
        with np.errstate(all="ignore"):  # a diverged run's last points may be huge
            px = (xy[:, 0] - xmin) / (xmax - xmin) * area.width()
            py = (ymax - xy[:, 1]) / (ymax - ymin) * area.height()  # y grows upwards on the map
        return np.column_stack([px, py])


def _rect(area: QRectF, size, corner: tuple[bool, bool]) -> QRectF:
    right, top = corner
    x = area.right() - MARGIN - size.width() if right else area.left() + MARGIN
    y = area.top() + MARGIN if top else area.bottom() - MARGIN - size.height()
    return QRectF(x, y, size.width(), size.height())


def _inside(points: np.ndarray, rect: QRectF) -> int:
    if not len(points):
        return 0
    x, y = points[:, 0], points[:, 1]
    return int(np.count_nonzero((x >= rect.left()) & (x <= rect.right()) & (y >= rect.top())
                                & (y <= rect.bottom())))
