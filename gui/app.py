"""OptiScope's main window: the Simulator and Training tabs, menus with shortcuts, settings.

The window remembers its geometry, the last scenario and folder, and how the Simulator was viewed
(speed, loop, arrows, splitter sizes) (gui/settings.py: a plain JSON file, never QSettings, whose
values PySide6 may unpickle). Errors from files (a scenario that cannot
be read, an export that cannot be written) are shown in a dialog and leave the current scenario
untouched. Closing while a worker thread runs asks it to stop and closes once it has finished: a
QThread destroyed while running aborts the process.
"""

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QByteArray, Qt, QThread, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.scenario import RunSpec, Scenario, default_scenario, presets
from gui.settings import AppSettings, keep_qt_settings_private
from gui.simulator_tab.playback import SPEEDS
from gui.simulator_tab.tab import SimulatorTab
from gui.startup import announce_when_shown, finish_preloads, preload_in_background, prepare_first_window
from gui.theme import configure_pyqtgraph
from gui.widgets.file_dialogs import ask_open_path, ask_save_path, remember_folders_in
from gui.widgets.wheel_guard import guard_wheel_in_columns
from simulator import SimulatorError

if TYPE_CHECKING:  # imported when first shown (torch; the batch kernels)
    from gui.explore_tab.tab import ExploreTab
    from gui.training_tab.tab import TrainingTab

APP_NAME = "OptiScope"
WELCOME = ("Space plays, ← → step, Home/End jump. Click the map to move the start; "
           "Ctrl+click: the selected run only.")
TRAINING_HINT = ("Choose data, model, optimizer and schedule on the left; Ctrl+Enter starts. Tick runs "
                 "in the list to compare their curves.")
EXPLORE_HINT = ("Basin map: where the selected run ends from every start; lr sweep: the ticked runs over "
                "a range of learning rates. Click a pixel or a point to play it in the Simulator.")


DEFAULT_SIZE = (1560, 940)
TITLE_BAR_ALLOWANCE = 32  # the window manager's frame is not known before the window is shown


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None, scenario: Scenario | None = None, autoplay=True,
                 restored_error: str = ""):
        """``scenario`` None: the one saved in ``settings`` (or the default); ``restored_error``: why
        the saved one could not be restored, when the caller already tried."""
        super().__init__()
        configure_pyqtgraph()
        guard_wheel_in_columns(QApplication.instance())
        self.settings = settings if settings is not None else AppSettings()
        remember_folders_in(self.settings)  # every tab's file dialogs open in the last folder
        self._closing_after: list[QThread] = []  # the threads a deferred close waits for
        self._actions: list[QAction] = []  # every menu action, in menu order
        self._simulator_actions: list[QAction] = []
        self.setWindowTitle(APP_NAME)
        if scenario is None:
            scenario, restored_error = last_scenario(self.settings)
        self.simulator = SimulatorTab(scenario, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.simulator, "Simulator")
        # The Training tab imports torch (about a second): it is built the first time it is shown,
        # so the app opens as fast as before.
        self.training: TrainingTab | None = None
        self._training_holder = QWidget(self)
        QVBoxLayout(self._training_holder).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self._training_holder, "Training")
        self.explore: ExploreTab | None = None
        self._explore_holder = QWidget(self)
        QVBoxLayout(self._explore_holder).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self._explore_holder, "Explore")
        self.tabs.currentChanged.connect(self._tab_shown)
        self.setCentralWidget(self.tabs)
        self.simulator.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._build_menus()
        restore_simulator_view(self.simulator, self.settings)
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(QByteArray(geometry)):
            if geometry is not None:
                self.settings.note("the saved window geometry", "not a saved geometry", key="geometry")
            self._fit_to_screen()
        self.statusBar().showMessage(restored_error or WELCOME)
        if autoplay:
            self.simulator.playback.play()

    def _fit_to_screen(self) -> None:
        """The default size where the screen has room for it, else the screen's available area (a
        1280x800 laptop): never a window whose playback bar and status bar are off-screen."""
        screen = self.screen() or QApplication.primaryScreen()
        available = screen.availableGeometry()
        width = min(DEFAULT_SIZE[0], available.width())
        height = min(DEFAULT_SIZE[1], available.height() - TITLE_BAR_ALLOWANCE)
        self.resize(width, height)
        self.move(available.x() + (available.width() - width) // 2,
                  available.y() + (available.height() - height - TITLE_BAR_ALLOWANCE) // 2)

    def _tab_shown(self, index: int) -> None:
        # the Simulator's keys (Space, arrows, Delete, ...) act on it only while it is shown
        for action in self._simulator_actions:
            action.setEnabled(self.tabs.widget(index) is self.simulator)
        shown = self.tabs.widget(index)
        if shown is self._training_holder:
            self.training_tab(sliced=True)  # a click on the tab: built in steps, never frozen
        elif shown is self._explore_holder:
            self.explore_tab()
        hints = {self.simulator: WELCOME, self._training_holder: TRAINING_HINT,
                 self._explore_holder: EXPLORE_HINT}
        self.statusBar().showMessage(hints[shown])  # each tab's own hint, never another tab's

    def explore_tab(self) -> "ExploreTab":
        """The Explore tab, built on first use."""
        if self.explore is None:
            from gui.explore_tab.tab import ExploreTab

            self.explore = ExploreTab(parent=self._explore_holder)
            self._explore_holder.layout().addWidget(self.explore)
            self.explore.show()
            self.explore.status.connect(lambda text: self.statusBar().showMessage(text, 10000))
            self.explore.open_in_simulator.connect(self.open_in_simulator)
        return self.explore

    def show_explore(self) -> "ExploreTab":
        self.tabs.setCurrentWidget(self._explore_holder)
        return self.explore_tab()

    def open_in_simulator(self, request: dict) -> None:
        """Play one run from Explore in the Simulator: its surface, steps, noise and the run."""
        model = self.simulator.model
        scenario = model.scenario
        adopted = [f"{what} {show}" for what, show, now, wanted in (
            ("surface", request["surface"], (scenario.surface, scenario.surface_params),
             (request["surface"], request["surface_params"])),
            ("steps", request["steps"], scenario.steps, request["steps"]),
            ("noise σ", f"{request['noise']:g}", scenario.noise, request["noise"]),
            ("seed", request["seed"], scenario.seed, request["seed"])) if now != wanted]
        try:
            new_surface = (scenario.surface, scenario.surface_params) != \
                (request["surface"], request["surface_params"])
            if new_surface:
                model.set_surface(request["surface"])
                scenario.surface_params = dict(request["surface_params"])
            scenario.noise, scenario.seed = request["noise"], request["seed"]
            model.set_steps(request["steps"])  # recomputes every run with all of the above
            if new_surface:
                model.surface_changed.emit()  # the map redraws its field with the parameters too
            model.add_run(request["run"])
        except SimulatorError as error:
            self._failed("Could not open this run in the Simulator.", error)
            return
        self.simulator.scenario_panel.refresh()  # the editors show what the scenario now is
        self.tabs.setCurrentWidget(self.simulator)
        self.simulator.playback.first()
        self.simulator.playback.play()
        # A run from Explore replays exactly only with Explore's surface, steps and noise, which the
        # whole scenario shares: say which of them the Simulator took over.
        took = f" (the Simulator now has Explore's {', '.join(adopted)})" if adopted else ""
        self.statusBar().showMessage(f"{request['run'].name}: playing in the Simulator{took}", 15000)

    def training_tab(self, sliced: bool = False) -> "TrainingTab":
        """The Training tab, built on first use: whole at once, or (``sliced``, for a click on the
        tab) its frame now and the rest in steps from the event loop, each well under 100 ms; building
        it at once froze the window for 0.5-0.9 s."""
        if self.training is None:
            from gui.training_tab.tab import TrainingTab

            if not sliced:
                QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.training = TrainingTab(parent=self._training_holder, build_now=not sliced)
            finally:
                if not sliced:
                    QApplication.restoreOverrideCursor()
            self._training_holder.layout().addWidget(self.training)
            self.training.show()  # a child added to a shown widget stays hidden until told
            self.training.status.connect(lambda text: self.statusBar().showMessage(text, 10000))
            self.training.try_on_surface.connect(self.try_on_surface)
        if not sliced:
            self.training.finish_building()  # a menu command or a caller needs the whole tab now
        return self.training

    def show_training(self) -> "TrainingTab":
        """The Training tab, shown and whole (built before it is shown: its widgets show with it)."""
        tab = self.training_tab()
        self.tabs.setCurrentWidget(self._training_holder)
        return tab

    def try_on_surface(self, config) -> None:
        """Add the training configuration's optimizer, settings and schedule as a Simulator run."""
        spec, dropped = run_spec_from_training(config, self.simulator.model.scenario)
        if spec is None:
            self._failed("This optimizer cannot run on a surface.", SimulatorError(dropped))
            return
        self.simulator.model.add_run(spec)
        self.tabs.setCurrentWidget(self.simulator)
        self.simulator.playback.play()
        note = f" (left out: {dropped})" if dropped else ""
        self.statusBar().showMessage(f"{spec.name} added to the Simulator{note}", 15000)

    # ---- menus ---------------------------------------------------------------------------------

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "", checkable=False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        menu.addAction(action)
        self._actions.append(action)
        return action

    def _build_menus(self) -> None:
        tab = self.simulator
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&New scenario", self.new_scenario, "Ctrl+Shift+N",
                     tip="Back to the scenario of a first start")
        self._action(file_menu, "&Open scenario…", self.open_scenario, QKeySequence.StandardKey.Open)
        self._action(file_menu, "&Save scenario as…", self.save_scenario, QKeySequence.StandardKey.Save)
        preset_menu = file_menu.addMenu("&Presets")
        for title, path in presets():
            self._action(preset_menu, title, lambda _=False, p=path: self.load_file(p), tip=str(path.name))
        file_menu.addSeparator()
        self._action(file_menu, "Export trajectories as &CSV…", self.export_csv, "Ctrl+E")
        self._action(file_menu, "Export map as &PNG…", lambda: self.export_map("png"), "Ctrl+Shift+E")
        self._action(file_menu, "Export map as S&VG…", lambda: self.export_map("svg"))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        runs = bar.addMenu("&Runs")
        first_simulator_action = len(self._actions)
        self._action(runs, "&Add run", tab.run_list.add, "Ctrl+N")
        self._action(runs, "&Duplicate run", tab.run_list.duplicate, "Ctrl+D")
        self._action(runs, "&Remove run…", self.remove_run_confirmed, QKeySequence.StandardKey.Delete)
        self._action(runs, "Re&colour run…", tab.run_list.recolour)

        play = bar.addMenu("&Playback")
        playback = tab.playback
        self._action(play, "&Play / pause", playback.toggle, "Space")
        self._action(play, "Step &forward", lambda: playback.step(1), "Right")
        self._action(play, "Step &back", lambda: playback.step(-1), "Left")
        self._action(play, "&First frame", playback.first, "Home")
        self._action(play, "&Last frame", playback.end, "End")
        self.loop_action = self._action(play, "L&oop", tab.bar.loop.setChecked, "L", checkable=True)
        tab.bar.loop.toggled.connect(self.loop_action.setChecked)

        view = bar.addMenu("&View")
        self._action(view, "&Reset view", tab.map.reset_view, "Ctrl+0")
        for kind, key in (("gradient", "G"), ("update", "U"), ("momentum", "M")):
            box = tab.arrow_boxes[kind]
            action = self._action(view, f"Show {kind} arrows", box.setChecked, key, checkable=True)
            action.setChecked(box.isChecked())
            box.toggled.connect(action.setChecked)
        self._simulator_actions = self._actions[first_simulator_action:]  # Runs, Playback, View

        training = bar.addMenu("&Training")
        self._action(training, "&Start training", lambda: self.show_training().start(), "Ctrl+Return")
        self._action(training, "&Pause / resume", lambda: self.training_tab().toggle_pause(), "Ctrl+P")
        self._action(training, "S&top", lambda: self.training_tab().stop(), "Ctrl+.")
        training.addSeparator()
        self._action(training, "&Load run configuration…", lambda: self.show_training().load_config_dialog())
        self._action(training, "Sa&ve run configuration…", lambda: self.show_training().save_config_dialog())

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About OptiScope", self.show_about)

    # ---- files -----------------------------------------------------------------------------------

    def _ask_path(self, title: str, pattern: str, save: bool, suffix: str = "", name: str = "") -> str:
        path = ask_save_path(self, title, name, pattern) if save else ask_open_path(self, title, pattern)
        if path and save and suffix and not path.lower().endswith(suffix):
            path += suffix
        return path

    def _failed(self, what: str, error: Exception) -> None:
        QMessageBox.warning(self, APP_NAME, f"{what}\n\n{error}")
        self.statusBar().showMessage(f"{what}: {error}", 10000)

    def load_file(self, path) -> bool:
        try:
            scenario = Scenario.load(path)
            self.simulator.load_scenario(scenario)
        except SimulatorError as error:
            self._failed("Could not open the scenario; the current one is unchanged.", error)
            return False
        title = scenario.title or Path(path).stem
        message = f"{title}: {scenario.description}" if scenario.description else title
        self.statusBar().showMessage(message, 15000)
        self.simulator.playback.play()
        return True

    def new_scenario(self) -> None:
        """The Simulator as at a first start (the default scenario, playing), once the user said
        yes where the current runs would be lost (there is no undo)."""
        fresh = default_scenario()
        if not same_but_view(self.simulator.model.scenario, fresh):
            count = len(self.simulator.model.scenario.runs)
            answer = QMessageBox.question(
                self, APP_NAME, f"Replace the current scenario and its {count} runs with the default one? "
                "Save it first (File > Save scenario as…) to keep it.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.simulator.load_scenario(fresh)
        self.statusBar().showMessage(f"{fresh.title}: {fresh.description}", 15000)
        self.simulator.playback.play()

    def open_scenario(self) -> None:
        path = self._ask_path("Open scenario", "Scenarios (*.json);;All files (*)", save=False)
        if path:
            self.load_file(path)

    def save_scenario(self) -> None:
        name = self.simulator.model.scenario.title or "scenario"
        path = self._ask_path("Save scenario", "Scenarios (*.json)", save=True, suffix=".json",
                              name=f"{name}.json")
        if path:
            try:
                self.simulator.current_scenario().save(path)
            except SimulatorError as error:
                self._failed("Could not save the scenario.", error)
                return
            self.statusBar().showMessage(f"Saved {path}", 8000)

    def export_csv(self) -> None:
        path = self._ask_path("Export trajectories", "CSV (*.csv)", save=True, suffix=".csv",
                              name="trajectories.csv")
        if path:
            try:
                count = self.simulator.export_csv(path)
            except SimulatorError as error:
                self._failed("Could not export the trajectories.", error)
                return
            self.statusBar().showMessage(f"{count} runs written to {path}", 8000)

    def export_map(self, kind: str) -> None:
        path = self._ask_path(f"Export map as {kind.upper()}", f"{kind.upper()} (*.{kind})", save=True,
                              suffix="." + kind, name=f"map.{kind}")
        if path:
            try:
                self.simulator.export_map(path)
            except SimulatorError as error:
                self._failed("Could not export the map.", error)
                return
            self.statusBar().showMessage(f"Map written to {path}", 8000)

    # ---- help, settings ---------------------------------------------------------------------------

    def show_shortcuts(self) -> None:
        lines = []
        for menu_action in self.menuBar().actions():
            for action in menu_action.menu().actions():
                if action.shortcut().toString():
                    name = action.text().replace("&", "")
                    lines.append(f"<tr><td>{name}</td><td><b>{action.shortcut().toString()}</b></td></tr>")
        extra = ("<tr><td>Move the shared start</td><td><b>click / drag ✛</b></td></tr>"
                 "<tr><td>Selected run's own start</td><td><b>Ctrl+click</b></td></tr>")
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{''.join(lines)}{extra}</table>")

    def remove_run_confirmed(self) -> None:
        """Remove the selected Simulator run, once the user said yes (there is no undo)."""
        model = self.simulator.model
        if model.selected < 0:
            return
        name = model.scenario.runs[model.selected].name
        answer = QMessageBox.question(self, APP_NAME, f"Remove the run “{name}”?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.simulator.run_list.remove()

    def show_about(self) -> None:
        QMessageBox.about(self, APP_NAME, "<b>OptiScope</b><br>See how optimizers really move: torch.optim's "
                          "update rules, exact to the last bit, on 2-D surfaces.")

    def closeEvent(self, event) -> None:
        self.simulator.playback.pause()
        running = self._stop_workers()
        if running:
            # Waiting here would freeze the window for as long as the step takes (an LBFGS step on a
            # big batch: minutes) and a QThread destroyed while running aborts the process: close
            # again once every thread has finished.
            self._close_after(running)
            event.ignore()
            return
        if self.training is not None:
            self.training.shutdown()
        if self.explore is not None:
            self.explore.shutdown()
        self.settings.set_geometry(self.saveGeometry().data())
        remember_simulator_view(self.simulator, self.settings)
        try:
            self.settings.set_scenario(self.simulator.current_scenario().to_json())
        except (TypeError, ValueError, SimulatorError) as error:  # never blocks closing
            self.settings.note("the current scenario", f"it cannot be saved: {error}")
        self.settings.save()
        super().closeEvent(event)

    def _stop_workers(self) -> list[QThread]:
        """Ask every worker thread to stop; those still running."""
        running = self.simulator.model.stop_all() + self.simulator.map.stop_all()
        if self.training is not None:
            running += self.training.stop_all()
        if self.explore is not None:
            running += self.explore.stop_all()
        return running

    def _close_after(self, threads: list[QThread]) -> None:
        self.statusBar().showMessage("Stopping…")
        for thread in threads:
            if thread not in self._closing_after:
                self._closing_after.append(thread)
                thread.finished.connect(self._close_if_stopped)  # queued: it is emitted in the thread
        # A thread that finished before its signal was connected is seen here instead. The close is
        # retried after this closeEvent returns: a close() from inside closeEvent is ignored by Qt,
        # and the window would stay open, waiting for threads that have all ended.
        if not any(_still_running(thread) for thread in self._closing_after):
            QTimer.singleShot(0, self, self._close_if_stopped)

    @Slot()
    def _close_if_stopped(self) -> None:
        if self._closing_after and not any(_still_running(thread) for thread in self._closing_after):
            self._closing_after = []
            self.close()  # stops anything started meanwhile, or closes for real


def _still_running(thread: QThread) -> bool:
    # its owner may have deleted it (deleteLater on ``finished``) before this window's slot ran
    return shiboken6.isValid(thread) and thread.isRunning()


def same_but_view(scenario: Scenario, other: Scenario) -> bool:
    """Whether the two differ at most in their view (a zoom loses no work)."""
    one, two = scenario.to_json(), other.to_json()
    one.pop("view"), two.pop("view")
    return one == two


def simulator_splitters(tab: SimulatorTab) -> dict[str, QSplitter]:
    """The Simulator's splitters by the name their sizes are saved under."""
    return {"simulator": tab.splitter, "simulator plots": tab.side.splitter}


def restore_simulator_view(tab: SimulatorTab, settings: AppSettings) -> None:
    """Speed, loop, arrows and splitter sizes as they were at the last close; each value that is
    missing or unreadable leaves that control at its default."""
    speed = settings.speed(*SPEEDS)
    if speed is not None:
        tab.bar.speed.setValue(speed)
    loop = settings.loop()
    if loop is not None:
        tab.bar.loop.setChecked(loop)  # the Playback menu's Loop follows the box
    for kind, shown in settings.arrows(tuple(tab.arrow_boxes)).items():
        tab.arrow_boxes[kind].setChecked(shown)  # and so do the map and the View menu
    for name, splitter in simulator_splitters(tab).items():
        sizes = settings.splitter(name, splitter.count())
        if sizes is not None:
            splitter.setSizes(sizes)


def remember_simulator_view(tab: SimulatorTab, settings: AppSettings) -> None:
    settings.set_speed(tab.bar.speed.value())
    settings.set_loop(tab.bar.loop.isChecked())
    settings.set_arrows({kind: box.isChecked() for kind, box in tab.arrow_boxes.items()})
    for name, splitter in simulator_splitters(tab).items():
        settings.set_splitter(name, splitter.sizes())


def last_scenario(settings: AppSettings) -> tuple[Scenario | None, str]:
    """The scenario shown when the app was last closed (None: the default), and why it could not
    be restored, if it could not (also said once on stderr)."""
    data = settings.scenario()
    if data is not None:
        try:
            return Scenario.from_json(data), ""
        except (ValueError, TypeError, KeyError, RecursionError, SimulatorError) as error:
            settings.note("the saved scenario", str(error) or type(error).__name__, key="scenario")
    why = settings.ignored.get("scenario") or settings.ignored.get("file")
    return None, f"The last scenario could not be restored ({why}); showing the default." if why else ""


def run_spec_from_training(config, scenario: Scenario) -> tuple[RunSpec | None, str]:
    """A Simulator run with the training configuration's optimizer, options and schedule, and what
    had to be left out (options the 2-D simulator has no use for, schedules it does not model)."""
    from simulator import OPTIMIZERS
    from simulator.optimizers import with_reference
    from simulator.schedules import SCHEDULES, join_warmup

    optimizer = with_reference(config.optimizer.name)  # the record reproducing that class
    if optimizer is None:
        references = [spec.reference for spec in OPTIMIZERS.values() if isinstance(spec.reference, str)]
        return None, (f"{config.optimizer.name} is not among the simulator's optimizers "
                      f"({', '.join(references)})")
    name = optimizer.name
    known = set(optimizer.hyperparam_names)
    options = config.optimizer.options
    hyperparams = {k: (tuple(v) if isinstance(v, list) else v) for k, v in options.items() if k in known}
    dropped = [k for k in options if k not in known]
    if config.optimizer.param_groups or config.optimizer.no_decay_bias_norm:
        dropped.append("parameter groups (one point has one group)")
    schedule = None
    scheduler = config.scheduler
    if scheduler.name is not None:
        if scheduler.name in SCHEDULES and scheduler.name != "ReduceLROnPlateau":
            schedule = (scheduler.name, dict(scheduler.options))
            if scheduler.effective_interval == "epoch":
                dropped.append(f"{scheduler.name} steps once per simulator step here, not per epoch")
        else:
            dropped.append(f"the {scheduler.name} schedule")
    schedule = join_warmup(schedule, scheduler.warmup_steps)
    spec = RunSpec(name=scenario.unique_name(f"{name} (from training)"), optimizer=name,
                   hyperparams=hyperparams, schedule=schedule, color=scenario.next_color())
    return spec, "; ".join(dropped)


def run_app(argv=None) -> int:
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    with tempfile.TemporaryDirectory(prefix="optiscope-qt-settings-") as qt_settings:
        keep_qt_settings_private(qt_settings)
        settings = AppSettings()
        scenario, restored_error = last_scenario(settings)
        scenario = scenario or default_scenario()
        prepared_s = prepare_first_window(scenario, APP_NAME)
        window = MainWindow(settings=settings, scenario=scenario, restored_error=restored_error)
        window.show()
        announce_when_shown(window, runs=len(window.simulator.model.scenario.runs),
                            playing=window.simulator.playback.playing, kernels_s=round(prepared_s, 3))
        QTimer.singleShot(0, preload_in_background)  # once the first frame is drawn
        code = app.exec()
        finish_preloads()
        return code
