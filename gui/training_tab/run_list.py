"""The list of training runs: name (editable), configuration, status, best validation metric, and
a tick to overlay its curves with the others."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

COLUMNS = ("run", "configuration", "status", "best")


class RunList(QTableWidget):
    shown_changed = Signal()  # ticks changed
    renamed = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().hide()
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setToolTip("Tick runs to overlay their curves; double-click a name to rename it")
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

    def update_row(self, row: int) -> None:
        record = self.records[row]
        self.blockSignals(True)
        self.item(row, 1).setText(record.summary())
        self.item(row, 1).setToolTip(record.summary())
        status = record.message or record.status
        self.item(row, 2).setText(record.status)
        self.item(row, 2).setToolTip(status)
        self.item(row, 3).setText(record.best_metric())
        self.blockSignals(False)

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
            self.renamed.emit(item.row(), name)
        elif not name:
            self.blockSignals(True)
            item.setText(record.name)  # an empty name is not a name
            self.blockSignals(False)
        self.shown_changed.emit()
