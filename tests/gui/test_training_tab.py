"""The Training tab: configure, train in a worker thread with live curves, pause, stop, compare,
export, and hand an optimizer to the Simulator. Headless (offscreen Qt), real training on tiny data."""

import shlex
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from trainers.checkpoint import read_checkpoint
from trainers.config import RunConfig
from trainers.metrics import read_metrics_csv

WAIT_MS = 60_000
ROOT = Path(__file__).resolve().parents[2]


def tiny(**sections) -> RunConfig:
    raw = {"data": {"name": "moons", "samples": 200, "batch_size": 20},
           "model": {"hidden": [8]},
           "optimizer": {"name": "Adam", "lr": 0.01},
           "train": {"epochs": 3, "device": "cpu", "seed": 1}}
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    return RunConfig.from_dict(raw)


@pytest.fixture
def tab(window):
    training = window.show_training()
    training.panel.load(tiny())
    return training


def run_to_end(qtbot, tab):
    record = tab.start()
    assert record is not None, tab.panel.error.text()
    qtbot.waitUntil(lambda: not tab.is_running, timeout=WAIT_MS)
    tab.refresh_plots()
    return record


def test_a_short_training_fills_the_curves_with_the_logged_points(qtbot, tab):
    record = run_to_end(qtbot, tab)
    assert record.status == "finished" and record.message == "finished 3 epochs"
    metrics = record.worker.training.metrics
    steps, losses = metrics.series("train_loss")
    assert len(steps) == 24 == record.total_steps
    x, y = tab.plots.curve_data(record, "raw")
    assert x.tolist() == steps and np.allclose(y, losses)
    assert tab.plots.curve_data(record, "lr/default")[1].tolist() == metrics.series("lr/default")[1]
    assert tab.plots.curve_data(record, "val")[1].tolist() == pytest.approx(metrics.series("val_loss")[1])
    assert tab.plots.curve_data(record, "acc")[1].tolist() == metrics.series("val_accuracy")[1]
    assert record.boundary is not None and record.boundary.classes.shape == (100, 100)
    assert tab.runs.item(0, 2).text() == "finished" and tab.runs.item(0, 3).text().startswith("acc ")
    assert tab.progress.value() == 24 and tab.start_button.isEnabled()


def test_pause_and_resume(qtbot, tab):
    # Long enough (10,000 steps) that it cannot finish before the pause lands, on any machine.
    tab.panel.load(tiny(data={"samples": 5000, "batch_size": 2}, train={"epochs": 5}))
    record = tab.start()
    qtbot.waitUntil(lambda: record.steps.size >= 3, timeout=WAIT_MS)
    tab.toggle_pause()
    qtbot.waitUntil(lambda: record.status == "paused", timeout=WAIT_MS)
    held = record.steps.size
    qtbot.wait(300)
    assert record.steps.size == held and tab.pause_button.text() == "Resume"
    tab.toggle_pause()
    qtbot.waitUntil(lambda: record.status == "running" and record.steps.size > held, timeout=WAIT_MS)
    assert tab.pause_button.text() == "Pause"
    tab.stop()
    qtbot.waitUntil(lambda: not tab.is_running, timeout=WAIT_MS)
    assert record.status == "stopped" and held < record.steps.size < record.total_steps


def test_stop_mid_epoch_keeps_the_curves(qtbot, tab):
    # An epoch of 10,000 steps: the stop lands in it however late a loaded machine delivers the
    # first steps (with 400 a step, the run once reached step 794 before the stop arrived).
    tab.panel.load(tiny(data={"samples": 25_000, "batch_size": 2}, train={"epochs": 5}))
    record = tab.start()
    per_epoch = tab.panel.preview.total_steps // 5
    assert per_epoch >= 9_000
    qtbot.waitUntil(lambda: record.steps.size >= 5, timeout=WAIT_MS)
    tab.stop()
    qtbot.waitUntil(lambda: not tab.is_running, timeout=WAIT_MS)
    assert record.status == "stopped" and record.message.startswith("stopped at step")
    assert 5 <= record.steps.size < per_epoch and record.epoch_steps.size == 0
    assert not record.worker.isRunning()


def test_closing_the_window_mid_run_stops_the_thread(qtbot, window):
    tab = window.show_training()
    tab.panel.load(tiny(data={"samples": 4000, "batch_size": 4}, train={"epochs": 20}))
    record = tab.start()
    qtbot.waitUntil(lambda: record.steps.size >= 3, timeout=WAIT_MS)
    window.close()  # deferred until the thread has finished (tests/gui/test_closing.py)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert not record.worker.isRunning() and record.worker.isFinished()


def test_a_configuration_error_shows_in_the_ui_and_disables_start(qtbot, tab):
    panel = tab.panel
    assert not panel.set_key("data.batch_size", 0)
    assert "data.batch_size: expected a whole number >= 1" in panel.forms[0].errors["data.batch_size"].text()
    assert panel.config.data.batch_size == 20  # a refused value changes nothing
    panel.optimizer_form.fields["lr"].edit.setText("-1")
    panel.optimizer_form.fields["lr"]._edited()
    assert not panel.check_now()
    assert "optimizer.lr: Invalid learning rate: -1" in panel.error.text()
    assert "Invalid learning rate" in panel.optimizer_form.error("lr")
    assert not tab.start_button.isEnabled() and tab.start() is None
    panel.optimizer_form.fields["lr"].edit.setText("0.01")
    panel.optimizer_form.fields["lr"]._edited()
    assert panel.check_now() and not tab.start_button.isEnabled()  # batch_size still shows its refusal
    assert panel.set_key("data.batch_size", 20)
    assert panel.check_now() and tab.start_button.isEnabled()


def test_unreadable_lr_stays_marked_while_another_option_is_edited(qtbot, tab):
    """abc in lr, then a valid eps: lr keeps its mark and its text, the configuration keeps its lr
    (and the mark says so), the eps edit is taken, and a passing check does not clear the mark."""
    panel = tab.panel
    form = panel.optimizer_form
    form.fields["lr"].edit.setText("abc")
    form.fields["lr"]._edited()
    form.fields["eps"].edit.setText("1e-6")
    form.fields["eps"]._edited()
    assert panel.check_now()
    assert form.error("lr") == "'abc' is not a number; lr stays 0.01"
    assert form.fields["lr"].edit.text() == "abc" and form.fields["lr"].edit.styleSheet()
    assert panel.config.optimizer.options["lr"] == 0.01 and panel.config.optimizer.options["eps"] == 1e-6
    assert form.error("eps") == ""
    form.fields["lr"].edit.setText("0.02")
    form.fields["lr"]._edited()
    assert panel.check_now() and form.error("lr") == "" and panel.config.optimizer.options["lr"] == 0.02


def test_a_refusal_from_torch_marks_the_field_its_error_names(qtbot, tab):
    panel = tab.panel
    panel.optimizer_form.fields["eps"].edit.setText("-1")
    panel.optimizer_form.fields["eps"]._edited()
    assert not panel.check_now()
    assert "optimizer.eps: Invalid epsilon value: -1" in panel.optimizer_form.error("eps")
    assert panel.optimizer_form.error("lr") == ""


def test_param_group_preview_shows_where_each_parameter_lands(qtbot, tab):
    panel = tab.panel
    panel.set_key("optimizer.no_decay_bias_norm", True)
    panel.add_group_rule()  # "^head\\." named group1
    panel.group_table.item(0, 2).setText("0.1")
    assert panel.check_now()
    shown = {panel.assignment.item(row, 0).text(): panel.assignment.item(row, 2).text()
             for row in range(panel.assignment.rowCount())}
    assert shown == {"layers.0.weight": "default", "layers.0.bias": "no_decay",
                     "head.weight": "group1", "head.bias": "group1"}
    assert panel.config.optimizer.param_groups == [{"match": "^head\\.", "name": "group1", "lr": 0.1}]
    panel.group_table.item(0, 0).setText("^decoder")
    assert not panel.check_now() and "matches no parameter" in panel.error.text()


def test_lr_preview_uses_the_real_scheduler(qtbot, tab):
    panel = tab.panel
    panel.set_key("scheduler.name", "StepLR")
    assert panel.config.scheduler.options == {"step_size": 1}  # starter value for a 3-epoch run
    assert panel.check_now()
    lrs = panel.preview.learning_rates["default"]
    assert lrs[0] == 0.01 and lrs[-1] == pytest.approx(0.01 * 0.1 ** 2)
    assert len(panel.lr_preview.getPlotItem().listDataItems()) == 1


def test_a_typed_lr_lambda_is_offered_previewed_and_trained(qtbot, tab):
    panel = tab.panel
    panel.set_key("scheduler.name", "LambdaLR")
    field = panel.scheduler_form.fields["lr_lambda"].edit
    assert field.text() == "0.5**(epoch/1)"  # a starter for a 3-epoch run: halved every epoch
    field.setText("1/(1 + epoch)")
    field.editingFinished.emit()
    assert panel.config.scheduler.options == {"lr_lambda": "1/(1 + epoch)"} and panel.check_now()
    lrs = panel.preview.learning_rates["default"]
    assert lrs[0] == 0.01 and lrs[-1] == 0.01 * (1 / (1 + 2))
    record = run_to_end(qtbot, tab)
    assert record.status == "finished" and record.lrs["default"].values[-1] == 0.01 * (1 / 3)
    assert "--scheduler-set 'lr_lambda=1/(1 + epoch)'" in tab.command_for()  # the text, as typed
    field.setText("open('x')")
    field.editingFinished.emit()
    assert not panel.check_now() and "function 'open' is not allowed" in panel.error.text()
    assert not tab.start_button.isEnabled()


def test_a_sequential_schedule_is_composed_previewed_and_trained(qtbot, tab):
    panel = tab.panel
    panel.set_key("scheduler.interval", "step")
    panel.set_key("scheduler.name", "SequentialLR")
    composer = panel.scheduler_composer
    assert panel.scheduler_form is None and [stage.schedule[0] for stage in composer.stages] == \
        ["LinearLR", "CosineAnnealingLR"]
    options = panel.config.scheduler.options  # a warm-up ramp, then a cosine, switching after it
    ramp = options["milestones"][0]
    assert options["schedulers"][0] == ["LinearLR", {"start_factor": 0.1, "total_iters": ramp}]
    assert options["schedulers"][1][0] == "CosineAnnealingLR"
    composer.milestones.setText("3")
    composer.milestones.editingFinished.emit()
    composer.stages[0].form.fields["total_iters"].edit.setText("3")
    composer.stages[0].form.fields["total_iters"].edit.editingFinished.emit()
    ramp = 3
    composer.stages[1].box.setCurrentText("LambdaLR")
    composer.stages[1]._chosen()
    composer.stages[1].form.fields["lr_lambda"].edit.setText("0.9**epoch")
    composer.stages[1].form.fields["lr_lambda"].edit.editingFinished.emit()
    assert panel.check_now(), panel.error.text()
    lrs = panel.preview.learning_rates["default"]
    assert lrs[0] == pytest.approx(0.001) and lrs[ramp] == 0.01 and lrs[ramp + 2] == 0.01 * 0.9**2
    record = run_to_end(qtbot, tab)
    assert record.status == "finished" and list(record.lrs["default"].values) == list(lrs)
    composer.add_stage()  # three schedules, one milestone: refused before training
    assert not panel.check_now() and "scheduler" in panel.error.text()
    assert not tab.start_button.isEnabled()


def test_a_composite_the_composer_cannot_show_is_named_by_the_check_and_breaks_nothing(qtbot, tab):
    panel = tab.panel
    panel.load(tiny(scheduler={"name": "SequentialLR", "schedulers": [["StepLR", {"step_size": 1}], ["Nope", {}]],
                               "milestones": [2]}))
    assert panel.scheduler_composer is None and not panel.check_now()
    assert "scheduler.schedulers[1]: unknown scheduler 'Nope'" in panel.error.text()
    from gui.widgets.schedule_composer import ScheduleComposer

    assert not panel.findChildren(ScheduleComposer)  # none half-built left on the panel
    panel.set_key("scheduler.name", "ChainedScheduler")  # a valid one again: composed
    assert panel.scheduler_composer is not None and panel.check_now(), panel.error.text()


def test_two_runs_overlay_in_their_colours(qtbot, tab):
    first = run_to_end(qtbot, tab)
    tab.panel.set_key("optimizer.name", "SGD")
    second = run_to_end(qtbot, tab)
    assert first.color != second.color and [r.name for r in tab.runs.shown()] == [first.name, second.name]
    items = tab.plots.loss.getPlotItem().listDataItems()
    assert len(items) == 4  # raw + smoothed per run
    assert tab.plots.curve_data(first, "smooth")[0].size == tab.plots.curve_data(second, "smooth")[0].size == 24
    tab.runs.set_shown(0, False)
    tab.refresh_plots()
    assert len(tab.plots.loss.getPlotItem().listDataItems()) == 2
    tab.runs.item(1, 0).setText("sgd baseline")
    assert second.name == "sgd baseline"


def test_deleting_runs_finished_and_running(qtbot, tab):
    finished = run_to_end(qtbot, tab)
    checkpoint = finished.checkpoint_path
    tab.runs.selectRow(0)
    tab.delete_selected()
    assert tab.runs.records == [] and not Path(checkpoint).exists()
    tab.panel.load(tiny(data={"samples": 4000, "batch_size": 2}, train={"epochs": 20}))
    running = tab.start()
    qtbot.waitUntil(lambda: running.steps.size >= 3, timeout=WAIT_MS)
    worker, checkpoint = running.worker, Path(running.checkpoint_path)
    waited = []
    worker.stop_and_wait = lambda *args: waited.append(args)  # the window must never wait for it
    tab.runs.selectRow(0)
    tab.delete_selected()
    assert waited == [] and tab.runs.records == [] and not tab.is_running and tab.start_button.isEnabled()
    assert worker in tab.stop_all() or not worker.isRunning()  # closing the window would wait for it
    qtbot.waitUntil(lambda: not worker.isRunning(), timeout=WAIT_MS)  # stopped on its own
    qtbot.waitUntil(lambda: worker not in tab._deleted_workers, timeout=WAIT_MS)
    assert not checkpoint.exists()  # even one written while it stopped
    tab.refresh_plots()
    assert tab.plots.loss.getPlotItem().listDataItems() == []


def test_a_diverging_run_stops_with_a_message_and_its_curves_stay(qtbot, tab):
    tab.panel.load(tiny(data={"name": "linear"}, model={"name": "linear"}, optimizer={"name": "SGD", "lr": 50.0}))
    record = run_to_end(qtbot, tab)
    assert record.status == "diverged" and "diverged at step" in tab.message.text()
    assert record.steps.size >= 1 and tab.plots.curve_data(record, "raw")[0].size == record.steps.size


def test_exports_command_line_and_config_files(qtbot, tab, tmp_path, dialogs):
    record = run_to_end(qtbot, tab)
    tab.runs.selectRow(0)
    assert tab.export_metrics_button.isEnabled() and tab.export_checkpoint_button.isEnabled()
    tab.export_metrics(record, tmp_path / "m.csv")
    assert read_metrics_csv(tmp_path / "m.csv").rows == record.worker.training.metrics.rows
    tab.export_checkpoint(record, tmp_path / "run.pt")
    assert read_checkpoint(tmp_path / "run.pt")["position"]["step"] == 24
    command = tab.command_for(record)
    assert command.startswith("python main.py train --batch-size 20 --set data.samples=200")
    assert "--optimizer Adam --set lr=0.01" in command
    tab.show_command()
    assert command in dialogs[-1]
    tab.panel.current_config().save(tmp_path / "run.toml")
    tab.panel.load(RunConfig())
    tab.load_config(tmp_path / "run.toml")
    assert tab.panel.current_config() == record.config
    (tmp_path / "bad.toml").write_text("[data\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        tab.load_config(tmp_path / "bad.toml")
    assert tab.panel.current_config() == record.config  # unchanged


def test_try_this_optimizer_on_a_surface(qtbot, window, tab):
    tab.panel.load(tiny(optimizer={"name": "AdamW", "lr": 0.05, "betas": [0.8, 0.99], "foreach": False},
                        scheduler={"name": "CosineAnnealingLR", "T_max": 50, "interval": "step",
                                   "warmup_steps": 10}))
    before = len(window.simulator.model.scenario.runs)
    tab.send_to_simulator()
    runs = window.simulator.model.scenario.runs
    assert len(runs) == before + 1 and window.tabs.currentWidget() is window.simulator
    added = runs[-1]
    assert added.optimizer == "AdamW" and added.hyperparams == {"lr": 0.05, "betas": (0.8, 0.99)}
    assert added.schedule == ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 10}),
                                                              ("CosineAnnealingLR", {"T_max": 50})],
                                               "milestones": [10]})
    assert "foreach" in window.statusBar().currentMessage()
    window.simulator.playback.pause()


def test_pytorch_optimizers_classes_are_a_second_group_with_forms_from_their_signatures(qtbot, window, tab):
    box = tab.panel.optimizer_box
    texts = [box.itemText(i) for i in range(box.count())]
    line = texts.index("")  # the separator
    assert "AdamW" in texts[:line] and "pytorch_optimizer.Lion" in texts[line + 1:]
    assert all(t.startswith("pytorch_optimizer.") for t in texts[line + 1:]) and len(texts) - line > 100
    assert "pytorch_optimizer.SAM" not in texts  # it wraps another optimizer: a plain step cannot drive it
    index = texts.index("pytorch_optimizer.Prodigy")
    box.setCurrentIndex(index)
    box.activated.emit(index)
    assert tab.panel.config.optimizer.name == "pytorch_optimizer.Prodigy"
    fields = tab.panel.optimizer_form.fields
    assert {"d0", "d_coef", "growth_rate", "safeguard_warmup"} <= set(fields)
    fields["d0"].edit.setText("1e-4")
    fields["d0"].edit.editingFinished.emit()
    assert tab.panel.config.optimizer.options["d0"] == 1e-4 and tab.panel.check_now()
    record = run_to_end(qtbot, tab)
    assert record.status == "finished" and record.config.optimizer.name == "pytorch_optimizer.Prodigy"
    assert "--optimizer pytorch_optimizer.Prodigy" in tab.command_for(record)
    tab.send_to_simulator()  # the compiled Prodigy takes it, with the options it has
    added = window.simulator.model.scenario.runs[-1]
    assert added.optimizer == "Prodigy" and added.hyperparams["d0"] == 1e-4
    window.simulator.playback.pause()


def test_devices_offered_are_the_ones_present(tab):
    import torch

    combo = tab.panel.widget("train.device")
    offered = [combo.itemText(i) for i in range(combo.count())]
    assert offered[:2] == ["auto", "cpu"] and combo.currentText() == "cpu"
    assert any(d.startswith("cuda") for d in offered) == torch.cuda.is_available()
    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    assert tab.panel.config.train.device == "auto"


def test_the_training_tab_is_built_only_when_shown(window):
    assert window.training is None
    window.tabs.setCurrentIndex(1)
    assert window.training is not None and window.training.isVisible()
    assert window.tabs.widget(1).layout().itemAt(0).widget() is window.training


def test_records_smooth_the_loss_and_grow_their_arrays():
    from types import SimpleNamespace

    from gui.training_tab.records import RunRecord, Series

    series = Series(capacity=2)
    series.extend([1.0, 2.0, 3.0])
    series.extend([4.0])
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0]
    record = RunRecord("r", RunConfig(), "#ffffff", total_steps=5000)
    events = [SimpleNamespace(step=i, train_loss=0.5, grad_norm=1.0, lrs={"default": 0.1}, samples_per_s=10.0)
              for i in range(1, 301)]
    events[10] = SimpleNamespace(step=11, train_loss=float("nan"), grad_norm=1.0, lrs={"default": 0.1},
                                 samples_per_s=10.0)
    record.add_steps(events)
    assert record.smoothed_loss.values[-1] == pytest.approx(0.5)  # bias-corrected; NaN skipped
    assert record.steps.size == 300 and record.lrs["default"].values[0] == 0.1


def test_the_cli_command_reproduces_the_tabs_metrics_bit_for_bit(qtbot, tab, tmp_path):
    # 784 inputs into two 512-wide layers (Fashion-MNIST's shape): big enough that torch splits its
    # sums over threads, so a run on another thread count differs in the last bits.
    rng = np.random.default_rng(0)
    pixels, labels = rng.random((320, 784)).round(3), rng.integers(0, 10, 320)
    data = tmp_path / "images.csv"
    data.write_text(",".join(f"p{i}" for i in range(784)) + ",label\n" + "".join(
        ",".join(map(str, row)) + f",{label}\n" for row, label in zip(pixels, labels, strict=True)))
    tab.panel.load(tiny(data={"name": "csv", "path": str(data), "task": "classification", "samples": None,
                              "batch_size": 64}, model={"hidden": [512, 512]}, train={"epochs": 2}))
    record = run_to_end(qtbot, tab)
    assert record.status == "finished"
    tab.export_metrics(record, tmp_path / "tab.csv")
    command = tab.command_for(record)
    assert f"--threads {record.config.train.threads}" in command
    words = shlex.split(command)
    assert words[:2] == ["python", "main.py"]
    done = subprocess.run([sys.executable, *words[1:], "--metrics-out", str(tmp_path / "cli.csv"), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    tab_rows = read_metrics_csv(tmp_path / "tab.csv").rows
    assert len(tab_rows) > 20
    assert read_metrics_csv(tmp_path / "cli.csv").rows == tab_rows
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "tab.csv").read_bytes()


def test_the_thread_count_field_edits_the_run_and_refuses_zero(qtbot, tab):
    panel = tab.panel
    edit = panel.widget("train.threads")
    assert edit.text() == str(RunConfig().train.threads)  # the default the CLI uses too
    edit.setText("0")
    edit.editingFinished.emit()
    error = panel._error_for("train.threads")
    assert "train.threads: expected a whole number >= 1" in error.text() and not error.isHidden()
    assert panel.config.train.threads == RunConfig().train.threads  # refused: unchanged
    edit.setText("2")
    edit.editingFinished.emit()
    assert panel.config.train.threads == 2 and error.isHidden()
    assert "--threads 2" in tab.command_for()


class HeldLoader:
    """Stands in for ``trainers.preview.load_config_dataset``: a CSV configuration's load waits until
    ``release`` is set, so a test can act while a preview is being built; the rest load at once."""

    def __init__(self, monkeypatch):
        from trainers import preview

        self.real = preview.load_config_dataset
        self.entered, self.release = threading.Event(), threading.Event()
        self.on_gui_thread: list[bool] = []
        monkeypatch.setattr(preview, "load_config_dataset", self)

    def __call__(self, config):
        if config.data.name == "csv":
            self.on_gui_thread.append(threading.current_thread() is threading.main_thread())
            self.entered.set()
            self.release.wait(WAIT_MS / 1000)
        return self.real(config)


def tutorial_csv(tmp_path) -> str:
    path = tmp_path / "line.csv"
    path.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(1, 11)))  # y = 2x
    return str(path)


def csv_config(tmp_path) -> RunConfig:
    return tiny(data={"name": "csv", "path": tutorial_csv(tmp_path), "samples": None, "batch_size": 4},
                model={"name": "linear"})


def test_loading_a_config_returns_before_its_preview_is_built(qtbot, tab, tmp_path, monkeypatch):
    from gui.training_tab.config_panel import PREVIEW_LOADING

    loader = HeldLoader(monkeypatch)
    panel = tab.panel
    try:
        panel.load(csv_config(tmp_path))  # returns while the data is still loading
        assert panel.data_summary.text() == PREVIEW_LOADING and panel.lr_note.text() == PREVIEW_LOADING
        qtbot.waitUntil(loader.entered.is_set, timeout=WAIT_MS)
        assert panel.data_summary.text() == PREVIEW_LOADING  # the event loop ran; still loading
    finally:
        loader.release.set()
    # the summary is shown from the worker's result, the worker let go once its thread has finished
    qtbot.waitUntil(lambda: panel.data_summary.text() != PREVIEW_LOADING and panel.preview_worker is None,
                    timeout=WAIT_MS)
    assert loader.on_gui_thread == [False]
    assert panel.data_summary.text() == ("8 training / 2 validation samples of shape 1; "
                                         "regression on column y (inferred; set data.task to override)")
    assert panel.preview.total_steps == 3 * 2 and panel.preview.dataset.task == "regression"
    assert tab.start_button.isEnabled() and panel.preview_worker is None


def test_a_preview_of_a_config_changed_meanwhile_is_dropped(qtbot, tab, tmp_path, monkeypatch):
    loader = HeldLoader(monkeypatch)
    panel = tab.panel
    shown = []
    try:
        panel.load(csv_config(tmp_path))  # from here on, an earlier check's result is stale too
        panel.checked.connect(lambda ok, _message: shown.append(panel.preview.dataset.name if ok else None))
        qtbot.waitUntil(loader.entered.is_set, timeout=WAIT_MS)
        panel.load(tiny(data={"name": "blobs", "samples": 90}))  # while the CSV is loading
    finally:
        loader.release.set()
    qtbot.waitUntil(lambda: bool(shown) and panel.preview_worker is None, timeout=WAIT_MS)
    assert shown == ["blobs"] and panel.preview.dataset.name == "blobs"
    assert panel.data_summary.text().endswith("; classification, 3 classes")
    assert panel.current_config().data.name == "blobs"


def test_a_refused_config_shows_its_error_after_the_background_check(qtbot, tab, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,y\n1,0\n1e308,1\n")
    tab.panel.load(tiny(data={"name": "csv", "path": str(bad), "samples": None}))
    qtbot.waitUntil(lambda: tab.panel.preview_worker is None, timeout=WAIT_MS)
    assert tab.panel.preview is None and not tab.start_button.isEnabled()
    assert "line 3: column 'a' holds 1e308, beyond float32's range" in tab.panel.error.text()
    assert tab.panel.data_summary.text() == "no data preview: see the error below"


def test_closing_the_window_waits_for_a_preview_being_built(qtbot, window, tmp_path, monkeypatch):
    tab = window.show_training()
    loader = HeldLoader(monkeypatch)
    tab.panel.load(csv_config(tmp_path))
    qtbot.waitUntil(loader.entered.is_set, timeout=WAIT_MS)
    worker = tab.panel.preview_worker
    finished = []
    worker.finished.connect(lambda: finished.append(True))
    try:
        # The worker is held in the loader (a CSV read cannot be interrupted): the close is
        # deferred, without blocking, until its thread has finished.
        assert window.close() is False
        assert window.isVisible() and window.statusBar().currentMessage() == "Stopping…"
        assert worker.isRunning()
    finally:
        loader.release.set()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert finished == [True] and tab.panel.preview_worker is None
