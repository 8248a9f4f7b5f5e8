"""Live curves of one or several runs: training loss, validation loss and accuracy, learning rates,
gradient norm, and the decision boundary of 2-D classifiers.

``LivePlots.refresh(records)`` is called by a timer (about 25 times a second) and only when
something changed; curves are reused, and pyqtgraph downsamples and clips them to the view so long
runs stay fast.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from gui.widgets.fitted_title import fit_title
from gui.widgets.log_axis import decade_axes

CLASS_COLOURS = np.array([(76, 201, 240), (255, 159, 28), (128, 237, 153), (241, 91, 181), (254, 228, 64),
                          (255, 89, 94), (155, 93, 229), (199, 199, 199), (46, 196, 182), (231, 111, 81)])
GROUP_DASHES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)
LEGEND_GREY = "#c8c8c8"


def group_pen(hex_colour: str, index: int, width: float = 2) -> pg.QtGui.QPen:
    """The pen of parameter group ``index`` in a run of colour ``hex_colour``: the run's colour, the
    group's line style. The live lr plot and the configuration's lr preview both draw with it, so a
    group looks the same before and during its run."""
    return pg.mkPen(_colour(hex_colour), width=width, style=GROUP_DASHES[index % len(GROUP_DASHES)])


def _plot(titles: tuple[str, ...], left: str, tip: str, bottom: str = "step") -> pg.PlotWidget:
    """``titles``: the title, then shorter forms for a narrow plot (a third of a laptop's plot area)."""
    # No right-click menu: pyqtgraph builds one per plot (~30 ms each, most of opening the tab), and
    # what it offers (log axes, auto-range) is on the tab itself.
    widget = pg.PlotWidget(axisItems=decade_axes("left"), enableMenu=False)
    fit_title(widget.getPlotItem(), *titles)
    widget.setToolTip(tip)
    widget.setLabel("left", left)
    widget.setLabel("bottom", bottom)
    for side in ("left", "bottom"):
        widget.getAxis(side).enableAutoSIPrefix(False)  # "0.7", not "7·10² (×0.001)"
    widget.showGrid(x=True, y=True, alpha=0.15)
    plot = widget.getPlotItem()
    plot.setDownsampling(auto=True, mode="peak")
    plot.setClipToView(True)
    return widget


def _colour(hex_colour: str, alpha: int = 255) -> tuple[int, int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha


class LivePlots(QWidget):
    def __init__(self, parent=None, build_now: bool = True):
        """``build_now=False``: the plots are left in ``pending_build``, one step each (a plot and
        its first paint take 20 to 60 ms), for the owner to run from the event loop."""
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        options = QHBoxLayout()
        self.log_loss = QCheckBox("log loss", self)
        self.log_loss.setChecked(True)
        self.log_lr = QCheckBox("log lr", self)
        self.log_lr.setChecked(True)
        self.show_raw = QCheckBox("raw loss", self)
        self.show_raw.setChecked(True)
        self.show_raw.setToolTip("the loss of every step behind its smoothed curve")
        for box in (self.log_loss, self.log_lr, self.show_raw):
            options.addWidget(box)
        options.addStretch(1)
        layout.addLayout(options)
        self._grid = QGridLayout()
        layout.addLayout(self._grid, 1)
        # Equal cells from the start, each holding a blank until its plot comes: a plot added later
        # then moves none of the others (an empty row or column has no spacing, and a resize
        # redraws a plot whole).
        self._blanks = []
        for index in range(6):
            blank = QWidget(self)
            self._grid.addWidget(blank, index // 3, index % 3)
            self._blanks.append(blank)
        for row in range(2):
            self._grid.setRowStretch(row, 1)
        for column in range(3):
            self._grid.setColumnStretch(column, 1)
        self._curves: dict[tuple, pg.PlotDataItem] = {}
        self._owners: dict[tuple, pg.PlotWidget] = {}
        self._shown: list = []
        self._legend_key: tuple = ()
        plots = [
            ("loss", lambda: _plot(("training loss", "train loss"), "loss",
                                   "per step: smoothed (bold) and raw (faint)")),
            ("val_loss", lambda: _plot(("validation loss", "val. loss"), "loss",
                                       "per epoch; dashed: the epoch's mean training loss")),
            ("val_accuracy", lambda: _plot(("validation accuracy", "val. accuracy"), "accuracy",
                                           "per epoch (classification)")),
            ("lr", lambda: _plot(("learning rate", "lr"), "lr", "per step, one line per parameter group")),
            ("grad_norm", lambda: _plot(("gradient norm", "grad norm"), "|g|",
                                        "total L2 norm of all gradients, before clipping")),
            ("boundary", self._boundary_plot)]
        # Two steps a plot: making it, then its first layout and paint (each 20 to 50 ms).
        self.pending_build = [step for index, (name, make) in enumerate(plots)
                              for step in (lambda n=name, m=make, i=index: self._add(n, m(), i),
                                           lambda n=name, i=index: self._show(n, i))]
        self.pending_build.append(self._connect_plots)
        if build_now:
            while self.pending_build:
                self.pending_build.pop(0)()

    def _add(self, name: str, widget: pg.PlotWidget, index: int) -> None:
        """Lay ``widget`` out hidden, keeping its cell: it is first painted at its final size."""
        policy = widget.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        widget.setSizePolicy(policy)
        widget.hide()
        setattr(self, name, widget)
        self._set_up(name)
        self._grid.addWidget(widget, index // 3, index % 3)

    def _show(self, name: str, index: int) -> None:
        getattr(self, name).show()
        blank = self._blanks[index]
        self._grid.removeWidget(blank)
        blank.deleteLater()

    def _boundary_plot(self) -> pg.PlotWidget:
        boundary = pg.PlotWidget(enableMenu=False)
        self.boundary_title = fit_title(boundary.getPlotItem(), "decision boundary", "boundary")
        boundary.setAspectLocked(False)
        self.boundary_image = pg.ImageItem()
        self.boundary_points = pg.ScatterPlotItem(size=4, pen=pg.mkPen(20, 20, 20, 160))
        boundary.addItem(self.boundary_image)
        boundary.addItem(self.boundary_points)
        return boundary

    def _set_up(self, name: str) -> None:
        """Links, log axes and legends, set as each plot is made, before its first paint: set once
        they were all shown, they redrew four of them whole again (300 ms)."""
        plot = getattr(self, name)
        if name in ("val_loss", "lr", "grad_norm"):
            plot.setXLink(self.loss)
        if name in ("loss", "lr"):
            # One legend, on the training loss: which colour is which run, once several are shown.
            # The other plots use the same colours; a legend on each covered their curves.
            legend = plot.addLegend(offset=(-8, 8), labelTextSize="8pt", brush=pg.mkBrush(18, 20, 24, 190))
            legend.setVisible(False)  # until there is something to tell apart
            setattr(self, "legend" if name == "loss" else "lr_legend", legend)
        log = {"loss": self.log_loss, "val_loss": self.log_loss, "lr": self.log_lr}.get(name)
        if log is not None or name == "grad_norm":
            plot.setLogMode(y=log.isChecked() if log is not None else True)

    def _connect_plots(self) -> None:
        for box in (self.log_loss, self.log_lr, self.show_raw):  # they act on the plots: now there are
            box.toggled.connect(self._options_changed)

    def _options_changed(self) -> None:
        self.loss.setLogMode(y=self.log_loss.isChecked())
        self.val_loss.setLogMode(y=self.log_loss.isChecked())
        self.lr.setLogMode(y=self.log_lr.isChecked())
        for key, curve in self._curves.items():
            if key[1] == "raw":
                curve.setVisible(self.show_raw.isChecked())

    def _curve(self, record, kind: str, plot: pg.PlotWidget, pen, name: str | None = None,
               symbol: str | None = None) -> pg.PlotDataItem:
        key = (id(record), kind)
        curve = self._curves.get(key)
        if curve is None:
            curve = plot.plot(pen=pen, name=name, symbol=symbol, symbolSize=6,
                              symbolBrush=pen.color() if symbol else None, symbolPen=None)
            self._curves[key], self._owners[key] = curve, plot
        return curve

    def refresh(self, records: list, focused=None) -> None:
        """Show ``records`` (overlaid, each in its colour); the boundary of ``focused``."""
        wanted = {id(r) for r in records}
        for key in [k for k in self._curves if k[0] not in wanted]:
            plot, curve = self._owners.pop(key), self._curves.pop(key)
            plot.removeItem(curve)
        for record in records:
            self._refresh_record(record)
        self._shown = records
        self._show_legend(records)
        self._show_boundary(focused)

    def _show_legend(self, records: list) -> None:
        """The runs by name, in their colours, when more than one is shown (names as they are now:
        a renamed run is listed under its new name); the lr plot's line style of each parameter
        group, when there are several."""
        groups = max((list(r.lrs) for r in records), key=len, default=[])
        key = (tuple((id(r), r.name, r.color) for r in records) if len(records) > 1 else (),
               tuple(groups) if len(groups) > 1 else ())
        if key == self._legend_key:
            return
        self._legend_key = key
        self.legend.clear()
        if key[0]:
            for record in records:
                self.legend.addItem(self._curves[(id(record), "smooth")], record.name)
        self.lr_legend.clear()
        for index, group in enumerate(key[1]):  # one sample per group, in grey: the colour is the run's
            self.lr_legend.addItem(pg.PlotDataItem(pen=group_pen(LEGEND_GREY, index)), group)
        for legend in (self.legend, self.lr_legend):
            legend.setVisible(bool(legend.items))  # an empty legend is a stray grey square

    def _refresh_record(self, record) -> None:
        colour = _colour(record.color)
        steps = record.steps.values
        raw = self._curve(record, "raw", self.loss, pg.mkPen(_colour(record.color, 70), width=1))
        raw.setData(steps, positive(record.train_loss.values, self.log_loss.isChecked()))
        raw.setVisible(self.show_raw.isChecked())
        smooth = self._curve(record, "smooth", self.loss, pg.mkPen(colour, width=2))
        smooth.setData(steps, positive(record.smoothed_loss.values, self.log_loss.isChecked()))
        epochs = record.epoch_steps.values
        val = self._curve(record, "val", self.val_loss, pg.mkPen(colour, width=2), symbol="o")
        val.setData(epochs, positive(record.val_loss.values, self.log_loss.isChecked()))
        mean = self._curve(record, "epoch_train", self.val_loss,
                           pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
        mean.setData(epochs, positive(record.epoch_train_loss.values, self.log_loss.isChecked()))
        accuracy = self._curve(record, "acc", self.val_accuracy, pg.mkPen(colour, width=2), symbol="o")
        accuracies = record.val_accuracy.values
        measured = ~np.isnan(accuracies)  # regression has no accuracy: no points rather than NaN ones
        accuracy.setData(epochs[measured], accuracies[measured])
        for index, (group, series) in enumerate(record.lrs.items()):
            curve = self._curve(record, f"lr/{group}", self.lr, group_pen(record.color, index))
            curve.setData(steps, positive(series.values, self.log_lr.isChecked()))
        norm = self._curve(record, "grad", self.grad_norm, pg.mkPen(colour, width=1))
        norm.setData(steps, positive(record.grad_norm.values, True))

    def _show_boundary(self, record) -> None:
        grid = None if record is None else record.boundary
        self.boundary.setVisible(grid is not None or record is None)
        if grid is None:
            self.boundary_image.clear()
            self.boundary_points.clear()
            return
        base = CLASS_COLOURS[grid.classes % len(CLASS_COLOURS)].astype(float)
        strength = (grid.confidence - grid.confidence.min()) / max(np.ptp(grid.confidence), 1e-9)
        shade = (0.25 + 0.45 * strength)[..., None]
        image = (base * shade + 30 * (1 - shade)).astype(np.uint8)
        self.boundary_image.setImage(image, levels=(0, 255))
        x0, x1, y0, y1 = grid.xs[0], grid.xs[-1], grid.ys[0], grid.ys[-1]
        self.boundary_image.setRect(pg.QtCore.QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
        points = record.points
        if points is not None:
            xy, labels = points
            brushes = [pg.mkBrush(*CLASS_COLOURS[int(c) % len(CLASS_COLOURS)], 230) for c in labels]
            self.boundary_points.setData(xy[:, 0], xy[:, 1], brush=brushes)
        epoch = record.epoch_steps.size
        self.boundary_title.set_texts(f"decision boundary, epoch {epoch}", f"boundary, epoch {epoch}",
                                      f"epoch {epoch}")
        self.boundary.setToolTip(f"{record.name}: predicted class (colour) and confidence (brightness) "
                                 "over the standardised features, with the training points")

    def curve_data(self, record, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) a curve of ``record`` holds now (for tests and exports)."""
        x, y = self._curves[(id(record), kind)].getOriginalDataset()
        return (np.array([]), np.array([])) if x is None else (x, y)


def positive(values: np.ndarray, log: bool) -> np.ndarray:
    """On a log axis, values <= 0 cannot be drawn: show them as gaps, not as a crash or a warning."""
    if not log:
        return values
    return np.where(values > 0, values, np.nan)
