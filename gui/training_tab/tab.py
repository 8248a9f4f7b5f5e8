"""The Training tab: configure a run, train it in a worker thread with live curves, compare runs.

The engine (``trainers.loop``) runs in a :class:`gui.workers.TrainingWorker`; its events arrive
here by queued signals and are appended to the run's :class:`RunRecord`. A timer redraws the plots
at most ``REDRAW_HZ`` times a second, and only when something changed. One run trains at a time;
every run is kept in the run list, with its metrics and checkpoint, until it is deleted.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.scenario import PALETTE
from gui.training_tab.config_panel import ConfigPanel
from gui.training_tab.plots import LivePlots
from gui.training_tab.records import PAUSED, RUNNING, RunRecord
from gui.training_tab.run_list import RunList
from gui.widgets.file_dialogs import ask_open_path, ask_save_path
from gui.workers import TrainingWorker
from trainers.command import command_line, duration_text
from trainers.config import RunConfig
from trainers.errors import ConfigError
from trainers.files import copy_file_atomically

REDRAW_HZ = 25
BUILD_STEP_GAP_MS = 10
_imports_frozen = False


def _freeze_what_the_imports_made() -> None:
    """Move the objects that exist now (by the time the tab opens: torch, numba, pyqtgraph and
    the rest, about half a million) out of the garbage collector's reach, once per process.
    Building the tab allocates enough to set off full collections, and each one traversed all of
    them: 250 ms a time, twice while the tab opened, whatever the build's own steps cost. Modules,
    classes and functions live as long as the process: the collector had nothing to find there."""
    global _imports_frozen
    if not _imports_frozen:
        _imports_frozen = True
        gc.freeze()


class TrainingTab(QWidget):
    status = Signal(str)
    try_on_surface = Signal(object)  # a RunConfig whose optimizer and schedule go to the Simulator

    built = Signal()  # a tab made with ``build_now=False`` is whole: every field and plot is there

    def __init__(self, config: RunConfig | None = None, parent=None, build_now: bool = True):
        """``build_now=False`` builds the frame only (buttons, run list, empty columns) and returns;
        the configuration's sections and the plots follow one per turn of the event loop, each in
        well under 100 ms with its first paint, so the window never freezes while the tab opens
        (built at once, it took 0.5 to 0.9 s). ``is_built`` then turns True and ``built`` is
        emitted; :meth:`finish_building` builds the rest at once, and every action that reads
        the fields or plots calls it first."""
        _freeze_what_the_imports_made()
        super().__init__(parent)
        self.run_folder = tempfile.mkdtemp(prefix="optiscope-runs-")
        self.active: RunRecord | None = None
        self._started_at = 0.0
        self._dirty = False
        self._run_counter = 0
        self._records_by_worker: dict[TrainingWorker, RunRecord] = {}
        self._deleted_workers: list[TrainingWorker] = []  # runs deleted while training, still stopping
        self._unwanted_checkpoints: dict[TrainingWorker, str] = {}
        self.panel = ConfigPanel(config, self, build_now=False)
        self.plots = LivePlots(self, build_now=False)
        self.runs = RunList(self)
        self.is_built = False
        self._build_queue = [*self.panel.pending_build, *self.plots.pending_build, self._whole]
        self.panel.pending_build, self.plots.pending_build = [], []
        self._build_timer = QTimer(self)
        self._build_timer.setSingleShot(True)
        # A pause between two steps: with none, a step could start before the paint the last one
        # asked for (a plot's first paint: 50 ms and more), and the two would freeze the window as one.
        self._build_timer.setInterval(BUILD_STEP_GAP_MS)
        self._build_timer.timeout.connect(self._build_next)
        self._build_layout()
        self._config_ok, self._config_message = False, ""
        self.panel.checked.connect(self._config_checked)
        self.panel.pending_changed.connect(self._update_start)
        self.runs.shown_changed.connect(self._mark_dirty)
        self.runs.renamed.connect(self._renamed)
        self._message_about: tuple | None = None  # (record, the message after its name)
        self.runs.itemSelectionChanged.connect(self._selection_changed)
        self.runs.configuration_shown.connect(lambda _shown: self._show_run_details())
        self._show_run_details()
        self.redraw = QTimer(self)
        self.redraw.setInterval(1000 // REDRAW_HZ)
        self.redraw.timeout.connect(self._redraw_if_dirty)
        self.panel.set_run_colour(self._next_colour())
        self._config_checked(self.panel.preview is not None, self.panel.error.text())
        self._update_buttons()
        if build_now:
            self.finish_building()
        else:  # said in the progress bar: a label shown, then hidden, would resize every plot twice
            self.progress.setRange(0, len(self._build_queue))
            self.progress.setValue(0)
            self.progress.setFormat("preparing the Training tab…")
            self._build_timer.start()

    # -- building ---------------------------------------------------------------------------------
    def _build_next(self) -> None:
        if self._build_queue:
            self._build_queue.pop(0)()
        if self._build_queue:
            self.progress.setValue(self.progress.maximum() - len(self._build_queue))
            self._build_timer.start()

    def finish_building(self) -> None:
        """Build what is still to be built, now (nothing when the tab is whole)."""
        self._build_timer.stop()
        while self._build_queue:
            self._build_queue.pop(0)()

    def _whole(self) -> None:
        self.progress.reset()
        self.progress.setFormat("ready")
        self.panel.release_first_check()
        self.redraw.start()
        self.is_built = True
        self.built.emit()

    def _next_colour(self) -> str:
        return PALETTE[self._run_counter % len(PALETTE)]

    # -- layout -----------------------------------------------------------------------------------
    def _button(self, text: str, slot, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _build_layout(self) -> None:
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        files = QHBoxLayout()
        files.addWidget(self._button("Load config…", self.load_config_dialog, "a run.toml or run.json"))
        files.addWidget(self._button("Save config…", self.save_config_dialog, "as TOML or JSON, for the CLI"))
        left_layout.addLayout(files)
        left_layout.addWidget(self.panel, 1)

        centre = QWidget(self)
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        controls = QHBoxLayout()
        self.start_button = self._button("▶ Start", self.start, "train the configuration on the left")
        self.pause_button = self._button("Pause", self.toggle_pause, "pause or resume between two steps")
        self.stop_button = self._button("■ Stop", self.stop, "stop after the current step; curves stay")
        for button in (self.start_button, self.pause_button, self.stop_button):
            controls.addWidget(button)
        self.progress = QProgressBar(self)
        self.progress.setFormat("ready")
        self.progress.setTextVisible(True)
        controls.addWidget(self.progress, 1)
        centre_layout.addLayout(controls)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        centre_layout.addWidget(self.message)

        centre_layout.addWidget(self.plots, 1)

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel("<b>Runs</b> (tick to compare)", right))
        right_layout.addWidget(self.runs, 1)
        # the selected run's configuration, whole, where the list is too narrow for its column
        self.run_details = QLabel(right)
        self.run_details.setWordWrap(True)
        self.run_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right_layout.addWidget(self.run_details)
        self.load_run_button = self._button("Edit its configuration", self.load_selected_config,
                                            "the selected run's configuration back into the editor on "
                                            "the left (also: right-click, or double-click its row)")
        self.delete_button = self._button("Delete run", self.delete_selected, "remove the selected run")
        self.export_metrics_button = self._button("Export metrics CSV…", self.export_metrics_dialog,
                                                  "epoch,step,metric,value (the CLI's format)")
        self.export_checkpoint_button = self._button("Export checkpoint…", self.export_checkpoint_dialog,
                                                     "model, optimizer, scheduler and RNG states: "
                                                     "python main.py train --resume FILE continues it")
        self.command_button = self._button("CLI command", self.show_command,
                                           "the command line that reproduces the selected run")
        self.surface_button = self._button("Try this optimizer on a surface", self.send_to_simulator,
                                           "the optimizer, its settings and schedule as a Simulator run")
        for button in (self.load_run_button, self.delete_button, self.export_metrics_button,
                       self.export_checkpoint_button, self.command_button, self.surface_button):
            right_layout.addWidget(button)
        self.load_run_action = QAction("Load its configuration into the editor", self.runs)
        self.load_run_action.triggered.connect(self.load_selected_config)
        delete = QAction("Delete run", self.runs)
        delete.triggered.connect(self.delete_selected)
        self.runs.addActions([self.load_run_action, delete])
        self.runs.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.runs.itemDoubleClicked.connect(self._run_double_clicked)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for widget, stretch in ((left, 0), (centre, 1), (right, 0)):
            splitter.addWidget(widget)
            splitter.setStretchFactor(splitter.count() - 1, stretch)
        # the plots take what the two columns leave: on a 1280-pixel laptop a 420-pixel run list
        # left them too narrow for their titles
        splitter.setSizes([380, 900, 300])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

    # -- running ------------------------------------------------------------------------------------
    def _config_checked(self, ok: bool, message: str) -> None:
        self._config_ok, self._config_message = ok, message
        self._update_start()

    def _update_start(self) -> None:
        """Start is on when the configuration checks and every field shows what it holds."""
        if self.is_running:
            return
        pending = self.panel.pending()
        ok = self._config_ok and not pending
        self.start_button.setEnabled(ok)
        self.start_button.setToolTip("train the configuration on the left" if ok else
                                     self._config_message or f"fix {', '.join(pending)} first")

    @property
    def is_running(self) -> bool:
        return self.active is not None

    def start(self) -> RunRecord | None:
        self.finish_building()
        pending = self.panel.pending()
        if pending:  # Ctrl+Enter as the button: never a run of values other than those shown
            self.message.setText(f"fix {', '.join(pending)} first: the fields marked red are not in force")
            return None
        if self.is_running or not self.panel.check_now():
            return None
        config = self.panel.current_config()
        colour = self._next_colour()
        self._run_counter += 1
        record = RunRecord(name=f"run {self._run_counter}: {config.optimizer.name}", config=config,
                           color=colour, status=RUNNING)
        record.checkpoint_path = str(Path(self.run_folder) / f"run-{self._run_counter}.pt")
        record.total_steps = self.panel.preview.total_steps
        worker = TrainingWorker(config, checkpoint_path=record.checkpoint_path, parent=self)
        record.worker = worker
        # Bound methods of this tab (not lambdas): Qt then queues each call into the GUI thread,
        # and the slot finds its run from the sending worker.
        self._records_by_worker[worker] = record
        worker.built.connect(self._built)
        worker.steps.connect(self._steps)
        worker.epoch.connect(self._epoch)
        worker.paused.connect(self._paused)
        worker.resumed.connect(self._resumed)
        worker.ended.connect(self._ended)
        worker.failed.connect(self._failed)
        worker.finished.connect(self._worker_finished)
        self.active = record
        self.runs.add(record)
        self.panel.set_run_colour(self._next_colour())
        self._started_at = time.perf_counter()
        self.progress.setRange(0, max(record.total_steps, 1))
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.message.setText("")
        self._message_about = None
        worker.start()
        self._update_buttons()
        self._mark_dirty()
        return record

    def toggle_pause(self) -> None:
        record = self.active
        if record is None:
            return
        if record.status == PAUSED:
            record.worker.resume()
        else:
            record.worker.pause()
        self._update_buttons()

    def stop(self) -> None:
        if self.active is not None and self.active.worker is not None:
            self.active.worker.stop()

    def _record(self) -> RunRecord | None:
        return self._records_by_worker.get(self.sender())

    @Slot(object, object)
    def _built(self, event, points) -> None:
        record = self._record()
        if record is None:
            return
        record.points = points
        record.total_steps = event.total_steps
        self.progress.setRange(0, max(event.total_steps, 1))
        self.status.emit(f"{record.name}: training on {event.device} ({event.device_note}), "
                         f"{event.parameters:,} parameters, groups {', '.join(event.groups)}")

    @Slot(list)
    def _steps(self, events) -> None:
        record = self._record()
        if record is None:
            return
        record.add_steps(events)
        if record is self.active:
            step = events[-1].step
            self.progress.setValue(step)
            elapsed = time.perf_counter() - self._started_at
            eta = elapsed / step * (record.total_steps - step) if step else 0.0
            self.progress.setFormat(f"epoch {events[-1].epoch} · step {step}/{record.total_steps} · "
                                    f"{record.samples_per_s:,.0f} samples/s · ETA {duration_text(eta)}")
        self._mark_dirty()

    @Slot(object, object)
    def _epoch(self, event, grid) -> None:
        record = self._record()
        if record is None:
            return
        record.add_epoch(event)
        if grid is not None:
            record.boundary = grid
        self.runs.update_record(record)
        self._mark_dirty()

    @Slot(int)
    def _paused(self, step: int) -> None:
        if (record := self._record()) is not None:
            self._set_status(record, PAUSED, f"paused at step {step}")

    @Slot(int)
    def _resumed(self, step: int) -> None:
        if (record := self._record()) is not None:
            self._set_status(record, RUNNING, "")

    def _set_status(self, record, status: str, message: str) -> None:
        record.status, record.message = status, message
        self.runs.update_record(record)
        self.pause_button.setText("Resume" if status == PAUSED else "Pause")
        if record is self.active:
            self.message.setText(message)
            self._message_about = None

    def _say(self, record, text: str) -> None:
        """``record``'s name and ``text`` under the buttons (kept under the run's name as renamed)."""
        self._message_about = (record, text)
        self.message.setText(record.name + text)

    def _renamed(self, row: int, name: str) -> None:
        if self._message_about is not None and self._message_about[0] is self.runs.records[row]:
            self._say(*self._message_about)

    @Slot(object)
    def _ended(self, event) -> None:
        record = self._record()
        if record is None:
            return
        record.status, record.message = event.status, event.message
        self.runs.update_record(record)
        self._say(record, f": {event.message}")
        self.message.setStyleSheet("color: #ff7070;" if event.status in ("diverged", "failed") else "")
        if record is self.active:
            self.progress.setFormat(f"{event.status} · step {event.step}/{record.total_steps}")
        self.status.emit(f"{record.name}: {event.message}")
        self._mark_dirty()

    @Slot(str)
    def _failed(self, message: str) -> None:
        record = self._record()
        if record is None:
            return
        record.status, record.message = "failed", message
        self.runs.update_record(record)
        self._say(record, f" could not run: {message}")
        self.message.setStyleSheet("color: #ff7070;")
        self.progress.setFormat("failed")
        self.status.emit(f"{record.name} could not run: {message}")

    @Slot()
    def _worker_finished(self) -> None:
        record = self._record()
        if record is not None and record is self.active:
            self.active = None
        self.pause_button.setText("Pause")
        self._update_buttons()
        self._config_checked(self.panel.preview is not None, self.panel.error.text())

    def _update_buttons(self) -> None:
        running = self.is_running
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        if running:
            self.start_button.setEnabled(False)
        selected = self.runs.selected()
        finished = selected is not None and not selected.is_active
        built = finished and selected.worker is not None and selected.worker.training is not None
        self.delete_button.setEnabled(selected is not None)
        self.load_run_button.setEnabled(finished)
        self.load_run_action.setEnabled(finished)
        self.export_metrics_button.setEnabled(built)
        self.export_checkpoint_button.setEnabled(finished and bool(selected.checkpoint_path)
                                                 and Path(selected.checkpoint_path).exists())
        self.command_button.setEnabled(selected is not None)

    # -- plots ----------------------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if self._dirty:
            self._dirty = False
            self.refresh_plots()

    def refresh_plots(self) -> None:
        self.finish_building()
        shown = self.runs.shown()
        focused = self.runs.selected() or self.active
        self.plots.refresh(shown, focused if focused in shown else (shown[-1] if shown else None))

    def _selection_changed(self) -> None:
        self._update_buttons()
        self._show_run_details()
        self._mark_dirty()

    def _show_run_details(self) -> None:
        selected = self.runs.selected()
        self.run_details.setText(selected.summary() if selected is not None else "")
        self.run_details.setVisible(selected is not None and self.runs.configuration_hidden)

    # -- run list actions ----------------------------------------------------------------------------
    def delete_selected(self) -> None:
        record = self.runs.selected()
        if record is None:
            return
        if record.worker is not None and record.is_active:
            # Asked to stop, never waited for here: a big L-BFGS step can take minutes, and the
            # window would freeze until it ended. It finishes on its own; closing waits for it.
            record.worker.stop()
            self._deleted_workers.append(record.worker)
            record.worker.finished.connect(self._deleted_worker_finished)
        self._records_by_worker.pop(record.worker, None)  # its late signals find no run: ignored
        if record is self.active:
            self.active = None
            self._config_checked(self.panel.preview is not None, self.panel.error.text())
        self.runs.remove(self.runs.records.index(record))
        if record.checkpoint_path:
            Path(record.checkpoint_path).unlink(missing_ok=True)
            self._unwanted_checkpoints[record.worker] = record.checkpoint_path

    def _deleted_worker_finished(self) -> None:
        worker = self.sender()
        if worker in self._deleted_workers:
            self._deleted_workers.remove(worker)
        path = self._unwanted_checkpoints.pop(worker, None)
        if path:  # written while it stopped: the run it belonged to is gone
            Path(path).unlink(missing_ok=True)
        self._update_buttons()
        self._mark_dirty()

    def export_metrics(self, record, path) -> int:
        training = record.worker.training
        training.metrics.write_csv(path)
        return len(training.metrics.rows)

    def export_metrics_dialog(self) -> None:
        record = self.runs.selected()
        if record is None:
            return
        path = ask_save_path(self, "Export metrics", f"{record.name}.csv", "CSV (*.csv)")
        if path:
            try:
                rows = self.export_metrics(record, path)
            except ConfigError as error:
                QMessageBox.warning(self, "OptiScope", f"Could not export the metrics.\n\n{error}")
                return
            self.status.emit(f"{rows} metric rows written to {path}")

    def export_checkpoint(self, record, path) -> None:
        copy_file_atomically(record.checkpoint_path, path)

    def export_checkpoint_dialog(self) -> None:
        record = self.runs.selected()
        if record is None:
            return
        path = ask_save_path(self, "Export checkpoint", f"{record.name}.pt", "Checkpoint (*.pt)")
        if path:
            try:
                self.export_checkpoint(record, path)
            except ConfigError as error:
                QMessageBox.warning(self, "OptiScope", f"Could not export the checkpoint.\n\n{error}")
                return
            self.status.emit(f"checkpoint written to {path}; "
                             f"python main.py train --resume {path} continues it")

    def command_for(self, record=None) -> str:
        self.finish_building()
        record = record or self.runs.selected()
        return command_line(record.config if record is not None else self.panel.current_config())

    def show_command(self) -> None:
        command = self.command_for()
        QApplication.clipboard().setText(command)
        QMessageBox.information(self, "Reproduce this run", f"Copied to the clipboard:\n\n{command}")

    def send_to_simulator(self) -> None:
        self.finish_building()
        record = self.runs.selected()
        self.try_on_surface.emit(record.config if record is not None else self.panel.current_config())

    def load_selected_config(self) -> bool:
        """The selected run's configuration into the editor, all or nothing as a file's is (a run
        still training has none to give back yet: its values are those the editor may still show)."""
        self.finish_building()
        record = self.runs.selected()
        if record is None or record.is_active:
            return False
        try:
            self.panel.load(record.config)
        except ConfigError as error:
            QMessageBox.warning(self, "OptiScope", f"Could not load {record.name}'s configuration; the "
                                f"current one is unchanged.\n\n{error}")
            return False
        self.status.emit(f"the configuration of {record.name} is in the editor")
        return True

    def _run_double_clicked(self, item) -> None:
        if item.column() != 0:  # a double-click on the name renames the run
            self.load_selected_config()

    # -- configuration files ----------------------------------------------------------------------------
    def load_config(self, path) -> None:
        self.finish_building()
        self.panel.load(RunConfig.load(path))

    def load_config_dialog(self) -> None:
        self.finish_building()
        path = ask_open_path(self, "Load run configuration",
                             "Run configurations (*.toml *.json);;All files (*)")
        if path:
            try:
                self.load_config(path)
            except ConfigError as error:
                QMessageBox.warning(self, "OptiScope", f"Could not load the configuration; the current one "
                                    f"is unchanged.\n\n{error}")
                return
            self.status.emit(f"loaded {path}")

    def save_config_dialog(self) -> None:
        self.finish_building()
        path = ask_save_path(self, "Save run configuration", "run.toml", "TOML (*.toml);;JSON (*.json)")
        if path:
            try:
                self.panel.current_config().save(path)
            except ConfigError as error:
                QMessageBox.warning(self, "OptiScope", f"Could not save the configuration.\n\n{error}")
                return
            self.status.emit(f"saved {path}; python main.py train --config {path} runs it")

    # -- shutting down --------------------------------------------------------------------------------------
    def stop_all(self) -> list[QThread]:
        """Ask every run still training, and a configuration check, to stop (without waiting); the
        threads still running."""
        running = [record.worker for record in self.runs.records
                   if record.worker is not None and record.worker.isRunning()]
        running += [worker for worker in self._deleted_workers if worker.isRunning()]
        for worker in running:
            worker.stop()
        check = self.panel.preview_worker
        if check is not None and check.isRunning():
            check.cancel()  # a CSV being read cannot be interrupted: the close waits for it, unfrozen
            running.append(check)
        return running

    def shutdown(self) -> None:
        """The tab's last act, once :meth:`stop_all` has found no thread running: the run folder
        goes. A thread is still running only if its run ignored the stop; it is waited for, since
        it may still write its checkpoint there."""
        self.redraw.stop()
        self._build_timer.stop()
        self._build_queue.clear()  # a tab closed while it was being built: the rest is not needed
        self.panel.shutdown()  # waits for a configuration check still running in its thread
        for worker in self.stop_all():
            worker.stop_and_wait()
        for record in self.runs.records:
            if record.worker is not None:
                record.worker.wait(100)  # one that emitted ``finished`` may still be tidying up
        shutil.rmtree(self.run_folder, ignore_errors=True)
