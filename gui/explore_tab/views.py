"""The two Explore pictures: the basin map (every start coloured by where it ends) and the
learning-rate sweep (final loss against lr for several optimizers). Both only draw results the
batch engine computed; hovering explains a point, clicking one asks for its trajectory.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.scenario import PALETTE
from gui.widgets.log_axis import decade_axes

NOT_CONVERGED = (52, 52, 58)
DIVERGED = (110, 16, 24)
FASTEST_SHADE, SLOWEST_SHADE = 1.0, 0.35  # brightness of the quickest and the slowest arrivals
LOSS_FLOOR = 1e-16  # a loss gap of exactly 0 still needs a place on a log axis


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def minimum_colour(index: int) -> tuple[int, int, int]:
    return _rgb(PALETTE[index % len(PALETTE)])


def basin_image(result, shape: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8: each start in the colour of the minimum it reached, brighter the sooner it
    came within tolerance; grey where it ended nowhere known; dark red where it diverged."""
    rows = len(result.minimum_index)
    image = np.empty((rows, 3), dtype=float)
    image[:] = NOT_CONVERGED
    reached = (result.minimum_index >= 0) & ~result.diverged
    if np.any(reached):
        colours = np.array([minimum_colour(i) for i in range(max(len(result.minima), 1))], dtype=float)
        steps = np.where(result.converged_step >= 0, result.converged_step, result.steps)
        shade = FASTEST_SHADE - (FASTEST_SHADE - SLOWEST_SHADE) * np.sqrt(steps / max(result.steps, 1))
        image[reached] = colours[result.minimum_index[reached]] * shade[reached, None]
    image[result.diverged] = DIVERGED
    if hasattr(result, "done"):
        image[~result.done] = (0, 0, 0)  # not computed (a cancelled map)
    return image.reshape(*shape, 3).astype(np.uint8)


class BasinView(QWidget):
    """The basin map; ``start_clicked(x, y)`` when a start is clicked."""

    start_clicked = Signal(float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # the map with its legend: what Export PNG writes
        self.figure = QWidget(self)
        figure = QVBoxLayout(self.figure)
        figure.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(self.figure, enableMenu=False)
        self.plot.setAspectLocked(True)
        self.plot.hideButtons()  # pyqtgraph's "A" (auto-range) button would be in every export
        self.plot.setLabel("bottom", "x₀ (start)")
        self.plot.setLabel("left", "y₀ (start)")
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # "x₀ (start)", never "(x0.001)"
        self.plot.setRange(xRange=(-1, 1), yRange=(-1, 1))  # until a map is computed
        self.image = pg.ImageItem()
        self.minima = pg.ScatterPlotItem(symbol="star", size=18, pen=pg.mkPen("#000000", width=1))
        self.plot.addItem(self.image)
        self.plot.addItem(self.minima)
        figure.addWidget(self.plot, 1)
        self.legend = QLabel(self.figure)
        self.legend.setWordWrap(True)
        figure.addWidget(self.legend)
        layout.addWidget(self.figure, 1)
        self.hover = QLabel("Compute a map, then hover over it: each pixel is a start point.", self)
        layout.addWidget(self.hover)
        self.result = None
        self.xs = self.ys = None
        self.plot.scene().sigMouseMoved.connect(self._moved)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

    def show_result(self, result, xs: np.ndarray, ys: np.ndarray) -> None:
        self.result, self.xs, self.ys = result, xs, ys
        image = basin_image(result, (len(ys), len(xs)))
        self.image.setImage(image, levels=(0, 255))
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        self.image.setRect(pg.QtCore.QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys)))
        minima = result.minima
        self.minima.setData(minima[:, 0], minima[:, 1], brush=pg.mkBrush("#ffffff"))  # seen on any colour
        self.plot.autoRange()
        parts = [f'<span style="color:{PALETTE[i % len(PALETTE)]}">■</span> ({x:.3g}, {y:.3g})'
                 for i, (x, y) in enumerate(minima)]

        computed = np.asarray(result.done, bool) if result.cancelled else np.ones(len(result.diverged), bool)

        def share(mask) -> str:  # of the starts computed: a cancelled map's black pixels are none
            return f"{np.count_nonzero(mask & computed) / max(1, np.count_nonzero(computed)):.0%}"

        counts = [share(result.minimum_index == i) for i in range(len(minima))]
        reached = " · ".join(f"{p} {c}" for p, c in zip(parts, counts, strict=True)) or "no known minima"
        self.legend.setText(
            f"{reached} · <span style='color:#343a3a'>■</span> ends elsewhere "
            f"{share((result.minimum_index < 0) & ~result.diverged)} · "
            f"<span style='color:#6e1018'>■</span> diverged {share(result.diverged)} — brighter: reached "
            f"sooner (within {result.tolerance:.2g}). {result.optimizer}, {result.steps} steps"
            + (f" — cancelled: shares of the {np.count_nonzero(computed):,} starts computed; black pixels "
               "were not computed" if result.cancelled else ""))

    def describe(self, x: float, y: float) -> str:
        """What happened to the start nearest (x, y), for people."""
        row = self._row_at(x, y)
        if row is None:
            return ""
        r = self.result
        i, j = divmod(row, len(self.xs))
        start = f"start ({self.xs[j]:.4g}, {self.ys[i]:.4g})"
        if hasattr(r, "done") and not r.done[row]:
            return f"{start}: not computed"
        if r.diverged[row]:
            return f"{start}: diverged at step {r.diverged_at[row]}"
        fx, fy = r.final_xy[row]
        end = f"ends at ({fx:.4g}, {fy:.4g}), loss {r.final_loss[row]:.4g}"
        index = r.minimum_index[row]
        if index < 0:
            return f"{start}: {end}, near no known minimum"
        when = f"within tolerance at step {r.converged_step[row]}" if r.converged_step[row] >= 0 else \
            "not within tolerance yet"
        mx, my = r.minima[index]
        return f"{start}: minimum ({mx:.4g}, {my:.4g}), {when}; {end}"

    def _row_at(self, x: float, y: float) -> int | None:
        if self.result is None:
            return None
        j = int(np.argmin(np.abs(self.xs - x)))
        i = int(np.argmin(np.abs(self.ys - y)))
        dx, dy = self.xs[1] - self.xs[0], self.ys[1] - self.ys[0]
        if abs(self.xs[j] - x) > dx or abs(self.ys[i] - y) > dy:
            return None
        return i * len(self.xs) + j

    def _moved(self, position) -> None:
        point = self.plot.getPlotItem().vb.mapSceneToView(position)
        text = self.describe(point.x(), point.y())
        if text:
            self.hover.setText(text + " — click to play it in the Simulator")

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        row = self._row_at(point.x(), point.y())
        if row is not None:
            i, j = divmod(row, len(self.xs))
            self.start_clicked.emit(float(self.xs[j]), float(self.ys[i]))


class SweepView(QWidget):
    """Final loss gap (median, quartile band) against the swept lr, one line per run;
    ``point_clicked(run_index, lr)`` when a measured point is clicked."""

    point_clicked = Signal(int, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(self, axisItems=decade_axes("left"), enableMenu=False)
        self.plot.hideButtons()  # pyqtgraph's "A" (auto-range) button would be in every export
        self.plot.setLogMode(x=True, y=True)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "final f − f*  (median, 25–75 % band)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(-10, 10))
        layout.addWidget(self.plot, 1)
        self.note = QLabel("Pick runs on the left, then compute: each is swept over the lr range.", self)
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.curves = []
        self.lines: list[dict] = []

    def show_results(self, sweeps: list) -> None:
        """``sweeps``: [(run index, run name, colour, SweepResult, f*)]."""
        self.plot.clear()
        self.lines = []
        best_notes = []
        for run_index, name, colour, result, floor in sweeps:
            lrs = np.array([float(v) for v in result.values])
            gaps = np.where(result.diverged, np.nan, np.maximum(result.final_loss - floor, LOSS_FLOOR))
            with warnings.catch_warnings():  # all-NaN rows (every start diverged) are expected
                warnings.simplefilter("ignore", RuntimeWarning)
                median = np.nanmedian(gaps, axis=1)
                low, high = np.nanpercentile(gaps, 25, axis=1), np.nanpercentile(gaps, 75, axis=1)
            pen = pg.mkPen(colour, width=2)
            line = self.plot.plot(lrs, median, pen=pen, symbol="o", symbolSize=7, symbolBrush=colour,
                                  symbolPen=None, name=name)
            line.sigPointsClicked.connect(
                lambda _item, points, _event, run=run_index, values=lrs: self._clicked(run, values, points))
            finite = np.isfinite(low) & np.isfinite(high)
            if np.count_nonzero(finite) >= 2:
                # The band's edges are plot items too, so that the plot's log axes apply to them, with
                # a transparent pen rather than none: without a pen a curve has no path to fill to.
                r, g, b = _rgb(colour)
                edge = pg.mkPen(r, g, b, 0)
                lower = self.plot.plot(lrs[finite], low[finite], pen=edge)
                upper = self.plot.plot(lrs[finite], high[finite], pen=edge)
                self.plot.addItem(pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(r, g, b, 50)))
            best = result.best_index
            if best >= 0 and np.isfinite(median[best]):
                star = self.plot.plot([lrs[best]], [median[best]], pen=None, symbol="star", symbolSize=24,
                                      symbolBrush=colour, symbolPen=pg.mkPen("#ffffff", width=1))
                # drawn over the round marker of the same lr, it must answer a click as that marker does
                star.sigPointsClicked.connect(
                    lambda *_, run=run_index, lr=float(lrs[best]): self.point_clicked.emit(run, lr))
                best_notes.append(f"{name}: best lr {lrs[best]:.3g}")
            diverged = result.diverged.mean(axis=1)
            self.lines.append({"run": run_index, "name": name, "lrs": lrs, "median": median, "low": low,
                               "high": high, "diverged": diverged, "best": best})
        if self.lines:
            self._decade_ticks(np.concatenate([line["lrs"] for line in self.lines]))
        self.note.setText(("★ " + "; ".join(best_notes) + " (lowest mean final loss without divergence). "
                           if best_notes else "") + "Missing points: every start diverged. Click a point to "
                          "play that lr in the Simulator.")

    def _decade_ticks(self, lrs: np.ndarray) -> None:
        """Label the lr axis at powers of ten only (pyqtgraph's own log ticks crowd within a decade)."""
        first, last = int(np.floor(np.log10(lrs.min()))), int(np.ceil(np.log10(lrs.max())))
        major = [(float(k), f"{10.0 ** k:g}") for k in range(first, last + 1)]
        minor = [(float(np.log10(m * 10.0 ** k)), "") for k in range(first, last) for m in range(2, 10)]
        self.plot.getAxis("bottom").setTicks([major, minor])

    def _clicked(self, run_index: int, lrs: np.ndarray, points) -> None:
        if len(points):
            self.point_clicked.emit(run_index, float(lrs[points[0].index()]))
