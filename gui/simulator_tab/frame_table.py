"""The side table: per run, its values at the current frame, each shown whole in a short form.

The columns are sized once for the widest text each can show (never for the frame shown: a layout
60 times a second), so no value is ever cut; hovering a cell shows it in full (every digit, the
whole message). Those tooltips are built only when asked: setting 40 of them every animation frame
would cost more than the values.
"""

import math

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QStyle, QTableWidget, QTableWidgetItem, QToolTip

from gui.scenario import RunResult

COLUMNS = ("run", "step", "loss", "lr", "eff. x", "eff. y")
COLUMN_TIPS = (
    "The run, in its colour on the map and in the plots",
    "The step shown; ✕ where the run diverged, ✓ where it converged (hover for the step)",
    "f at that step (hover for every digit)",
    "The learning rate of the next step",
    "eff. x = −Δx/g_x: the step size the optimizer really applies along x (for plain SGD, the lr)",
    "eff. y = −Δy/g_y: the step size the optimizer really applies along y (for plain SGD, the lr)",
)
# The widest texts each value column can show, fixed-point and scientific (short_number keeps a
# three-digit exponent as long by dropping a digit): the column is as wide as the widest of them;
# the step column's depends on the longest run.
WIDEST = {2: ("-0.0008888", "-8.888e-88"), 3: ("0.000888", "8.88e-88"),
          4: ("-0.000888", "-8.88e-88"), 5: ("-0.000888", "-8.88e-88")}
DIGITS = {2: 4, 3: 3, 4: 3, 5: 3}  # significant digits shown, where the column has room
NAME_MIN = "Adam (2)"  # the run column gets at least this much; a longer name is cut, its tooltip whole
NAME_USUAL = "SGD + momentum"  # the longest name of the default runs: the column starts this wide
MARKS = {"diverged": "✕", "converged": "✓"}
DIVERGED_COLOR = "#ff7070"


class FrameTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        for column, tip in enumerate(COLUMN_TIPS):
            self.horizontalHeaderItem(column).setToolTip(tip)
        self.verticalHeader().hide()
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)  # one line a run: as many runs in view as the height allows
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # names take what is left
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        self._results: list[RunResult] = []
        self._full: list[tuple[str, ...]] = []  # per row, the full text of each column
        self._step_digits = 0
        self._size_columns(3)  # the default runs' 600 steps, until runs are shown

    def set_runs(self, results: list[RunResult]) -> None:
        self._results = results
        self.setRowCount(len(results))
        self._full = [("",) * len(COLUMNS)] * len(results)
        for row, result in enumerate(results):
            name = self.item(row, 0)
            if name is None:
                name = QTableWidgetItem()
                self.setItem(row, 0, name)
            name.setText(result.spec.name)
            name.setForeground(QColor(result.spec.color))
            # a run that cannot be computed shows why across its value columns
            span = len(COLUMNS) - 2 if result.trajectory is None else 1
            if self.columnSpan(row, 2) != span:
                self.setSpan(row, 2, 1, span)
        longest = max((len(r.trajectory.xy) - 1 for r in results if r.trajectory is not None), default=0)
        if len(str(longest)) != self._step_digits:
            self._size_columns(len(str(longest)))

    def _size_columns(self, step_digits: int) -> None:
        """Each value column as wide as its widest possible text (or its header, if wider)."""
        self._step_digits = step_digits
        metrics = self.fontMetrics()
        # the margins Qt's item delegate puts around a text, and a little air
        padding = 2 * (self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1) + 4
        header = self.horizontalHeader()
        widest = {1: ("8" * step_digits + " " + MARKS["diverged"],), **WIDEST}
        total = 0
        for column, texts in widest.items():
            text_width = max(metrics.horizontalAdvance(text) for text in texts)
            width = max(text_width + padding, header.sectionSizeHint(column))
            self.setColumnWidth(column, width)
            total += width
        name = max(metrics.horizontalAdvance(NAME_MIN) + padding, header.sectionSizeHint(0))
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        # never narrower than its columns: the splitter keeps the plots' column this wide
        self.setMinimumWidth(total + name + scroll_bar + 2 * self.frameWidth())
        self._usual_width = total + max(name, metrics.horizontalAdvance(NAME_USUAL) + padding) \
            + scroll_bar + 2 * self.frameWidth()

    def preferred_width(self) -> int:
        """Wide enough for the usual run names as well as every value."""
        return self._usual_width

    def set_frame(self, frame: int) -> None:
        for row, result in enumerate(self._results):
            shown, full = values_at(result, frame)
            self._full[row] = (result.spec.name, *full)
            for column, text in enumerate(shown, start=1):
                item = self.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(row, column, item)
                if item.text() != text:
                    item.setText(text)
            diverged = shown[0].endswith(MARKS["diverged"])
            step = self.item(row, 1)
            if diverged != (step.data(Qt.ItemDataRole.ForegroundRole) is not None):
                step.setData(Qt.ItemDataRole.ForegroundRole, QColor(DIVERGED_COLOR) if diverged else None)

    def full_text(self, row: int, column: int) -> str:
        """What the cell says in full: its tooltip."""
        if 0 <= row < len(self._full) and 0 <= column < len(COLUMNS):
            return self._full[row][column]
        return ""

    def viewportEvent(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.indexAt(event.pos())
            text = self.full_text(index.row(), index.column()) if index.isValid() else ""
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport(), self.visualRect(index))
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)


def values_at(result: RunResult, frame: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The short texts of the value columns (step … eff. y) at ``frame``, and their full texts."""
    t = result.trajectory
    if t is None:  # an error, or "computing…" while a worker computes it
        why = "being computed" if getattr(result, "pending", False) else "cannot be computed"
        return ("—", result.error, "", "", ""), (why, result.error, "", "", "")
    last = len(t.xy) - 1
    k = min(frame, last)
    if t.status in MARKS and k == last:
        shown, full = [f"{k} {MARKS[t.status]}"], [f"{t.message}; step {k} is its last point"]
    else:
        shown, full = [str(k)], [f"step {k}"]
    loss, lr = float(t.loss[k]), float(t.lr[min(k + 1, last)])
    shown += [short_number(loss, DIGITS[2], _longest(2)), short_number(lr, DIGITS[3], _longest(3))]
    full += [f"loss {loss!r}", f"lr {lr!r}"]
    for axis, name in enumerate("xy"):
        if k == last:  # no next step
            shown.append("")
            full.append("")
            continue
        delta, gradient = float(t.xy[k + 1, axis] - t.xy[k, axis]), float(t.grad[k, axis])
        if gradient == 0.0 or not math.isfinite(gradient):
            shown.append("—")
            full.append(f"no effective step along {name}: the gradient there is {gradient!r}")
        else:
            shown.append(short_number(-delta / gradient, DIGITS[4 + axis], _longest(4 + axis)))
            full.append(f"−Δ{name}/g_{name} = {-delta / gradient!r}")
    return tuple(shown), tuple(full)


def _longest(column: int) -> int:
    return max(len(text) for text in WIDEST[column])


def short_number(value: float, digits: int, most: int) -> str:
    """``value`` to ``digits`` significant digits, in at most ``most`` characters (fewer digits
    where a three-digit exponent needs the room), its exponent without "+" and leading zeros
    ("7.889e-5", "1.2e3"): a character or two less in a narrow column."""
    value = value + 0.0  # -0.0 (no step where the gradient is not zero) reads as 0
    for shown_digits in range(digits, 0, -1):
        text = _compact(f"{value:.{shown_digits}g}")
        if len(text) <= most:
            return text
    return text  # "-1e-300" always fits the columns of WIDEST


def _compact(text: str) -> str:
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    sign = "-" if exponent.startswith("-") else ""
    return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
