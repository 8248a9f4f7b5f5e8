"""Hostile input files, flags and Ctrl+C: one line, the documented exit status, nothing written.

Every case writes its hostile file into an empty folder, runs the command line in-process (as
tests/test_cli.py does) and checks the contract the README promises: exactly one line on stderr
and no traceback, exit status 2 for bad input (130 for Ctrl+C), nothing on stdout, and the folder
exactly as it was (no output, no temporary, the input untouched).
"""

import copy
import hashlib
import io
import json
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

import cli
import main as entry_point
from gui.scenario import Scenario, ScenarioError, default_scenario
from simulator import simulate
from simulator.formula import compile_formula
from trainers.checkpoint import FORMAT, read_checkpoint, write_checkpoint_file
from trainers.config import RunConfig

ROOT = Path(__file__).resolve().parents[1]
BIG_INT = "1" * 5000  # over Python's 4,300-digit limit for int(): json and tomllib raise ValueError
HUGE_INT = 10**400  # under the limit, over the largest float: math.isfinite raises OverflowError
DEEP = 100_000  # nesting far past Python's recursion limit
QUICK = ("--dataset", "moons", "--set", "data.samples=200", "--hidden", "8", "--batch-size", "40",
         "--device", "cpu")


# ---- building hostile files -----------------------------------------------------------------------


def scenario_text(**changes) -> str:
    data = default_scenario().to_json()
    data["steps"] = 30
    data.update(changes)
    return json.dumps(data)


def with_raw(text: str, placeholder: str, raw: str) -> bytes:
    """``text`` with the JSON string ``"placeholder"`` replaced by ``raw`` (what json.dumps refuses
    to write: a 5,000-digit integer)."""
    return text.replace(json.dumps(placeholder), raw).encode()


def one_run(**run) -> list:
    return [{"name": "only", "optimizer": "SGD", "hyperparams": {"lr": 0.01}, **run}]


def nested_json(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def checkpoint(change):
    """A writer for ``run.pt``: the good checkpoint's state changed by ``change(state)`` (which may
    return a replacement), written with a valid checksum, so that what is tested is the check of
    the structure, not the checksum."""
    def write(folder: Path, good_state: dict) -> None:
        state = copy.deepcopy(good_state)
        replaced = change(state)
        write_checkpoint_file(folder / "run.pt", state if replaced is None else replaced)
    return write


def without(*keys):
    """A change that deletes ``state[keys[0]]...[keys[-1]]``."""
    def change(state: dict) -> None:
        for key in keys[:-1]:
            state = state[key]
        del state[keys[-1]]
    return change


def legacy_checkpoint(folder: Path, good_state: dict) -> None:
    """A version-1 file: the bare state, without a checksum."""
    torch.save({**good_state, "format": FORMAT, "version": 1}, folder / "run.pt")


def flipped_byte(folder: Path, good_state: dict) -> None:
    """The good checkpoint with one bit flipped in the middle of its payload (the optimizer's state
    and the weights): torch itself loads such a file without complaint."""
    path = folder / "run.pt"
    write_checkpoint_file(path, good_state)
    data = bytearray(path.read_bytes())
    payload = torch.load(path, weights_only=True)["payload"].numpy().tobytes()
    start = data.find(payload[len(payload) // 2: len(payload) // 2 + 64])
    assert start > 0
    data[start + 10] ^= 0x01
    path.write_bytes(bytes(data))


def wrapper_without_payload(folder: Path, good_state: dict) -> None:
    torch.save({"format": FORMAT, "version": 2, "sha256": "0" * 64, "payload": "nothing"}, folder / "run.pt")


def metrics_csv(folder: Path, good_state: dict) -> None:
    (folder / "run.pt").write_text("epoch,step,metric,value\n1,1,train_loss,0.5\n")


def wrong_shape_weights(state: dict) -> None:
    name = next(iter(state["model"]))
    state["model"][name] = torch.zeros(3, 3)


def wrong_size_rng(state: dict) -> None:
    state["rng"]["torch"] = torch.zeros(10, dtype=torch.uint8)


def not_a_permutation(state: dict) -> None:
    state["position"]["permutation"] = torch.zeros(160, dtype=torch.int64)


# ---- the table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """A hostile input: files to write into the folder (bytes, or a writer taking the folder and
    the good checkpoint's state), the command ("{dir}" is the folder), what its one line names."""
    name: str
    files: dict
    args: tuple
    culprits: tuple
    status: int = 2
    extra: dict = field(default_factory=dict)


RENDER = ("render", "{dir}/s.json", "--out", "{dir}/out.png")
CONFIG = ("train", "--config", "{dir}/run.toml", "--device", "cpu", "--metrics-out", "{dir}/m.csv",
          "--checkpoint", "{dir}/c.pt")
CONFIG_JSON = ("train", "--config", "{dir}/run.json", "--device", "cpu", "--metrics-out", "{dir}/m.csv")
RESUME = ("train", "--resume", "{dir}/run.pt", "--epochs", "2", "--metrics-out", "{dir}/m.csv")
SIMULATE = ("simulate", "--steps", "5", "--out", "{dir}/out.csv")

CASES = [
    # scenario files (render, and the GUI's File > Open through Scenario.load)
    Hostile("scenario: a 5,000-digit integer", {"s.json": with_raw(scenario_text(steps="BIG"), "BIG", BIG_INT)},
            RENDER, ("s.json", "more than 4300 digits")),
    Hostile("scenario: nested 100,000 deep", {"s.json": nested_json(DEEP)}, RENDER,
            ("s.json", "nested more than 32 levels")),
    Hostile("scenario: runs nested 100,000 deep",
            {"s.json": with_raw(scenario_text(runs="DEEP"), "DEEP", nested_json(DEEP).decode())}, RENDER,
            ("s.json", "nested more than 32 levels")),
    Hostile("scenario: 40 levels of objects", {"s.json": ('{"a":' * 40 + "1" + "}" * 40).encode()}, RENDER,
            ("s.json", "nested more than 32 levels")),
    Hostile("scenario: not UTF-8", {"s.json": b'{"title": "\xff\xfe"}'}, RENDER, ("s.json", "not a text file")),
    Hostile("scenario: version is text", {"s.json": scenario_text(version="1").encode()}, RENDER,
            ("version must be a whole number >= 1, got '1'",)),
    Hostile("scenario: version -1", {"s.json": scenario_text(version=-1).encode()}, RENDER,
            ("version must be a whole number >= 1, got -1",)),
    Hostile("scenario: version 2", {"s.json": scenario_text(version=2).encode()}, RENDER,
            ("version 2 is newer",)),
    Hostile("scenario: view at 1e308", {"s.json": scenario_text(view=[-1e308, 1e308, -1, 1]).encode()}, RENDER,
            ("view bound -1e+308 is too large to draw",)),
    Hostile("scenario: view of subnormal width", {"s.json": scenario_text(view=[0, 5e-324, 0, 1]).encode()},
            RENDER, ("view width 4.94066e-324 in x is too small",)),
    Hostile("scenario: a 400-digit noise", {"s.json": scenario_text(noise=HUGE_INT).encode()}, RENDER,
            ("noise must be a finite number", "(401 characters)")),
    Hostile("scenario: a 400-digit surface parameter",
            {"s.json": scenario_text(surface="quadratic", surface_params={"b": HUGE_INT}).encode()}, RENDER,
            ("parameter 'b' of surface 'quadratic' must be a finite number",)),
    Hostile("scenario: formula bounds at 1e308",
            {"s.json": scenario_text(surface="expr:x**2 + y**2@-1e308,1e308,-1,1").encode()}, RENDER,
            ("formula bounds", "too large to draw")),
    Hostile("scenario: every run refused (lr=abc)",
            {"s.json": scenario_text(runs=one_run(hyperparams={"lr": "abc"})).encode()}, RENDER,
            ("none of its 1 run(s) can be drawn", "invalid lr=abc")),
    Hostile("scenario: every run refused (a 400-digit lr)",
            {"s.json": scenario_text(runs=one_run(hyperparams={"lr": HUGE_INT})).encode()}, RENDER,
            ("none of its 1 run(s)", "must be a finite number")),
    Hostile("scenario: every run refused (LBFGS, a 400-digit lr)",
            {"s.json": scenario_text(runs=one_run(optimizer="LBFGS", hyperparams={"lr": HUGE_INT})).encode()},
            RENDER, ("none of its 1 run(s)", "LBFGS: invalid lr=")),
    Hostile("scenario: a SequentialLR item that is a number",
            {"s.json": scenario_text(runs=one_run(schedule=["SequentialLR", {"schedulers": [5, "StepLR"],
                                                                             "milestones": [3]}])).encode()},
            RENDER, ("SequentialLR: invalid schedulers=5", "expected a schedule name")),
    # simulate's flags
    Hostile("simulate: formula bounds at 1e308", {},
            (*SIMULATE, "--surface", "expr:x**2 + y**2@-1e308,1e308,-1,1"), ("too large to draw",)),
    Hostile("simulate: formula of subnormal width", {},
            (*SIMULATE, "--surface", "expr:x**2 + y**2@0,1e-320,-1,1"), ("too small to draw",)),
    Hostile("simulate: a 400-digit noise", {}, (*SIMULATE, "--noise", str(HUGE_INT)), ("--noise expects a number",)),
    Hostile("simulate: a 400-digit lr", {}, (*SIMULATE, "--optimizer", "SGD", "--set", f"lr={HUGE_INT}"),
            ("SGD: invalid lr=", "must be a finite number")),
    # run configurations (train --config)
    Hostile("config: a 5,000-digit integer (TOML)", {"run.toml": f"[train]\nepochs = {BIG_INT}\n".encode()},
            CONFIG, ("run.toml", "more than 4300 digits")),
    Hostile("config: a 5,000-digit integer (JSON)",
            {"run.json": f'{{"train": {{"epochs": {BIG_INT}}}}}'.encode()}, CONFIG_JSON,
            ("run.json", "more than 4300 digits")),
    Hostile("config: nested 100,000 deep (JSON)", {"run.json": nested_json(DEEP)}, CONFIG_JSON,
            ("run.json", "nested more than 32 levels")),
    Hostile("config: an array nested 100,000 deep (TOML)",
            {"run.toml": ("[optimizer]\nbetas = " + "[" * DEEP + "]" * DEEP + "\n").encode()}, CONFIG,
            ("run.toml", "nested more than 32 levels")),
    Hostile("config: 40 levels of dotted keys (TOML)",
            {"run.toml": ("[optimizer]\n" + ".".join(["a"] * 40) + " = 1\n").encode()}, CONFIG,
            ("run.toml", "nested more than 32 levels")),
    Hostile("config: not UTF-8", {"run.toml": b"[train]\nepochs = 1 # \xff\n"}, CONFIG,
            ("run.toml", "not a text file")),
    Hostile("config: seed 2**64", {"run.toml": b"[train]\nseed = 18446744073709551616\n"}, CONFIG,
            ("train.seed", "from 0 to 18446744073709551615")),
    Hostile("config: a 400-digit lr", {"run.toml": f"[optimizer]\nlr = {HUGE_INT}\n".encode()}, CONFIG,
            ("optimizer.lr", "is too large")),
    Hostile("config: lr = 'abc'", {"run.toml": b'[optimizer]\nlr = "abc"\n'}, CONFIG,
            ("optimizer.lr: lr must be a number, not 'abc'",)),
    Hostile("config: StepLR step_size = 'abc'",
            {"run.toml": b'[scheduler]\nname = "StepLR"\nstep_size = "abc"\n'}, CONFIG,
            ("scheduler.step_size: step_size must be a number, not 'abc'",)),
    # train's flags
    Hostile("train: --seed 2**64", {}, ("train", *QUICK, "--seed", "18446744073709551616",
                                        "--metrics-out", "{dir}/m.csv"), ("train.seed", "torch's seed range")),
    Hostile("train: --hidden 1000000,1000000", {},
            ("train", *QUICK, "--hidden", "1000000,1000000", "--metrics-out", "{dir}/m.csv"),
            ("model.hidden", "1,000,006,000,002 parameters", "available")),
    Hostile("train: --set betas=0.9,abc", {}, ("train", *QUICK, "--set", "betas=0.9,abc"),
            ("optimizer.betas: betas must be numbers, not 'abc'",)),
    # checkpoints (train --resume)
    Hostile("resume: a text file", {"run.pt": b"hello, this is not a checkpoint\n" * 3}, RESUME,
            ("run.pt", "is not a readable checkpoint")),
    Hostile("resume: a metrics CSV", {"run.pt": metrics_csv}, RESUME, ("run.pt", "is not a readable checkpoint")),
    Hostile("resume: one flipped bit", {"run.pt": flipped_byte}, RESUME,
            ("run.pt", "is damaged", "SHA-256")),
    Hostile("resume: version 1 (no checksum)", {"run.pt": legacy_checkpoint}, RESUME,
            ("run.pt", "checkpoint version 1", "without a checksum")),
    Hostile("resume: no checksummed payload", {"run.pt": wrapper_without_payload}, RESUME,
            ("run.pt", "no checksummed payload")),
    Hostile("resume: the state is a list", {"run.pt": checkpoint(lambda s: [1, 2])}, RESUME,
            ("run.pt", "the state must be a table")),
    Hostile("resume: no rng", {"run.pt": checkpoint(without("rng"))}, RESUME,
            ("run.pt", "rng is missing")),
    Hostile("resume: rng is a list", {"run.pt": checkpoint(lambda s: s.update(rng=[1, 2]))}, RESUME,
            ("run.pt", "rng must be a table")),
    Hostile("resume: rng.torch is text", {"run.pt": checkpoint(lambda s: s["rng"].update(torch="abc"))}, RESUME,
            ("run.pt", "rng.torch must be a uint8 tensor")),
    Hostile("resume: rng.torch of the wrong size", {"run.pt": checkpoint(wrong_size_rng)}, RESUME,
            ("run.pt", "rng.torch must hold 5056 bytes")),
    Hostile("resume: no position", {"run.pt": checkpoint(without("position"))}, RESUME,
            ("run.pt", "position is missing")),
    Hostile("resume: position is a number", {"run.pt": checkpoint(lambda s: s.update(position=5))}, RESUME,
            ("run.pt", "position must be a table, got 5")),
    Hostile("resume: position.step is text",
            {"run.pt": checkpoint(lambda s: s["position"].update(step="x"))}, RESUME,
            ("run.pt", "position.step must be a whole number >= 0, got 'x'")),
    Hostile("resume: no position.epoch", {"run.pt": checkpoint(without("position", "epoch"))},
            RESUME, ("run.pt", "position.epoch is missing")),
    Hostile("resume: position.permutation is a list",
            {"run.pt": checkpoint(lambda s: s["position"].update(permutation=[3, 1]))}, RESUME,
            ("run.pt", "position.permutation must be none or an int64 tensor")),
    Hostile("resume: position.permutation repeats a sample", {"run.pt": checkpoint(not_a_permutation)}, RESUME,
            ("run.pt", "position.permutation must be an order of the 160 training samples")),
    Hostile("resume: no metrics", {"run.pt": checkpoint(without("metrics"))}, RESUME,
            ("run.pt", "metrics is missing")),
    Hostile("resume: metrics is a number", {"run.pt": checkpoint(lambda s: s.update(metrics=7))}, RESUME,
            ("run.pt", "metrics must be a list, got 7")),
    Hostile("resume: a metrics row is a number", {"run.pt": checkpoint(lambda s: s.update(metrics=[1, 2]))},
            RESUME, ("run.pt", "metrics[0] must be (epoch, step, metric, value)")),
    Hostile("resume: no config", {"run.pt": checkpoint(without("config"))}, RESUME,
            ("run.pt", "config is missing")),
    Hostile("resume: config is a list", {"run.pt": checkpoint(lambda s: s.update(config=[1]))}, RESUME,
            ("run.pt", "config must be a table")),
    Hostile("resume: config with a bad seed",
            {"run.pt": checkpoint(lambda s: s["config"]["train"].update(seed=-1))}, RESUME,
            ("run.pt", "config: train.seed")),
    Hostile("resume: optimizer is text", {"run.pt": checkpoint(lambda s: s.update(optimizer="x"))}, RESUME,
            ("run.pt", "optimizer must be a table")),
    Hostile("resume: weights of the wrong shape", {"run.pt": checkpoint(wrong_shape_weights)}, RESUME,
            ("run.pt", "model.layers.0.weight must have shape (8, 2)")),
]


@pytest.fixture(scope="module")
def good_state(tmp_path_factory) -> dict:
    """The state of a real checkpoint: moons, 160 training samples, an 8-wide MLP, one epoch."""
    folder = tmp_path_factory.mktemp("good")
    code = cli.main(["train", *QUICK, "--epochs", "1", "--quiet", "--checkpoint", str(folder / "run.pt")])
    assert code == 0
    return read_checkpoint(folder / "run.pt")


def folder_state(folder: Path) -> dict:
    """Every file under ``folder`` (temporaries included) with its mtime and content digest."""
    return {str(path.relative_to(folder)): (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
            for path in sorted(folder.rglob("*")) if path.is_file()}


def assert_one_line(code: int, out: str, err: str, status: int, culprits) -> str:
    assert code == status, (code, out, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    for culprit in culprits:
        assert culprit in lines[0], (culprit, lines[0])
    return lines[0]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_hostile_input_gets_one_line_and_writes_nothing(case, tmp_path, capsys, good_state):
    for name, content in case.files.items():
        if callable(content):
            content(tmp_path, good_state)
        else:
            (tmp_path / name).write_bytes(content)
    before = folder_state(tmp_path)
    code = entry_point.main([arg.replace("{dir}", str(tmp_path)) for arg in case.args])
    out, err = capsys.readouterr()
    line = assert_one_line(code, out, err, case.status, case.culprits)
    assert line.startswith("error: ") and out == ""
    assert folder_state(tmp_path) == before


def test_the_table_covers_every_kind_of_input():
    kinds = {case.name.partition(":")[0] for case in CASES}
    assert kinds == {"scenario", "simulate", "config", "train", "resume"}
    assert len(CASES) >= 30


# ---- what is accepted: a BOM, the edges of the ranges -------------------------------------------------


def test_a_utf8_bom_is_accepted_in_toml_json_and_scenario_files(tmp_path, capsys):
    (tmp_path / "run.toml").write_bytes("\ufeff[train]\nepochs = 3\n".encode())
    (tmp_path / "run.json").write_bytes('\ufeff{"train": {"epochs": 4}}'.encode())
    assert RunConfig.load(tmp_path / "run.toml").train.epochs == 3
    assert RunConfig.load(tmp_path / "run.json").train.epochs == 4
    (tmp_path / "s.json").write_bytes(("\ufeff" + scenario_text(title="with a BOM")).encode())
    assert Scenario.load(tmp_path / "s.json").title == "with a BOM"
    code = cli.main(["render", str(tmp_path / "s.json"), "--out", str(tmp_path / "out.png")])
    assert code == 0 and (tmp_path / "out.png").stat().st_size > 1000


def test_the_largest_seed_torch_takes_is_accepted(tmp_path, capsys):
    code = cli.main(["train", *QUICK, "--epochs", "1", "--quiet", "--seed", str(2**64 - 1)])
    assert code == 0, capsys.readouterr().err


def test_a_view_at_the_drawable_limits_renders_cleanly(tmp_path, capsys):
    (tmp_path / "s.json").write_text(scenario_text(view=[-1e150, 1e150, -1e150, 1e150]))
    code = cli.main(["render", str(tmp_path / "s.json"), "--out", str(tmp_path / "out.png")])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "") and "at step" in out


def test_render_draws_the_runs_that_compute_when_only_some_are_refused(tmp_path, capsys):
    runs = [*one_run(hyperparams={"lr": "abc"}), {"name": "good", "optimizer": "Adam", "hyperparams": {"lr": 0.05}}]
    (tmp_path / "s.json").write_text(scenario_text(runs=runs))
    code = cli.main(["render", str(tmp_path / "s.json"), "--out", str(tmp_path / "out.png")])
    assert code == 0 and (tmp_path / "out.png").exists(), capsys.readouterr().err


def test_the_gui_file_open_path_refuses_the_same_files(tmp_path):
    """File > Open calls Scenario.load: the same one-line ScenarioError the CLI prints."""
    cases = {"big.json": with_raw(scenario_text(steps="BIG"), "BIG", BIG_INT), "deep.json": nested_json(DEEP)}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ScenarioError) as refused:
            Scenario.load(tmp_path / name)
        assert name in str(refused.value) and len(str(refused.value).splitlines()) == 1


# ---- Ctrl+C -------------------------------------------------------------------------------------------


def main_without_escape(argv) -> int:
    """``main.main(argv)``; a KeyboardInterrupt escaping it fails the test (pytest would otherwise
    take it for the user's own Ctrl+C and end the whole session)."""
    try:
        return entry_point.main(argv)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main()")


def test_ctrl_c_during_simulate_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    from cli import commands

    def interrupted_simulate(**_):
        signal.raise_signal(signal.SIGINT)  # a real Ctrl+C, delivered by Python's own handler
        raise AssertionError("the signal did not interrupt")

    monkeypatch.setattr(commands, "simulate", interrupted_simulate)
    code = main_without_escape(["simulate", "--steps", "5", "--out", str(tmp_path / "out.csv")])
    out, err = capsys.readouterr()
    assert_one_line(code, out, err, 130, ["interrupted"])
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_start_up_exits_130(monkeypatch, capsys):
    def interrupted_start(argv):
        signal.raise_signal(signal.SIGINT)
        raise AssertionError("the signal did not interrupt")

    monkeypatch.setattr(cli, "main", interrupted_start)
    code = main_without_escape(["list"])
    out, err = capsys.readouterr()
    assert_one_line(code, out, err, 130, ["interrupted (Ctrl+C)"])


def test_a_second_ctrl_c_during_the_final_checkpoint_lets_it_finish(tmp_path, capsys, monkeypatch):
    """The first Ctrl+C stops the run; a second one, arriving while the final checkpoint is being
    written, takes effect once the file is whole: exit 130, one line, the checkpoint at the step
    the run stopped at, no temporary left."""
    from trainers import loop

    checkpoint = tmp_path / "run.pt"
    original_step, original_save = loop.TrainingRun._step, torch.save
    pressed = []

    def first_ctrl_c_at_step_7(self, x, y):
        result = original_step(self, x, y)
        if self.position.step == 6:  # the step being taken is the 7th
            signal.raise_signal(signal.SIGINT)
            pressed.append("first")
        return result

    def second_ctrl_c_inside_the_write(obj, destination, *args, **kwargs):
        if pressed == ["first"] and not isinstance(destination, io.BytesIO):
            pressed.append("second")
            signal.raise_signal(signal.SIGINT)
        return original_save(obj, destination, *args, **kwargs)

    monkeypatch.setattr(loop.TrainingRun, "_step", first_ctrl_c_at_step_7)
    monkeypatch.setattr(torch, "save", second_ctrl_c_inside_the_write)
    code = main_without_escape(["train", *QUICK, "--epochs", "50", "--checkpoint", str(checkpoint)])
    out, err = capsys.readouterr()
    assert pressed == ["first", "second"]
    assert_one_line(code, out, err, 130, ["interrupted at step 7 by a second Ctrl+C", str(checkpoint)])
    assert read_checkpoint(checkpoint)["position"]["step"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _wait_for_line(process: subprocess.Popen, prefix: str, timeout: float = 60.0) -> str:
    """The first stdout line starting with ``prefix``; fails after ``timeout`` seconds."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        seen = []
        while True:
            if not selector.select(timeout):
                raise AssertionError(f"no line starting with {prefix!r} within {timeout} s: {seen}")
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"the process ended before {prefix!r}: {seen}")
            seen.append(line)
            if line.startswith(prefix):
                return line


@pytest.mark.parametrize("held_down", [False, True], ids=["one Ctrl+C", "Ctrl+C held down"])
def test_real_ctrl_c_while_training_exits_130_with_whole_files(tmp_path, held_down):
    """The real entry point, real signals, once the first epoch is reported: one Ctrl+C (the run
    stops gently), or Ctrl+C held down (SIGINT every few milliseconds until the process ends, so
    presses land in steps, checkpoint writes, the summary and the exit): exit 130, one line, no
    traceback, a checkpoint that reads back, no temporary left in the folder."""
    checkpoint, metrics = tmp_path / "run.pt", tmp_path / "m.csv"
    process = subprocess.Popen(
        [sys.executable, "main.py", "train", *QUICK, "--epochs", "100000", "--checkpoint", str(checkpoint),
         "--metrics-out", str(metrics)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_line(process, "Epoch 1/")
        process.send_signal(signal.SIGINT)
        while held_down:
            try:
                process.wait(timeout=0.005)  # the key repeat: the next press, unless it has ended
                break
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert read_checkpoint(checkpoint)["position"]["step"] >= 4  # at least the first epoch's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv", "run.pt"]


# ---- messages show values as people wrote them ---------------------------------------------------------


def _message(call) -> str:
    with pytest.raises(ValueError) as refused:
        call()
    return str(refused.value)


@pytest.mark.parametrize("call, expected", [
    (lambda: simulate("rosenbrock", "LBFGS", steps=1, hyperparams={"lr": np.float32(-3.5)}),
     "LBFGS: invalid lr=-3.5: must be >= 0"),
    (lambda: simulate("rosenbrock", "LBFGS", steps=1, hyperparams={"max_iter": np.int64(-3)}),
     "LBFGS: invalid max_iter=-3:"),
    (lambda: Scenario.from_json({"noise": np.float64(-3.5)}), "noise must be >= 0, got -3.5"),
    (lambda: Scenario.from_json({"start": [np.float64(np.inf), 0.0]}), "start[0] must be a finite number, got inf"),
    (lambda: RunConfig().set("train.grad_clip", np.float64(-3.5)), "got -3.5"),
    (lambda: RunConfig().set("model.hidden", [np.float64(8.5)]), "got [8.5]"),
    (lambda: compile_formula("x**2 + y**2", (np.float64(3.5), np.float64(-3.5), -1.0, 1.0)),
     "formula bounds (3.5, -3.5, -1.0, 1.0)"),
])
def test_numpy_numbers_read_as_plain_numbers_in_messages(call, expected):
    message = _message(call)
    assert expected in message and "np." not in message, message
