"""The left column: the scenario's settings, the list of runs, and the selected run's editor."""

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.scenario import MAX_STEPS
from gui.simulator_tab.model import SimulatorModel
from gui.widgets.param_editors import ParamForm, parse_number, show_value
from gui.widgets.schedule_composer import ScheduleComposer, starter_stages
from simulator import OPTIMIZERS, SURFACES, SimulatorError, get_optimizer
from simulator.schedules import COMPOSITE, SCHEDULES, get_schedule, join_warmup, split_warmup

FORMULA_ENTRY = "formula…"
ERROR_COLOUR = "#ff7070"  # a refusal or a failed run, on the dark theme
NOTE_COLOUR = "#a8b0ba"  # "computing…": news, not an error
NO_SCHEDULE = "none"


def starter_params(name: str, steps: int, lr: float) -> dict:
    """Values for a schedule's required parameters that make sense for a run of ``steps`` steps."""
    return {
        "StepLR": {"step_size": max(1, steps // 4)},
        "MultiStepLR": {"milestones": [max(1, steps // 2), max(2, 3 * steps // 4)]},
        "ExponentialLR": {"gamma": 0.99},
        "CosineAnnealingLR": {"T_max": max(1, steps)},
        "CosineAnnealingWarmRestarts": {"T_0": max(1, steps // 4)},
        "CyclicLR": {"base_lr": lr / 10, "max_lr": lr, "step_size_up": max(1, steps // 8)},
        "OneCycleLR": {"max_lr": lr},
        "PolynomialLR": {"total_iters": max(1, steps)},
        "LinearLR": {"total_iters": max(1, steps // 5)},
        "LambdaLR": {"lr_lambda": f"0.5**(epoch/{max(1, steps // 3)})"},  # halved every third of the run
        "MultiplicativeLR": {"lr_lambda": "0.99"},
    }.get(name, {})


SWATCH = 14  # pixels: a run's colour in the list


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(SWATCH, SWATCH)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


def _show_refusal(form: ParamForm, edited: str, error: SimulatorError) -> None:
    """Mark the refused edit of ``edited`` (its text is not in force) and, when the error names
    another field (a cross-parameter check), that field too (its value is in force, but at fault)."""
    form.refuse(edited, str(error))
    if error.param not in (None, edited):
        form.set_error(error.param, str(error))


class ScenarioPanel(QGroupBox):
    """Surface (built-in or typed formula), steps, gradient noise and its seed."""

    status = Signal(str)

    def __init__(self, model: SimulatorModel, parent=None):
        super().__init__("Surface", parent)
        self.model = model
        form = QFormLayout(self)
        self.surface = QComboBox(self)
        self.surface.addItems([*SURFACES, FORMULA_ENTRY])
        for index, surface in enumerate(SURFACES.values()):
            tip = f"{surface.formula}\n{surface.description}"
            self.surface.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        self.surface.setToolTip("The loss surface f(x, y)")
        self.surface.activated.connect(self._surface_chosen)
        form.addRow("surface", self.surface)
        self.formula = QLineEdit(self)
        self.formula.setPlaceholderText("f(x, y), e.g. (x - 1)**2 + 10*sin(y)**2  [@xmin,xmax,ymin,ymax]")
        self.formula.setToolTip("Numbers, x, y, + - * / **, parentheses, pi, e and sin cos tan arcsin "
                                "arccos arctan sinh cosh tanh exp log log10 sqrt abs.\nOptional view: "
                                "@xmin,xmax,ymin,ymax. Press Enter to use it.")
        self.formula.returnPressed.connect(self._formula_entered)
        model.surface_failed.connect(self._formula_refused)
        self.formula_error = QLabel(self)
        self.formula_error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.formula_error.setWordWrap(True)
        self.formula_error.hide()
        form.addRow("formula", self.formula)
        form.addRow(self.formula_error)
        self.steps = QSpinBox(self)
        self.steps.setRange(1, MAX_STEPS)
        self.steps.setToolTip("Optimizer steps per run")
        self.steps.setKeyboardTracking(False)
        self.steps.valueChanged.connect(lambda v: v != model.scenario.steps and model.set_steps(v))
        form.addRow("steps", self.steps)
        self.noise = QLineEdit(self)
        self.noise.setToolTip("σ of Gaussian noise added to every gradient component (0: exact gradients)")
        self.noise.editingFinished.connect(self._noise_entered)
        form.addRow("noise σ", self.noise)
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the gradient noise: the same seed gives the same noise")
        self.seed.setKeyboardTracking(False)
        self.seed.valueChanged.connect(lambda v: v != model.scenario.seed and model.set_seed(v))
        form.addRow("seed", self.seed)
        self.refresh()

    def refresh(self) -> None:
        scenario = self.model.scenario
        is_formula = scenario.surface.startswith("expr:")
        self.surface.setCurrentText(FORMULA_ENTRY if is_formula else scenario.surface)
        if is_formula:
            self.formula.setText(scenario.surface[len("expr:"):])
        # a surface now shows (the formula compiled, a built-in or a preset): an earlier formula's
        # error or "compiling…" is no longer news
        self.formula_error.hide()
        for widget, value in ((self.steps, scenario.steps), (self.seed, scenario.seed)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.noise.setText(show_value(scenario.noise))

    def _surface_chosen(self, index: int) -> None:
        name = self.surface.itemText(index)
        if name == FORMULA_ENTRY:
            self.formula.setFocus()
            if self.formula.text().strip():
                self._formula_entered()
            return
        if name != self.model.scenario.surface:
            self.model.set_surface(name)
            self.status.emit(f"Surface: {name} — {SURFACES[name].description}")

    def _formula_entered(self) -> None:
        text = self.formula.text().strip()
        if not text:
            return
        # SymPy and Numba take up to a second or two for a long formula: compiled in a worker, the
        # map then switches (model.surface_changed -> refresh) or the error shows (_formula_refused)
        self.model.set_surface_in_background("expr:" + text)
        self.formula_error.setStyleSheet(f"color: {NOTE_COLOUR};")
        self.formula_error.setText("compiling…")
        self.formula_error.show()
        self.status.emit("Compiling the formula…")

    def _formula_refused(self, name: str, why: str) -> None:
        self.formula_error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.formula_error.setText(why)
        self.formula_error.show()
        self.status.emit(f"Formula not used: {why}")

    def _noise_entered(self) -> None:
        value, why = parse_number(self.noise.text(), False, False)
        if why or value < 0:
            self.status.emit(f"noise σ: {why or 'must be >= 0'}")
            self.noise.setText(show_value(self.model.scenario.noise))
            return
        if value != self.model.scenario.noise:
            self.model.set_noise(value)


PROSE_ROLE = Qt.ItemDataRole.UserRole


def _result_text(result) -> str:
    """The run's result, short: "loss 0.03622 · 600 steps"; the tooltip has RunResult.summary."""
    t = result.trajectory
    if t is not None and t.status == "ok":
        return f"loss {t.loss[-1]:.4g} · {t.steps} steps"
    return result.summary


ROWS_SHOWN = 5  # the default four runs and one added, without scrolling, however short the window


class RunTree(QTreeWidget):
    """The runs' rows: never shorter than ROWS_SHOWN rows, names and results sized to be read whole."""

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        row = self.sizeHintForRow(0) if self.topLevelItemCount() else self._row_height()
        height = self.header().sizeHint().height() + ROWS_SHOWN * row + 2 * self.frameWidth()
        return QSize(hint.width(), max(hint.height(), height))

    def _row_height(self) -> int:
        """A row's height with no row to ask: a line of text or the check box and swatch, if taller."""
        indicator = self.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorHeight, None, self)
        return max(self.fontMetrics().height(), indicator, SWATCH) + 4

    def fit_columns(self) -> None:
        """Names as wide as they need, unless that would cut a result; then the name is cut (its
        tooltip holds it whole) and the results keep what they need, leaving names 40 % at least.
        An error's prose is left out of the results' need: it may be cut, its tooltip whole."""
        room = self.viewport().width()
        names = self.sizeHintForColumn(0)
        results = max((self.sizeHintForIndex(self.indexFromItem(self.topLevelItem(row), 1)).width()
                       for row in range(self.topLevelItemCount())
                       if not self.topLevelItem(row).data(1, PROSE_ROLE)), default=0)
        width = names if names + results <= room else max(room - results, room * 2 // 5)
        if width != self.columnWidth(0):
            self.setColumnWidth(0, max(width, 1))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_columns()


class RunList(QWidget):
    """The runs: show/hide (checkbox), rename (double-click), recolour, add, duplicate, remove."""

    status = Signal(str)

    def __init__(self, model: SimulatorModel, parent=None):
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tree = RunTree(self)
        self.tree.setHeaderLabels(["Run", "Result"])
        self.tree.setRootIsDecorated(False)
        self.tree.setToolTip("Tick to show, double-click a name to rename")
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.itemChanged.connect(self._item_changed)
        layout.addWidget(self.tree)
        buttons = QHBoxLayout()
        for text, tip, slot in (
            ("Add", "Add a run (Ctrl+N)", self.add),
            ("Duplicate", "Copy the selected run (Ctrl+D)", self.duplicate),
            ("Remove", "Remove the selected run (Delete)", self.remove),
            ("Colour…", "Change the selected run's colour", self.recolour),
        ):
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        model.changed.connect(self.refresh)
        model.selection_changed.connect(self._select)
        self.refresh()

    def refresh(self) -> None:
        """Show the model's runs. The rows are updated in place, never rebuilt: a rename or a tick
        lands here from inside the edited item's own itemChanged signal, and deleting that item
        under Qt's feet (tree.clear()) was a use-after-free that crashed the app now and then."""
        self.tree.blockSignals(True)
        results = self.model.results
        while self.tree.topLevelItemCount() > len(results):
            self.tree.takeTopLevelItem(self.tree.topLevelItemCount() - 1)
        while self.tree.topLevelItemCount() < len(results):
            item = QTreeWidgetItem()
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable)
            self.tree.addTopLevelItem(item)
        for row, result in enumerate(results):
            spec, item = result.spec, self.tree.topLevelItem(row)
            item.setText(0, spec.name)
            item.setToolTip(0, spec.name)  # whole, where a long name is cut
            item.setText(1, _result_text(result))
            item.setData(1, PROSE_ROLE, result.trajectory is None)  # an error's words, not a result
            item.setCheckState(0, Qt.CheckState.Checked if spec.visible else Qt.CheckState.Unchecked)
            item.setIcon(0, _swatch(spec.color))
            item.setToolTip(1, result.summary)
            if result.pending:
                item.setForeground(1, QColor(NOTE_COLOUR))
            elif result.trajectory is None or result.trajectory.status == "diverged":
                item.setForeground(1, QColor(ERROR_COLOUR))
            else:
                item.setData(1, Qt.ItemDataRole.ForegroundRole, None)  # the default colour
        if 0 <= self.model.selected < self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(self.model.selected))
        self.tree.blockSignals(False)
        self.tree.fit_columns()
        self.tree.updateGeometry()  # the first row sets the rows' height the minimum is made of

    def _select(self, index: int) -> None:
        if 0 <= index < self.tree.topLevelItemCount() and self.tree.indexOfTopLevelItem(
                self.tree.currentItem()) != index:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(self.tree.topLevelItem(index))
            self.tree.blockSignals(False)

    def _current_changed(self, current, _previous) -> None:
        index = self.tree.indexOfTopLevelItem(current) if current is not None else -1
        if index != self.model.selected:
            self.model.select(index)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        index = self.tree.indexOfTopLevelItem(item)
        spec = self.model.scenario.runs[index]
        visible = item.checkState(0) == Qt.CheckState.Checked
        if visible != spec.visible:
            self.model.update_run(index, visible=visible)
        elif column == 0 and item.text(0) != spec.name:
            try:
                self.model.rename_run(index, item.text(0))
            except SimulatorError as error:
                self.status.emit(f"Rename refused: {error}")
                self.refresh()

    def add(self) -> None:
        try:
            self.model.add_run()
        except SimulatorError as error:
            self.status.emit(str(error))

    def duplicate(self) -> None:
        if self.model.selected >= 0:
            try:
                self.model.duplicate_run(self.model.selected)
            except SimulatorError as error:
                self.status.emit(str(error))

    def remove(self) -> None:
        if self.model.selected >= 0:
            self.model.remove_run(self.model.selected)

    def recolour(self) -> None:
        index = self.model.selected
        if index < 0:
            return
        color = QColorDialog.getColor(QColor(self.model.scenario.runs[index].color), self, "Run colour")
        if color.isValid():
            self.model.update_run(index, color=color.name())


class RunEditor(QGroupBox):
    """The selected run: optimizer, hyperparameters, schedule (+ warm-up) and its own start."""

    def __init__(self, model: SimulatorModel, parent=None):
        super().__init__("Run", parent)
        self.model = model
        self.index = -1
        layout = QVBoxLayout(self)
        top = QFormLayout()
        self.optimizer = QComboBox(self)
        self.optimizer.addItems(list(OPTIMIZERS))
        for index, spec in enumerate(OPTIMIZERS.values()):
            self.optimizer.setItemData(index, spec.summary, Qt.ItemDataRole.ToolTipRole)
        self.optimizer.activated.connect(self._optimizer_chosen)
        top.addRow("optimizer", self.optimizer)
        layout.addLayout(top)
        self.hyper_box = QVBoxLayout()
        layout.addLayout(self.hyper_box)
        self.hyper_form: ParamForm | None = None

        schedule_box = QGroupBox("Learning-rate schedule", self)
        schedule_layout = QVBoxLayout(schedule_box)
        row = QFormLayout()
        self.schedule = QComboBox(self)
        self.schedule.addItems([NO_SCHEDULE, *SCHEDULES])  # SequentialLR, ChainedScheduler: composed
        for index, name in enumerate(SCHEDULES, start=1):
            self.schedule.setItemData(index, SCHEDULES[name].summary, Qt.ItemDataRole.ToolTipRole)
        self.schedule.activated.connect(self._schedule_chosen)
        row.addRow("schedule", self.schedule)
        self.warmup = QSpinBox(self)
        self.warmup.setRange(0, MAX_STEPS)
        self.warmup.setToolTip("Linear warm-up over this many steps in front of the schedule (0: none)")
        self.warmup.setKeyboardTracking(False)
        self.warmup.valueChanged.connect(lambda _: self._store_schedule())
        row.addRow("warm-up steps", self.warmup)
        schedule_layout.addLayout(row)
        self.schedule_box = QVBoxLayout()
        schedule_layout.addLayout(self.schedule_box)
        self.schedule_error = QLabel(self)
        self.schedule_error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.schedule_error.setWordWrap(True)
        self.schedule_error.hide()
        schedule_layout.addWidget(self.schedule_error)
        self.schedule_form: ParamForm | None = None
        self.composer: ScheduleComposer | None = None  # for SequentialLR and ChainedScheduler
        self.schedule_params: dict = {}
        layout.addWidget(schedule_box)

        start_row = QHBoxLayout()
        self.own_start = QCheckBox("own start", self)
        self.own_start.setToolTip("Start this run from its own point (Ctrl+click on the map sets it)")
        self.own_start.toggled.connect(self._own_start_toggled)
        start_row.addWidget(self.own_start)
        self.start_x, self.start_y = QLineEdit(self), QLineEdit(self)
        for edit, axis in ((self.start_x, "x"), (self.start_y, "y")):
            edit.setPlaceholderText(axis)
            edit.setToolTip(f"{axis} of this run's start")
            edit.editingFinished.connect(self._start_entered)
            start_row.addWidget(edit)
        layout.addLayout(start_row)
        self.error = QLabel(self)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        layout.addStretch(1)
        model.selection_changed.connect(self.show_run)
        model.changed.connect(self._refresh_error)
        self.show_run(model.selected)

    # ---- showing a run -------------------------------------------------------------------------

    def show_run(self, index: int) -> None:
        self.index = index
        self.setEnabled(index >= 0)
        if index < 0:
            self.setTitle("Run")
            return
        run = self.model.scenario.runs[index]
        self.setTitle(f"Run: {run.name}")
        self.schedule_error.hide()  # a refusal was about the run shown before
        self.optimizer.setCurrentText(get_optimizer(run.optimizer).name)
        self._build_hyper_form(run.optimizer, run.hyperparams)
        inner, warmup = split_warmup(run.schedule)
        self.warmup.blockSignals(True)
        self.warmup.setValue(warmup)
        self.warmup.blockSignals(False)
        # a warm-up goes in front of one schedule; a composite has its own first stage for it
        self.warmup.setEnabled(inner is None or inner[0] not in COMPOSITE)
        self.schedule.setCurrentText(NO_SCHEDULE if inner is None else inner[0])
        self._build_schedule_form(None if inner is None else inner[0], {} if inner is None else inner[1])
        self.show_start()
        self._refresh_error()

    def show_start(self) -> None:
        """The selected run's start fields only (cheap: called while a start marker is dragged)."""
        if self.index < 0:
            return
        run = self._run()
        self.own_start.blockSignals(True)
        self.own_start.setChecked(run.start is not None)
        self.own_start.blockSignals(False)
        start = self.model.scenario.start_of(run)
        self.start_x.setText(show_value(start[0]))
        self.start_y.setText(show_value(start[1]))
        for edit in (self.start_x, self.start_y):
            edit.setEnabled(run.start is not None)

    def _refresh_error(self) -> None:
        if 0 <= self.index < len(self.model.results):
            result = self.model.results[self.index]
            self.error.setText(result.error)
            colour = NOTE_COLOUR if result.pending else ERROR_COLOUR
            if self.error.property("colour") != colour:  # restyling on every change costs a relayout
                self.error.setProperty("colour", colour)
                self.error.setStyleSheet(f"color: {colour};")
            self.setTitle(f"Run: {result.spec.name}")
            # a run that cannot be computed as it stands (a file's lr = -1): mark the field at fault
            failure = result.failure
            for form in (self.hyper_form, self.schedule_form):
                if failure is not None and form is not None and failure.param in form.fields:
                    form.set_error(failure.param, str(failure))

    def _build_hyper_form(self, optimizer: str, values: dict) -> None:
        if self.hyper_form is not None:
            self.hyper_form.deleteLater()
        spec = get_optimizer(optimizer)
        self.hyper_form = ParamForm(spec.hyperparams, self)
        shown = dict(spec.defaults)
        shown.update(values)
        self.hyper_form.set_values(shown)
        self.hyper_form.edited.connect(self._hyperparam_edited)
        self.hyper_box.addWidget(self.hyper_form)

    def _build_schedule_form(self, name: str | None, params: dict) -> None:
        for widget in (self.schedule_form, self.composer):
            if widget is not None:
                widget.deleteLater()
        self.schedule_form = self.composer = None
        self.schedule_params = dict(params)
        if name is None:
            return
        if name in COMPOSITE:
            self.composer = ScheduleComposer(name, [(n, dict(p)) for n, p in params.get("schedulers", [])],
                                             list(params.get("milestones", [])), self)
            self.composer.composed.connect(self._apply_schedule)
            self.schedule_box.addWidget(self.composer)
            return
        spec = get_schedule(name)
        self.schedule_form = ParamForm(spec.params, self)
        shown = {p.name: p.default for p in spec.params}
        shown.update(params)
        self.schedule_form.set_values(shown)
        self.schedule_form.edited.connect(self._schedule_param_edited)
        self.schedule_box.addWidget(self.schedule_form)

    # ---- edits ---------------------------------------------------------------------------------

    def _run(self):
        return self.model.scenario.runs[self.index]

    def _optimizer_chosen(self, _index: int) -> None:
        name = self.optimizer.currentText()
        run = self._run()
        if name == run.optimizer:
            return
        # keep the lr when moving between optimizers: comparing them at one lr is the usual question
        kept = {"lr": run.hyperparams["lr"]} if "lr" in run.hyperparams else {}
        rename = run.name == run.optimizer or run.name.startswith(run.optimizer + " (")
        changes = {"optimizer": name, "hyperparams": kept}
        if rename:
            changes["name"] = self.model.scenario.unique_name(name)
        self.model.update_run(self.index, **changes)
        self.show_run(self.index)

    def _hyperparam_edited(self, name: str, value) -> None:
        run = self._run()
        spec = get_optimizer(run.optimizer)
        try:
            # Checked once, here: simulate() takes a Resolved of its optimizer as it is.
            resolved = spec.check({**run.hyperparams, name: value})
        except SimulatorError as error:
            _show_refusal(self.hyper_form, name, error)
            return
        self.hyper_form.accept(name, resolved.values[name])
        self.hyper_form.clear_checked()
        self.model.update_run(self.index, hyperparams=resolved)

    def _schedule_chosen(self, _index: int) -> None:
        name = self.schedule.currentText()
        run = self._run()
        if name == NO_SCHEDULE:
            self._build_schedule_form(None, {})
        elif name in COMPOSITE:
            stages, milestones = starter_stages(name, self.model.scenario.steps, starter_params)
            self.warmup.blockSignals(True)
            self.warmup.setValue(0)  # its first stage is where a warm-up goes
            self.warmup.blockSignals(False)
            self.warmup.setEnabled(False)
            self._build_schedule_form(name, {"schedulers": stages, "milestones": milestones})
            self._apply_schedule(self.composer.schedule)
            return
        else:
            lr = run.hyperparams.get("lr", get_optimizer(run.optimizer).defaults.get("lr", 0.01))
            starters = starter_params(name, self.model.scenario.steps, float(lr or 0.01))
            self._build_schedule_form(name, starters)
        self._store_schedule()

    def _schedule_param_edited(self, name: str, value) -> None:
        spec = get_schedule(self.schedule.currentText())
        try:
            # Checked once, here: simulate() takes a Resolved of its schedule as it is.
            resolved = spec.check({**self.schedule_params, name: value}, self.model.scenario.steps)
        except SimulatorError as error:
            _show_refusal(self.schedule_form, name, error)
            return
        self.schedule_form.accept(name, resolved.values[name])
        self.schedule_form.clear_checked()
        self.schedule_params = resolved
        self._store_schedule()

    def _store_schedule(self) -> None:
        name = self.schedule.currentText()
        if self.index < 0:
            return
        if name in COMPOSITE:
            if self.composer is not None and self.composer.schedule is not None:
                self._apply_schedule(self.composer.schedule)
            return
        self.warmup.setEnabled(True)
        inner = None if name == NO_SCHEDULE else (name, self.schedule_params)
        self._apply_schedule(join_warmup(inner, self.warmup.value()))

    def _apply_schedule(self, schedule) -> None:
        # A schedule that cannot drive this run (a plateau schedule after a warm-up, OneCycleLR
        # shorter than the run, milestones that do not match a composite's stages) is refused here,
        # next to it: the run stays on the map as it was.
        if self.index < 0:
            return
        why = self.model.try_update_run(self.index, schedule=schedule)
        self.schedule_error.setText(f"not applied: {why}" if why else "")
        self.schedule_error.setVisible(bool(why))

    def _own_start_toggled(self, on: bool) -> None:
        run = self._run()
        for edit in (self.start_x, self.start_y):
            edit.setEnabled(on)
        self.model.update_run(self.index, start=self.model.scenario.start_of(run) if on else None)

    def _start_entered(self) -> None:
        if self.index < 0 or not self.own_start.isChecked():
            return
        x, why_x = parse_number(self.start_x.text(), False, False)
        y, why_y = parse_number(self.start_y.text(), False, False)
        why = why_x or why_y or self.model.check_start(x, y)
        if why:
            self.error.setText(f"start: {why}")
            return
        if (x, y) != self._run().start:
            self.model.update_run(self.index, start=(x, y))
