"""The editors' column on the left of a tab: widgets stacked, scrolling vertically when tall."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

COLUMN_WIDTH = 380


def scrolling_column(parent: QWidget, widgets) -> QScrollArea:
    inner = QWidget(parent)
    layout = QVBoxLayout(inner)
    layout.setContentsMargins(4, 4, 4, 4)
    for widget in widgets:
        layout.addWidget(widget)
    scroll = QScrollArea(parent)
    scroll.setWidget(inner)
    scroll.setWidgetResizable(True)
    scroll.setMinimumWidth(COLUMN_WIDTH)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return scroll
