"""A plot title that never widens its plot.

pyqtgraph's title (a ``LabelItem``) makes its text's width the plot's minimum: in a cell narrower
than "decision boundary, epoch 10" the plot's layout grew past its view, the right of the plot and
of the title were cut off, and nothing said so. :class:`FittedTitle` asks for no width and shows the
first of its texts (longest first) that fits the room it is given, the last one elided when none does.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

ELLIPSIS = "…"


class FittedTitle(pg.LabelItem):
    _fitting = True  # until built: LabelItem's constructor sets its first text through setText

    def __init__(self, *texts: str, size: str = "10pt", parent=None):
        super().__init__(texts[0] if texts else " ", parent=parent, size=size)
        self._texts: tuple[str, ...] = texts or (" ",)
        self._fitting = False

    @property
    def texts(self) -> tuple[str, ...]:
        return self._texts

    @property
    def shown(self) -> str:
        """The text on screen now."""
        return self.text

    def set_texts(self, *texts: str) -> None:
        """The title, then shorter forms of it for narrower plots (each a whole phrase)."""
        self._texts = texts or (" ",)
        self._fit()

    def setText(self, text, **args) -> None:  # PlotItem.setTitle calls it
        if self._fitting:
            super().setText(text, **args)
            return
        self._texts = (text,)
        self.opts.update(args)
        self._fit()

    def text_width(self) -> float:
        """The width the text shown now needs."""
        return self.itemRect().width()

    def resizeEvent(self, ev) -> None:
        if ev is not None and not self._fitting:
            self._fit()
        super().resizeEvent(ev)

    def _fit(self) -> None:
        room = self.width()
        self._fitting = True
        try:
            for text in self._texts:
                super().setText(text)
                if self.text_width() <= room:
                    return
            shortest = self._texts[-1]
            for length in range(len(shortest) - 1, 0, -1):
                super().setText(shortest[:length].rstrip(" ,") + ELLIPSIS)
                if self.text_width() <= room:
                    return
        finally:
            self._fitting = False

    def updateMin(self) -> None:
        """Its height, as pyqtgraph's title; no width: the plot's cell decides it."""
        height = self.itemRect().height()
        self.setMinimumWidth(0)
        self.setMinimumHeight(height)
        self._sizeHint = {Qt.SizeHint.MinimumSize: (0, height), Qt.SizeHint.PreferredSize: (0, height),
                          Qt.SizeHint.MaximumSize: (-1, -1), Qt.SizeHint.MinimumDescent: (0, 0)}
        self.updateGeometry()


def fit_title(plot: pg.PlotItem, *texts: str, size: str = "10pt") -> FittedTitle:
    """Give ``plot`` a :class:`FittedTitle` in the place of its own title, showing ``texts``."""
    own = plot.titleLabel
    plot.layout.removeItem(own)
    if own.scene() is not None:
        own.scene().removeItem(own)
    title = FittedTitle(*texts, size=size, parent=plot)
    plot.titleLabel = title
    plot.layout.addItem(title, 0, 1)
    title.setMaximumHeight(30)  # the row's height, as PlotItem.setTitle sets it for a title
    plot.layout.setRowFixedHeight(0, 30)
    return title
