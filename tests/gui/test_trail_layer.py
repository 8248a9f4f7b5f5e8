"""The map's trails (one TrailLayer) and the pixel caches that keep an animation frame cheap."""

import re

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPixmapCache
from PySide6.QtWidgets import QApplication

from gui.scenario import compute, default_scenario
from gui.simulator_tab.map_view import MapView
from gui.theme import configure_pyqtgraph
from simulator import get_surface


@pytest.fixture
def shown_map(qtbot):
    configure_pyqtgraph()
    scenario = default_scenario()
    view = MapView(background_fields=False)
    qtbot.addWidget(view)
    view.resize(700, 600)
    view.show()
    qtbot.waitExposed(view)
    surface = get_surface(scenario.surface)
    view.set_surface(surface)
    view.set_view(surface.bounds)
    view.set_results(scenario, compute(scenario))
    QApplication.processEvents()
    return view


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4).astype(int)


def show_frame(view: MapView, frame: int) -> None:
    view.set_frame(frame)
    QApplication.processEvents()


def test_trails_drawn_frame_by_frame_equal_a_full_redraw(shown_map):
    view = shown_map
    for frame in [*range(0, 400, 3), *range(400, 150, -11), 600, 37]:  # playing, stepping back, jumps
        show_frame(view, frame)
    step_by_step = pixels(view.trails.layer_image())
    view.trails.set_trails(view.trails.trails)  # forget the image: the next paint draws it whole
    QApplication.processEvents()
    redrawn = pixels(view.trails.layer_image())
    difference = np.abs(step_by_step - redrawn).max(axis=2)
    assert (redrawn[..., 3] > 0).sum() > 500  # the trails are there
    assert difference.max() <= 4 and (difference > 0).sum() < 20  # rounding, nothing a person sees


def test_the_trail_is_the_trajectory_up_to_the_frame_at_half_a_pixel(shown_map):
    view = shown_map
    show_frame(view, 250)
    vb = view.plot.vb
    (xmin, xmax), (ymin, ymax) = vb.viewRange()
    pixel = np.array([(xmax - xmin) / vb.width(), (ymax - ymin) / vb.height()])
    for index, result in enumerate(view.run_items()):
        xy = result.result.trajectory.xy
        rows = view.trails.drawn_rows(index)
        assert rows[0] == 0 and rows[-1] == 250 and np.all(np.diff(rows) > 0)
        np.testing.assert_array_equal(view.trails.trail_points(index), xy[rows])
        # a row left out lies within half a pixel of the point drawn before it
        kept_before = rows[np.searchsorted(rows, np.arange(251), side="right") - 1]
        gaps = np.abs(xy[:251] - xy[kept_before]) / pixel
        assert np.all(gaps.max(axis=1)[~np.isin(np.arange(251), rows)] < 0.5 + 1e-6)


def test_the_still_frame_is_antialiased(shown_map):
    view = shown_map
    show_frame(view, 300)
    alpha = pixels(view.trails.layer_image())[..., 3]
    edges, solid = ((alpha > 0) & (alpha < 255)).sum(), (alpha == 255).sum()
    assert edges > 0.3 * solid  # smooth edges all along the 2-pixel trails, not staircases


def test_hiding_a_trail_from_the_legend_and_from_the_run_list(shown_map):
    view = shown_map
    show_frame(view, 200)
    sample = view.run_items()[1].legend_line
    sample.setVisible(False)  # what a click on the legend sample does
    assert not view.trails.trails[1].shown and len(view.trails.trail_points(1)) == 0
    sample.setVisible(True)
    assert view.trails.trails[1].shown and len(view.trails.trail_points(1)) > 10


def test_svg_export_keeps_trails_and_contours_as_vectors(shown_map, tmp_path):
    view = shown_map
    show_frame(view, 300)
    view.save_image(str(tmp_path / "map.svg"))
    svg = (tmp_path / "map.svg").read_text()
    colour = view.run_items()[0].result.spec.color.lower()
    trail_paths = re.findall(rf'stroke="{colour}"[^>]*>\s*<path[^>]*d="([^"]*)"', svg, re.IGNORECASE)
    assert any(path.count("L") > 20 for path in trail_paths)
    # items cached as pixmaps on screen are exported as themselves, not as pasted pictures: the only
    # images are the 300x300 colour field, the 1x256 colour bar and pyqtgraph's marker symbols
    sizes = [(float(w), float(h)) for w, h in re.findall(r'<image[^>]*width="([\d.]+)" height="([\d.]+)"', svg)]
    assert (300, 300) in sizes
    assert [size for size in sizes if size[0] * size[1] > 32 * 32 and size not in ((300, 300), (1, 256))] == []
    assert view.contours.cacheMode() == view.contours.CacheMode.DeviceCoordinateCache  # back on after


def test_the_pixel_caches_get_room_as_the_window_grows(window, qtbot):
    window.resize(1400, 900)
    qtbot.wait(50)
    small = QPixmapCache.cacheLimit()
    window.resize(2500, 1500)
    qtbot.wait(50)
    map_bytes = window.simulator.map.width() * window.simulator.map.height() * 4
    assert QPixmapCache.cacheLimit() > small and QPixmapCache.cacheLimit() * 1024 > 2 * map_bytes


def test_trail_points_map_to_pixels_as_the_affine_transform_does():
    import numpy as np
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QTransform

    from gui.simulator_tab.trail_layer import _apply

    mapping = QTransform(151.5, 0.25, -0.5, -149.0, 412.0, 301.5)
    xy = np.array([[0.0, 0.0], [1.5, -2.25], [1e308, 3.0], [np.nan, 1.0]])
    device = _apply(mapping, xy, 10, 20)
    for (x, y), (px, py) in zip(xy[:2], device[:2], strict=True):
        expected = mapping.map(QPointF(x, y))
        assert (px, py) == pytest.approx((expected.x() - 10, expected.y() - 20), abs=1e-9)
    assert np.isinf(device[2, 0]) and np.isnan(device[3]).all()  # diverged runs: no error, no number
    assert _apply(mapping, np.zeros((0, 2))).shape == (0, 2)
