"""The command line: ``simulate`` and ``list``, in-process through ``cli.main`` and, for a few
checks, through the real entry point ``python main.py`` in a subprocess.

Contract: bad input exits 2 with one ``error:`` line naming the culprit, no traceback and no file
at ``--out``; a diverging run writes its finite rows, says "diverged at step k", exits 0.
"""

import csv
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cli
import main as entry_point
from cli.values import parse_point, parse_settings
from simulator import OPTIMIZERS, SURFACES, SimulatorError, Trajectory, get_surface, simulate
from simulator.trajectory import RUN_COLUMNS
from simulator.values import parse_value

ROOT = Path(__file__).resolve().parents[1]
SUBPROCESS_TIMEOUT = 60


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code: int, out: str, err: str, *culprits: str) -> str:
    """Exit 2, nothing on stdout, exactly one ``error:`` line on stderr naming every culprit."""
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: ")
    for culprit in culprits:
        assert culprit in line, (culprit, line)
    return line


def assert_bit_identical(loaded: Trajectory, direct: Trajectory) -> None:
    for name in ("xy", "loss", "grad", "lr", "state"):
        a, b = getattr(loaded, name), getattr(direct, name)
        assert a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), name  # bit for bit: -0.0 and NaN payloads included
    assert loaded.state_names == direct.state_names
    assert loaded.surface == direct.surface
    assert loaded.optimizer == direct.optimizer
    assert loaded.hyperparams == direct.hyperparams
    assert loaded.status == direct.status
    assert loaded.diverged_at == direct.diverged_at


def csv_rows(path: Path) -> list[dict]:
    with open(path, newline="") as source:
        return list(csv.DictReader(source))


# ---- simulate: happy paths ----------------------------------------------------------------------


def test_simulate_writes_the_python_api_trajectory_bit_for_bit(tmp_path, capsys):
    out = tmp_path / "run.csv"
    code, stdout, err = run_cli(
        capsys, "simulate", "--surface", "rosenbrock", "--optimizer", "Adam",
        "--set", "lr=0.05", "--set", "betas=0.8,0.99", "--start=-1,1.5", "--steps", "40",
        "--out", out,
    )
    assert (code, err) == (0, "")
    assert stdout.startswith("Adam on rosenbrock: 40 steps, final (")
    assert str(out) in stdout
    loaded = Trajectory.from_csv(out)
    direct = simulate("rosenbrock", "Adam", start=(-1.0, 1.5), steps=40,
                      hyperparams={"lr": 0.05, "betas": (0.8, 0.99)})
    assert_bit_identical(loaded, direct)
    # the settings reached the optimizer: recorded, used, and not the defaults' run
    assert loaded.hyperparams["lr"] == 0.05
    assert loaded.hyperparams["betas"] == (0.8, 0.99)
    assert loaded.hyperparams["eps"] == 1e-8
    assert np.all(loaded.lr == 0.05)
    assert loaded.xy[0].tolist() == [-1.0, 1.5]
    defaults = simulate("rosenbrock", "Adam", start=(-1.0, 1.5), steps=40)
    assert not np.array_equal(loaded.xy, defaults.xy)
    rows = csv_rows(out)
    assert json.loads(rows[0]["hyperparams"])["betas"] == [0.8, 0.99]
    assert {r["status"] for r in rows} == {"ok"}
    assert f"({loaded.final[0]:.6g}, {loaded.final[1]:.6g})" in stdout


@pytest.mark.parametrize("start_args", [
    ["--start=-1,1.5"],
    ["--start", "-1,1.5"],  # a negative first coordinate as its own argument
    ["--start", " -1 , 1.5 "],
])
def test_start_point_forms(tmp_path, capsys, start_args):
    out = tmp_path / "run.csv"
    code, _, err = run_cli(capsys, "simulate", *start_args, "--steps", "3", "--out", out)
    assert (code, err) == (0, "")
    loaded = Trajectory.from_csv(out)
    assert loaded.xy[0].tolist() == [-1.0, 1.5]
    assert_bit_identical(loaded, simulate(start=(-1, 1.5), steps=3))


def test_default_start_and_defaults(tmp_path, capsys):
    out = tmp_path / "run.csv"
    code, _, _ = run_cli(capsys, "simulate", "--steps", "2", "--out", out)
    assert code == 0
    loaded = Trajectory.from_csv(out)
    assert (loaded.surface, loaded.optimizer) == ("rosenbrock", "Adam")
    assert tuple(loaded.xy[0]) == SURFACES["rosenbrock"].default_start
    assert loaded.hyperparams == OPTIMIZERS["Adam"].defaults


def test_steps_10_gives_11_rows(tmp_path, capsys):
    out = tmp_path / "run.csv"
    code, stdout, _ = run_cli(capsys, "simulate", "--steps", "10", "--out", out)
    assert code == 0
    assert ": 10 steps," in stdout
    rows = csv_rows(out)
    assert [r["step"] for r in rows] == [str(k) for k in range(11)]
    assert len(Trajectory.from_csv(out).xy) == 11


def test_steps_zero_gives_the_start_only(tmp_path, capsys):
    out = tmp_path / "run.csv"
    code, _, _ = run_cli(capsys, "simulate", "--start=0.5,0.5", "--steps", "0", "--out", out)
    assert code == 0
    assert Trajectory.from_csv(out).xy.tolist() == [[0.5, 0.5]]


def test_noise_with_a_seed_is_reproducible_and_seed_dependent(tmp_path, capsys):
    paths = {name: tmp_path / f"{name}.csv" for name in ("a", "b", "other", "quiet")}
    for name, seed in (("a", "3"), ("b", "3"), ("other", "4")):
        code, _, _ = run_cli(capsys, "simulate", "--noise", "0.5", "--seed", seed, "--steps", "20",
                             "--out", paths[name])
        assert code == 0
    run_cli(capsys, "simulate", "--steps", "20", "--out", paths["quiet"])
    assert paths["a"].read_bytes() == paths["b"].read_bytes()
    a, other, quiet = (Trajectory.from_csv(paths[n]) for n in ("a", "other", "quiet"))
    assert not np.array_equal(a.grad, other.grad)
    assert not np.array_equal(a.xy, other.xy)
    assert not np.array_equal(a.grad[0], quiet.grad[0])  # the noise reached the gradient
    assert_bit_identical(a, simulate(steps=20, noise=0.5, seed=3))


@pytest.mark.parametrize("name", ["adamw", "ADAMW", "AdamW"])
def test_optimizer_name_is_case_insensitive(tmp_path, capsys, name):
    out = tmp_path / "run.csv"
    code, stdout, _ = run_cli(capsys, "simulate", "--optimizer", name, "--steps", "5", "--out", out)
    assert code == 0
    assert stdout.startswith("AdamW on rosenbrock")
    loaded = Trajectory.from_csv(out)
    assert loaded.optimizer == "AdamW"
    assert loaded.hyperparams["weight_decay"] == 0.01  # AdamW's default, not Adam's 0
    assert_bit_identical(loaded, simulate(optimizer="AdamW", steps=5))


def test_surface_set_for_quadratic(tmp_path, capsys):
    out = tmp_path / "run.csv"
    code, _, _ = run_cli(capsys, "simulate", "--surface", "quadratic", "--surface-set", "b=3",
                         "--optimizer", "SGD", "--set", "lr=0.1", "--steps", "15", "--out", out)
    assert code == 0
    loaded = Trajectory.from_csv(out)
    x, y = loaded.xy[0]
    assert (x, y) == SURFACES["quadratic"].default_start
    assert loaded.loss[0] == pytest.approx(0.5 * (x * x + 3 * y * y))  # ½ (a x² + b y²), a = 1
    assert loaded.loss[0] != pytest.approx(get_surface("quadratic").value(x, y))  # not b = 10
    assert loaded.grad[0].tolist() == pytest.approx([x, 3 * y])
    assert_bit_identical(loaded, simulate("quadratic", "SGD", steps=15, hyperparams={"lr": 0.1},
                                          surface_params={"b": 3}))


def test_sgd_boolean_and_several_settings(tmp_path, capsys):
    out = tmp_path / "run.csv"
    code, _, _ = run_cli(capsys, "simulate", "--optimizer", "sgd", "--set", "momentum=0.9",
                         "--set", "nesterov=TRUE", "--set", "lr=1e-3", "--steps", "8", "--out", out)
    assert code == 0
    loaded = Trajectory.from_csv(out)
    assert loaded.hyperparams["nesterov"] is True
    assert loaded.hyperparams["momentum"] == 0.9
    assert_bit_identical(loaded, simulate(optimizer="SGD", steps=8,
                                          hyperparams={"momentum": 0.9, "nesterov": True, "lr": 1e-3}))


def test_rerun_replaces_an_existing_file(tmp_path, capsys):
    out = tmp_path / "run.csv"
    out.write_text("old content\n")
    code, _, _ = run_cli(capsys, "simulate", "--steps", "2", "--out", out)
    assert code == 0
    assert len(Trajectory.from_csv(out).xy) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.csv"]  # no temporary left


# ---- simulate: divergence ------------------------------------------------------------------------


def test_diverging_run_writes_its_finite_rows_and_exits_0(tmp_path, capsys):
    out = tmp_path / "diverged.csv"
    code, stdout, err = run_cli(capsys, "simulate", "--surface", "saddle", "--optimizer", "SGD",
                                "--set", "lr=10", "--steps", "500", "--out", out)
    assert code == 0
    assert stdout == ""
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1
    match = re.search(r"diverged at step (\d+)", err)
    assert match, err
    k = int(match.group(1))
    assert 0 < k < 501  # it did diverge, well before the end
    rows = csv_rows(out)
    assert len(rows) == k  # rows 0 .. k-1 are finite; row k is where it left
    numeric = [c for c in rows[0] if c not in RUN_COLUMNS]  # the per-run columns: names, JSON, status
    assert "x" in numeric and "loss" in numeric
    assert all(math.isfinite(float(r[c])) for r in rows for c in numeric)
    assert {r["status"] for r in rows} == {f"diverged at step {k}"}
    assert f"{k} finite rows" in err and str(out) in err
    loaded = Trajectory.from_csv(out)
    assert (loaded.status, loaded.diverged_at) == ("diverged", k)
    assert_bit_identical(loaded, simulate("saddle", "SGD", steps=500, hyperparams={"lr": 10}))


@pytest.mark.parametrize("optimizer", ["Adagrad", "Adam", "RMSprop"])
def test_zero_over_zero_diverges_as_in_torch_instead_of_a_traceback(tmp_path, capsys, optimizer):
    # eps=0 at the minimum: torch's update is 0/0 = NaN. It used to raise ZeroDivisionError here.
    code, _stdout, err = run_cli(capsys, "simulate", "--optimizer", optimizer, "--set", "eps=0", "--start", "1,1",
                                "--steps", "3", "--out", tmp_path / "t.csv")
    assert code == 0 and "Traceback" not in err and "diverged at step 1" in err


def test_a_start_where_the_surface_is_not_finite_is_refused(tmp_path, capsys):
    # the start's loss overflows: there is no finite row to write, so it is bad input
    out = tmp_path / "diverged.csv"
    code, stdout, err = run_cli(capsys, "simulate", "--surface", "quadratic", "--surface-set", "b=1e308",
                                "--start=10,10", "--steps", "5", "--out", out)
    assert code == 2
    assert stdout == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "start" in err and "not finite" in err
    assert not out.exists()


# ---- simulate: refused input ---------------------------------------------------------------------

BAD_INPUT = [
    pytest.param(["--surface", "nope"], ["nope", "surface"], id="unknown-surface"),
    pytest.param(["--optimizer", "foo"], ["foo", "optimizer"], id="unknown-optimizer"),
    pytest.param(["--set", "foo=1"], ["foo", "hyperparameter"], id="unknown-hyperparameter"),
    pytest.param(["--set", "lr=-1"], ["lr", "-1"], id="negative-lr"),
    pytest.param(["--set", "betas=0.9,1.5"], ["betas", "1.5"], id="beta-above-1"),
    pytest.param(["--set", "betas=0.9"], ["betas"], id="betas-one-number"),
    pytest.param(["--set", "lr=abc"], ["lr", "abc"], id="unparsable-lr"),
    pytest.param(["--set", "amsgrad=maybe"], ["amsgrad", "maybe"], id="unparsable-bool"),
    pytest.param(["--set", "lr"], ["--set", "'lr'"], id="set-without-equals"),
    pytest.param(["--set", "=1"], ["--set"], id="set-without-key"),
    pytest.param(["--set", "lr="], ["--set", "lr="], id="set-without-value"),
    pytest.param(["--start=1"], ["--start", "'1'"], id="start-one-number"),
    pytest.param(["--start=a,b"], ["--start", "a,b"], id="start-not-numbers"),
    pytest.param(["--start", "1,2,3"], ["--start", "1,2,3"], id="start-three-numbers"),
    pytest.param(["--start", "-1"], ["--start", "-1"], id="start-one-negative"),
    pytest.param(["--start=nan,1"], ["--start", "nan"], id="start-nan"),
    pytest.param(["--start=1e300,1"], ["start"], id="start-far-away"),
    pytest.param(["--steps", "-5"], ["--steps", "-5"], id="negative-steps"),
    pytest.param(["--steps", "2.5"], ["--steps", "2.5"], id="fractional-steps"),
    pytest.param(["--steps", "ten"], ["--steps", "ten"], id="word-steps"),
    pytest.param(["--steps", "true"], ["--steps"], id="boolean-steps"),
    pytest.param(["--noise", "-1"], ["--noise", "-1"], id="negative-noise"),
    pytest.param(["--noise", "nan"], ["--noise", "nan"], id="nan-noise"),
    pytest.param(["--noise", "inf"], ["--noise", "inf"], id="infinite-noise"),
    pytest.param(["--noise", "0.1", "--seed", "-1"], ["--seed", "-1"], id="negative-seed"),
    pytest.param(["--seed", "abc"], ["--seed", "abc"], id="word-seed"),
    pytest.param(["--optimizer", "SGD", "--set", "nesterov=true"], ["nesterov", "momentum"], id="nesterov-without-momentum"),
    pytest.param(["--surface", "quadratic", "--surface-set", "zz=1"], ["zz", "quadratic"], id="unknown-surface-parameter"),
    pytest.param(["--surface", "quadratic", "--surface-set", "b=abc"], ["'b'", "abc"], id="unparsable-surface-parameter"),
    pytest.param(["--surface-set", "b"], ["--surface-set"], id="surface-set-without-equals"),
    pytest.param(["--bogus", "1"], ["--bogus"], id="unknown-option"),
    pytest.param(["extra"], ["extra"], id="stray-argument"),
]


@pytest.mark.parametrize(("args", "culprits"), BAD_INPUT)
def test_bad_input_is_refused_with_one_line_and_no_file(tmp_path, capsys, args, culprits):
    out = tmp_path / "out.csv"
    code, stdout, err = run_cli(capsys, "simulate", *args, "--out", out)
    assert_refused(code, stdout, err, *culprits)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no partial or temporary file either


@pytest.mark.parametrize(("args", "culprits"), [
    pytest.param(["--set", "lr=-1"], ["lr"], id="invalid-value"),
    pytest.param(["--steps", "-5"], ["--steps"], id="negative-steps"),
    pytest.param(["--surface", "nope"], ["nope"], id="unknown-surface"),
    pytest.param(["--start=a,b"], ["--start"], id="bad-start"),
])
def test_refused_run_leaves_an_existing_file_untouched(tmp_path, capsys, args, culprits):
    out = tmp_path / "keep.csv"
    out.write_text("precious,content\n1,2\n")
    before = out.stat().st_mtime_ns
    code, stdout, err = run_cli(capsys, "simulate", *args, "--out", out)
    assert_refused(code, stdout, err, *culprits)
    assert out.read_text() == "precious,content\n1,2\n"
    assert out.stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_out_in_a_missing_directory(tmp_path, capsys):
    out = tmp_path / "missing" / "run.csv"
    code, stdout, err = run_cli(capsys, "simulate", "--steps", "3", "--out", out)
    assert_refused(code, stdout, err, "--out", str(out), "does not exist")
    assert not out.parent.exists()


def test_out_being_a_directory(tmp_path, capsys):
    target = tmp_path / "adir"
    target.mkdir()
    code, stdout, err = run_cli(capsys, "simulate", "--steps", "3", "--out", target)
    assert_refused(code, stdout, err, "--out", str(target), "directory")
    assert target.is_dir() and list(target.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["adir"]


def test_out_under_a_regular_file(tmp_path, capsys):
    parent = tmp_path / "afile"
    parent.write_text("not a directory\n")
    out = parent / "x.csv"
    code, stdout, err = run_cli(capsys, "simulate", "--steps", "3", "--out", out)
    assert_refused(code, stdout, err, "--out", str(out))
    assert parent.read_text() == "not a directory\n"
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_out_in_a_read_only_directory(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: a read-only directory is still writable")
        out = locked / "run.csv"
        code, stdout, err = run_cli(capsys, "simulate", "--steps", "3", "--out", out)
        assert_refused(code, stdout, err, "--out", str(out), "not writable")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_missing_out_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run_cli(capsys, "simulate", "--steps", "3")
    assert_refused(code, stdout, err, "--out", "required")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "culprit"), [
    (["teleport"], "teleport"),
    (["list", "--yaml"], "--yaml"),
    (["simulate", "--steps", "3", "--out", "x.csv", "--colour", "red"], "--colour"),
])
def test_unknown_command_or_option(tmp_path, capsys, monkeypatch, args, culprit):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run_cli(capsys, *args)
    assert_refused(code, stdout, err, culprit)
    assert list(tmp_path.iterdir()) == []


# ---- list ----------------------------------------------------------------------------------------


def test_list_text_names_everything(capsys):
    code, stdout, err = run_cli(capsys, "list")
    assert (code, err) == (0, "")
    lines = stdout.splitlines()
    for name in SURFACES:
        assert any(line.strip().startswith(name + " ") for line in lines), name
    for name in OPTIMIZERS:
        assert f"  {name}: " in stdout, name
    squeezed = [" ".join(line.split()) for line in lines]
    assert "rosenbrock x[-2, 2] y[-1, 3] minima: (1, 1) -> 0 params: a=1 b=100" in squeezed
    assert "saddle x[-2, 2] y[-2, 2] minima: none" in squeezed
    assert any(line.startswith("himmelblau ") and line.count("-> 0") == 4 for line in squeezed)
    # Adam's section lists lr with its default 0.001 and its range
    adam = lines.index(next(line for line in lines if line.startswith("  Adam: ")))
    section = []
    for line in lines[adam + 1:]:
        if not line.startswith("      "):
            break
        section.append(line.split())
    assert [words[0] for words in section] == list(OPTIMIZERS["Adam"].hyperparam_names)
    lr = section[0]
    assert lr[:5] == ["lr", "=", "0.001", ">=", "0"]
    betas = next(words for words in section if words[0] == "betas")
    assert betas[2] == "0.9,0.999"
    amsgrad = next(words for words in section if words[0] == "amsgrad")
    assert amsgrad[2:6] == ["false", "true", "or", "false"]


def test_list_json_structure(capsys):
    code, stdout, err = run_cli(capsys, "list", "--json")
    assert (code, err) == (0, "")
    data = json.loads(stdout)
    assert set(data) == {"surfaces", "optimizers", "schedules", "datasets", "models"}
    assert data["datasets"]["digits"]["task"] == "classification" and data["models"] == ["linear", "mlp", "cnn"]
    assert {"moons", "csv", "mnist", "fashion_mnist", "sine"} <= set(data["datasets"])
    assert list(data["surfaces"]) == list(SURFACES)
    assert list(data["optimizers"]) == list(OPTIMIZERS)
    assert len(data["surfaces"]) == 16 and len(data["optimizers"]) == 20
    rosen = data["surfaces"]["rosenbrock"]
    assert rosen["bounds"] == [-2, 2, -1, 3]
    assert rosen["minima"] == [[1, 1, 0]]
    assert rosen["params"] == {"a": 1, "b": 100}
    assert len(data["surfaces"]["himmelblau"]["minima"]) == 4
    assert data["surfaces"]["saddle"]["minima"] == []
    for name, surface in SURFACES.items():
        entry = data["surfaces"][name]
        assert entry["bounds"] == list(surface.bounds)
        assert entry["default_start"] == list(surface.default_start)
    adam = data["optimizers"]["Adam"]["hyperparams"]
    assert adam["lr"]["default"] == 0.001
    assert adam["lr"]["range"] == ">= 0"
    assert adam["lr"]["scale"] in ("linear", "log")
    assert adam["lr"]["help"]
    assert adam["betas"]["default"] == [0.9, 0.999]
    assert adam["amsgrad"]["default"] is False
    assert adam["amsgrad"]["range"] == "true or false"
    assert data["optimizers"]["Adafactor"]["hyperparams"]["eps"]["default"] == [None, 0.001]
    for name, spec in OPTIMIZERS.items():
        hyperparams = data["optimizers"][name]["hyperparams"]
        assert list(hyperparams) == list(spec.hyperparam_names)
        for h in spec.hyperparams:
            entry = hyperparams[h.name]
            assert {"default", "range", "scale", "help"} <= set(entry)
            expected = list(h.default) if isinstance(h.default, tuple) else h.default
            assert entry["default"] == expected, (name, h.name)
            assert isinstance(entry["range"], str) and entry["range"]
            assert isinstance(entry["help"], str) and entry["help"]
        assert data["optimizers"][name]["state"] == list(spec.state_names)


# ---- main.py without arguments: the app -------------------------------------------------------------------


def test_no_arguments_opens_the_app(monkeypatch):
    import gui.app

    opened = []
    monkeypatch.setattr(gui.app, "run_app", lambda: opened.append(True) or 0)
    assert entry_point.main([]) == 0
    assert opened == [True]


def test_help_option_exits_0(capsys):
    assert entry_point.main(["simulate", "--help"]) == 0
    stdout = capsys.readouterr().out
    assert "--surface" in stdout and "--out" in stdout and "--noise" in stdout


# ---- value parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("3", 3),
    ("-7", -7),
    (" 42 ", 42),
    ("0", 0),
    ("0.5", 0.5),
    ("1e-3", 0.001),
    ("-2.5E2", -250.0),
    ("1.0", 1.0),
    ("true", True),
    ("TRUE", True),
    ("True", True),
    ("false", False),
    ("FaLsE", False),
    ("none", None),
    ("None", None),
    ("NONE", None),
    ("adam", "adam"),
    ("hello world", "hello world"),
    ("0.9,0.999", (0.9, 0.999)),
    ("0.9, 0.999", (0.9, 0.999)),
    ("1,2", (1, 2)),
    ("none,1e-3", (None, 0.001)),
    ("true,false,3", (True, False, 3)),
    ("a,b", ("a", "b")),
    ('[["LinearLR", {"total_iters": 5}], "StepLR"]', [["LinearLR", {"total_iters": 5}], "StepLR"]),
    ('{"a": 1}', {"a": 1}),
    ("[1, 2", ("[1", 2)),  # not JSON: read as before
])
def test_parse_value(text, expected):
    value = parse_value(text)
    assert value == expected
    assert type(value) is type(expected)  # 1 is not 1.0, True is not 1
    if isinstance(expected, tuple):
        assert [type(v) for v in value] == [type(v) for v in expected]


def test_parse_settings():
    assert parse_settings(["lr=0.1", "betas=0.9,0.99", " nesterov = true "], "--set") == {
        "lr": 0.1, "betas": (0.9, 0.99), "nesterov": True,
    }
    assert parse_settings(None, "--set") == {}
    assert parse_settings(["lr=1", "lr=2"], "--set") == {"lr": 2}  # the last one wins
    for bad in ("lr", "=1", "lr=", "lr= "):
        with pytest.raises(SimulatorError, match="--set expects KEY=VALUE"):
            parse_settings([bad], "--set")


def test_parse_point():
    assert parse_point("-1,1.5", "--start") == (-1.0, 1.5)
    assert parse_point(" 2 , -3e-1 ", "--start") == (2.0, -0.3)
    for bad in ("1", "1,2,3", "a,b", "", "1,"):
        with pytest.raises(SimulatorError, match="--start expects X,Y"):
            parse_point(bad, "--start")
    with pytest.raises(SimulatorError, match="finite"):
        parse_point("inf,0", "--start")


# ---- the real entry point: python main.py ---------------------------------------------------------


def run_main_py(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *(str(a) for a in args)],
        cwd=ROOT, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False,
    )


def test_main_py_simulate_writes_a_csv(tmp_path):
    out = tmp_path / "booth.csv"
    done = run_main_py("simulate", "--surface", "booth", "--optimizer", "sgd", "--set", "lr=0.01",
                       "--set", "momentum=0.5", "--start", "-4,6", "--steps", "25", "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("SGD on booth: 25 steps")
    loaded = Trajectory.from_csv(out)
    assert len(loaded.xy) == 26
    assert_bit_identical(loaded, simulate("booth", "SGD", start=(-4, 6), steps=25,
                                          hyperparams={"lr": 0.01, "momentum": 0.5}))


def test_main_py_bad_input_exits_2_with_one_line(tmp_path):
    out = tmp_path / "never.csv"
    done = run_main_py("simulate", "--set", "lr=-1", "--out", out)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and "lr" in lines[0]
    assert done.stdout == ""
    assert not out.exists()


def test_main_py_list_json():
    done = run_main_py("list", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data["surfaces"]) == 16
    assert len(data["optimizers"]) == 20
    assert set(data["surfaces"]) == set(SURFACES)
    assert set(data["optimizers"]) == set(OPTIMIZERS)


# ---- schedules ---------------------------------------------------------------------------------


def test_schedule_flags_reach_simulate(tmp_path, capsys):
    from simulator import simulate as simulate_api

    out = tmp_path / "cos.csv"
    code, _, err = run_cli(capsys, "simulate", "--surface", "booth", "--optimizer", "SGD", "--set", "lr=0.01",
                           "--schedule", "cosineannealinglr", "--schedule-set", "T_max=20", "--steps", "20",
                           "--out", out)
    assert code == 0, err
    expected = simulate_api("booth", "SGD", steps=20, hyperparams={"lr": 0.01}, schedule=("CosineAnnealingLR", {"T_max": 20}))
    assert Trajectory.from_csv(out).lr.tobytes() == expected.lr.tobytes()
    assert Trajectory.from_csv(out).lr[-1] < 0.001


def test_a_typed_lr_lambda_reaches_simulate_and_comes_back_from_the_csv(tmp_path, capsys):
    from simulator import simulate as simulate_api

    out = tmp_path / "lambda.csv"
    code, _, err = run_cli(capsys, "simulate", "--surface", "booth", "--optimizer", "SGD", "--set", "lr=0.01",
                           "--schedule", "LambdaLR", "--schedule-set", "lr_lambda=1/(1 + 0.1*epoch)",
                           "--steps", "30", "--out", out)
    assert code == 0, err
    expected = simulate_api("booth", "SGD", steps=30, hyperparams={"lr": 0.01},
                            schedule=("LambdaLR", {"lr_lambda": "1/(1 + 0.1*epoch)"}))
    back = Trajectory.from_csv(out)
    assert back.lr.tobytes() == expected.lr.tobytes() and back.lr[11] == 0.01 * (1 / (1 + 0.1 * 10))
    assert back.schedule == ("LambdaLR", {"lr_lambda": "1 / (1 + 0.1 * epoch)"})  # enough to run it again


def test_warmup_puts_a_linear_ramp_in_front(tmp_path, capsys):
    out = tmp_path / "warm.csv"
    code, _, err = run_cli(capsys, "simulate", "--surface", "booth", "--optimizer", "Adam", "--set", "lr=0.1",
                           "--warmup", "10", "--schedule", "StepLR", "--schedule-set", "step_size=5",
                           "--steps", "30", "--out", out)
    assert code == 0, err
    lr = Trajectory.from_csv(out).lr
    assert lr[1] == pytest.approx(0.01) and lr[11] == pytest.approx(0.1)  # ramp 0.1/10 -> 0.1
    assert lr[30] < 0.1 * 0.1 * 1.0001  # StepLR decayed twice after the milestone


@pytest.mark.parametrize("args, culprit", [
    (["--schedule", "Nope"], "unknown schedule 'Nope'"),
    (["--schedule", "StepLR"], "missing required parameter 'step_size'"),
    (["--schedule", "StepLR", "--schedule-set", "step_size=0"], "invalid step_size=0"),
    (["--schedule-set", "T_max=3"], "--schedule-set needs --schedule"),
    (["--warmup", "0"], "--warmup"),
    (["--schedule", "LambdaLR", "--schedule-set", "lr_lambda=open('x')"], "function 'open' is not allowed"),
    (["--schedule", "MultiplicativeLR", "--schedule-set", "lr_lambda=1/(epoch-2)"],
     "lr_lambda 1 / (epoch - 2) at epoch 2: division by zero"),
])
def test_bad_schedule_flags_exit_2(tmp_path, capsys, args, culprit):
    out = tmp_path / "x.csv"
    code, _, err = run_cli(capsys, "simulate", "--surface", "booth", *args, "--out", out)
    assert code == 2 and culprit in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_list_shows_every_schedule_with_its_parameters(capsys):
    from simulator.schedules import SCHEDULES

    code, text, _ = run_cli(capsys, "list")
    assert code == 0
    for name in SCHEDULES:
        assert f"  {name}(" in text
    assert "CosineAnnealingLR(T_max, eta_min=0)" in text and "mode=triangular" in text
    code, raw, _ = run_cli(capsys, "list", "--json")
    schedules = json.loads(raw)["schedules"]
    assert list(schedules) == list(SCHEDULES)
    assert schedules["StepLR"]["params"]["step_size"]["required"] is True
    assert schedules["CyclicLR"]["params"]["mode"]["choices"] == ["triangular", "triangular2", "exp_range"]


def test_simulate_lbfgs_with_a_line_search_writes_evals(tmp_path, capsys):
    out = tmp_path / "lbfgs.csv"
    code, stdout, err = run_cli(capsys, "simulate", "--optimizer", "lbfgs", "--set", "line_search_fn=strong_wolfe",
                                "--set", "history_size=5", "--steps", "6", "--out", out)
    assert (code, err) == (0, "")
    rows = csv_rows(out)
    expected = simulate("rosenbrock", "LBFGS", steps=6,
                        hyperparams={"line_search_fn": "strong_wolfe", "history_size": 5})
    assert [int(r["evals"]) for r in rows] == expected.evals.tolist()
    assert [float(r["x"]) for r in rows] == expected.xy[:, 0].tolist()
    assert "LBFGS on rosenbrock" in stdout


def test_simulate_lbfgs_reports_convergence(tmp_path, capsys):
    out = tmp_path / "lbfgs.csv"
    code, stdout, err = run_cli(capsys, "simulate", "--optimizer", "LBFGS", "--surface", "quadratic",
                                "--steps", "100", "--out", out)
    assert (code, err) == (0, "")
    assert re.search(r"converged at step \d+", stdout), stdout
    assert {r["status"] for r in csv_rows(out)} == {re.search(r"converged at step \d+", stdout).group(0)}


def test_simulate_with_reduce_lr_on_plateau(tmp_path, capsys):
    out = tmp_path / "plateau.csv"
    code, _, err = run_cli(capsys, "simulate", "--optimizer", "SGD", "--set", "lr=0.002", "--set", "momentum=0.9",
                           "--schedule", "reducelronplateau", "--schedule-set", "patience=3",
                           "--schedule-set", "threshold=0.05", "--steps", "300", "--out", out)
    assert (code, err) == (0, "")
    expected = simulate("rosenbrock", "SGD", steps=300, hyperparams={"lr": 0.002, "momentum": 0.9},
                        schedule=("ReduceLROnPlateau", {"patience": 3, "threshold": 0.05}))
    lrs = [float(r["lr"]) for r in csv_rows(out)]
    assert lrs == expected.lr.tolist() and len(set(lrs)) > 2


@pytest.mark.parametrize("args, message", [
    (["--optimizer", "LBFGS", "--set", "line_search_fn=armijo"], "invalid line_search_fn='armijo'"),
    (["--optimizer", "LBFGS", "--noise", "0.1"], "set noise to 0"),
    (["--schedule", "ReduceLROnPlateau", "--schedule-set", "factor=2"], "invalid factor=2"),
])
def test_lbfgs_and_plateau_mistakes_get_one_clear_line(tmp_path, capsys, args, message):
    code, stdout, err = run_cli(capsys, "simulate", *args, "--out", tmp_path / "x.csv")
    assert code == 2 and stdout == ""
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()


def test_list_shows_lbfgs_and_the_plateau_schedule(capsys):
    code, stdout, _ = run_cli(capsys, "list")
    assert code == 0
    assert "  LBFGS: quasi-Newton" in stdout
    assert "line_search_fn" in stdout and "one of none, strong_wolfe" in stdout
    assert "ReduceLROnPlateau(mode=min, factor=0.1, patience=10" in stdout


# ---- render: a scenario to an image, headless ------------------------------------------------------


def _scenario_file(tmp_path):
    from gui.scenario import default_scenario

    path = tmp_path / "scenario.json"
    default_scenario().save(path)
    return path


def test_render_writes_a_png_of_the_requested_size(tmp_path, capsys):
    from PySide6.QtGui import QImage

    out = tmp_path / "figure.png"
    code, stdout, err = run_cli(capsys, "render", _scenario_file(tmp_path), "--out", out, "--step", "120",
                                "--size", "800x600", "--arrows", "gradient,update")
    assert (code, err) == (0, "")
    assert "at step 120" in stdout
    image = QImage(str(out))
    assert (image.width(), image.height()) == (800, 600)
    colours = {image.pixelColor(x, y).name() for x in range(0, 800, 16) for y in range(0, 600, 16)}
    assert len(colours) > 50  # a real picture, not a blank canvas
    assert "#ff9f1c" in {image.pixelColor(x, y).name() for x in range(800) for y in range(0, 600, 2)}


def test_render_writes_svg(tmp_path, capsys):
    out = tmp_path / "figure.svg"
    code, _, err = run_cli(capsys, "render", _scenario_file(tmp_path), "--out", out)
    assert (code, err) == (0, "")
    assert out.read_text().lstrip().startswith("<?xml") and "<svg" in out.read_text()[:500]


@pytest.mark.parametrize("extra, message", [
    (["--step", "700"], "--step 700 is outside 0..600"),
    (["--step", "-3"], "--step expects a whole number"),
    (["--size", "huge"], "--size expects WxH"),
    (["--arrows", "wind"], "unknown kind(s) wind"),
])
def test_render_mistakes_get_one_clear_line(tmp_path, capsys, extra, message):
    out = tmp_path / "figure.png"
    code, stdout, err = run_cli(capsys, "render", _scenario_file(tmp_path), "--out", out, *extra)
    assert code == 2 and stdout == "" and message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_render_refuses_a_scenario_whose_every_run_is_refused(tmp_path, capsys):
    from gui.scenario import RunSpec, default_scenario

    scenario = default_scenario()
    scenario.runs = [RunSpec("a", "SGD", {"lr": -1.0}), RunSpec("b", "Adam", {"betas": (0.9, 2.0)})]
    scenario.save(tmp_path / "s.json")
    out = tmp_path / "x.png"
    assert_refused(*run_cli(capsys, "render", tmp_path / "s.json", "--out", out),
                   "none of its 2 run(s) can be drawn", "a: SGD: invalid lr=-1")
    assert not out.exists()


@pytest.mark.parametrize("bounds, message", [
    ("-1e308,1e308,-1,1", "-1e+308 is too large to draw"),
    ("0,1e-200,-1,1", "a width of 1e-200 is too small to draw"),
])
def test_formula_bounds_must_be_drawable(tmp_path, capsys, bounds, message):
    out = tmp_path / "f.csv"
    code, stdout, err = run_cli(capsys, "simulate", "--surface", f"expr:x**2 + y**2@{bounds}", "--out", out)
    assert_refused(code, stdout, err, message)
    assert not out.exists()


def test_render_refuses_bad_files(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    code, _, err = run_cli(capsys, "render", broken, "--out", tmp_path / "x.png")
    assert code == 2 and "not valid JSON" in err
    code, _, err = run_cli(capsys, "render", tmp_path / "missing.json", "--out", tmp_path / "x.png")
    assert code == 2 and "cannot read" in err
    code, _, err = run_cli(capsys, "render", _scenario_file(tmp_path), "--out", tmp_path / "nope" / "x.png")
    assert code == 2 and "does not exist" in err
    code, _, err = run_cli(capsys, "render", _scenario_file(tmp_path), "--out", tmp_path / "x.txt")
    assert code == 2 and "use a .png or .svg" in err
