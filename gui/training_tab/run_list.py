"""The list of training runs: name (editable), configuration, status, best validation metric, and
a tick to overlay its curves with the others."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

COLUMNS = ("run", "configuration", "status", "best")
NAME_SHARE = 0.4  # past this share of the list's width a long name is elided (whole in its tooltip)
CONFIGURATION_FROM_PX = 480  # narrower, the configuration column would show "…": the tab shows it below


class RunList(QTableWidget):
    shown_changed = Signal()  # ticks changed
    renamed = Signal(int, str)
    configuration_shown = Signal(bool)  # the configuration column appeared (True) or was hidden

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        # Status and best are short: always whole. The configuration is long: it takes what is left,
        # elided, whole in its tooltip; a name fits unless it is long, then it gives way too. On a
        # 1280-pixel laptop the list is about 300 pixels wide, where the configuration column was
        # a "…": there it is hidden (``configuration_hidden``) and the tab shows the selected run's.
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setWordWrap(False)  # a wrapped name was cut to two half lines
        self.verticalHeader().hide()
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setToolTip("Tick runs to overlay their curves; double-click a name to rename it, elsewhere "
                        "in its row to edit its configuration; right-click for more")
        self.records: list = []
        self.itemChanged.connect(self._item_changed)

    def add(self, record) -> int:
        row = self.rowCount()
        self.records.append(record)
        self.blockSignals(True)
        self.insertRow(row)
        name = QTableWidgetItem(record.name)
        name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable)
        name.setCheckState(Qt.CheckState.Checked)
        name.setForeground(QColor(record.color))
        self.setItem(row, 0, name)
        for column in range(1, len(COLUMNS)):
            item = QTableWidgetItem()
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.setItem(row, column, item)
        self.blockSignals(False)
        self.update_row(row)
        self.selectRow(row)
        return row

    @property
    def configuration_hidden(self) -> bool:
        return self.isColumnHidden(1)

    def _fit_names(self) -> None:
        header = self.horizontalHeader()
        narrow = self.width() < CONFIGURATION_FROM_PX
        if narrow != self.isColumnHidden(1):
            self.setColumnHidden(1, narrow)
            self.configuration_shown.emit(not narrow)
        if narrow:  # the name takes what status and best leave, elided beyond it
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            return
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.resizeColumnToContents(0)
        room = max(header.sectionSizeHint(0), int(NAME_SHARE * self.viewport().width()))
        self.setColumnWidth(0, min(self.columnWidth(0), room))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_names()

    def update_row(self, row: int) -> None:
        record = self.records[row]
        self.blockSignals(True)
        self.item(row, 0).setToolTip(record.name)
        self.item(row, 1).setText(record.summary())
        self.item(row, 1).setToolTip(record.summary())
        status = record.message or record.status
        self.item(row, 2).setText(record.status)
        self.item(row, 2).setToolTip(status)
        self.item(row, 3).setText(record.best_metric())
        self.item(row, 3).setToolTip(record.best_metric_detail())
        self.blockSignals(False)
        self._fit_names()

    def update_record(self, record) -> None:
        if record in self.records:
            self.update_row(self.records.index(record))

    def remove(self, row: int) -> None:
        # Qt moves the selection while the row goes; a slot reading ``selected()`` then would see
        # rows and records out of step (IndexError): it hears of the new selection once both agree.
        self.blockSignals(True)
        self.removeRow(row)
        self.records.pop(row)
        self.blockSignals(False)
        self.itemSelectionChanged.emit()

    def shown(self) -> list:
        return [r for row, r in enumerate(self.records)
                if self.item(row, 0).checkState() == Qt.CheckState.Checked]

    def set_shown(self, row: int, shown: bool) -> None:
        self.item(row, 0).setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def selected(self):
        rows = {index.row() for index in self.selectedIndexes()}
        return self.records[min(rows)] if rows else None

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        record = self.records[item.row()]
        name = item.text().strip()
        if name and name != record.name:
            record.name = name
            self.blockSignals(True)
            item.setToolTip(name)
            self.blockSignals(False)
            self._fit_names()
            self.renamed.emit(item.row(), name)
        elif not name:
            self.blockSignals(True)
            item.setText(record.name)  # an empty name is not a name
            self.blockSignals(False)
        self.shown_changed.emit()
