"""Contour lines by marching squares, compiled with Numba, and the heat map's value scale.

pyqtgraph's IsocurveItem walks the grid in Python (~25 ms per level on 300x300); the map redraws
its contours whenever the view is panned or zoomed, so it needs all levels in a few milliseconds.
The result is one array of segment end points, drawn by a single ``connect="pairs"`` curve.
"""

import numpy as np
from numba import njit

LOG_FLOOR = 1e-12  # relative floor under f - f_min on logarithmic maps


class ValueScale:
    """Maps surface values to the colour/contour scale: f, or log10(f − f_min + floor) where f
    spans orders of magnitude. Fixed per surface so colours do not shift while zooming."""

    def __init__(self, z: np.ndarray, logarithmic: bool, floor_value: float | None = None):
        finite = z[np.isfinite(z)]
        if finite.size == 0:
            finite = np.zeros(1)
        self.logarithmic = logarithmic
        self.f_min = float(finite.min()) if floor_value is None else min(float(finite.min()), floor_value)
        spread = float(finite.max() - self.f_min) or 1.0
        self.floor = spread * LOG_FLOOR
        scaled = self.apply(finite)
        if logarithmic:
            # the bottom 1 % of the log range is a needle at the minimum: start the colours above it
            low, high = float(np.percentile(scaled, 0.5)), float(scaled.max())
        else:
            low, high = float(scaled.min()), float(scaled.max())
        self.low, self.high = low, high if high > low else low + 1.0

    def apply(self, z: np.ndarray) -> np.ndarray:
        if not self.logarithmic:
            return z
        with np.errstate(invalid="ignore"):
            return np.log10(np.maximum(z - self.f_min, 0.0) + self.floor)

    def levels(self, count: int) -> np.ndarray:
        return np.linspace(self.low, self.high, count + 2)[1:-1]

    @property
    def label(self) -> str:
        return "log₁₀(f − min f)" if self.logarithmic else "f(x, y)"


def contour_segments(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, levels) -> np.ndarray:
    """(N, 2) points, consecutive pairs being segments of the contours of ``z`` at ``levels``.

    ``z[i, j]`` is the value at (xs[j], ys[i]). Non-finite cells are skipped. Per level, the cells
    crossed twice come first (row by row), then the saddle cells crossed four times.
    """
    xs = np.ascontiguousarray(xs, dtype=np.float64)
    ys = np.ascontiguousarray(ys, dtype=np.float64)
    z = np.ascontiguousarray(z, dtype=np.float64)
    levels = np.ascontiguousarray(levels, dtype=np.float64).reshape(-1)
    if z.shape != (ys.size, xs.size) or min(z.shape) < 2:
        return np.zeros((0, 2))
    return _marching_squares(xs, ys, z, levels)


# Compiled, and free of the GIL, because the map redraws its contours on every pan, zoom and
# surface change: numpy's version took 125 ms for 300 x 300 x 24 levels on the GUI thread.
@njit(cache=True, nogil=True)
def _marching_squares(xs, ys, z, levels):
    rows, cols = z.shape[0] - 1, z.shape[1] - 1
    count = 0  # first pass: how many segments, so the result is allocated once
    for level in levels:
        for i in range(rows):
            for j in range(cols):
                crossings = _crossings(z, i, j, level)
                count += 1 if crossings == 2 else 2 if crossings == 4 else 0
    out = np.empty((2 * count, 2))
    n = 0
    edge_x, edge_y = np.empty(4), np.empty(4)
    for level in levels:
        for saddles in (False, True):
            for i in range(rows):
                for j in range(cols):
                    crossings = _crossings(z, i, j, level)
                    if crossings != (4 if saddles else 2):
                        continue
                    crossed = _edge_points(xs, ys, z, i, j, level, edge_x, edge_y)
                    if saddles:  # pair bottom with left, right with top
                        order = (0, 3, 1, 2)
                    else:  # the two crossed edges, in edge order
                        first = 0
                        while not crossed[first]:
                            first += 1
                        second = first + 1
                        while not crossed[second]:
                            second += 1
                        order = (first, second, -1, -1)
                    for k in range(4):
                        if order[k] >= 0:
                            out[n, 0], out[n, 1] = edge_x[order[k]], edge_y[order[k]]
                            n += 1
    return out


@njit(cache=True, nogil=True, inline="always")
def _crossings(z, i, j, level):
    """How many of cell (i, j)'s edges ``level`` crosses; 0 for a cell with a non-finite corner."""
    z00, z01, z10, z11 = z[i, j], z[i, j + 1], z[i + 1, j], z[i + 1, j + 1]
    if not (np.isfinite(z00) and np.isfinite(z01) and np.isfinite(z10) and np.isfinite(z11)):
        return 0
    a00, a01, a10, a11 = z00 > level, z01 > level, z10 > level, z11 > level
    return int(a00 != a01) + int(a01 != a11) + int(a10 != a11) + int(a00 != a10)


@njit(cache=True, nogil=True, inline="always")
def _edge_points(xs, ys, z, i, j, level, edge_x, edge_y):
    """Where ``level`` crosses each edge of cell (i, j), into ``edge_x``/``edge_y``; which edges it
    crosses. Edges: 0 bottom (00-01), 1 right (01-11), 2 top (10-11), 3 left (00-10)."""
    x0, x1, y0, y1 = xs[j], xs[j + 1], ys[i], ys[i + 1]
    z00, z01, z10, z11 = z[i, j], z[i, j + 1], z[i + 1, j], z[i + 1, j + 1]
    ends = ((z00, z01), (z01, z11), (z10, z11), (z00, z10))
    crossed = [False, False, False, False]
    for e in range(4):
        a, b = ends[e]
        crossed[e] = (a > level) != (b > level)
        t = min(max((level - a) / (b - a), 0.0), 1.0) if crossed[e] else 0.0
        if e == 0:
            edge_x[e], edge_y[e] = x0 + t * (x1 - x0), y0
        elif e == 1:
            edge_x[e], edge_y[e] = x1, y0 + t * (y1 - y0)
        elif e == 2:
            edge_x[e], edge_y[e] = x0 + t * (x1 - x0), y1
        else:
            edge_x[e], edge_y[e] = x0, y0 + t * (y1 - y0)
    return crossed


def compile_kernels() -> None:
    """Compile the contour kernel (or load it from Numba's cache) on a tiny case."""
    contour_segments(np.arange(2.0), np.arange(2.0), np.array([[0.0, 1.0], [1.0, 2.0]]), [0.5])
