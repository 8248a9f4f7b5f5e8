"""The mouse wheel scrolls a column of editors; it changes a setting only in the editor being edited.

Qt gives the wheel to whatever combo box, spin box or slider lies under the pointer, focused or not:
scrolling the left column over "activation" turned relu into gelu. One filter on the application
sends such a wheel to the enclosing scroll area instead, unless the editor has the keyboard focus
(clicked or tabbed into), as browsers and most settings dialogs do.
"""

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollArea,
    QScrollBar,
)

_EDITORS = (QComboBox, QAbstractSpinBox, QAbstractSlider)


class WheelGuard(QObject):
    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, _EDITORS) or \
                isinstance(watched, QScrollBar) or watched.hasFocus():
            return False
        scroll = _enclosing_scroll_area(watched)
        if scroll is None:
            return False  # not in a scrolling column: the wheel is the only thing it can mean
        QApplication.sendEvent(scroll.verticalScrollBar(), event)
        return True


def _enclosing_scroll_area(widget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


_guard: WheelGuard | None = None


def guard_wheel_in_columns(app: QApplication) -> None:
    """Install the filter on ``app`` (once)."""
    global _guard
    if _guard is None:
        _guard = WheelGuard(app)
        app.installEventFilter(_guard)
