"""The training loop: events, metrics, determinism, divergence, control, LBFGS, checkpoints."""

import math
import threading

import numpy as np
import pytest
import torch

from tests.trainers.conftest import small_config
from trainers.checkpoint import read_checkpoint
from trainers.config import RunConfig
from trainers.errors import ConfigError
from trainers.loop import EpochEnded, Paused, Resumed, RunEnded, RunStarted, StepLogged, TrainingRun
from trainers.metrics import HEADER, read_metrics_csv


def train(config, **kwargs):
    run = TrainingRun(config, **kwargs)
    events = list(run.events())
    return run, events


def parameters_of(run):
    return {name: p.detach().clone() for name, p in run.model.named_parameters()}


def test_events_come_in_order_with_plain_data():
    run, events = train(small_config(optimizer={"param_groups": [{"match": "head", "lr": 0.1}]}))
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunEnded)
    steps = [e for e in events if isinstance(e, StepLogged)]
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert [e.step for e in steps] == list(range(1, 17)) and run.steps_per_epoch == 8
    assert [e.epoch for e in epochs] == [1, 2] and [e.step for e in epochs] == [8, 16]
    assert steps[0].lrs == {"head": 0.1, "default": 0.01}
    assert events[0].groups == ("head", "default") and events[0].total_steps == 16
    assert {a.group for a in events[0].assignment if a.name.startswith("head")} == {"head"}
    assert events[-1].status == "finished" and events[-1].message == "finished 2 epochs"
    assert all(isinstance(e.train_loss, float) and e.samples_per_s > 0 for e in steps)


def test_metrics_csv_is_tidy_and_reads_back_exactly(tmp_path):
    run, _ = train(small_config(optimizer={"param_groups": [{"match": "head", "name": "head", "lr": 0.1}]}))
    path = tmp_path / "metrics.csv"
    run.metrics.write_csv(path)
    assert path.read_text().splitlines()[0] == ",".join(HEADER)
    assert read_metrics_csv(path).rows == run.metrics.rows
    names = run.metrics.metric_names()
    assert names == ["train_loss", "grad_norm", "lr/head", "lr/default", "val_loss", "val_accuracy"]
    val_rows = [r for r in run.metrics.rows if r[2] == "val_accuracy"]
    assert [(r[0], r[1]) for r in val_rows] == [(1, 8), (2, 16)] and all(0 <= r[3] <= 1 for r in val_rows)


def test_malformed_metrics_csv_is_a_clear_error(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,b\n")
    with pytest.raises(ConfigError, match="is not a metrics CSV"):
        read_metrics_csv(path)
    path.write_text("epoch,step,metric,value\n1,x,train_loss,0.5\n")
    with pytest.raises(ConfigError, match="line 2"):
        read_metrics_csv(path)


def test_it_really_learns():
    run, events = train(small_config(model={"hidden": [32, 32]}, optimizer={"lr": 0.02}, train={"epochs": 20}))
    assert events[-1].best_val_accuracy >= 0.9
    losses = run.metrics.series("train_loss")[1]
    assert np.mean(losses[-8:]) < 0.5 * np.mean(losses[:8])


def test_same_configuration_gives_bit_identical_metrics_and_weights():
    first, _ = train(small_config(data={"shuffle": True}))
    second, _ = train(small_config(data={"shuffle": True}))
    assert first.metrics.rows == second.metrics.rows
    for name, value in parameters_of(first).items():
        assert torch.equal(value, parameters_of(second)[name])
    other, _ = train(small_config(train={"seed": 4}))
    assert other.metrics.rows != first.metrics.rows


def test_a_diverging_run_stops_and_keeps_what_it_logged():
    config = small_config(data={"name": "linear", "samples": 200}, model={"name": "linear"},
                          optimizer={"name": "SGD", "lr": 50.0}, train={"epochs": 5})
    run, events = train(config)
    ended = events[-1]
    assert ended.status == "diverged"
    losses = run.metrics.series("train_loss")[1]
    k = len(losses)
    assert ended.message.startswith(f"diverged at step {k}: train loss is ")
    assert not math.isfinite(losses[-1]) and all(math.isfinite(v) for v in losses[:-1])
    assert ended.step == k < run.total_steps


def test_max_steps_ends_mid_epoch_with_a_validation():
    _run, events = train(small_config(train={"max_steps": 11, "epochs": 5}))
    assert events[-1].message == "finished: reached max_steps = 11" and events[-1].step == 11
    assert [e.step for e in events if isinstance(e, EpochEnded)] == [8, 11]


def test_gradient_clipping_reports_the_norm_before_and_bounds_the_update():
    config = small_config(optimizer={"name": "SGD", "lr": 1.0}, train={"grad_clip": 0.01, "max_steps": 1})
    run = TrainingRun(config)
    before = parameters_of(run)
    list(run.events())
    change = torch.sqrt(sum(((p - before[n]) ** 2).sum() for n, p in parameters_of(run).items()))
    grad_norm = run.metrics.series("grad_norm")[1][0]
    assert grad_norm > 0.01 and change.item() == pytest.approx(0.01, rel=1e-4)


def test_lbfgs_trains_with_a_closure():
    config = small_config(optimizer={"name": "LBFGS", "lr": 1.0, "max_iter": 5}, data={"batch_size": 240},
                          train={"epochs": 6})
    run, events = train(config)
    assert events[-1].status == "finished"
    losses = run.metrics.series("train_loss")[1]
    assert len(losses) == 6 and losses[-1] < losses[0]
    state = run.optimizer.state[run.optimizer.param_groups[0]["params"][0]]
    assert state["func_evals"] > 6  # the closure re-evaluated the batch inside each step


def test_regression_digits_and_cnn_runs():
    run, events = train(small_config(data={"name": "sine", "samples": 200}, train={"epochs": 1}))
    assert events[0].task == "regression" and "val_accuracy" not in run.metrics.metric_names()
    run, events = train(small_config(data={"name": "digits", "samples": 300, "batch_size": 50},
                                     model={"name": "cnn", "hidden": [4]}, train={"epochs": 1}))
    assert events[-1].status == "finished" and events[0].train_samples == 240


def test_csv_file_dataset_trains(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [f"{x:.3f},{y:.3f},{'yes' if x + y > 0 else 'no'}"
                            for x, y in rng.normal(size=(120, 2))]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(rows) + "\n")
    run, events = train(small_config(data={"name": "csv", "path": str(path), "samples": None}))
    assert events[-1].status == "finished" and run.dataset.class_names == ("no", "yes")


def test_stop_ends_the_run_between_steps():
    run = TrainingRun(small_config(train={"epochs": 50}))
    seen = []
    for event in run.events():
        seen.append(event)
        if isinstance(event, StepLogged) and event.step == 5:
            run.stop()
    assert seen[-1].status == "stopped" and seen[-1].message == "stopped at step 5"
    assert len(run.metrics.series("train_loss")[1]) == 5


def test_pause_and_resume_from_another_thread():
    run = TrainingRun(small_config(train={"epochs": 3}))
    events, paused = [], threading.Event()

    def consume():
        for event in run.events():
            events.append(event)
            if isinstance(event, StepLogged) and event.step == 3:
                run.pause()
            if isinstance(event, Paused):
                paused.set()

    worker = threading.Thread(target=consume)
    worker.start()
    assert paused.wait(10)
    steps_while_paused = len(run.metrics.rows)
    worker.join(0.2)
    assert worker.is_alive() and len(run.metrics.rows) == steps_while_paused and run.is_paused
    run.resume()
    worker.join(10)
    assert not worker.is_alive()
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("Paused") == kinds.index("Resumed") - 1
    assert isinstance(events[kinds.index("Resumed")], Resumed) and events[-1].status == "finished"


def test_stop_wakes_a_paused_run():
    run = TrainingRun(small_config())
    run.pause()
    stream = run.events()
    assert isinstance(next(stream), RunStarted)
    threading.Timer(0.1, run.stop).start()
    rest = list(stream)
    assert rest[-1].status == "stopped" and rest[-1].step == 0


def stop_on_closure_call(run, call: int, in_step: int = 1) -> list:
    """Make ``run`` stop itself from inside LBFGS's closure: on its ``call``-th evaluation of the
    batch within step ``in_step``. Returns the list of evaluations seen in that step. Past 1000 of
    them the stop evidently never reached the step: the run fails instead of running for hours."""
    evaluations, loss_fn = [], run.loss_fn

    def counting_loss(output, target):
        if run.position.step == in_step - 1:
            evaluations.append(1)
            if len(evaluations) == call:
                run.stop()
            if len(evaluations) > 1000:
                raise RuntimeError("the stop did not reach inside the LBFGS step")
        return loss_fn(output, target)

    run.loss_fn = counting_loss
    return evaluations


def test_a_stop_reaches_inside_a_never_ending_lbfgs_step_and_undoes_it():
    config = small_config(optimizer={"name": "LBFGS", "lr": 1.0, "max_iter": 10_000_000,
                                     "tolerance_grad": 0, "tolerance_change": 0},
                          data={"batch_size": 240})
    run = TrainingRun(config)
    before = parameters_of(run)
    evaluations = stop_on_closure_call(run, call=5)
    events = list(run.events())
    ended = events[-1]
    assert (ended.status, ended.step) == ("stopped", 0), ended.message
    assert ended.message == "stopped at step 0 (step 1 was interrupted and undone)"
    assert len(evaluations) == 5  # the sixth evaluation saw the stop before computing anything
    assert not any(isinstance(event, StepLogged) for event in events) and run.metrics.rows == []
    for name, value in parameters_of(run).items():  # the weights the four updates had moved
        assert torch.equal(value, before[name]), name
    assert dict(run.optimizer.state) == {}


def test_a_run_stopped_inside_an_lbfgs_step_resumes_bit_identically(tmp_path):
    config = small_config(optimizer={"name": "LBFGS", "lr": 0.5, "max_iter": 5}, train={"epochs": 2})
    whole, _ = train(config)

    interrupted = TrainingRun(config)
    evaluations = stop_on_closure_call(interrupted, call=2, in_step=6)
    events = list(interrupted.events())
    assert events[-1].message == "stopped at step 5 (step 6 was interrupted and undone)"
    assert len(evaluations) == 2
    path = tmp_path / "run.pt"
    interrupted.save_checkpoint(path)
    resumed = TrainingRun.from_checkpoint(path)
    events = list(resumed.events())
    assert events[0].start_step == 5 and events[-1].status == "finished"
    assert resumed.metrics.rows == whole.metrics.rows
    for name, value in parameters_of(whole).items():
        assert torch.equal(value, parameters_of(resumed)[name]), name
    whole_state = whole.optimizer.state_dict()["state"][0]
    resumed_state = resumed.optimizer.state_dict()["state"][0]
    assert (resumed_state["n_iter"], resumed_state["func_evals"]) == (whole_state["n_iter"], whole_state["func_evals"])
    assert torch.equal(resumed_state["prev_flat_grad"], whole_state["prev_flat_grad"])


# -- checkpoints ---------------------------------------------------------------------------

RESUMABLE = [
    {"optimizer": {"name": "AdamW", "lr": 0.01, "no_decay_bias_norm": True},
     "scheduler": {"name": "CosineAnnealingLR", "T_max": 30, "interval": "step", "warmup_steps": 3}},
    {"optimizer": {"name": "SGD", "lr": 0.2, "momentum": 0.9},
     "scheduler": {"name": "ReduceLROnPlateau", "patience": 0, "threshold": 0.3}},
    {"optimizer": {"name": "LBFGS", "lr": 0.5, "max_iter": 3}},
]


@pytest.mark.parametrize("overrides", RESUMABLE, ids=["adamw-cosine", "sgd-plateau", "lbfgs"])
@pytest.mark.parametrize("stop_at", [5, 8], ids=["mid-epoch", "epoch-end"])
def test_resuming_continues_bit_identically(tmp_path, overrides, stop_at):
    config = small_config(**overrides)
    config.train.epochs = 3
    whole, _ = train(config)

    interrupted = TrainingRun(config)
    for event in interrupted.events():
        if isinstance(event, StepLogged) and event.step == stop_at:
            interrupted.stop()
    path = tmp_path / "run.pt"
    interrupted.save_checkpoint(path)
    resumed = TrainingRun.from_checkpoint(path)
    events = list(resumed.events())
    assert events[0].start_step == stop_at and events[-1].status == "finished"
    assert resumed.metrics.rows == whole.metrics.rows
    for name, value in parameters_of(whole).items():
        assert torch.equal(value, parameters_of(resumed)[name]), name
    assert resumed.ended.best_val_loss == whole.ended.best_val_loss


def test_checkpoint_is_written_each_epoch_and_holds_the_whole_state(tmp_path):
    path = tmp_path / "auto.pt"
    run, _ = train(small_config(), checkpoint_path=path)
    state = read_checkpoint(path)
    assert state["position"]["step"] == 16 and state["status"] == "finished"
    assert RunConfig.from_dict(state["config"]) == run.config
    assert set(state) >= {"model", "optimizer", "scheduler", "rng", "metrics"}
    assert [tuple(r) for r in state["metrics"]] == run.metrics.rows


def test_resume_may_extend_a_run_but_not_change_it(tmp_path):
    path = tmp_path / "run.pt"
    train(small_config(), checkpoint_path=path)
    longer = TrainingRun.from_checkpoint(path, overrides={"train.epochs": 3})
    events = list(longer.events())
    assert events[-1].message == "finished 3 epochs" and events[-1].step == 24
    assert train(small_config(train={"epochs": 3}))[0].metrics.rows == longer.metrics.rows
    with pytest.raises(ConfigError, match=r"optimizer\.lr: cannot be changed when resuming"):
        TrainingRun.from_checkpoint(path, overrides={"optimizer.lr": 0.5})


def test_a_one_cycle_run_cannot_outgrow_its_cycle_when_resumed(tmp_path):
    path = tmp_path / "run.pt"
    train(small_config(scheduler={"name": "OneCycleLR", "max_lr": 0.05, "warmup_steps": 2}), checkpoint_path=path)
    with pytest.raises(ConfigError, match="OneCycleLR would run out after 14 steps but this run takes 22"):
        TrainingRun.from_checkpoint(path, overrides={"train.epochs": 3})


def test_bad_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        TrainingRun.from_checkpoint(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ConfigError, match="is not a readable checkpoint"):
        TrainingRun.from_checkpoint(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"model": {}}, foreign)
    with pytest.raises(ConfigError, match="is not an OptiScope checkpoint"):
        TrainingRun.from_checkpoint(foreign)


def test_unwritable_checkpoint_fails_the_run_but_keeps_the_metrics(tmp_path):
    run, events = train(small_config(), checkpoint_path=tmp_path / "missing-folder" / "run.pt")
    assert events[-1].status == "failed" and "cannot write" in events[-1].message
    assert len(run.metrics.series("train_loss")[1]) == 8
