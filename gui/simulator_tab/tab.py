"""The Simulator tab: scenario and runs on the left, the map and playback in the middle, plots right."""

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.scenario import Scenario, ScenarioError, default_scenario
from gui.simulator_tab.legend_place import LegendPlacer
from gui.simulator_tab.map_view import MapView
from gui.simulator_tab.model import SimulatorModel
from gui.simulator_tab.playback import Playback, PlaybackBar
from gui.simulator_tab.run_panel import RunEditor, RunList, ScenarioPanel
from gui.simulator_tab.side_plots import SidePlots
from gui.widgets.column import scrolling_column
from simulator import SimulatorError
from simulator.trajectory import write_runs_csv

OWN_START_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


class SimulatorTab(QWidget):
    status = Signal(str)

    def __init__(self, scenario: Scenario | None = None, parent=None):
        super().__init__(parent)
        self.model = SimulatorModel(scenario or default_scenario(), self)
        self.playback = Playback(self)
        self.map = MapView(self)
        self.side = SidePlots(self)
        self.bar = PlaybackBar(self.playback, self)

        self.scenario_panel = ScenarioPanel(self.model, self)
        self.run_list = RunList(self.model, self)
        self.run_editor = RunEditor(self.model, self)
        view_box = QGroupBox("View", self)
        view_layout = QVBoxLayout(view_box)
        arrows = QHBoxLayout()
        self.arrow_boxes = {}
        for kind, label, tip in (
            ("gradient", "gradient", "Direction of −gradient at the current point (G)"),
            ("update", "update", "The next step the optimizer takes, to scale (U)"),
            ("momentum", "momentum", "Direction of the momentum / first moment carried into the next step "
                                     "(M)"),
        ):
            box = QCheckBox(label, view_box)
            box.setToolTip(tip)
            box.setChecked(self.map.arrows_shown[kind])
            box.toggled.connect(lambda on, kind=kind: self.map.set_arrows(**{kind: on}))
            arrows.addWidget(box)
            self.arrow_boxes[kind] = box
        view_layout.addLayout(arrows)
        reset = QPushButton("Reset view", view_box)
        reset.setToolTip("Back to the surface's view bounds (Ctrl+0)")
        reset.clicked.connect(self.map.reset_view)
        view_layout.addWidget(reset)

        scroll = scrolling_column(self, (self.scenario_panel, self.run_list, self.run_editor, view_box))

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for widget in (scroll, self.map, self.side):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(1, 1)
        # the plots' column as wide as the side table needs: no value cut, nor the usual run names
        self.splitter.setSizes([390, 800, self.side.table.preferred_width()])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter, 1)
        # the whole width, as in a video player: under the map alone, a laptop's 1280 pixels left
        # the timeline 15 pixels wide
        layout.addWidget(self.bar)

        self._side_timer = QTimer(self, singleShot=True, interval=0)
        self._side_timer.timeout.connect(self._show_side_results)
        self._side_begun = False  # the side plots have begun showing the latest results
        self.model.changed.connect(self._show_results)
        self.model.surface_changed.connect(self._show_surface)
        self._announced_computing = False  # the status bar said "Computing … runs"
        self.model.busy_changed.connect(self._show_busy)
        self.playback.frame_changed.connect(self._show_frame)
        self.side.step_clicked.connect(self.playback.go_to)
        self.map.start_moved.connect(self._start_moved)
        self.map.map_clicked.connect(self._map_clicked)
        self.legend_placer = LegendPlacer(self.map)
        self.model.changed.connect(self.legend_placer.place)  # after _show_results: runs are drawn
        for panel in (self.scenario_panel, self.run_list):
            panel.status.connect(self.status)
        self._show_surface()
        self._show_results()

    # ---- model -> views --------------------------------------------------------------------------

    def _show_surface(self) -> None:
        scenario = self.model.scenario
        # the view first: the field is then drawn once, for that view (set_surface draws at once)
        self.map.set_view(scenario.view or self.model.surface.bounds)
        self.map.set_surface(self.model.surface, scenario.surface_params)
        self.scenario_panel.refresh()

    def _show_results(self) -> None:
        results = self.model.results
        rows = [len(r.trajectory.xy) - 1 for r in results if r.trajectory is not None]
        self.playback.set_last(max(rows, default=self.model.scenario.steps))
        self.map.set_results(self.model.scenario, results)
        # The map repaints first, the side plots in the turns of the event loop that follow, one
        # run's curves a turn: repainting all three at once (new curves, auto-range, axes, grids)
        # kept the window from answering for 100-250 ms after a surface switch or with 200,000-step
        # curves; in turns, input is handled in between.
        self._side_begun = False
        self._side_timer.start()
        self._show_frame(self.playback.frame)

    def _show_side_results(self) -> None:
        """One run's curves per turn of the event loop (each at most ~25 ms), then the cursors."""
        model = self.model
        if not self._side_begun:
            self._side_begun = True
            self.side.begin(model.surface, model.results, bool(model.scenario.surface_params))
        if self.side.draw_next():
            self._side_timer.start()
            return
        self.side.set_frame(self.playback.frame)

    def _show_busy(self, busy: bool) -> None:
        pending = sum(result.pending for result in self.model.results)
        if busy and pending:
            runs = "run" if pending == 1 else "runs"
            self.status.emit(f"Computing {pending} {runs} of {self.model.scenario.steps:,} steps in the "
                             "background…")
            self._announced_computing = True
        elif not busy and not pending and self._announced_computing:
            self._announced_computing = False
            self.status.emit("Runs computed")

    @property
    def side_pending(self) -> bool:
        """True while the side plots still show the runs from before the latest results."""
        return self._side_timer.isActive()

    def _show_frame(self, frame: int) -> None:
        self.map.set_frame(frame)
        if not self.side_pending:  # the deferred update shows the frame with the new runs
            self.side.set_frame(frame)

    # ---- start points ------------------------------------------------------------------------------

    def _start_moved(self, index: int, x: float, y: float) -> None:
        why = self.model.check_start(x, y)
        if why:
            self.status.emit(why)
            return
        if index < 0:
            self.model.set_start(x, y)
        else:
            self.model.update_run(index, start=(x, y))
        self.run_editor.show_start()  # a drag sends many moves: refresh only the start fields

    def _map_clicked(self, x: float, y: float, modifiers) -> None:
        why = self.model.check_start(x, y)
        if why:
            self.status.emit(why)
            return
        own = bool(modifiers & OWN_START_MODIFIERS) and self.model.selected >= 0
        if own:
            self.model.update_run(self.model.selected, start=(x, y))
            name = self.model.scenario.runs[self.model.selected].name
            self.status.emit(f"{name} starts at ({x:.4g}, {y:.4g}); plain click moves the shared start")
        else:
            self.model.set_start(x, y)
            self.status.emit(f"Start ({x:.4g}, {y:.4g}); Ctrl+click gives the selected run its own start")
        self.run_editor.show_run(self.model.selected)

    # ---- scenario in and out -------------------------------------------------------------------------

    def load_scenario(self, scenario: Scenario) -> None:
        """Replace the scenario; on any error nothing changes (ScenarioError)."""
        self.playback.pause()
        try:
            self.model.load(scenario)
        except SimulatorError as error:
            raise ScenarioError(str(error)) from None
        self.playback.seek(0)

    def current_scenario(self) -> Scenario:
        scenario = self.model.scenario
        scenario.view = self.map.view()
        return scenario

    def export_csv(self, path) -> int:
        if any(result.pending for result in self.model.results):
            raise ScenarioError("the runs are still being computed: export them once they are done")
        trajectories = [r.trajectory for r in self.model.results if r.trajectory is not None]
        if not trajectories:
            raise ScenarioError("no run has a trajectory to export")
        write_runs_csv(path, trajectories)
        return len(trajectories)

    def export_map(self, path: str) -> None:
        """The map as PNG (what is on screen) or SVG (vector); SimulatorError says why not."""
        self.map.save_image(path)
