"""Contour lines by marching squares, vectorised with numpy, and the heat map's value scale.

pyqtgraph's IsocurveItem walks the grid in Python (~25 ms per level on 300x300); the map redraws
its contours whenever the view is panned or zoomed, so it needs all levels in a few milliseconds.
The result is one array of segment end points, drawn by a single ``connect="pairs"`` curve.
"""

import numpy as np

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

    ``z[i, j]`` is the value at (xs[j], ys[i]). Non-finite cells are skipped.
    """
    z00, z01 = z[:-1, :-1], z[:-1, 1:]
    z10, z11 = z[1:, :-1], z[1:, 1:]
    finite = np.isfinite(z00) & np.isfinite(z01) & np.isfinite(z10) & np.isfinite(z11)
    x0, x1 = xs[:-1][None, :], xs[1:][None, :]
    y0, y1 = ys[:-1][:, None], ys[1:][:, None]
    chunks = []
    for level in levels:
        # edges: 0 bottom (00-01), 1 right (01-11), 2 top (10-11), 3 left (00-10)
        corners = ((z00, z01), (z01, z11), (z10, z11), (z00, z10))
        crossing = np.stack([((a > level) != (b > level)) & finite for a, b in corners], axis=-1)
        count = crossing.sum(axis=-1)
        if not np.any(count):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            t = [np.clip((level - a) / (b - a), 0.0, 1.0) for a, b in corners]
        px = np.stack(np.broadcast_arrays(x0 + t[0] * (x1 - x0), x1, x0 + t[2] * (x1 - x0), x0), axis=-1)
        py = np.stack(np.broadcast_arrays(y0, y0 + t[1] * (y1 - y0), y1, y0 + t[3] * (y1 - y0)), axis=-1)
        points = np.stack([px, py], axis=-1)  # (ny-1, nx-1, 4 edges, 2)
        two = count == 2
        if np.any(two):
            order = np.argsort(~crossing[two], axis=-1, kind="stable")[:, :2]
            cells = points[two]
            first = np.take_along_axis(cells, order[:, :1, None], axis=1)[:, 0]
            second = np.take_along_axis(cells, order[:, 1:2, None], axis=1)[:, 0]
            chunks.append(np.stack([first, second], axis=1).reshape(-1, 2))
        four = count == 4
        if np.any(four):  # a saddle cell: pair bottom with left, right with top
            cells = points[four]
            pairs = np.stack([cells[:, 0], cells[:, 3], cells[:, 1], cells[:, 2]], axis=1)
            chunks.append(pairs.reshape(-1, 2))
    if not chunks:
        return np.zeros((0, 2))
    return np.concatenate(chunks)
