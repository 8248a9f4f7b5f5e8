"""The trajectory CSV: bit-exact round trips, atomic writes, clear errors on malformed files."""

import csv
import os

import numpy as np
import pytest

from simulator import SimulatorError, Trajectory, read_csv_runs, simulate
from simulator import trajectory as trajectory_module


def _assert_same(a: Trajectory, b: Trajectory):
    for name in ("xy", "loss", "grad", "lr", "state"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name  # same bits, -0.0 too
    assert (a.state_names, a.surface, a.optimizer) == (b.state_names, b.surface, b.optimizer)
    assert (a.status, a.diverged_at, a.hyperparams) == (b.status, b.diverged_at, b.hyperparams)


@pytest.mark.parametrize("optimizer, hyperparams, noise", [
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "amsgrad": True}, 0.0),
    ("Adafactor", {}, 0.3),
    ("Rprop", {"etas": (0.4, 1.3)}, 0.0),
])
def test_round_trip_is_bit_exact(tmp_path, optimizer, hyperparams, noise):
    original = simulate("himmelblau", optimizer, start=(0.1, -0.2), steps=500, hyperparams=hyperparams, noise=noise, seed=1)
    path = tmp_path / "run.csv"
    original.to_csv(path)
    _assert_same(original, Trajectory.from_csv(path))


def test_round_trip_keeps_the_divergence(tmp_path):
    diverged = simulate("rosenbrock", "SGD", start=(-1.5, 2.0), steps=1000, hyperparams={"lr": 0.01})
    assert diverged.status == "diverged"
    diverged.to_csv(tmp_path / "d.csv")
    back = Trajectory.from_csv(tmp_path / "d.csv")
    _assert_same(diverged, back)
    assert back.message == diverged.message


def test_header_and_columns_are_readable_by_plain_csv(tmp_path):
    run = simulate("booth", "SGD", start=(0.0, 0.0), steps=3, hyperparams={"lr": 0.01, "momentum": 0.9})
    run.to_csv(tmp_path / "r.csv")
    with open(tmp_path / "r.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:7] == ["step", "x", "y", "loss", "grad_x", "grad_y", "lr"]
    assert [r["step"] for r in rows] == ["0", "1", "2", "3"]
    assert float(rows[1]["x"]) == run.xy[1, 0]
    assert float(rows[2]["state_momentum_buffer_x"]) == run.state_column("momentum_buffer_x")[2]
    assert rows[0]["optimizer"] == "SGD" and rows[0]["surface"] == "booth" and rows[0]["status"] == "ok"


def test_several_runs_in_one_long_file(tmp_path):
    adam = simulate("booth", "Adam", start=(0.0, 0.0), steps=5, label="fast adam", hyperparams={"lr": 0.1})
    sgd = simulate("booth", "SGD", start=(1.0, 0.0), steps=7, label="sgd")
    header = list(dict.fromkeys(adam.header() + sgd.header()))
    trajectory_module.write_csv_atomically(
        tmp_path / "long.csv", header, [*adam.csv_rows(header), *sgd.csv_rows(header)]
    )
    runs = read_csv_runs(tmp_path / "long.csv")
    assert [r.label for r in runs] == ["fast adam", "sgd"]
    _assert_same(adam, runs[0])
    _assert_same(sgd, runs[1])
    with pytest.raises(SimulatorError, match="holds 2 runs"):
        Trajectory.from_csv(tmp_path / "long.csv")


def test_unwritable_path_is_a_clear_error_and_leaves_nothing(tmp_path):
    run = simulate("booth", "SGD", start=(0.0, 0.0), steps=3)
    with pytest.raises(SimulatorError, match="cannot write"):
        run.to_csv(tmp_path / "missing-dir" / "r.csv")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(SimulatorError, match="cannot write"):
        run.to_csv(blocker / "r.csv")
    assert os.listdir(tmp_path) == ["a-file"]


def test_a_write_failing_midway_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "r.csv"
    path.write_text("precious\n")
    run = simulate("booth", "SGD", start=(0.0, 0.0), steps=50)

    def rows_that_break():
        yield from list(run.csv_rows())[:10]
        raise OSError(28, "No space left on device")

    with pytest.raises(SimulatorError, match="No space left on device"):
        trajectory_module.write_csv_atomically(path, run.header(), rows_that_break())
    assert path.read_text() == "precious\n"
    assert os.listdir(tmp_path) == ["r.csv"]


@pytest.mark.parametrize("content, message", [
    ("", "empty file"),
    ("a,b,c\n1,2,3\n", "missing column"),
    ("step,x,y,loss,grad_x,grad_y,lr\n", "no data rows"),
    ("step,x,y,loss,grad_x,grad_y,lr\n0,1,2,3,4,5\n", "line 2 has 6 fields"),
    ("step,x,y,loss,grad_x,grad_y,lr\n0,1,oops,3,4,5,6\n", "column 'y'"),
    ("step,x,y,loss,grad_x,grad_y,lr,hyperparams\n0,1,2,3,4,5,6,{bad\n", "not valid JSON"),
    ('step,x,y,loss,grad_x,grad_y,lr,hyperparams\n0,1,2,3,4,5,6,"[1, 2]"\n', "must hold a JSON object"),
    ("step,x,y,loss,grad_x,grad_y,lr,hyperparams\n0,1,2,3,4,5,6," + '"{""lr"": ' + "9" * 5000 + '}"\n',
     "column 'hyperparams' is not valid JSON"),
    ("step,x,y,loss,grad_x,grad_y,lr,schedule\n0,1,2,3,4,5,6," + "[" * 100_000 + "\n",
     "column 'schedule' is not valid JSON"),
])
def test_malformed_files_are_refused_clearly(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SimulatorError, match=message):
        read_csv_runs(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SimulatorError, match="cannot read"):
        Trajectory.from_csv(tmp_path / "nope.csv")


def test_schedule_is_kept_in_the_csv_and_reruns_the_same_trajectory(tmp_path):
    schedule = ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 10}),
                                                ("CosineAnnealingLR", {"T_max": 90})], "milestones": [10]})
    run = simulate("rosenbrock", "Adam", steps=100, hyperparams={"lr": 0.02}, schedule=schedule)
    path = tmp_path / "scheduled.csv"
    run.to_csv(path)
    loaded = Trajectory.from_csv(path)
    name, params = loaded.schedule
    assert name == "SequentialLR" and params["milestones"] == [10]
    again = simulate("rosenbrock", "Adam", steps=100, hyperparams=loaded.hyperparams, schedule=loaded.schedule)
    np.testing.assert_array_equal(again.xy, run.xy)
    np.testing.assert_array_equal(loaded.lr, run.lr)
    unscheduled = simulate("rosenbrock", "Adam", steps=3)
    unscheduled.to_csv(path)
    assert Trajectory.from_csv(path).schedule is None


def test_write_runs_csv_mixes_optimizers_and_reads_back_every_run(tmp_path):
    runs = [
        simulate("rosenbrock", "Adam", steps=40, label="adam"),
        simulate("rosenbrock", "LBFGS", steps=5, label="lbfgs"),
        simulate("rosenbrock", "SGD", steps=40, hyperparams={"lr": 1.0}, label="too fast"),
    ]
    path = tmp_path / "runs.csv"
    trajectory_module.write_runs_csv(path, runs)
    loaded = read_csv_runs(path)
    assert [t.label for t in loaded] == ["adam", "lbfgs", "too fast"]
    for original, back in zip(runs, loaded, strict=True):
        np.testing.assert_array_equal(back.xy, original.xy)
        assert back.state_names == original.state_names and back.status == original.status
    assert loaded[0].evals is None and loaded[1].evals.tolist() == runs[1].evals.tolist()
    assert loaded[2].message == runs[2].message and runs[2].status == "diverged"


def test_write_runs_csv_refuses_repeated_names_and_nothing(tmp_path):
    run = simulate("rosenbrock", "Adam", steps=3)
    with pytest.raises(SimulatorError, match="repeated: Adam"):
        trajectory_module.write_runs_csv(tmp_path / "x.csv", [run, run])
    with pytest.raises(SimulatorError, match="no runs"):
        trajectory_module.write_runs_csv(tmp_path / "x.csv", [])
    assert not (tmp_path / "x.csv").exists()


def test_a_noisy_run_can_be_run_again_from_its_csv_alone(tmp_path):
    original = simulate("rosenbrock", "Adam", start=(-1.0, 1.5), steps=80, hyperparams={"lr": 0.05},
                        noise=0.3, seed=7, surface_params={"a": 1.5})
    path = tmp_path / "noisy.csv"
    original.to_csv(path)
    back = Trajectory.from_csv(path)
    assert (back.noise, back.seed, back.surface_params) == (0.3, 7, {"a": 1.5})
    again = simulate(back.surface, back.optimizer, start=tuple(back.xy[0]), steps=back.steps,
                     hyperparams=back.hyperparams, noise=back.noise, seed=back.seed,
                     surface_params=back.surface_params, schedule=back.schedule)
    assert np.array_equal(again.xy, original.xy) and np.array_equal(again.grad, original.grad)


def test_a_csv_written_before_the_noise_columns_still_reads(tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("step,x,y,loss,grad_x,grad_y,lr,run,surface,optimizer,hyperparams,schedule,status\n"
                    '0,1.0,2.0,3.0,0.5,0.5,0.1,SGD,booth,SGD,"{""lr"": 0.1}",,ok\n'
                    '1,0.95,1.95,2.5,0.4,0.4,0.1,SGD,booth,SGD,"{""lr"": 0.1}",,ok\n')
    old = Trajectory.from_csv(path)
    assert (old.noise, old.seed, old.surface_params) == (0.0, None, {}) and old.hyperparams == {"lr": 0.1}
