"""The compiled marching squares against the numpy version it replaced (kept here as the reference):
the same segments, in the same order, bit for bit."""

import numpy as np
import pytest

from gui.simulator_tab.contours import contour_segments
from simulator import get_surface


def numpy_contour_segments(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, levels) -> np.ndarray:
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


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "rastrigin", "three_hump_camel", "beale"])
def test_compiled_contours_equal_the_numpy_reference(name):
    surface = get_surface(name)
    xmin, xmax, ymin, ymax = surface.bounds
    xs, ys = np.linspace(xmin, xmax, 120), np.linspace(ymin, ymax, 100)
    z = surface.grid(xs, ys)
    rng = np.random.default_rng(7)
    z[rng.integers(0, 100, 40), rng.integers(0, 120, 40)] = np.nan  # holes: their cells are skipped
    z[5, 7] = np.inf
    levels = np.linspace(np.nanmin(z[np.isfinite(z)]), np.nanmax(z[np.isfinite(z)]), 14)[1:-1]
    expected = numpy_contour_segments(xs, ys, z, levels)
    got = contour_segments(xs, ys, z, levels)
    assert expected.shape[0] > 100
    assert np.array_equal(got, expected)


def test_a_saddle_cell_gives_two_segments_and_an_empty_field_none():
    xs = ys = np.array([0.0, 1.0])
    saddle = np.array([[1.0, 0.0], [0.0, 1.0]])  # corners alternate around 0.5
    got = contour_segments(xs, ys, saddle, [0.5])
    assert np.array_equal(got, numpy_contour_segments(xs, ys, saddle, [0.5]))
    assert got.shape == (4, 2)
    assert contour_segments(xs, ys, np.full((2, 2), np.nan), [0.5]).shape == (0, 2)
    assert contour_segments(xs, ys, saddle, [5.0]).shape == (0, 2)
