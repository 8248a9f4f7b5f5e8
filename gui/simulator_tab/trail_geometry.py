"""The trail layer's compiled geometry: which points a trail needs at a zoom, which segments a
repaint touches. numpy + numba only (no Qt), so ``main.py prepare`` can compile it anywhere."""

import numpy as np
from numba import njit


@njit(cache=True)
def thin_trail(xy, tolerance_x, tolerance_y):
    """Indices of the points a trail needs at this zoom: each kept point is at least a tolerance
    (about half a pixel) away from the previous kept one on some axis. Painting 5,000-point wide
    antialiased paths dominates a frame; at screen resolution a few hundred points look the same.
    Non-finite points are never kept (the first point always is)."""
    keep = np.empty(xy.shape[0], dtype=np.int64)
    if xy.shape[0] == 0:
        return keep
    keep[0] = 0
    count = 1
    last_x, last_y = xy[0, 0], xy[0, 1]
    for i in range(1, xy.shape[0]):
        if abs(xy[i, 0] - last_x) >= tolerance_x or abs(xy[i, 1] - last_y) >= tolerance_y:
            keep[count] = i
            count += 1
            last_x, last_y = xy[i, 0], xy[i, 1]
    return keep[:count]


@njit(cache=True)
def to_pixels(xy, m11, m12, m21, m22, dx, dy, left, top):
    """Rows of ``xy`` through the affine map (Qt's: x' = m11 x + m21 y + dx, y' = m12 x + m22 y + dy),
    less the layer's corner (left, top), in one compiled pass. The same in numpy took eight array
    operations per trail, each releasing the GIL: with a run worker busy in the other thread, the
    GUI thread then waited for it eight times per trail (steps -> 200,000 froze it 150 ms)."""
    out = np.empty((xy.shape[0], 2))
    for i in range(xy.shape[0]):
        x, y = xy[i, 0], xy[i, 1]
        out[i, 0] = (m11 * x + m21 * y + dx) - left
        out[i, 1] = (m12 * x + m22 * y + dy) - top
    return out


@njit(cache=True)
def segments_touching(points, boxes):
    """For the polyline ``points``, whether each segment's bounding box meets any of ``boxes``
    (rows x0, y0, x1, y1). Segments with a non-finite end never do."""
    count = max(points.shape[0] - 1, 0)
    touching = np.zeros(count, dtype=np.bool_)
    for i in range(count):
        x0, x1 = min(points[i, 0], points[i + 1, 0]), max(points[i, 0], points[i + 1, 0])
        y0, y1 = min(points[i, 1], points[i + 1, 1]), max(points[i, 1], points[i + 1, 1])
        for b in range(boxes.shape[0]):
            if x1 >= boxes[b, 0] and x0 <= boxes[b, 2] and y1 >= boxes[b, 1] and y0 <= boxes[b, 3]:
                touching[i] = True
                break
    return touching


def compile_kernels() -> None:
    """Compile the kernels (or load them from Numba's cache) on a tiny case."""
    points = np.array([[0.0, 0.0], [1.0, 1.0]])
    thin_trail(points, 0.5, 0.5)
    to_pixels(points, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    segments_touching(points, np.array([[0.0, 0.0, 1.0, 1.0]]))
