"""A schedule made of schedules, composed in the Simulator and Training tabs: SequentialLR (one
after another, switching at milestones) and ChainedScheduler (all at once, each scaling the lr in
turn).

Each stage is a schedule of its own (any but a composite or ReduceLROnPlateau: torch nests neither)
with its form generated from the registry; SequentialLR adds the steps it switches at. The composer
emits ``composed((name, params))`` whenever every stage reads. Each stage's values are checked by
the simulator's registry, whose schedules take torch's arguments; the Simulator's run editor checks
the whole and applies it or shows the refusal, the Training tab's configuration check builds it in
torch.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.widgets.param_editors import ParamForm, parse_whole_numbers
from simulator import SimulatorError
from simulator.schedules import COMPOSITE, SCHEDULES, get_schedule

STAGE_SCHEDULES = [name for name in SCHEDULES if name not in (*COMPOSITE, "ReduceLROnPlateau")]


def starter_stages(name: str, steps: int, starter_params) -> tuple[list[tuple[str, dict]], list[int]]:
    """Stages and milestones that make sense for a run of ``steps`` steps: a warm-up then a cosine
    (SequentialLR); a short constant factor under a cosine (ChainedScheduler)."""
    ramp = max(1, steps // 10)
    if name == "SequentialLR":
        return ([("LinearLR", {"start_factor": 0.1, "total_iters": ramp}),
                 ("CosineAnnealingLR", {"T_max": max(1, steps - ramp)})], [ramp])
    return [("ConstantLR", {"factor": 0.5, "total_iters": ramp}),
            ("CosineAnnealingLR", starter_params("CosineAnnealingLR", steps, 0.0))], []


class _Stage(QFrame):
    """One schedule of the composite: its name and its form."""

    changed = Signal()
    remove_asked = Signal()

    def __init__(self, name: str, params: dict, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.box = QComboBox(self)
        self.box.addItems(STAGE_SCHEDULES)
        self.box.setCurrentText(name)
        self.box.activated.connect(lambda _index: self._chosen())
        row.addWidget(self.box, 1)
        self.remove = QPushButton("Remove", self)
        self.remove.setToolTip("take this schedule out")
        self.remove.clicked.connect(self.remove_asked.emit)
        row.addWidget(self.remove)
        layout.addLayout(row)
        self.form_holder = QVBoxLayout()
        layout.addLayout(self.form_holder)
        self.form: ParamForm | None = None
        self._show(name, params)

    def _show(self, name: str, params: dict) -> None:
        if self.form is not None:
            self.form.deleteLater()
        self.params = dict(params)
        spec = get_schedule(name)
        self.form = ParamForm(spec.params, self)
        self.form.set_values({**{p.name: p.default for p in spec.params}, **params})
        self.form.edited.connect(self._edited)
        self.form_holder.addWidget(self.form)

    def _chosen(self) -> None:
        self._show(self.box.currentText(), {})
        self.changed.emit()

    def _edited(self, name: str, value) -> None:
        spec = get_schedule(self.box.currentText())
        try:
            resolved = spec.check({**self.params, name: value})
        except SimulatorError as error:
            self.form.refuse(name, str(error))
            return
        self.form.accept(name, resolved.values[name])
        self.params = dict(resolved)
        self.changed.emit()

    @property
    def schedule(self) -> tuple[str, dict]:
        return self.box.currentText(), dict(self.params)


class ScheduleComposer(QWidget):
    """The stages of a SequentialLR or ChainedScheduler, and SequentialLR's milestones."""

    composed = Signal(object)  # (name, {"schedulers": [...], "milestones": [...]})

    def __init__(self, name: str, stages: list[tuple[str, dict]], milestones: list[int], parent=None):
        super().__init__(parent)
        self.name = name
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.stage_box = QVBoxLayout()
        layout.addLayout(self.stage_box)
        self.stages: list[_Stage] = []
        for stage_name, params in stages:
            self._add(stage_name, params)
        self.add_button = QPushButton("Add a schedule", self)
        self.add_button.setToolTip("one more schedule: after the others (SequentialLR), or applied with "
                                   "them (ChainedScheduler)")
        self.add_button.clicked.connect(self.add_stage)
        layout.addWidget(self.add_button)
        self.milestones = QLineEdit(self)
        self.milestones.setPlaceholderText("e.g. 30, 200")
        self.milestones.setToolTip("the steps at which SequentialLR switches to the next schedule "
                                   "(one fewer than the schedules)")
        self.milestones.setText(", ".join(str(m) for m in milestones))
        self.milestones.editingFinished.connect(self._emit)
        self.milestones_error = QLabel(self)  # text that is no list of whole numbers
        self.milestones_error.setStyleSheet("color: #ff7070;")
        self.milestones_error.setWordWrap(True)
        self.milestones_error.hide()
        if name == "SequentialLR":
            form = QFormLayout()
            form.addRow("switch at steps", self.milestones)
            form.addRow(self.milestones_error)
            layout.addLayout(form)
        else:
            self.milestones.hide()
        self._update_removable()

    def _add(self, name: str, params: dict) -> _Stage:
        stage = _Stage(name, params, self)
        stage.changed.connect(self._emit)
        stage.remove_asked.connect(lambda stage=stage: self.remove_stage(self.stages.index(stage)))
        self.stages.append(stage)
        self.stage_box.addWidget(stage)
        return stage

    def add_stage(self) -> None:
        self._add("ConstantLR", {})
        self._update_removable()
        self._emit()

    def remove_stage(self, index: int) -> None:
        stage = self.stages.pop(index)
        stage.deleteLater()
        self._update_removable()
        self._emit()

    def _update_removable(self) -> None:
        for stage in self.stages:  # a composite of nothing is no schedule: keep one
            stage.remove.setEnabled(len(self.stages) > 1)

    def milestone_values(self) -> tuple[list[int] | None, str]:
        return parse_whole_numbers(self.milestones.text())

    @property
    def schedule(self) -> tuple[str, dict] | None:
        """The composite as the registry takes it, or None while the milestones do not read."""
        params = {"schedulers": [stage.schedule for stage in self.stages]}
        if self.name == "SequentialLR":
            milestones, why = self.milestone_values()
            if why:
                return None
            params["milestones"] = milestones
        return self.name, params

    def _emit(self) -> None:
        why = self.milestone_values()[1] if self.name == "SequentialLR" else ""
        self.milestones_error.setText(f"{why}; the schedule stays as it was" if why else "")
        self.milestones_error.setVisible(bool(why))
        schedule = self.schedule
        if schedule is not None:
            self.composed.emit(schedule)
