"""Room in Qt's pixmap cache for the views whose items keep their pixels cached.

``QGraphicsItem.DeviceCoordinateCache`` stores each cached item as a pixmap in QPixmapCache, whose
default limit (10 MB) holds only a few view-sized pixmaps. Past it Qt evicts them, and every frame
then re-renders what it meant to copy: the Simulator tab at 2560x1440 went from 9 ms to 106 ms a
frame. So each such view says how many view-sized pixmaps its items may need, and the limit follows
the sum over the views now shown, at their current sizes (never below Qt's default).
"""

import shiboken6
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QPixmapCache
from PySide6.QtWidgets import QWidget

BYTES_PER_PIXEL = 4
HEADROOM = 1.25  # pixmaps are cut to the item's device rectangle plus a margin; stray caches


class _PixmapBudget(QObject):
    def __init__(self):
        super().__init__()
        self._default_kb = QPixmapCache.cacheLimit()
        self._views: dict[int, tuple[QWidget, int]] = {}  # id(view) -> (view, view-sized pixmaps)

    def reserve(self, view: QWidget, pixmaps: int) -> None:
        key = id(view)
        if key not in self._views:
            view.installEventFilter(self)
            view.destroyed.connect(lambda _=None, key=key: self._forget(key))
        self._views[key] = (view, pixmaps)
        self._apply()

    def eventFilter(self, watched, event) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.Hide):
            self._apply()
        return False

    def _forget(self, key: int) -> None:
        self._views.pop(key, None)

    def _apply(self) -> None:
        needed = 0.0
        for view, pixmaps in list(self._views.values()):
            if shiboken6.isValid(view) and view.isVisible():
                ratio = view.devicePixelRatioF()
                needed += view.width() * view.height() * ratio * ratio * BYTES_PER_PIXEL * pixmaps
        QPixmapCache.setCacheLimit(max(self._default_kb, int(needed * HEADROOM / 1024)))


_budget: _PixmapBudget | None = None


def reserve_pixmap_cache(view: QWidget, pixmaps: int) -> None:
    """Keep QPixmapCache large enough for ``pixmaps`` pixmaps the size of ``view``, as it resizes."""
    global _budget
    if _budget is None:
        _budget = _PixmapBudget()
    _budget.reserve(view, pixmaps)
