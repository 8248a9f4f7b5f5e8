"""The wheel scrolls the editors' column; it changes a setting only in the editor being edited."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QScrollArea


def wheel_over(widget, notches: int = -2) -> None:
    """``notches`` wheel notches with the pointer over ``widget`` (negative: towards the user)."""
    at = QPointF(widget.width() / 2, widget.height() / 2)
    for _ in range(abs(notches)):
        event = QWheelEvent(at, QPointF(widget.mapToGlobal(at.toPoint())), QPoint(0, 0),
                            QPoint(0, 120 if notches > 0 else -120), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(widget, event)


def enclosing_scroll(widget) -> QScrollArea:
    parent = widget.parentWidget()
    while not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent


def combo_showing(root, text: str) -> QComboBox:
    return next(c for c in root.findChildren(QComboBox) if c.isVisible() and c.currentText() == text)


def test_the_wheel_over_an_unfocused_combo_scrolls_the_training_column(qtbot, window):
    training = window.show_training()
    window.resize(1280, 800)
    activation = combo_showing(training, "relu")
    scroll = enclosing_scroll(activation)
    assert scroll.verticalScrollBar().maximum() > 0  # the column is taller than the window here
    wheel_over(activation)
    assert activation.currentText() == "relu" and training.panel.current_config().model.activation == "relu"
    assert scroll.verticalScrollBar().value() > 0  # it scrolled instead
    activation.setFocus()
    qtbot.waitUntil(activation.hasFocus)
    wheel_over(activation, notches=-1)
    assert activation.currentText() != "relu"  # a focused editor still takes the wheel


def test_the_wheel_over_unfocused_editors_of_the_simulator_changes_nothing(qtbot, window):
    window.resize(1280, 800)
    tab = window.simulator
    before = tab.current_scenario().to_json()
    editors = [w for w in tab.findChildren(QComboBox) + tab.findChildren(QAbstractSpinBox)
               if w.isVisible() and isinstance(w.parentWidget(), object)]
    assert len(editors) >= 3
    for editor in editors:
        wheel_over(editor, notches=2)
        wheel_over(editor, notches=-2)
    assert tab.current_scenario().to_json() == before
