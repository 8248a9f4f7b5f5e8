"""The map never shows a stale field: what it draws through its pixmap caches equals a render with
no cache at all, after every way the field changes (another surface, a preset, a zoom)."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from gui.scenario import Scenario, presets

# Drawing through a cached pixmap rounds alpha blending differently from drawing directly: the
# same picture differs by at most 2 levels in a channel. A stale field differs by up to ~128.
SAME_PICTURE = 8


def pixels(widget) -> np.ndarray:
    image = widget.grab().toImage()
    image = image.convertToFormat(image.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine()).copy()


def settle(qtbot, view):
    qtbot.wait(1)
    qtbot.waitUntil(lambda: not view._redraw.isActive() and not view.field_pending, timeout=5000)
    qtbot.wait(1)


def assert_fresh(qtbot, view):
    """The map as drawn equals the map drawn with every item's cache off (nothing cached)."""
    settle(qtbot, view)
    drawn = pixels(view)
    view._cache_still_items(False)
    try:
        fresh = pixels(view)
    finally:
        view._cache_still_items(True)
    off = np.abs(drawn.astype(int) - fresh.astype(int))
    assert int((off > SAME_PICTURE).sum()) == 0, f"{int((off > SAME_PICTURE).sum())} stale bytes"


@pytest.mark.parametrize("surfaces", [
    ("three_hump_camel", "rosenbrock"), ("himmelblau", "rosenbrock"), ("ackley", "rosenbrock"),
    ("beale", "rosenbrock"),
])
def test_a_new_surface_replaces_the_whole_field(qtbot, window, surfaces):
    model, view = window.simulator.model, window.simulator.map
    for name in surfaces:
        model.set_surface(name)
        assert_fresh(qtbot, view)


def test_loading_a_preset_after_another_redraws_the_field(qtbot, window):
    by_file = {path.name: path for _, path in presets()}
    for name in ("09-sgd-step-size-limit.json", "08-lbfgs-race-rosenbrock.json"):
        window.simulator.load_scenario(Scenario.load(by_file[name]))
        assert_fresh(qtbot, window.simulator.map)


def test_zooming_with_the_wheel_redraws_the_field(qtbot, window):
    window.simulator.model.set_surface("himmelblau")
    view = window.simulator.map
    settle(qtbot, view)
    before = view.view()
    at = view.mapFromScene(view.plot.vb.mapViewToScene(QPointF(3.0, 2.0)))
    for _ in range(6):
        wheel = QWheelEvent(QPointF(at), QPointF(view.viewport().mapToGlobal(at)), QPoint(0, 0), QPoint(0, 120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                            Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(view.viewport(), wheel)
    assert view.view()[1] - view.view()[0] < (before[1] - before[0]) / 2  # it did zoom in
    assert_fresh(qtbot, view)


def test_the_field_is_computed_in_a_worker_and_the_newest_surface_wins(qtbot, window, monkeypatch):
    import threading

    from gui.simulator_tab import map_view
    from gui.simulator_tab.map_view import FieldRequest, compute_field

    model, view = window.simulator.model, window.simulator.map
    settle(qtbot, view)
    threads = []

    def recording(request):
        threads.append(threading.get_ident())
        return compute_field(request)

    monkeypatch.setattr(map_view, "compute_field", recording)
    model.set_surface("rastrigin")
    assert view.field_pending  # nothing computed on the GUI thread: the old field stays meanwhile
    model.set_surface("himmelblau")  # before the rastrigin field is done
    settle(qtbot, view)
    assert threads and threading.get_ident() not in threads
    assert view._drawn_field.surface is model.surface and model.surface.name == "himmelblau"
    expected = compute_field(FieldRequest(model.surface, (), view.view(), None))
    assert np.array_equal(view.image.image, expected.values, equal_nan=True)
    assert np.array_equal(view.contours.xData, expected.segments[:, 0])
    assert_fresh(qtbot, view)


def test_an_export_draws_the_current_field_first(qtbot, window, tmp_path):
    model, view = window.simulator.model, window.simulator.map
    settle(qtbot, view)
    model.set_surface("ackley")
    assert view.field_pending
    view.save_image(str(tmp_path / "map.png"))  # at once, before the worker is done
    assert not view.field_pending and view._drawn_field.surface.name == "ackley"
    drawn = view._drawn_field
    settle(qtbot, view)  # the worker's field arrives later and is not drawn again
    assert view._drawn_field is drawn
    assert_fresh(qtbot, view)
