"""The Explore tab: every start point at once (basin map) and every learning rate at once (sweep).

The left column is the Simulator's own editors on a scenario of its own: the surface, steps,
noise, and a list of runs (optimizer, hyperparameters, schedule). The basin map runs the selected
run from a grid of starts; the sweep runs every ticked run over a log-spaced lr range from a set
of random starts. Both go through ``simulator.simulate_many``/``sweep`` in a worker thread with
progress and Cancel; clicking a result plays that trajectory in the Simulator tab.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.explore_tab.views import BasinView, SweepView
from gui.scenario import RunSpec, Scenario
from gui.simulator_tab.model import SimulatorModel
from gui.simulator_tab.run_panel import RunEditor, RunList, ScenarioPanel
from gui.widgets.column import scrolling_column
from gui.widgets.file_dialogs import ask_save_path
from gui.widgets.image_files import save_widget_picture
from gui.workers import JobWorker
from simulator import SimulatorError, get_surface
from simulator.trajectory import write_csv_atomically

RESOLUTIONS = (64, 128, 256, 512)
BASIN_HEADER = ("x0", "y0", "final_x", "final_y", "final_loss", "minimum_index", "converged_step", "diverged",
                "diverged_at")
SWEEP_HEADER = ("run", "optimizer", "lr", "start_index", "x0", "y0", "final_x", "final_y", "final_loss",
                "minimum_index", "converged_step", "diverged")


def explore_scenario() -> Scenario:
    """What the tab opens with: Himmelblau's four minima, and three optimizers to compare."""
    scenario = Scenario(surface="himmelblau", steps=300, title="Explore")
    for name, optimizer, hyperparams in (("Adam", "Adam", {"lr": 0.1}), ("SGD", "SGD", {"lr": 0.01}),
                                         ("SGD + momentum", "SGD", {"lr": 0.005, "momentum": 0.9})):
        scenario.runs.append(RunSpec(name, optimizer, hyperparams, color=scenario.next_color()))
    return scenario


def start_grid(bounds, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, starts): pixel centres covering the view, rows of constant y first."""
    xmin, xmax, ymin, ymax = bounds
    xs = np.linspace(xmin, xmax, resolution)
    ys = np.linspace(ymin, ymax, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([grid_x.ravel(), grid_y.ravel()])


def random_starts(bounds, count: int, seed: int) -> np.ndarray:
    xmin, xmax, ymin, ymax = bounds
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(xmin, xmax, count), rng.uniform(ymin, ymax, count)])


def _without_lr(hyperparams: dict) -> dict:
    return {k: v for k, v in hyperparams.items() if k != "lr"}


class ExploreTab(QWidget):
    status = Signal(str)
    open_in_simulator = Signal(object)  # (Scenario fields dict, RunSpec)

    def __init__(self, scenario: Scenario | None = None, parent=None):
        super().__init__(parent)
        self.model = SimulatorModel(scenario or explore_scenario(), self)
        self.scenario_panel = ScenarioPanel(self.model, self)
        self.run_list = RunList(self.model, self)
        self.run_editor = RunEditor(self.model, self)
        for widget in (self.run_editor.own_start, self.run_editor.start_x, self.run_editor.start_y):
            widget.hide()  # the map chooses the starts here
        self.worker: JobWorker | None = None
        self._failure = "Could not compute."  # the title of a failure's message, for the job running
        self.basin = BasinView(self)
        self.sweep = SweepView(self)
        self.basin_result = None
        self.sweep_results: list = []
        self._build_layout()
        self.basin.start_clicked.connect(self._start_clicked)
        self.sweep.point_clicked.connect(self._sweep_point_clicked)
        for panel in (self.scenario_panel, self.run_list):
            panel.status.connect(self.status)

    # -- layout -----------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        hint = QLabel("The basin map uses the <b>selected</b> run; the sweep every <b>ticked</b> run.", self)
        hint.setWordWrap(True)
        scroll = scrolling_column(self, (hint, self.scenario_panel, self.run_list, self.run_editor))

        self.pages = QTabWidget(self)
        self.pages.addTab(self._basin_page(), "Basin map")
        self.pages.addTab(self._sweep_page(), "Learning-rate sweep")
        centre = QWidget(self)
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        progress_row = QHBoxLayout()
        self.progress = QProgressBar(self)
        self.progress.setFormat("ready")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("stop after the current chunk; what is done so far is shown")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        centre_layout.addWidget(self.pages, 1)
        centre_layout.addLayout(progress_row)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(scroll)
        splitter.addWidget(centre)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([390, 1200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _button(self, text: str, slot, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _basin_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        row.addWidget(QLabel("grid", page))
        self.resolution = QComboBox(page)
        self.resolution.addItems([f"{r} × {r}" for r in RESOLUTIONS])
        self.resolution.setCurrentIndex(1)
        self.resolution.setToolTip("starts per side, over the surface's view")
        row.addWidget(self.resolution)
        self.basin_button = self._button("Compute basin map", self.compute_basin,
                                         "run the selected run from every start of the grid")
        row.addWidget(self.basin_button)
        row.addStretch(1)
        row.addWidget(self._button("Export PNG…", lambda: self._export_image(self.basin.figure, "basin"),
                                   "the map as an image"))
        row.addWidget(self._button("Export CSV…", self.export_basin_dialog, "one row per start"))
        layout.addLayout(row)
        layout.addWidget(self.basin, 1)
        return page

    def _sweep_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        form = QFormLayout()
        range_row = QHBoxLayout()
        self.lr_low, self.lr_high = QLineEdit("1e-4", page), QLineEdit("1", page)
        self.lr_count = QSpinBox(page)
        self.lr_count.setRange(3, 200)
        self.lr_count.setValue(25)
        for widget, tip in ((self.lr_low, "smallest lr"), (self.lr_high, "largest lr"),
                            (self.lr_count, "log-spaced values")):
            widget.setToolTip(tip)
        for widget in (self.lr_low, self.lr_high):
            widget.setMaximumWidth(90)
        range_row.addWidget(self.lr_low)
        range_row.addWidget(QLabel("to", page))
        range_row.addWidget(self.lr_high)
        range_row.addWidget(QLabel("values", page))
        range_row.addWidget(self.lr_count)
        range_row.addStretch(1)
        form.addRow("lr from", range_row)
        self.start_count = QSpinBox(page)
        self.start_count.setRange(1, 10_000)
        self.start_count.setValue(64)
        self.start_count.setToolTip("random starts over the view (seeded by the scenario's seed)")
        self.start_count.setMaximumWidth(90)
        form.addRow("starts", self.start_count)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.sweep_button = self._button("Compute sweep", self.compute_sweep,
                                         "every ticked run at every lr, from every start")
        row.addWidget(self.sweep_button)
        row.addStretch(1)
        row.addWidget(self._button("Export PNG…", lambda: self._export_image(self.sweep.plot, "sweep"),
                                   "the plot as an image"))
        row.addWidget(self._button("Export CSV…", self.export_sweep_dialog, "one row per run, lr and start"))
        layout.addLayout(row)
        layout.addWidget(self.sweep, 1)
        return page

    # -- jobs ---------------------------------------------------------------------------------------
    @property
    def is_busy(self) -> bool:
        return self.worker is not None

    def _run(self, job, on_done, what: str, failure: str = "Could not compute.", starting: str = "") -> bool:
        if self.is_busy:
            return False
        self._failure = failure
        self.worker = JobWorker(job, self)
        self.worker.progressed.connect(self._progressed)
        self.worker.done.connect(on_done)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(self._worker_finished)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(starting or f"{what}: compiling / starting…")
        self._what = what
        for button in (self.basin_button, self.sweep_button):
            button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker.start()
        return True

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"{self._what}: {done:,} / {total:,} runs")

    def _failed(self, message: str) -> None:
        self.progress.setFormat("failed")
        self.status.emit(message)
        QMessageBox.warning(self, "OptiScope", f"{self._failure}\n\n{message}")

    def _worker_finished(self) -> None:
        self.worker = None
        for button in (self.basin_button, self.sweep_button):
            button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def stop_all(self) -> list[JobWorker]:
        """Cancel a job still computing (it stops after its current chunk); the worker, if it is
        still running."""
        if self.worker is None or not self.worker.isRunning():
            return []
        self.worker.cancel()
        return [self.worker]

    def shutdown(self) -> None:
        """The tab's last act, once :meth:`stop_all` has found no thread running."""
        for worker in self.stop_all():
            worker.wait(60_000)
        if self.worker is not None:
            self.worker.wait(100)  # one that emitted ``finished`` may still be tidying up

    def _frozen_scenario(self) -> Scenario:
        return copy.deepcopy(self.model.scenario)

    def _selected_run(self) -> RunSpec | None:
        runs = self.model.scenario.runs
        return runs[self.model.selected] if 0 <= self.model.selected < len(runs) else None

    def compute_basin(self) -> bool:
        from simulator import simulate_many

        run = self._selected_run()
        if run is None:
            self.status.emit("add a run first: the map shows where its optimizer ends from every start")
            return False
        scenario = self._frozen_scenario()  # the worker reads a copy: editing goes on meanwhile
        run = run.copy()
        surface = get_surface(scenario.surface)
        resolution = RESOLUTIONS[self.resolution.currentIndex()]
        xs, ys, starts = start_grid(surface.bounds, resolution)

        def job(progress):
            result = simulate_many(scenario.surface, run.optimizer, starts, scenario.steps, run.hyperparams,
                                   run.schedule, scenario.noise, scenario.seed,
                                   surface_params=scenario.surface_params or None, progress=progress)
            return result, (xs, ys, run.name)  # the grid travels with its result

        return self._run(job, self._basin_done, f"{run.name} from {resolution}×{resolution} starts")

    def _basin_done(self, outcome) -> None:
        result, self._basin_grid = outcome
        xs, ys, name = self._basin_grid
        self.basin_result = result
        self.basin.show_result(result, xs, ys)
        cancelled = " (cancelled: partial)" if result.cancelled else ""
        self.progress.setFormat(f"basin map of {name}{cancelled}")
        self.status.emit(f"basin map of {name}: {len(result.final_loss):,} starts{cancelled}")

    def lr_values(self) -> np.ndarray:
        try:
            low, high = float(self.lr_low.text()), float(self.lr_high.text())
        except ValueError:
            raise SimulatorError("the lr range needs two numbers") from None
        if not (0 < low < high) or not np.isfinite(high):
            raise SimulatorError(f"the lr range needs 0 < from < to, got {low:g} to {high:g}")
        return np.geomspace(low, high, self.lr_count.value())

    def compute_sweep(self) -> bool:
        from simulator import sweep

        scenario = self._frozen_scenario()
        runs = [(i, r) for i, r in enumerate(scenario.runs) if r.visible]
        try:
            lrs = self.lr_values()
        except SimulatorError as error:
            self._failed(str(error))
            return False
        if not runs:
            self.status.emit("tick at least one run to sweep")
            return False
        surface = get_surface(scenario.surface)
        starts = random_starts(surface.bounds, self.start_count.value(), scenario.seed)
        floor = min((f for _, _, f in surface.minima), default=0.0)

        def job(progress):
            results = []
            per_run = len(lrs) * len(starts)
            total = len(runs) * per_run
            for number, (index, run) in enumerate(runs):
                def inner(done, _total, offset=number * per_run):
                    return progress(offset + done, total)

                result = sweep(scenario.surface, run.optimizer, starts, scenario.steps, "lr", list(lrs),
                               _without_lr(run.hyperparams), run.schedule, scenario.noise, scenario.seed,
                               surface_params=scenario.surface_params or None, progress=inner)
                results.append((index, run.name, run.color, result, floor))
                if result.cancelled:
                    break
            return results, starts

        return self._run(job, self._sweep_done, f"{len(runs)} runs × {len(lrs)} lrs × {len(starts)} starts")

    def _sweep_done(self, outcome) -> None:
        results, self._sweep_starts = outcome
        self.sweep_results = results
        self.sweep.show_results(results)
        cancelled = any(result.cancelled for _, _, _, result, _ in results)
        self.progress.setFormat("sweep done" + (" (cancelled: partial)" if cancelled else ""))

    # -- to the Simulator ----------------------------------------------------------------------------
    def _request(self, run: RunSpec, start=None, hyperparams=None) -> dict:
        scenario = self.model.scenario
        spec = run.copy(hyperparams=dict(hyperparams if hyperparams is not None else run.hyperparams),
                        start=start, visible=True)
        return {"surface": scenario.surface, "surface_params": dict(scenario.surface_params),
                "steps": scenario.steps, "noise": scenario.noise, "seed": scenario.seed, "run": spec}

    def _start_clicked(self, x: float, y: float) -> None:
        name = self._basin_grid[2] if self.basin_result is not None else None
        run = next((r for r in self.model.scenario.runs if r.name == name), None) or self._selected_run()
        if run is not None:
            request = self._request(run, start=(x, y))
            request["run"] = request["run"].copy(name=f"{run.name} from ({x:.3g}, {y:.3g})")
            self.open_in_simulator.emit(request)

    def _sweep_point_clicked(self, run_index: int, lr: float) -> None:
        run = self.model.scenario.runs[run_index]
        request = self._request(run, hyperparams={**run.hyperparams, "lr": lr})
        request["run"] = request["run"].copy(name=f"{run.name}, lr {lr:.3g}")
        self.open_in_simulator.emit(request)

    # -- exports ---------------------------------------------------------------------------------------
    def export_basin(self, path) -> int:
        result = self.basin_result
        if result is None:
            raise SimulatorError("compute a basin map first")
        xs, ys, _ = self._basin_grid
        grid_x, grid_y = np.meshgrid(xs, ys)
        rows = [(repr(float(x0)), repr(float(y0)), repr(float(fx)), repr(float(fy)), repr(float(loss)),
                 int(m), int(c), int(d), int(at))
                for x0, y0, (fx, fy), loss, m, c, d, at in zip(
                    grid_x.ravel(), grid_y.ravel(), result.final_xy, result.final_loss, result.minimum_index,
                    result.converged_step, result.diverged, result.diverged_at, strict=True)]
        write_csv_atomically(path, BASIN_HEADER, rows)
        return len(rows)

    def export_sweep(self, path) -> int:
        if not self.sweep_results:
            raise SimulatorError("compute a sweep first")
        rows = []
        for _, name, _, result, _ in self.sweep_results:
            for v, lr in enumerate(result.values):
                for s, (x0, y0) in enumerate(self._sweep_starts):
                    fx, fy = result.final_xy[v, s]
                    rows.append((name, result.optimizer, repr(float(lr)), s, repr(float(x0)), repr(float(y0)),
                                 repr(float(fx)), repr(float(fy)), repr(float(result.final_loss[v, s])),
                                 int(result.minimum_index[v, s]), int(result.converged_step[v, s]),
                                 int(result.diverged[v, s])))
        write_csv_atomically(path, SWEEP_HEADER, rows)
        return len(rows)

    def _ask(self, title: str, name: str, pattern: str) -> str:
        return ask_save_path(self, title, name, pattern)

    def export_basin_dialog(self) -> None:
        self._export_data(self.export_basin, "basin.csv")

    def export_sweep_dialog(self) -> None:
        self._export_data(self.export_sweep, "sweep.csv")

    def _export_data(self, export, name: str) -> bool:
        """Write the CSV in the job thread (a 512² map is 262,144 rows: most of a second)."""
        path = self._ask("Export data", name, "CSV (*.csv)")
        if not path:
            return False
        def written(rows: int) -> None:
            self.progress.setFormat(f"{rows:,} rows written")
            self.status.emit(f"{rows:,} rows written to {path}")

        return self._run(lambda progress: export(path), written, "exporting", failure="Could not export.",
                         starting=f"writing {Path(path).name}…")

    def export_image(self, plot, path) -> None:
        save_widget_picture(plot, path)

    def _export_image(self, plot, name: str) -> None:
        path = self._ask("Export image", f"{name}.png", "PNG (*.png)")
        if path:
            try:
                self.export_image(plot, path)
            except SimulatorError as error:
                QMessageBox.warning(self, "OptiScope", f"Could not export.\n\n{error}")
                return
            self.status.emit(f"image written to {path}")
