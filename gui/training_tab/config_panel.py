"""The Training tab's left column: every key of a run configuration, with previews.

Each editor writes one key of a :class:`trainers.config.RunConfig` through ``RunConfig.set``, so a
refused value is shown under its field and changes nothing. After every change the whole
configuration is checked the way training will check it (``trainers.preview.preview_run``, a
moment later so typing stays smooth): the parameter-group table, the lr curve and the data
preview show the result; an error is shown at the bottom and keeps Start disabled.

That check runs in a worker thread (loading a large CSV takes seconds), one at a time; the previews
say "Loading preview…" meanwhile, and a result for a configuration changed since is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.scenario import PALETTE
from gui.simulator_tab.run_panel import starter_params
from gui.training_tab.plots import CLASS_COLOURS, group_pen, positive
from gui.widgets.log_axis import decade_axes
from gui.widgets.param_editors import ParamForm, show_value
from gui.widgets.schedule_composer import ScheduleComposer, starter_stages
from gui.workers import JobWorker
from simulator.schedules import COMPOSITE
from simulator.values import parse_value
from trainers.config import ACTIVATIONS, INTERVALS, MODELS, MONITORS, RunConfig
from trainers.datasets import DATASETS, describe_task
from trainers.errors import ConfigError

CONSTANT = "constant (none)"
AUTO_INTERVAL = "auto"
ERROR_COLOR = "#ff7070"
# Short headers, the whole meaning in each one's tooltip: five columns share about 320 pixels on a
# 1280-pixel laptop, where "match (regex)" and "weight_decay" were clipped to "atch (rege".
_GROUP_COLUMNS = (
    ("match", "a regular expression: the first rule whose expression is found in a parameter's name "
              "takes it"),
    ("name", "the group's name, as the table below and the lr plots show it"),
    ("lr", "this group's lr (empty: the optimizer's)"),
    ("decay", "this group's weight_decay (empty: the optimizer's)"),
    ("options", "other options of the optimizer for this group: key=value; key=value"),
)
PREVIEW_DELAY_MS = 150
PREVIEW_LOADING = "Loading preview…"
LR_PREVIEW_MIN_DECADES = 1.0  # a constant lr: its line mid-plot, with labelled ticks either side


def optimizer_names() -> list[str]:
    from trainers.factory import optimizer_classes

    return sorted((c.__name__ for c in optimizer_classes().values() if c.__name__ != "SparseAdam"),
                  key=str.lower)


def library_optimizer_names() -> list[str]:
    from trainers.factory import trainable_library_optimizers

    return trainable_library_optimizers()


def scheduler_names() -> list[str]:
    from trainers.factory import scheduler_classes

    # SequentialLR and ChainedScheduler too: their schedules are composed in the form
    return sorted((c.__name__ for c in scheduler_classes().values()), key=str.lower)


def available_devices() -> list[str]:
    """``auto`` and ``cpu`` always; each CUDA device and MPS only where this machine has them."""
    import torch

    from trainers.factory import mps_available

    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    return devices + (["mps"] if mps_available() else [])


def _error_label(parent) -> QLabel:
    label = QLabel(parent)
    label.setStyleSheet(f"color: {ERROR_COLOR};")
    label.setWordWrap(True)
    label.hide()
    return label


class _KeyForm(QFormLayout):
    """Rows that each edit one configuration key; a refused value shows under its row."""

    def __init__(self, panel: ConfigPanel, box: QWidget):
        super().__init__(box)
        self.panel, self.box = panel, box
        self.errors: dict[str, QLabel] = {}
        self.loaders: dict[str, object] = {}
        self.widgets: dict[str, QWidget] = {}

    def _row(self, key: str, label: str, widget, tip: str) -> None:
        self.widgets[key] = widget
        widget.setToolTip(tip)
        caption = QLabel(label, self.box)
        caption.setToolTip(tip)
        self.addRow(caption, widget)
        error = _error_label(self.box)
        self.addRow(error)
        self.errors[key] = error

    def line(self, key: str, label: str, tip: str, empty_is_none: bool = False, text: bool = False):
        edit = QLineEdit(self.box)
        self._row(key, label, edit, tip)

        def commit():
            raw = edit.text().strip()
            if empty_is_none and raw.lower() in ("", "none"):
                value = None
            elif text:
                value = raw
            else:
                value = parse_value(raw) if raw else raw
                value = list(value) if isinstance(value, tuple) else value
            self.panel.set_key(key, value)

        edit.editingFinished.connect(commit)
        self.loaders[key] = lambda: edit.setText(show_value(self.panel.get_key(key))
                                                 if self.panel.get_key(key) is not None else "")
        return edit

    def combo(self, key: str, label: str, choices, tip: str, none_text: str | None = None):
        box = QComboBox(self.box)
        box.addItems(([none_text] if none_text else []) + list(choices))
        self._row(key, label, box, tip)

        def commit(index):
            value = None if none_text and index == 0 else box.itemText(index)
            self.panel.set_key(key, value)

        box.activated.connect(commit)

        def load():
            value = self.panel.get_key(key)
            if value is None and none_text:
                box.setCurrentIndex(0)
            else:  # names are matched in any case, as the configuration accepts them
                texts = [box.itemText(i).lower() for i in range(box.count())]
                box.setCurrentIndex(texts.index(str(value).lower()) if str(value).lower() in texts else -1)

        self.loaders[key] = load
        return box

    def check(self, key: str, label: str, tip: str):
        box = QCheckBox(label, self.box)
        self.widgets[key] = box
        box.setToolTip(tip)
        self.addRow(box)
        self.errors[key] = _error_label(self.box)
        self.addRow(self.errors[key])
        box.toggled.connect(lambda on: self.panel.set_key(key, bool(on)))

        def load():
            box.blockSignals(True)
            box.setChecked(bool(self.panel.get_key(key)))
            box.blockSignals(False)

        self.loaders[key] = load
        return box

    def load(self) -> None:
        for loader in self.loaders.values():
            loader()
        for error in self.errors.values():
            error.hide()


class ConfigPanel(QWidget):
    """Edits ``self.config``; ``changed`` after every accepted edit, ``checked(ok, message)`` after
    each whole-configuration check (with ``self.preview`` set when ok). Checks after an edit or a
    load run in ``preview_worker`` (None when idle); :meth:`check_now` checks at once, here."""

    changed = Signal()
    checked = Signal(bool, str)
    pending_changed = Signal()  # a field's text became, or stopped being, a value not in force

    def __init__(self, config: RunConfig | None = None, parent=None, build_now: bool = True):
        """``build_now=False``: only the frame is built here; the sections are left in
        ``pending_build``, steps of well under 100 ms each for the owner to run from the event loop
        (the last one loads the configuration). Until then the panel shows no fields."""
        super().__init__(parent)
        self.config = config.copy() if config is not None else RunConfig()
        self.preview = None
        self._dataset_cache: tuple[tuple, object] | None = None
        self.preview_worker: JobWorker | None = None
        self._check_generation = 0  # counts changes: a check of an older one is stale
        self._worker_generation = 0  # the change the running worker checks
        self._recheck_when_done = False
        self._closed = False
        self.forms: list[_KeyForm] = []
        self.optimizer_form: ParamForm | None = None  # also read (as None) before its section is built
        self.scheduler_form: ParamForm | None = None
        self.scheduler_composer: ScheduleComposer | None = None
        self._optimizer_form_name = self._scheduler_form_name = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        inner = QWidget(scroll)
        self.column = QVBoxLayout(inner)
        scroll.setWidget(inner)
        outer.addWidget(scroll, 1)
        self.column.addStretch(1)  # first: each section goes above it, and none moves the others
        self.error = _error_label(self)
        outer.addWidget(self.error)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(PREVIEW_DELAY_MS)
        self._check_timer.timeout.connect(self.check_in_background)
        self._first_check_held = False
        self.pending_build = [self._build_data, self._build_model, self._build_optimizer, self._build_groups,
                              self._build_scheduler, self._build_train,
                              lambda: self._load_first(check=build_now)]
        if build_now:
            while self.pending_build:
                self.pending_build.pop(0)()

    # -- sections ---------------------------------------------------------------------------------
    def _section(self, title: str) -> tuple[QGroupBox, _KeyForm]:
        box = QGroupBox(title, self)
        form = _KeyForm(self, box)
        self.forms.append(form)
        self.column.insertWidget(self.column.count() - 1, box)
        return box, form

    def _build_data(self) -> None:
        box, form = self._section("Data")
        self.dataset = form.combo("data.name", "dataset", DATASETS,
                                  "Synthetic, scikit-learn's, or your files")
        for index, info in enumerate(DATASETS.values()):
            self.dataset.setItemData(index, f"{info.help} ({info.task})", Qt.ItemDataRole.ToolTipRole)
        path_row = QWidget(box)
        path_layout = QHBoxLayout(path_row)
        path_layout.setContentsMargins(0, 0, 0, 0)
        self.path = QLineEdit(path_row)
        # a tool button: it is as wide as its "…" (a push button's style asks 80 px, and was squeezed)
        browse = QToolButton(path_row)
        browse.setText("…")
        browse.setToolTip("Choose the CSV file, or the folder holding the IDX files")
        browse.clicked.connect(self._browse)
        path_layout.addWidget(self.path, 1)
        path_layout.addWidget(browse)
        form._row("data.path", "path", path_row,
                  "csv: the file; mnist / fashion_mnist: the folder of IDX files")
        self.path.editingFinished.connect(lambda: self.set_key("data.path", self.path.text().strip() or None))
        form.loaders["data.path"] = lambda: self.path.setText(self.config.data.path or "")
        form.line("data.target", "target column", "csv: the target column's name or index (empty: the last)",
                  empty_is_none=True)
        form.combo("data.task", "task", ("classification", "regression"), "csv: inferred when not given",
                   none_text="inferred")
        form.line("data.samples", "samples", "how many points (synthetic) or a random subset (empty: all)",
                  empty_is_none=True)
        form.line("data.noise", "noise", "synthetic data only (empty: the dataset's default)",
                  empty_is_none=True)
        form.line("data.val_fraction", "validation fraction", "share of samples held out for validation")
        form.line("data.batch_size", "batch size", "samples per optimizer step")
        form.check("data.shuffle", "shuffle every epoch", "a new seeded sample order each epoch")
        self.data_preview, self.data_summary = _preview_plot(box, form, (150, 190))
        self.data_preview.hideAxis("left")
        self.data_preview.hideAxis("bottom")

    def _build_model(self) -> None:
        _, form = self._section("Model")
        form.combo("model.name", "model", MODELS, "linear, mlp (hidden widths) or cnn (channels; image data)")
        form.line("model.hidden", "hidden widths", "comma list, e.g. 64, 32 (cnn: channels per conv layer)")
        form.combo("model.activation", "activation", ACTIVATIONS, "between the hidden layers")

    def _build_optimizer(self) -> None:
        _, form = self._section("Optimizer")
        self.optimizer_box = form.combo("optimizer.name", "optimizer", optimizer_names(),
                                        "any torch.optim optimizer; below the line, pytorch-optimizer's")
        library = library_optimizer_names()
        if library:  # a second group: the names say where they come from (pytorch_optimizer.Lion)
            self.optimizer_box.insertSeparator(self.optimizer_box.count())
            self.optimizer_box.addItems(library)
        # as narrow as the column: the long library names show whole in the list that drops down
        self.optimizer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.optimizer_box.setMinimumContentsLength(12)
        self.optimizer_form_holder = QVBoxLayout()
        form.addRow(self.optimizer_form_holder)
        self.optimizer_form: ParamForm | None = None
        self._optimizer_form_name = None

    def _build_groups(self) -> None:
        box, form = self._section("Parameter groups")
        form.check("optimizer.no_decay_bias_norm", "no weight decay on biases and norms",
                   "biases and normalisation weights go to a group 'no_decay' with weight_decay = 0")
        self.group_table = QTableWidget(0, len(_GROUP_COLUMNS), box)
        header = self.group_table.horizontalHeader()
        for column, (title, tip) in enumerate(_GROUP_COLUMNS):
            item = QTableWidgetItem(title)
            item.setToolTip(tip)
            self.group_table.setHorizontalHeaderItem(column, item)
            # the expressions and options are the long texts: they share what the others leave
            long_text = title in ("match", "options")
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch if long_text
                                        else QHeaderView.ResizeMode.ResizeToContents)
        self.group_table.verticalHeader().hide()
        self.group_table.setMaximumHeight(130)
        self.group_table.setToolTip("Rules: the first whose regex matches a parameter's name wins; empty "
                                    "cells keep the optimizer's value. Other options: key=value; key=value")
        self.group_table.itemChanged.connect(self._group_cell_changed)
        form.addRow(self.group_table)
        buttons = QWidget(box)
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        add, remove = QPushButton("Add rule", buttons), QPushButton("Remove rule", buttons)
        add.clicked.connect(self.add_group_rule)
        remove.clicked.connect(self.remove_group_rule)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        form.addRow(buttons)
        self.groups_error = _error_label(box)
        form.addRow(self.groups_error)
        self.assignment = QTableWidget(0, 3, box)
        self.assignment.setHorizontalHeaderLabels(("parameter", "shape", "group"))
        self.assignment.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.assignment.verticalHeader().hide()
        self.assignment.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.assignment.setMinimumHeight(120)
        self.assignment.setToolTip("Where each parameter lands, before training starts")
        form.addRow(self.assignment)

    def _build_scheduler(self) -> None:
        box, form = self._section("Learning-rate schedule")
        self.scheduler_box = form.combo("scheduler.name", "scheduler", scheduler_names(),
                                        "any torch.optim.lr_scheduler class", none_text=CONSTANT)
        self.scheduler_form_holder = QVBoxLayout()
        form.addRow(self.scheduler_form_holder)
        self.scheduler_form: ParamForm | None = None
        self.scheduler_composer: ScheduleComposer | None = None  # SequentialLR, ChainedScheduler
        self._scheduler_form_name = None
        form.combo("scheduler.interval", "steps every", INTERVALS,
                   "step or epoch (auto: step for OneCycleLR and CyclicLR, else epoch)",
                   none_text=AUTO_INTERVAL)
        form.line("scheduler.warmup_steps", "warm-up steps",
                  "a linear warm-up over this many optimizer steps")
        form.combo("scheduler.monitor", "plateau watches", MONITORS, "ReduceLROnPlateau's metric")
        # A log axis, as the live lr plot has: a schedule's later stages (x0.1 each) stay readable
        # instead of flattening onto zero; no SI prefix, which clipped the label to "lr (x0.00".
        self.lr_preview, self.lr_note = _preview_plot(box, form, (130, 160), decade_axes("left"))
        self.lr_preview.setLogMode(y=True)
        self.lr_preview.setLabel("bottom", "step")
        self.lr_preview.setLabel("left", "lr")
        for side in ("left", "bottom"):
            self.lr_preview.getAxis(side).enableAutoSIPrefix(False)
        self.lr_legend = self.lr_preview.addLegend(offset=(-4, 2), labelTextSize="8pt",
                                                   brush=pg.mkBrush(18, 20, 24, 190))
        self.lr_legend.setVisible(False)
        self.run_colour = PALETTE[0]  # the colour the next run gets: the tab keeps it up to date

    def _build_train(self) -> None:
        _, form = self._section("Training")
        form.line("train.epochs", "epochs", "passes over the training data")
        form.line("train.max_steps", "max steps", "stop after this many optimizer steps (empty: no limit)",
                  empty_is_none=True)
        form.line("train.seed", "seed", "the data split, initial weights and shuffling; same seed, same run")
        form.combo("train.device", "device", available_devices(), "devices present on this machine")
        form.line("train.threads", "CPU threads", "torch's CPU threads; part of the run, since torch's "
                  "sums depend on it (default: the cores less one, kept for this window)")
        form.line("train.grad_clip", "gradient clip", "clip the total gradient norm to this (empty: off)",
                  empty_is_none=True)

    # -- keys -------------------------------------------------------------------------------------
    def get_key(self, dotted: str):
        section, _, key = dotted.partition(".")
        return getattr(getattr(self.config, section), key)

    def set_key(self, dotted: str, value) -> bool:
        """Set one key; a refusal is shown under its field and leaves the configuration as it was."""
        error = self._error_for(dotted)
        if dotted == "data.name" and isinstance(value, str) and value in DATASETS:
            self._forget_other_datasets_keys(DATASETS[value])
        try:
            self.config.set(dotted, value)
        except ConfigError as refused:
            if error is not None:
                error.setText(str(refused))
                error.show()
            self.pending_changed.emit()
            return False
        if error is not None:
            error.hide()
            self.pending_changed.emit()
        for form in self.forms:
            if dotted in form.loaders:
                form.loaders[dotted]()  # the widget shows the value, also when set from code
        if dotted == "optimizer.name":
            self._optimizer_changed()
        elif dotted == "scheduler.name":
            self._scheduler_changed()
        self._edited()
        return True

    def _forget_other_datasets_keys(self, info) -> None:
        """Keys the new dataset does not take (noise on digits, a path on moons) would only be refused."""
        data = self.config.data
        if info.kind != "synthetic":
            data.noise = None
        if info.kind != "file":
            data.path = None
        if info.name != "csv":
            data.target = data.task = None
        for form in self.forms:
            if "data.noise" in form.errors:
                form.load()

    def widget(self, dotted: str) -> QWidget:
        """The editor of one key (for tests and keyboard focus)."""
        return next(form.widgets[dotted] for form in self.forms if dotted in form.widgets)

    def _error_for(self, dotted: str) -> QLabel | None:
        for form in self.forms:
            if dotted in form.errors:
                return form.errors[dotted]
        return None

    def _edited(self) -> None:
        self.changed.emit()
        self._check_timer.start()

    # -- optimizer and scheduler forms -----------------------------------------------------------
    def _optimizer_changed(self) -> None:
        from trainers.introspect import optimizer_options

        names = {spec.name for spec in optimizer_options(self.config.optimizer.name)}
        self.config.optimizer.options = {k: v for k, v in self.config.optimizer.options.items() if k in names}
        self._rebuild_optimizer_form()

    def _rebuild_optimizer_form(self) -> None:
        from trainers.introspect import optimizer_options

        name = self.config.optimizer.name
        if self.optimizer_form is None or self._optimizer_form_name != name.lower():
            options = optimizer_options(name)  # ConfigError for an unknown name: the old form stays
            if self.optimizer_form is not None:
                _discard(self.optimizer_form)
            self.optimizer_form = ParamForm(options, self)
            self.optimizer_form.edited.connect(self._optimizer_option)
            self.optimizer_form.marks_changed.connect(self.pending_changed)
            self.optimizer_form_holder.addWidget(self.optimizer_form)
            self._optimizer_form_name = name.lower()
        self.optimizer_form.set_values(self.config.optimizer.options)

    def _optimizer_option(self, name: str, value) -> None:
        self.optimizer_form.accept(name, value)  # torch checks it with the whole configuration
        self.config.optimizer.options[name] = list(value) if isinstance(value, list) else value
        self._edited()

    def _scheduler_changed(self) -> None:
        name = self.config.scheduler.name
        if name is None:
            self.config.scheduler.options = {}
        else:
            total = self.preview.total_steps if self.preview is not None else 100
            unit = total if self.config.scheduler.effective_interval == "step" else self.config.train.epochs
            lr = self.config.optimizer.options.get("lr", 1e-3)
            self.config.scheduler.options = dict(starter_params(name, unit, float(lr)))
            if name in COMPOSITE:  # a warm-up then a cosine, or a constant factor under one
                stages, milestones = starter_stages(name, unit, starter_params)
                self.config.scheduler.options = {"schedulers": [list(stage) for stage in stages],
                                                 **({"milestones": milestones} if milestones else {})}
            if name == "OneCycleLR":
                self.config.scheduler.options.pop("total_steps", None)  # the engine fits it to the run
        self._rebuild_scheduler_form()

    def _rebuild_scheduler_form(self) -> None:
        from trainers.factory import PYTHON_ONLY_SCHEDULERS, scheduler_class
        from trainers.introspect import scheduler_options

        name = self.config.scheduler.name
        if self.scheduler_composer is not None:
            _discard(self.scheduler_composer)
            self.scheduler_composer = None
        composite = scheduler_class(name).__name__ if name is not None else None
        if composite in PYTHON_ONLY_SCHEDULERS:
            if self.scheduler_form is not None:
                _discard(self.scheduler_form)
                self.scheduler_form = None
            options = self.config.scheduler.options
            try:
                stages = [(item, {}) if isinstance(item, str) else (item[0], dict(item[1]))
                          for item in options.get("schedulers", [])]
                # no parent until whole: a half-built one would be left on the panel
                milestones = list(options.get("milestones", []))
                self.scheduler_composer = ScheduleComposer(composite, stages, milestones)
            except (ValueError, TypeError, IndexError, KeyError):
                # stages the composer cannot show (a file's unknown name, a malformed item): the
                # configuration check names the culprit, and no stage editor is shown
                return
            self.scheduler_composer.composed.connect(self._scheduler_composed)
            self.scheduler_form_holder.addWidget(self.scheduler_composer)
            self._scheduler_form_name = name.lower()
            return
        if self._scheduler_form_name != (name or "").lower() or self.scheduler_form is None:
            options = scheduler_options(name) if name is not None else None  # ConfigError first
            if self.scheduler_form is not None:
                _discard(self.scheduler_form)
                self.scheduler_form = None
            if name is not None:
                self.scheduler_form = ParamForm(options, self)
                self.scheduler_form.edited.connect(self._scheduler_option)
                self.scheduler_form.marks_changed.connect(self.pending_changed)
                self.scheduler_form_holder.addWidget(self.scheduler_form)
            self._scheduler_form_name = (name or "").lower()
        if self.scheduler_form is not None:
            self.scheduler_form.set_values(self.config.scheduler.options)

    def _scheduler_composed(self, schedule) -> None:
        _, params = schedule
        self.config.scheduler.options = {key: [list(item) for item in value] if key == "schedulers" else value
                                         for key, value in params.items()}
        self._edited()

    def _scheduler_option(self, name: str, value) -> None:
        self.scheduler_form.accept(name, value)
        if value is None:
            self.config.scheduler.options.pop(name, None)
        else:
            self.config.scheduler.options[name] = value
        self._edited()

    # -- parameter-group rules ---------------------------------------------------------------------
    def add_group_rule(self) -> None:
        self.group_table.blockSignals(True)
        row = self.group_table.rowCount()
        self.group_table.insertRow(row)
        for column, text in enumerate(("^head\\.", f"group{row + 1}", "", "", "")):
            self.group_table.setItem(row, column, _cell(text))
        self.group_table.blockSignals(False)
        self._groups_edited()

    def remove_group_rule(self) -> None:
        row = self.group_table.currentRow()
        row = self.group_table.rowCount() - 1 if row < 0 else row
        if row >= 0:
            self.group_table.removeRow(row)
            self._groups_edited()

    def _group_cell_changed(self, item: QTableWidgetItem) -> None:
        self.group_table.blockSignals(True)  # a tooltip is item data too: it would call this again
        item.setToolTip(item.text())
        self.group_table.blockSignals(False)
        self._groups_edited()

    def _groups_edited(self) -> None:
        rules = []
        try:
            for row in range(self.group_table.rowCount()):
                items = [self.group_table.item(row, c) for c in range(len(_GROUP_COLUMNS))]
                cells = [item.text().strip() if item is not None else "" for item in items]
                rule = {"match": cells[0]}
                if cells[1]:
                    rule["name"] = cells[1]
                for key, text in (("lr", cells[2]), ("weight_decay", cells[3])):
                    if text:
                        rule[key] = _number(text, f"rule {row + 1}, {key}")
                for part in filter(None, (p.strip() for p in cells[4].split(";"))):
                    key, sep, text = part.partition("=")
                    if not sep or not key.strip():
                        raise ConfigError(f"rule {row + 1}, other options: expected key=value, got '{part}'")
                    value = parse_value(text)
                    rule[key.strip()] = list(value) if isinstance(value, tuple) else value
                rules.append(rule)
            self.config.set("optimizer.param_groups", rules)
        except ConfigError as error:
            self.groups_error.setText(str(error))
            self.groups_error.show()
            return
        self.groups_error.hide()
        self._edited()

    def _load_group_rules(self) -> None:
        self.group_table.blockSignals(True)
        self.group_table.setRowCount(0)
        for rule in self.config.optimizer.param_groups:
            row = self.group_table.rowCount()
            self.group_table.insertRow(row)
            others = "; ".join(f"{k}={show_value(v).replace(', ', ',')}" for k, v in rule.items()
                               if k not in ("match", "name", "lr", "weight_decay"))
            texts = (rule["match"], rule.get("name", ""), show_value(rule["lr"]) if "lr" in rule else "",
                     show_value(rule["weight_decay"]) if "weight_decay" in rule else "", others)
            for column, text in enumerate(texts):
                self.group_table.setItem(row, column, _cell(text))
        self.group_table.blockSignals(False)

    # -- whole configuration --------------------------------------------------------------------------
    def load(self, config: RunConfig) -> None:
        """Show ``config``, all or nothing: one the forms cannot show (an optimizer or scheduler
        torch does not have) is refused with ConfigError before anything changes."""
        from trainers.introspect import optimizer_options, scheduler_options

        optimizer_options(config.optimizer.name)
        if config.scheduler.name is not None:
            scheduler_options(config.scheduler.name)
        previous = self.config
        try:
            self._show(config.copy())
        except ConfigError:
            self._show(previous)  # what a form refused midway: back to the configuration shown
            raise

    def _show(self, config: RunConfig) -> None:
        self.config = config
        for form in self.forms:
            form.load()
        self._optimizer_form_name = None
        self._rebuild_optimizer_form()
        self._scheduler_form_name = None
        self._rebuild_scheduler_form()
        self._load_group_rules()
        self.groups_error.hide()
        self.check_in_background()

    def _load_first(self, check: bool) -> None:
        """Show the configuration given to the constructor; with ``check=False``, its check waits
        for :meth:`release_first_check`: run while the owner is still building, its thread took
        the GIL from the GUI thread's steps, making each one take twice as long."""
        self._first_check_held = not check
        self.load(self.config)

    def release_first_check(self) -> None:
        if self._first_check_held:
            self._first_check_held = False
            self.check_in_background()

    def current_config(self) -> RunConfig:
        return self.config.copy()

    def pending(self) -> list[str]:
        """The keys whose field shows what the configuration does not hold (unreadable text, a
        refused value): Start trains what the configuration holds, so it waits until there are none."""
        keys = [key for form in self.forms for key, error in form.errors.items() if not error.isHidden()]
        for section, form in (("optimizer", self.optimizer_form), ("scheduler", self.scheduler_form)):
            if form is not None:
                keys += [f"{section}.{name}" for name in form.pending()]
        return keys

    def _cached_dataset(self, key: tuple):
        return self._dataset_cache[1] if self._dataset_cache is not None and self._dataset_cache[0] == key \
            else None

    def check_now(self) -> bool:
        """Check the whole configuration as training would, here and now (Start does, before it
        trains); update previews; emit ``checked``. A background check still running is stale."""
        from trainers.preview import load_config_dataset, preview_run

        self._check_timer.stop()
        self._check_generation += 1
        self._recheck_when_done = False
        if self.preview_worker is not None:
            self.preview_worker.cancel()
        key, dataset = _dataset_key(self.config), None
        try:
            dataset = self._cached_dataset(key)
            if dataset is None:
                dataset = load_config_dataset(self.config)
                self._dataset_cache = (key, dataset)
            preview = preview_run(self.config, dataset)
        except ConfigError as error:
            self._show_check(None, str(error), dataset, error.param)
            return False
        self._show_check(preview, "", dataset)
        return True

    def check_in_background(self) -> None:
        """Check the whole configuration as :meth:`check_now` does, in a worker thread, and return at
        once: the previews say "Loading preview…" until the result arrives (then ``checked``). A
        change made meanwhile makes the running check stale: its result is dropped and, one thread
        at a time, the check runs again for the configuration as it then is."""
        self._check_timer.stop()
        if self._closed:
            return
        self._check_generation += 1
        self.data_summary.setText(PREVIEW_LOADING)
        self.lr_note.setText(PREVIEW_LOADING)
        if self._first_check_held:
            return
        if self.preview_worker is not None:  # cancelled, it skips building its preview and ends
            self.preview_worker.cancel()
            self._recheck_when_done = True
            return
        self._start_check_worker()

    def _start_check_worker(self) -> None:
        config, generation = self.config.copy(), self._check_generation  # the worker's own copy
        key = _dataset_key(config)
        dataset = self._cached_dataset(key)
        worker = JobWorker(lambda progress: _check_in_worker(config, generation, key, dataset, progress),
                           self)
        # Bound methods of this panel: Qt queues each call into the GUI thread.
        worker.done.connect(self._background_check_done)
        worker.failed.connect(self._background_check_crashed)
        worker.finished.connect(self._check_worker_finished)
        self.preview_worker, self._worker_generation = worker, generation
        worker.start()

    def _background_check_done(self, result: _CheckResult) -> None:
        if result.dataset is not None:  # worth keeping even when stale: the next check may reuse it
            self._dataset_cache = (result.dataset_key, result.dataset)
        if result.generation == self._check_generation:
            self._show_check(result.preview, result.error, result.dataset, result.error_key)

    def _background_check_crashed(self, message: str) -> None:
        if self._worker_generation == self._check_generation:
            self._show_check(None, message, None)

    def _check_worker_finished(self) -> None:
        worker, self.preview_worker = self.preview_worker, None
        if worker is not None:
            worker.deleteLater()
        if self._recheck_when_done and not self._closed:
            self._recheck_when_done = False
            self._start_check_worker()

    def shutdown(self) -> None:
        """No check thread outlives the panel: stop starting them, and wait for the running one."""
        self._closed = True
        self._check_timer.stop()
        self._recheck_when_done = False
        if self.preview_worker is not None:
            self.preview_worker.cancel()
            self.preview_worker.wait()

    def _show_check(self, preview, message: str, dataset, error_key: str | None = None) -> None:
        """Show one check's outcome: its previews, or its error (and the data, if that loaded), marked
        on the field of ``error_key`` (``optimizer.lr``) when a form has one."""
        self.preview = preview
        if preview is None:
            self.error.setText(message)
            self.error.show()
            self._mark_option_error(error_key, message)
            if dataset is not None:
                self._show_data(dataset)
            else:  # the previews show nothing rather than an earlier configuration's data
                self.data_preview.clear()
                self.data_preview.hide()
                self.data_summary.setText("no data preview: see the error below")
            self.lr_preview.clear()
            self.lr_note.setText("no lr preview: see the error below")
            self.checked.emit(False, message)
            return
        self.error.hide()
        for form in (self.optimizer_form, self.scheduler_form):
            if form is not None:
                form.clear_checked()  # text that cannot be read stays marked: it is not in the check
        self._show_preview()
        self.checked.emit(True, "")

    def _mark_option_error(self, key: str | None, message: str) -> None:
        section, _, name = (key or "").partition(".")
        form = {"optimizer": self.optimizer_form, "scheduler": self.scheduler_form}.get(section)
        if form is not None and name in form.fields:
            form.set_error(name, message)

    def _show_preview(self) -> None:
        preview = self.preview
        self.assignment.setRowCount(len(preview.assignment))
        for row, item in enumerate(preview.assignment):
            for column, text in enumerate((item.name, "×".join(map(str, item.shape)), item.group)):
                self.assignment.setItem(row, column, QTableWidgetItem(text))
        self._show_lr_curves()
        groups = ", ".join(preview.groups)
        note = f"{preview.total_steps} steps ({preview.steps_per_epoch} per epoch); groups: {groups}; " \
               f"{preview.parameters:,} parameters"
        if preview.lr_depends_on_metrics:
            note += ". ReduceLROnPlateau follows the metric: the curve shows its cuts at their earliest"
        self.lr_note.setText(note)
        self._show_data(preview.dataset)

    def set_run_colour(self, colour: str) -> None:
        """Draw the lr preview in ``colour``, the colour of the run Start adds next."""
        self.run_colour = colour
        if self.preview is not None:
            self._show_lr_curves()

    def _show_lr_curves(self) -> None:
        """One curve per group with the live lr plot's pen for it; a legend once there are several;
        a y range of at least LR_PREVIEW_MIN_DECADES around them (a flat line has no range)."""
        plot, preview = self.lr_preview, self.preview
        plot.clear()  # also empties the legend
        steps = np.arange(1, preview.total_steps + 1)
        shown = []
        for index, (group, lrs) in enumerate(preview.learning_rates.items()):
            lrs = positive(np.asarray(lrs, dtype=float), True)  # an lr of 0 is a gap on a log axis
            plot.plot(steps, lrs, pen=group_pen(self.run_colour, index), name=group)
            shown.append(lrs[np.isfinite(lrs)])
        self.lr_legend.setColumnCount(max(1, len(shown)))  # one row: it covers less of a short plot
        self.lr_legend.setVisible(len(shown) > 1)
        values = np.concatenate(shown) if shown else np.array([])
        if not values.size:
            plot.enableAutoRange()
            return
        low, high = np.log10(values.min()), np.log10(values.max())
        pad = max(0.08 * (high - low), (LR_PREVIEW_MIN_DECADES - (high - low)) / 2)
        # a legend's row takes about a third of this short plot: room above the curves for it
        top = pad + (0.6 * (high - low + 2 * pad) if len(shown) > 1 else 0.0)
        plot.enableAutoRange(x=True, y=False)
        plot.setYRange(low - pad, high + top, padding=0)

    def _show_data(self, dataset) -> None:
        plot = self.data_preview
        plot.clear()
        if dataset.is_image:
            images = dataset.x_train[:16, 0]
            height, width = images.shape[1:]
            tiles = images.reshape(2, 8, height, width).transpose(0, 2, 1, 3).reshape(2 * height, 8 * width)
            item = pg.ImageItem(tiles[::-1])
            item.setColorMap(pg.colormap.get("CET-L1"))
            plot.addItem(item)
            plot.setAspectLocked(True)
        elif dataset.input_shape == (2,) and dataset.task == "classification":
            brushes = [pg.mkBrush(*CLASS_COLOURS[int(c) % len(CLASS_COLOURS)], 200)
                       for c in dataset.y_train[:2000]]
            plot.addItem(pg.ScatterPlotItem(dataset.x_train[:2000, 0], dataset.x_train[:2000, 1], size=4,
                                            pen=None, brush=brushes))
            plot.setAspectLocked(False)
        elif dataset.input_shape == (1,):
            plot.addItem(pg.ScatterPlotItem(dataset.x_train[:2000, 0], dataset.y_train[:2000, 0], size=3,
                                            pen=None, brush=pg.mkBrush(120, 200, 255, 160)))
            plot.setAspectLocked(False)
        plot.setVisible(dataset.is_image or dataset.input_shape in ((2,), (1,)))
        plot.autoRange()
        shape = "×".join(map(str, dataset.input_shape))
        self.data_summary.setText(f"{len(dataset.x_train)} training / {len(dataset.x_val)} validation "
                                  f"samples of shape {shape}; {describe_task(dataset)}")

    def _browse(self) -> None:
        if self.config.data.name == "csv":
            path, _ = QFileDialog.getOpenFileName(self, "CSV file", "", "CSV (*.csv);;All files (*)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Folder with the IDX files")
        if path:
            self.path.setText(path)
            self.set_key("data.path", path)


def _dataset_key(config: RunConfig) -> tuple:
    """What the dataset depends on: two configurations with the same key load the same arrays."""
    return (tuple(sorted((k, repr(v)) for k, v in config.to_dict()["data"].items()
                         if k not in ("batch_size", "shuffle"))), config.train.seed)


@dataclass(frozen=True)
class _CheckResult:
    """One background check's outcome, plain data for the GUI thread."""

    generation: int
    dataset_key: tuple
    dataset: object | None  # None when the data could not be loaded
    preview: object | None  # a RunPreview; None on an error, or when the check was cancelled
    error: str
    error_key: str | None = None  # the configuration key the error is about (ConfigError.param)


def _check_in_worker(config: RunConfig, generation: int, dataset_key: tuple, dataset,
                     progress) -> _CheckResult:
    """The body of a background check, in the worker thread: loads the data unless ``dataset`` is
    given, then builds the preview unless the check was cancelled meanwhile. Touches no widget."""
    from trainers.preview import load_config_dataset, preview_run

    try:
        if dataset is None:
            dataset = load_config_dataset(config)
        if not progress(1, 2):  # stale: a newer configuration is waiting for this thread
            return _CheckResult(generation, dataset_key, dataset, None, "")
        return _CheckResult(generation, dataset_key, dataset, preview_run(config, dataset), "")
    except ConfigError as error:
        return _CheckResult(generation, dataset_key, dataset, None, str(error), error.param)


def _cell(text: str) -> QTableWidgetItem:
    """A table cell whose tooltip holds its whole text, for when the column is narrower."""
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    return item


def _number(text: str, where: str) -> float:
    value = parse_value(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: '{text}' is not a number")
    return float(value)


def _preview_plot(box: QWidget, form: QFormLayout, heights: tuple[int, int],
                  axes: dict | None = None) -> tuple[pg.PlotWidget, QLabel]:
    """A small plot that only shows (no panning, no menu) with a caption under it."""
    # no menu: building one nobody opens costs ~30 ms a plot
    plot = pg.PlotWidget(box, enableMenu=False, axisItems=axes)
    plot.setMinimumHeight(heights[0])
    plot.setMaximumHeight(heights[1])
    plot.setMouseEnabled(False, False)
    plot.setMenuEnabled(False)
    caption = QLabel(box)
    caption.setWordWrap(True)
    form.addRow(plot)
    form.addRow(caption)
    return plot, caption


def _discard(widget: QWidget) -> None:
    """Take a replaced form off the screen now; Qt deletes it when the event loop next runs."""
    widget.hide()
    widget.setParent(None)
    widget.deleteLater()
