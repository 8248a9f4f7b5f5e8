"""Trajectory: the recorded run of one optimizer on one surface, and its CSV form.

The CSV is plain (header first, one row per recorded point) so that pandas, numpy and spreadsheets
read it as it is. Columns: ``step,x,y,loss,grad_x,grad_y,lr``, then one column per optimizer state
slot (``state_exp_avg_x``, ...), then ``evals`` (closure evaluations per step; LBFGS only), then
the run's description repeated on every row (``run``, ``surface``, ``optimizer``, ``hyperparams``
and ``schedule`` as JSON, ``status``): the same shape as the long format that holds several runs
(``write_runs_csv``), where a column one run lacks is left blank. Floats are written with
``repr``, the shortest text that reads back to the same bits.
"""

import csv
import json
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from simulator.atomic import write_atomically
from simulator.errors import SimulatorError
from simulator.values import parse_document

CORE_COLUMNS = ("step", "x", "y", "loss", "grad_x", "grad_y", "lr")
EVALS_COLUMN = "evals"
RUN_COLUMNS = ("run", "surface", "surface_params", "optimizer", "hyperparams", "schedule", "noise", "seed",
               "status")
STATE_PREFIX = "state_"

OK, DIVERGED, CONVERGED = "ok", "diverged", "converged"


class LineSearchTrials(NamedTuple):
    """Every point an LBFGS run evaluated: step k's are ``xy[offset[k]:offset[k] + count[k]]``.

    The first point of a step is where it started (the previous row). Line-search trials may lie
    far outside the view or be non-finite: filter before drawing.
    """

    xy: np.ndarray
    loss: np.ndarray
    offset: np.ndarray
    count: np.ndarray

    def of_step(self, k: int) -> np.ndarray:
        return self.xy[self.offset[k]: self.offset[k] + self.count[k]]


@dataclass
class Trajectory:
    """Row k holds the point after k steps (row 0: the start).

    ``grad[k]`` is the gradient the optimizer received at row k (noise included; the last row holds
    the gradient at the final point), ``lr[k]`` the learning rate step k used (row 0: the initial
    one), ``state[k]`` the optimizer state after step k, one column per ``state_names`` entry.
    LBFGS runs also have ``evals[k]`` (closure evaluations step k spent) and ``trials``; they
    report ``converged`` where torch's LBFGS stops moving for good (``converged_at``: the last
    row). ``schedule`` is the resolved ``(name, params)`` the lr followed, or None.
    """

    xy: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    lr: np.ndarray
    state: np.ndarray
    state_names: tuple[str, ...]
    surface: str
    optimizer: str
    hyperparams: dict = field(default_factory=dict)
    status: str = OK
    diverged_at: int | None = None
    label: str = ""
    schedule: tuple | None = None
    evals: np.ndarray | None = None
    trials: LineSearchTrials | None = field(default=None, repr=False)
    converged_at: int | None = None
    surface_params: dict = field(default_factory=dict)
    noise: float = 0.0  # σ of the Gaussian noise added to every gradient component
    seed: int | None = None  # the noise's seed (None: a fresh one, not reproducible)

    @property
    def steps(self) -> int:
        """Number of steps recorded (rows − 1)."""
        return len(self.xy) - 1

    @property
    def message(self) -> str:
        if self.status == DIVERGED:
            return f"diverged at step {self.diverged_at}"
        if self.status == CONVERGED:
            return f"converged at step {self.converged_at}"
        return f"completed {self.steps} steps"

    @property
    def final(self) -> tuple[float, float]:
        return float(self.xy[-1, 0]), float(self.xy[-1, 1])

    @property
    def run_label(self) -> str:
        return self.label or self.optimizer

    def state_column(self, name: str) -> np.ndarray:
        return self.state[:, self.state_names.index(name)]

    # ---- CSV -----------------------------------------------------------------------------------

    def header(self) -> list[str]:
        evals = [EVALS_COLUMN] if self.evals is not None else []
        return [*CORE_COLUMNS, *(STATE_PREFIX + n for n in self.state_names), *evals, *RUN_COLUMNS]

    def csv_rows(self, header: list[str] | None = None):
        """The rows of this trajectory under ``header`` (a superset of ours leaves blanks)."""
        header = header or self.header()
        run_values = {
            "run": self.run_label,
            "surface": self.surface,
            "optimizer": self.optimizer,
            "hyperparams": json.dumps(_jsonable(self.hyperparams), sort_keys=True),
            "schedule": "" if self.schedule is None else json.dumps(_jsonable(self.schedule), sort_keys=True),
            "surface_params": "" if not self.surface_params else json.dumps(_jsonable(self.surface_params),
                                                                             sort_keys=True),
            "noise": repr(float(self.noise)),
            "seed": "" if self.seed is None else str(int(self.seed)),
            "status": OK if self.status == OK else self.message,
        }
        columns = {
            "x": self.xy[:, 0], "y": self.xy[:, 1], "loss": self.loss,
            "grad_x": self.grad[:, 0], "grad_y": self.grad[:, 1], "lr": self.lr,
        }
        for index, name in enumerate(self.state_names):
            columns[STATE_PREFIX + name] = self.state[:, index]
        for k in range(len(self.xy)):
            row = []
            for name in header:
                if name == "step":
                    row.append(str(k))
                elif name == EVALS_COLUMN and self.evals is not None:
                    row.append(str(int(self.evals[k])))
                elif name in columns:
                    row.append(repr(float(columns[name][k])))
                else:
                    row.append(run_values.get(name, ""))
            yield row

    def to_csv(self, path) -> None:
        """Write atomically: a failed write leaves no partial file behind."""
        write_csv_atomically(path, self.header(), self.csv_rows())

    @classmethod
    def from_csv(cls, path) -> "Trajectory":
        runs = read_csv_runs(path)
        if len(runs) != 1:
            raise SimulatorError(f"{path}: holds {len(runs)} runs; use read_csv_runs()")
        return runs[0]


def runs_header(trajectories) -> list[str]:
    """The long-format header for several runs: every column any of them has, in a stable order."""
    state = dict.fromkeys(c for t in trajectories for c in t.header() if c.startswith(STATE_PREFIX))
    evals = [EVALS_COLUMN] if any(t.evals is not None for t in trajectories) else []
    return [*CORE_COLUMNS, *state, *evals, *RUN_COLUMNS]


def write_runs_csv(path, trajectories) -> None:
    """Several runs in one CSV (long format, one ``run`` per trajectory), written atomically."""
    trajectories = list(trajectories)
    if not trajectories:
        raise SimulatorError("nothing to write: no runs")
    labels = [t.run_label for t in trajectories]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise SimulatorError(f"run names must be unique in one CSV; repeated: {', '.join(repeated)}")
    header = runs_header(trajectories)
    write_csv_atomically(path, header, (row for t in trajectories for row in t.csv_rows(header)))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def write_csv_atomically(path, header, rows) -> None:
    """Write ``rows`` under ``header`` to ``path`` through a temporary file and a rename."""

    def write(out):
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)

    write_atomically(path, write, newline="", suffix=".csv.tmp")


def read_csv_runs(path) -> list[Trajectory]:
    """Every run in a trajectory CSV (one, or several in the long format), in file order."""
    try:
        with open(path, newline="") as source:
            table = list(csv.reader(source))
    except (OSError, UnicodeDecodeError) as error:
        raise SimulatorError(f"cannot read '{path}': {getattr(error, 'strerror', None) or error}") from None
    if not table:
        raise SimulatorError(f"{path}: empty file, expected a header line")
    header = table[0]
    missing = [c for c in CORE_COLUMNS if c not in header]
    if missing:
        raise SimulatorError(f"{path}: missing column(s) {', '.join(missing)}")
    index = {name: i for i, name in enumerate(header)}
    groups: dict[str, list[list[str]]] = {}
    for line_number, row in enumerate(table[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise SimulatorError(f"{path}: line {line_number} has {len(row)} fields, expected {len(header)}")
        run = row[index["run"]] if "run" in index else ""
        groups.setdefault(run, []).append(row)
    if not groups:
        raise SimulatorError(f"{path}: no data rows")
    return [_run_from_rows(path, header, index, rows) for rows in groups.values()]


def _run_from_rows(path, header, index, rows) -> Trajectory:
    def numbers(name):
        try:
            return np.array([float(r[index[name]]) for r in rows], dtype=np.float64)
        except ValueError:
            raise SimulatorError(f"{path}: column '{name}' holds a value that is not a number") from None

    state_names = tuple(
        h[len(STATE_PREFIX):] for h in header
        if h.startswith(STATE_PREFIX) and all(r[index[h]] != "" for r in rows)
    )
    first = rows[0]

    def text(name, default=""):
        return first[index[name]] if name in index else default

    hyperparams = _json_cell(path, "hyperparams", text("hyperparams") or "{}")
    if not isinstance(hyperparams, dict):
        raise SimulatorError(f"{path}: column 'hyperparams' must hold a JSON object")
    hyperparams = {k: tuple(v) if isinstance(v, list) else v for k, v in hyperparams.items()}
    schedule = _json_cell(path, "schedule", text("schedule")) if text("schedule") else None
    surface_params = _json_cell(path, "surface_params", text("surface_params") or "{}")
    if not isinstance(surface_params, dict):
        raise SimulatorError(f"{path}: column 'surface_params' must hold a JSON object")
    try:  # files written before these columns: no noise, seed unknown
        noise = float(text("noise") or 0.0)
        seed = int(text("seed")) if text("seed") else None
    except ValueError:
        raise SimulatorError(f"{path}: column 'noise' or 'seed' holds a value that is not a number") from None
    status_text = text("status", OK)
    status, diverged_at, converged_at = OK, None, None
    for name in (DIVERGED, CONVERGED):
        if status_text.startswith(f"{name} at step "):
            try:
                event = int(status_text.rsplit(" ", 1)[1])
            except ValueError:
                raise SimulatorError(f"{path}: unreadable status '{status_text}'") from None
            status = name
            diverged_at, converged_at = (event, None) if name == DIVERGED else (None, event)
    evals = None
    if EVALS_COLUMN in index and all(r[index[EVALS_COLUMN]] != "" for r in rows):
        evals = numbers(EVALS_COLUMN).astype(np.int64)
    state = np.column_stack([numbers(STATE_PREFIX + n) for n in state_names]) if state_names \
        else np.zeros((len(rows), 0))
    xy = np.column_stack([numbers("x"), numbers("y")])
    grad = np.column_stack([numbers("grad_x"), numbers("grad_y")])
    if not all(math.isfinite(v) for v in xy.ravel()):
        raise SimulatorError(f"{path}: non-finite coordinates")
    return Trajectory(
        xy=xy, loss=numbers("loss"), grad=grad, lr=numbers("lr"), state=state,
        state_names=state_names, surface=text("surface"), optimizer=text("optimizer"),
        hyperparams=hyperparams, status=status, diverged_at=diverged_at, label=text("run"),
        schedule=None if schedule is None else tuple(schedule), evals=evals, converged_at=converged_at,
        surface_params=surface_params, noise=noise, seed=seed,
    )


def _json_cell(path, column: str, cell: str):
    """A CSV cell holding JSON, read as every JSON file is (no digit-limit or nesting traceback)."""
    try:
        return parse_document(cell.encode("utf-8"), path, "JSON")
    except SimulatorError:
        raise SimulatorError(f"{path}: column '{column}' is not valid JSON") from None
