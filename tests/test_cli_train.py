"""``optiscope train``: flags and config files, metrics and checkpoints, resume, clear refusals."""

import csv
import json
import shlex
import signal

import pytest
import torch

from tests.test_cli import assert_refused, run_cli, run_main_py
from trainers.checkpoint import read_checkpoint
from trainers.config import RunConfig
from trainers.metrics import read_metrics_csv

QUICK = ["--dataset", "moons", "--set", "data.samples=200", "--hidden", "8", "--batch-size", "40",
         "--device", "cpu"]


def test_train_with_flags_prints_epochs_and_writes_metrics(tmp_path, capsys):
    metrics = tmp_path / "metrics.csv"
    code, out, err = run_cli(capsys, "train", *QUICK, "--optimizer", "sgd", "--set", "lr=0.1",
                             "--set", "momentum=0.9", "--scheduler", "StepLR", "--scheduler-set", "step_size=1",
                             "--epochs", "3", "--metrics-out", metrics)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Training on cpu") and "160 training / 40 validation samples" in lines[0]
    assert f"{RunConfig().train.threads} CPU thread" in lines[0]
    assert [line.split(":")[0] for line in lines[1:4]] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert "val accuracy" in lines[1] and "samples/s" in lines[1]
    assert lines[4].startswith("finished 3 epochs in") and str(metrics) in lines[4]
    log = read_metrics_csv(metrics)
    steps, lrs = log.series("lr/default")
    assert steps == list(range(1, 13)) and lrs[0] == 0.1 and lrs[-1] == pytest.approx(0.001)
    with open(metrics, newline="") as handle:
        assert next(csv.reader(handle)) == ["epoch", "step", "metric", "value"]


def test_config_file_with_flag_overrides(tmp_path, capsys):
    config_path = tmp_path / "run.toml"
    config_path.write_text("""
[data]
name = "blobs"
samples = 150
batch_size = 30

[model]
hidden = [8]

[optimizer]
name = "AdamW"
lr = 0.01
no_decay_bias_norm = true

[[optimizer.param_groups]]
match = "^head\\\\."
name = "head"
lr = 0.05

[train]
epochs = 5
device = "cpu"
""")
    metrics = tmp_path / "m.csv"
    code, out, err = run_cli(capsys, "train", "--config", config_path, "--epochs", "1", "--metrics-out", metrics)
    assert code == 0, err
    assert "groups head, no_decay, default" in out and "Epoch 1/1" in out and "Epoch 2" not in out
    assert {"lr/head", "lr/no_decay", "lr/default"} <= set(read_metrics_csv(metrics).metric_names())


def test_a_typed_lr_lambda_trains_resumes_and_comes_back_in_the_command_and_the_file(tmp_path, capsys):
    from trainers.command import command_line

    whole, part, checkpoint = tmp_path / "whole.csv", tmp_path / "part.csv", tmp_path / "run.pt"
    lambda_flags = ["--optimizer", "sgd", "--set", "lr=0.1", "--scheduler", "LambdaLR",
                    "--scheduler-set", "lr_lambda=1/(1 + epoch)", "--threads", "1"]
    code, _, err = run_cli(capsys, "train", *QUICK, *lambda_flags, "--epochs", "4", "--metrics-out", whole)
    assert code == 0, err
    _, lrs = read_metrics_csv(whole).series("lr/default")
    assert lrs == [0.1 * (1 / (1 + epoch)) for epoch in range(4) for _ in range(4)]  # per epoch, as torch
    assert run_cli(capsys, "train", *QUICK, *lambda_flags, "--epochs", "2", "--checkpoint", checkpoint)[0] == 0
    saved = RunConfig.from_dict(read_checkpoint(checkpoint)["config"])
    assert saved.scheduler.options == {"lr_lambda": "1/(1 + epoch)"}  # the text, not a function
    assert "--scheduler-set 'lr_lambda=1/(1 + epoch)'" in command_line(saved)
    code, _, err = run_cli(capsys, "train", "--resume", checkpoint, "--epochs", "4", "--metrics-out", part)
    assert code == 0, err
    assert read_metrics_csv(part).rows == read_metrics_csv(whole).rows
    saved.save(tmp_path / "run.toml")
    assert RunConfig.load(tmp_path / "run.toml").scheduler.options == {"lr_lambda": "1/(1 + epoch)"}


def test_a_sequential_schedule_from_a_file_trains_resumes_and_round_trips_through_the_command(tmp_path, capsys):
    from torch.optim import lr_scheduler

    from cli.values import parse_settings
    from trainers.command import command_line

    config_path, whole, part, checkpoint = (tmp_path / "run.toml", tmp_path / "whole.csv",
                                            tmp_path / "part.csv", tmp_path / "run.pt")
    config_path.write_text("""
[data]
name = "moons"
samples = 200
batch_size = 40

[model]
hidden = [8]

[optimizer]
name = "SGD"
lr = 0.1

[scheduler]
name = "SequentialLR"
interval = "step"
schedulers = [["LinearLR", {start_factor = 0.1, total_iters = 4}], ["LambdaLR", {lr_lambda = "0.9**epoch"}]]
milestones = [4]

[train]
epochs = 4
device = "cpu"
threads = 1
""")
    code, _, err = run_cli(capsys, "train", "--config", config_path, "--metrics-out", whole)
    assert code == 0, err
    _, lrs = read_metrics_csv(whole).series("lr/default")
    point = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([point], lr=0.1)
    reference = lr_scheduler.SequentialLR(optimizer, [
        lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=4),
        lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.9**epoch)], milestones=[4])
    expected = []
    for _ in range(16):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        reference.step()
    assert lrs == expected  # torch's own SequentialLR, stepped as the run steps it
    config = RunConfig.load(config_path)
    command = command_line(config)
    assert "--scheduler-set 'schedulers=[[\"LinearLR\"" in command
    flags = shlex.split(command)
    settings = parse_settings([flags[i + 1] for i, f in enumerate(flags) if f == "--scheduler-set"], "x")
    as_json = json.loads(json.dumps(config.scheduler.options["schedulers"]))  # the config keeps tuples
    assert settings["schedulers"] == as_json  # the command reads back
    config.train.epochs = 2
    config.save(tmp_path / "half.toml")
    assert run_cli(capsys, "train", "--config", tmp_path / "half.toml", "--checkpoint", checkpoint)[0] == 0
    code, _, err = run_cli(capsys, "train", "--resume", checkpoint, "--epochs", "4", "--metrics-out", part)
    assert code == 0, err
    assert read_metrics_csv(part).rows == read_metrics_csv(whole).rows


def test_checkpoint_and_resume_continue_the_same_run(tmp_path, capsys):
    whole_metrics, part_metrics = tmp_path / "whole.csv", tmp_path / "part.csv"
    checkpoint = tmp_path / "run.pt"
    assert run_cli(capsys, "train", *QUICK, "--epochs", "4", "--threads", "1", "--metrics-out", whole_metrics)[0] == 0
    assert run_cli(capsys, "train", *QUICK, "--epochs", "2", "--threads", "1", "--checkpoint", checkpoint)[0] == 0
    assert read_checkpoint(checkpoint)["position"]["step"] == 8
    assert read_checkpoint(checkpoint)["config"]["train"]["threads"] == 1
    code, out, err = run_cli(capsys, "train", "--resume", checkpoint, "--epochs", "4",
                             "--metrics-out", part_metrics)
    assert code == 0, err
    assert "resuming after step 8" in out and "Epoch 3/4" in out and "Epoch 1/4" not in out
    assert read_metrics_csv(part_metrics).rows == read_metrics_csv(whole_metrics).rows
    assert read_checkpoint(checkpoint)["position"]["step"] == 16  # the resumed run keeps checkpointing there
    assert RunConfig.from_dict(read_checkpoint(checkpoint)["config"]).train.epochs == 4


def test_a_diverging_run_exits_1_and_keeps_its_metrics(tmp_path, capsys):
    metrics = tmp_path / "m.csv"
    code, _out, err = run_cli(capsys, "train", "--dataset", "linear", "--model", "linear", "--optimizer", "SGD",
                             "--set", "lr=50", "--device", "cpu", "--metrics-out", metrics)
    assert code == 1 and "Traceback" not in err
    assert "diverged at step" in err
    assert len(read_metrics_csv(metrics).series("train_loss")[0]) >= 1


@pytest.mark.parametrize(("args", "culprits"), [
    (["--optimizer", "adamm"], ["optimizer.name", "unknown optimizer 'adamm'"]),
    (["--set", "lr=-1"], ["optimizer.lr", "Invalid learning rate"]),
    (["--set", "betas=0.9,2"], ["optimizer.betas", "Invalid beta parameter"]),
    (["--set", "lrr=0.1"], ["optimizer.lrr", "did you mean 'lr'"]),
    (["--set", "data.bogus=1"], ["data.bogus", "unknown key"]),
    (["--set", "oops"], ["--set expects KEY=VALUE"]),
    (["--scheduler", "StepLR"], ["scheduler.step_size", "required by StepLR"]),
    (["--scheduler-set", "T_max=3"], ["scheduler.T_max", "set scheduler.name"]),
    (["--dataset", "imagenet"], ["data.name", "imagenet"]),
    (["--dataset", "csv"], ["data.path"]),
    (["--dataset", "mnist", "--data-path", "/nonexistent"], ["data.path", "/nonexistent"]),
    (["--model", "cnn"], ["model.name", "cnn needs image data"]),
    (["--hidden", "8,0"], ["model.hidden"]),
    (["--epochs", "0"], ["train.epochs"]),
    (["--batch-size", "x"], ["data.batch_size"]),
    (["--device", "tpu"], ["train.device"]),
    (["--threads", "0"], ["train.threads", "whole number >= 1"]),
    (["--threads", "two"], ["train.threads"]),
    (["--config", "/nonexistent/run.toml"], ["cannot read configuration"]),
    (["--resume", "/nonexistent/run.pt"], ["checkpoint '/nonexistent/run.pt' does not exist"]),
    (["--metrics-out", "/nonexistent/m.csv"], ["--metrics-out", "does not exist"]),
    (["--checkpoint", "/nonexistent/c.pt"], ["--checkpoint", "does not exist"]),
    (["--set", "lr=abc"], ["optimizer.lr: lr must be a number, not 'abc'"]),
    (["--scheduler", "StepLR", "--scheduler-set", "step_size=abc"], ["scheduler.step_size: step_size must be"]),
    (["--scheduler", "LambdaLR", "--scheduler-set", "lr_lambda=exec('1')"],
     ["scheduler.lr_lambda", "function 'exec' is not allowed"]),
    (["--seed", "18446744073709551616"], ["train.seed", "from 0 to 18446744073709551615"]),
    (["--hidden", "1000000,1000000"], ["model.hidden", "1,000,006,000,002 parameters", "available"]),
])
def test_bad_configuration_exits_2_with_one_line(capsys, args, culprits):
    assert_refused(*run_cli(capsys, "train", "--device", "cpu", *args), *culprits)


def test_resume_refuses_to_change_the_run(tmp_path, capsys):
    checkpoint = tmp_path / "run.pt"
    assert run_cli(capsys, "train", *QUICK, "--epochs", "1", "--checkpoint", checkpoint)[0] == 0
    assert_refused(*run_cli(capsys, "train", "--resume", checkpoint, "--optimizer", "SGD"),
                   "optimizer.name: cannot be changed when resuming")
    assert_refused(*run_cli(capsys, "train", "--resume", checkpoint, "--threads", "3"),
                   "train.threads: cannot be changed when resuming")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[data\n")
    assert_refused(*run_cli(capsys, "train", "--config", bad_toml), "is not valid TOML")


def test_a_checkpoint_with_one_flipped_bit_is_refused(tmp_path, capsys):
    checkpoint = tmp_path / "run.pt"
    assert run_cli(capsys, "train", *QUICK, "--epochs", "1", "--checkpoint", checkpoint)[0] == 0
    data = bytearray(checkpoint.read_bytes())
    payload = torch.load(checkpoint, weights_only=True)["payload"].numpy().tobytes()
    middle = data.find(payload[len(payload) // 2:len(payload) // 2 + 64])  # inside the optimizer state
    data[middle] ^= 0x01
    checkpoint.write_bytes(bytes(data))
    assert_refused(*run_cli(capsys, "train", "--resume", checkpoint, "--epochs", "2"),
                   str(checkpoint), "is damaged", "SHA-256")
    assert checkpoint.read_bytes() == bytes(data)  # refused, so not rewritten


def test_ctrl_c_stops_cleanly_and_keeps_the_checkpoint(tmp_path, capsys, monkeypatch):
    from trainers import loop

    checkpoint = tmp_path / "run.pt"
    original = loop.TrainingRun._step

    def interrupt_at_step_7(self, x, y):
        result = original(self, x, y)
        if self.position.step == 6:  # the step being taken is the 7th
            signal.raise_signal(signal.SIGINT)
        return result

    monkeypatch.setattr(loop.TrainingRun, "_step", interrupt_at_step_7)
    code, _out, err = run_cli(capsys, "train", *QUICK, "--epochs", "50", "--checkpoint", checkpoint)
    assert code == 130 and "stopped at step 7" in err
    assert read_checkpoint(checkpoint)["position"]["step"] == 7
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_main_py_train_end_to_end(tmp_path):
    metrics = tmp_path / "m.csv"
    done = run_main_py("train", *QUICK, "--epochs", "1", "--quiet", "--metrics-out", metrics)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("finished 1 epoch in") and metrics.exists()
    bad = run_main_py("train", "--optimizer", "nope")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: optimizer.name: unknown optimizer 'nope'")


def test_progress_bar_with_eta_on_a_terminal(capsys, monkeypatch):
    from cli import train as train_command

    monkeypatch.setattr(train_command.sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(train_command, "_REDRAW_SECONDS", 0.0)
    code, _out, err = run_cli(capsys, "train", *QUICK, "--epochs", "2")
    assert code == 0
    assert "\repoch 1/2 |" in err and "steps · loss " in err and "ETA " in err
    assert err.endswith("\r\033[K")  # the bar is cleared before the summary


def test_python_api_names_load_lazily():
    import trainers

    assert trainers.TrainingRun.__name__ == "TrainingRun" and "RunConfig" in trainers.__all__
