"""The Training tab's run list: rows and records stay in step through every removal."""

from dataclasses import dataclass

import pytest

from gui.training_tab.run_list import RunList


@dataclass
class Record:
    name: str
    color: str = "#1f77b4"
    status: str = "finished"
    message: str = ""

    def summary(self) -> str:
        return f"{self.name}: mlp · Adam"

    def best_metric(self) -> str:
        return "0.9"

    def best_metric_detail(self) -> str:
        return "best validation accuracy 0.9"


@pytest.mark.parametrize("removed", [0, 1, 2])
def test_removing_any_row_keeps_the_selection_readable(qtbot, removed):
    runs = RunList()
    qtbot.addWidget(runs)
    seen = []
    runs.itemSelectionChanged.connect(lambda: seen.append(runs.selected()))  # as the tab's buttons do
    records = [Record(f"run {i}") for i in range(3)]
    for record in records:
        runs.add(record)
    runs.selectRow(removed)
    seen.clear()
    runs.remove(removed)
    assert runs.records == [r for i, r in enumerate(records) if i != removed] and runs.rowCount() == 2
    assert [runs.item(row, 0).text() for row in range(2)] == [r.name for r in runs.records]
    assert seen and all(record in runs.records or record is None for record in seen)


def test_the_configuration_column_tells_runs_apart():
    from gui.training_tab.records import RunRecord
    from trainers.config import RunConfig

    def summary(**sections) -> str:
        raw = {"optimizer": {"name": "Adam", "lr": 0.01}}
        for section, values in sections.items():
            raw.setdefault(section, {}).update(values)
        return RunRecord(name="run", config=RunConfig.from_dict(raw), color="#1f77b4").summary()

    plain = summary()
    assert summary(optimizer={"weight_decay": 0.1}) != plain and "weight_decay=0.1" in summary(
        optimizer={"weight_decay": 0.1})
    assert summary(data={"batch_size": 16}) != plain and summary(train={"seed": 3}) != plain
    linear = summary(model={"name": "linear"})
    assert " · linear · " in linear and "32" not in linear.split(" · ")[1]
