"""The Training tab's overlays say which curve is which run, under the names runs have now."""

from PySide6.QtCore import Qt

from trainers.config import RunConfig

WAIT_MS = 120_000


def tiny(**sections) -> RunConfig:
    raw = {"data": {"name": "moons", "samples": 200, "batch_size": 20}, "model": {"hidden": [8]},
           "optimizer": {"name": "Adam", "lr": 0.01}, "train": {"epochs": 2, "device": "cpu", "seed": 1}}
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    return RunConfig.from_dict(raw)


def train(qtbot, tab, config):
    tab.panel.load(config)
    qtbot.waitUntil(lambda: tab.panel.preview_worker is None, timeout=WAIT_MS)
    record = tab.start()
    assert record is not None, tab.panel.error.text()
    qtbot.waitUntil(lambda: not tab.is_running, timeout=WAIT_MS)
    tab.refresh_plots()
    return record


def legend_names(legend) -> list[str]:
    return [label.text for _, label in legend.items]


def test_two_runs_are_named_in_one_legend_and_renaming_renames_them(qtbot, window):
    tab = window.show_training()
    first = train(qtbot, tab, tiny())
    assert legend_names(tab.plots.legend) == [] and not tab.plots.legend.isVisible()  # one run
    second = train(qtbot, tab, tiny(optimizer={"name": "SGD", "lr": 0.1}))
    assert legend_names(tab.plots.legend) == [first.name, second.name] and tab.plots.legend.isVisible()
    for plot in (tab.plots.val_loss, tab.plots.val_accuracy, tab.plots.grad_norm):
        assert plot.getPlotItem().legend is None  # the other plots share the colours, uncovered
    assert legend_names(tab.plots.lr_legend) == []  # one group each: the colours say it all
    tab.runs.item(1, 0).setText("sgd, fast")  # what a double-click and typing do
    tab.refresh_plots()
    assert legend_names(tab.plots.legend) == [first.name, "sgd, fast"]
    assert tab.message.text().startswith("sgd, fast: ")


def test_parameter_groups_get_one_grey_sample_each_in_the_lr_legend(qtbot, window):
    tab = window.show_training()
    train(qtbot, tab, tiny(optimizer={"name": "Adam", "lr": 0.01,
                                      "param_groups": [{"match": "^head\\.", "name": "head", "lr": 0.1}]}))
    names = legend_names(tab.plots.lr_legend)
    assert len(names) == 2 and "head" in names
    pens = [sample.item.opts["pen"] for sample, _ in tab.plots.lr_legend.items]
    assert [pen.style() for pen in pens] == [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine]
