"""Headless pictures: a scenario's map with its runs, drawn offscreen to PNG or SVG."""

import os

from gui.scenario import Scenario, ScenarioError, compute
from simulator.errors import SimulatorError

DEFAULT_SIZE = (1200, 900)


def _application():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(["optiscope-render"])


def render_scenario(scenario: Scenario, out, step: int | None = None, size=DEFAULT_SIZE, arrows=None) -> int:
    """Draw ``scenario`` at ``step`` (default: the last) to ``out`` (.png, or .svg); the step drawn.

    Raises ScenarioError for a bad step or an unwritable file.
    """
    _application()
    from gui.simulator_tab.map_view import MapView
    from gui.theme import configure_pyqtgraph
    from simulator import get_surface

    configure_pyqtgraph()
    results = compute(scenario)
    last = max((len(r.trajectory.xy) - 1 for r in results if r.trajectory is not None), default=0)
    if step is None:
        step = last
    if not 0 <= step <= scenario.steps:
        raise ScenarioError(f"--step {step} is outside 0..{scenario.steps}")
    view = MapView(background_fields=False)
    try:
        view.resize(*size)
        view.set_surface(get_surface(scenario.surface), scenario.surface_params)
        view.set_view(scenario.view or get_surface(scenario.surface).bounds)
        if arrows:
            view.set_arrows(**arrows)
        view.set_results(scenario, results)
        view.set_frame(step)
        view.plot.setTitle(scenario.title or None, color="#e8e8e8", size="13pt")
        view.show()
        view.draw_surface()
        _application().processEvents()
        try:
            view.save_image(os.fspath(out))
        except SimulatorError as error:
            raise ScenarioError(str(error)) from None
    finally:
        view.close()
        view.deleteLater()
    return step
