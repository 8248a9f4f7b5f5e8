"""Editors generated from :class:`simulator.params.Param` alone: one field per parameter.

Each field knows its parameter's kind (number, whole number, pair, switch, choice, list, formula), its
default, its range and its scale: numbers get a text box (scientific notation welcome) and, where
the registry gives a typical range, a slider on a log or linear scale. ``ParamForm.edited`` fires
with the typed value; text that is not a value of the right kind is shown inline and not passed
on. Range and cross-parameter checks belong to the registry (``resolve``); the form only shows
their refusals (``set_error``), on the field the refusal names.

Each field keeps its own error state: text that cannot be read stays marked (and says which value
is still in force) until it is fixed, whatever happens to the other fields; a refusal stays until
the owner accepts a value for that field (``accept``) or clears it.
"""

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QWidget,
)

from simulator.params import BOOL, CHOICE, FLOAT, FORMULA, INT, INT_LIST, PAIR, Param

SLIDER_STEPS = 1000
# light red behind dark red text: readable on the light theme the fields use (WCAG contrast > 7)
ERROR_STYLE = "QLineEdit { border: 1px solid #d03030; background: #ffe4e4; color: #6a0000; }"


def show_value(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value)
    return str(value)


def parse_number(text: str, whole: bool, none_ok: bool):
    """(value, "") or (None, why) for the text of a number field."""
    text = text.strip()
    if none_ok and text.lower() in ("none", ""):
        return None, ""
    try:
        value = float(text)
    except ValueError:
        return None, f"'{text}' is not a number"
    if not math.isfinite(value):
        return None, "must be a finite number"
    if whole:
        if not value.is_integer():
            return None, f"'{text}' is not a whole number"
        return int(value), ""
    return value, ""


class _Field(QWidget):
    changed = Signal()

    def __init__(self, param: Param, parent=None):
        super().__init__(parent)
        self.param = param
        self.setToolTip(_tooltip(param))

    def value(self):
        """(value, "") or (None, why not)."""
        raise NotImplementedError

    def set_value(self, value) -> None:
        raise NotImplementedError

    def mark(self, bad: bool) -> None:
        for edit in self.findChildren(QLineEdit):
            edit.setStyleSheet(ERROR_STYLE if bad else "")


class _NumberField(_Field):
    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setMinimumWidth(70)
        self.edit.editingFinished.connect(self._edited)
        layout.addWidget(self.edit, 1)
        self.whole = param.kind == INT
        self.none_ok = param.none_allowed
        self.slider = None
        typical = param.typical
        if param.kind == FLOAT and typical and typical[1] > typical[0] and \
                (param.scale != "log" or typical[0] > 0):
            self.slider = QSlider(Qt.Orientation.Horizontal, self)
            self.slider.setRange(0, SLIDER_STEPS)
            self.slider.setToolTip(f"{param.name}: {typical[0]:g} … {typical[1]:g} ({param.scale} scale)")
            self.slider.valueChanged.connect(self._slid)
            self.slider.setMaximumWidth(110)
            layout.addWidget(self.slider, 1)
        self._last_text = None

    def _to_slider(self, value: float) -> int:
        low, high = self.param.typical
        if self.param.scale == "log":
            if value <= 0:
                return 0
            fraction = (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
        else:
            fraction = (value - low) / (high - low)
        return round(min(max(fraction, 0.0), 1.0) * SLIDER_STEPS)

    def _from_slider(self, position: int) -> float:
        low, high = self.param.typical
        fraction = position / SLIDER_STEPS
        if self.param.scale == "log":
            value = 10 ** (math.log10(low) + fraction * (math.log10(high) - math.log10(low)))
        else:
            value = low + fraction * (high - low)
        return float(f"{value:.3g}")  # a round number: sliders are for exploring

    def _slid(self, position: int) -> None:
        if self.slider.isSliderDown() or self.slider.hasFocus():
            self.edit.setText(show_value(self._from_slider(position)))
            self._edited()

    def _edited(self) -> None:
        if self.edit.text() == self._last_text:
            return
        self._last_text = self.edit.text()
        self._follow(self.value()[0])  # a typed value moves the slider too (to its end, if beyond)
        self.changed.emit()

    def value(self):
        return parse_number(self.edit.text(), self.whole, self.none_ok)

    def set_value(self, value) -> None:
        self.edit.setText(show_value(value))
        self._last_text = self.edit.text()
        self._follow(value)

    def _follow(self, value) -> None:
        if self.slider is not None and isinstance(value, int | float) and not isinstance(value, bool):
            self.slider.blockSignals(True)
            self.slider.setValue(self._to_slider(float(value)))
            self.slider.blockSignals(False)


class _PairField(_Field):
    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edits = [QLineEdit(self), QLineEdit(self)]
        for edit in self.edits:
            edit.editingFinished.connect(self.changed.emit)
            layout.addWidget(edit)

    def value(self):
        values = []
        for index, edit in enumerate(self.edits):
            none_ok = index == 0 and self.param.first_may_be_none
            value, why = parse_number(edit.text(), False, none_ok)
            if why:
                return None, why
            values.append(value)
        return tuple(values), ""

    def set_value(self, value) -> None:
        for edit, element in zip(self.edits, value, strict=True):
            edit.setText(show_value(element))


class _BoolField(_Field):
    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.box = QCheckBox(self)
        self.box.toggled.connect(lambda _on: self.changed.emit())
        layout.addWidget(self.box)

    def value(self):
        return self.box.isChecked(), ""

    def set_value(self, value) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class _ChoiceField(_Field):
    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.choices = list(param.choices)
        self.combo.addItems([show_value(c) for c in self.choices])
        self.combo.currentIndexChanged.connect(lambda _index: self.changed.emit())
        layout.addWidget(self.combo)

    def value(self):
        return self.choices[self.combo.currentIndex()], ""

    def set_value(self, value) -> None:
        self.combo.blockSignals(True)
        if value in self.choices:
            self.combo.setCurrentIndex(self.choices.index(value))
        self.combo.blockSignals(False)


def parse_whole_numbers(text: str):
    """(values, "") or (None, why) for a comma (or semicolon) list of whole numbers."""
    values = []
    for part in text.replace(";", ",").split(","):
        if part.strip():
            value, why = parse_number(part, True, False)
            if why:
                return None, why
            values.append(value)
    return values, ""


class _TextField(_Field):
    """A field typed as one line of text."""

    PLACEHOLDER = ""

    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(self.PLACEHOLDER)
        layout.addWidget(self.edit)


class _ListField(_TextField):
    PLACEHOLDER = "e.g. 100, 300"

    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.edit.editingFinished.connect(self.changed.emit)

    def value(self):
        return parse_whole_numbers(self.edit.text())

    def set_value(self, value) -> None:
        self.edit.setText(show_value(list(value or [])))


class _FormulaField(_TextField):
    """A formula (LambdaLR's ``0.95**epoch``): passed on as typed; the registry checks it and says
    what is not allowed, on this field."""

    PLACEHOLDER = "e.g. 0.95**epoch"

    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.edit.editingFinished.connect(self._edited)
        self._last_text = None

    def _edited(self) -> None:
        if self.edit.text() != self._last_text:  # Enter then leaving the field is one edit
            self._last_text = self.edit.text()
            self.changed.emit()

    def value(self):
        return self.edit.text().strip(), ""

    def set_value(self, value) -> None:
        self.edit.setText("" if value is None else str(value))
        self._last_text = self.edit.text()


_FIELDS = {FLOAT: _NumberField, INT: _NumberField, PAIR: _PairField, BOOL: _BoolField, CHOICE: _ChoiceField,
           INT_LIST: _ListField, FORMULA: _FormulaField}


def _tooltip(param: Param) -> str:
    text = f"<b>{param.name}</b>: {param.help}<br>default {show_value(param.default)}"
    if param.kind not in (BOOL, CHOICE, INT_LIST, FORMULA):
        text += f"; valid: {param.range_text()}"
    return text


class ParamForm(QWidget):
    """A form for ``params`` (Param records). ``edited(name, value)`` on a readable entry.

    ``in_force`` holds the value the owner uses for each field (set by ``set_values`` and
    ``accept``): a field whose text is refused says which value is still in force.
    """

    edited = Signal(str, object)
    marks_changed = Signal()  # a field was marked or cleared (see :meth:`pending`)

    def __init__(self, params, parent=None):
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, _Field] = {}
        self.errors: dict[str, QLabel] = {}
        self.in_force: dict[str, object] = {}
        self._unreadable: dict[str, str] = {}  # text that is no value of the field's kind
        self._refused: dict[str, str] = {}  # the owner's refusal of the field's value
        self._not_in_force: set[str] = set()  # refused edits: the text shows a value not in force
        for param in params:
            field_class = _FIELDS.get(param.kind)
            if field_class is None:
                continue  # e.g. SequentialLR's list of schedules: edited as a warm-up instead
            field = field_class(param, self)
            label = QLabel(param.name, self)
            label.setToolTip(field.toolTip())
            error = QLabel(self)
            error.setStyleSheet("color: #ff7070;")
            error.setWordWrap(True)
            error.hide()
            self.layout_.addRow(label, field)
            self.layout_.addRow(error)
            self.fields[param.name] = field
            self.errors[param.name] = error
            self.in_force[param.name] = param.default
            field.changed.connect(lambda name=param.name: self._changed(name))

    def set_values(self, values: dict) -> None:
        """Show ``values`` (defaults for the others) as the values in force; no field is marked."""
        self._unreadable.clear()
        self._refused.clear()
        self._not_in_force.clear()
        for name, field in self.fields.items():
            self.in_force[name] = values.get(name, field.param.default)
            field.set_value(self.in_force[name])
            self._show_error(name)

    def _changed(self, name: str) -> None:
        value, why = self.fields[name].value()
        if why:
            self._unreadable[name] = f"{why}; {self._kept(name)}"
            self._show_error(name)
            return
        self._unreadable.pop(name, None)
        self._refused.pop(name, None)
        self._not_in_force.discard(name)
        self._show_error(name)
        self.edited.emit(name, value)

    def accept(self, name: str, value) -> None:
        """The owner took ``value`` for ``name``: it is in force, and the field is not marked."""
        if name in self.fields:
            self.in_force[name] = value
            self._not_in_force.discard(name)
            self.set_error(name, "")

    def refuse(self, name: str, message: str) -> None:
        """The owner refused the value typed in ``name`` and keeps the one in force: say both. The
        mark stays until that field gets a value the owner accepts."""
        if name in self.fields:
            self._not_in_force.add(name)
            self.set_error(name, message)

    def set_error(self, name: str, message: str) -> None:
        """Mark ``name`` with the owner's ``message`` about the value in force ("" clears it). Text
        that cannot be read stays marked until it is fixed: a check of other values never clears it."""
        if name not in self.fields:
            return
        if message:
            self._refused[name] = f"{message}; {self._kept(name)}" if name in self._not_in_force else message
        else:
            self._refused.pop(name, None)
        self._show_error(name)

    def clear_checked(self) -> None:
        """The owner found the values in force valid: clear the marks about them. Fields whose text
        is not in force (unreadable, or a refused edit) stay marked."""
        for name in list(self._refused):
            if name not in self._not_in_force:
                self.set_error(name, "")

    def _kept(self, name: str) -> str:
        return f"{name} stays {show_value(self.in_force.get(name))}"

    def _show_error(self, name: str) -> None:
        message = self._unreadable.get(name) or self._refused.get(name, "")
        self.fields[name].mark(bool(message))
        self.errors[name].setText(message)
        self.errors[name].setVisible(bool(message))
        self.marks_changed.emit()

    def error(self, name: str) -> str:
        return self.errors[name].text() if name in self.errors else ""

    def pending(self) -> list[str]:
        """The fields whose text is not the value in force (unreadable, or refused): while any is,
        what the form shows is not what would run."""
        return sorted(set(self._unreadable) | self._not_in_force)
