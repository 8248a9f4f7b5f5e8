"""Scenario: everything the Simulator tab shows, as plain data (no Qt), and its JSON file form.

A scenario is a surface, a shared start point, a number of steps, gradient noise and a list of
runs (optimizer + hyperparameters + optional schedule + optional own start + colour). ``compute``
turns it into one Trajectory per run with ``simulate``; the GUI and ``main.py render`` only read
those. A run whose settings are refused gets its error message instead of a trajectory, so one bad
run never hides the others.

JSON form (``save``/``load``; ``assets/presets/*.json`` are such files)::

    {"format": "optiscope-scenario", "version": 1, "title": "...", "description": "...",
     "surface": "rosenbrock", "surface_params": {}, "start": [-1.5, 2.0], "steps": 500,
     "noise": 0.0, "seed": 0, "view": [xmin, xmax, ymin, ymax] or null,
     "runs": [{"name": "Adam", "optimizer": "Adam", "hyperparams": {"lr": 0.05},
               "schedule": null or ["CosineAnnealingLR", {"T_max": 500}],
               "start": null or [x, y], "color": "#1f77b4", "visible": true}]}
"""

import json
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

from simulator import SimulatorError, get_optimizer, get_surface, simulate
from simulator.atomic import write_atomically
from simulator.engine import prepare_run
from simulator.evaluation import check_start
from simulator.params import Resolved
from simulator.trajectory import Trajectory
from simulator.values import is_finite_number, parse_document, shown

FORMAT, VERSION = "optiscope-scenario", 1
MAX_STEPS = 200_000  # per run: beyond this playback is no longer the point
MAX_RUNS = 32
# The largest |coordinate| and the smallest width a view may have: the map squares distances and
# pyqtgraph maps the view onto pixels in doubles, so bounds near 1e308 overflow to inf and widths
# near 1e-308 (subnormal) divide to inf; 1e150 squared and 1/1e-150 are still finite.
MAX_VIEW_BOUND = 1e150
MIN_VIEW_WIDTH = 1e-150
RUN_KEYS = ("name", "optimizer", "hyperparams", "schedule", "start", "color", "visible")
PRESETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "presets"

# bright, distinct colours that stand out on the map's dark grey field (white is kept for markers)
PALETTE = (
    "#ff9f1c", "#4cc9f0", "#80ed99", "#f15bb5", "#fee440", "#ff595e", "#9b5de5", "#c7c7c7",
    "#2ec4b6", "#e76f51", "#a3c4f3", "#b5e48c", "#ffafcc", "#ffd6a5", "#00bbf9", "#8d99ae",
)


class ScenarioError(SimulatorError):
    """A scenario file or value that cannot be used; the message says which and why."""


@dataclass
class RunSpec:
    name: str
    optimizer: str = "Adam"
    hyperparams: dict = field(default_factory=dict)  # overrides of torch's defaults
    schedule: tuple | None = None  # (name, params) as simulate() takes it
    start: tuple[float, float] | None = None  # None: the scenario's start
    color: str = PALETTE[0]
    visible: bool = True

    def copy(self, **changes) -> "RunSpec":
        values = {
            "name": self.name, "optimizer": self.optimizer,
            # a Resolved is read-only and already checked: shared, so the copy is not checked again
            "hyperparams": self.hyperparams if isinstance(self.hyperparams, Resolved)
            else dict(self.hyperparams),
            "schedule": self.schedule, "start": self.start, "color": self.color, "visible": self.visible,
        }
        values.update(changes)
        return RunSpec(**values)


COMPUTING = "computing…"


@dataclass
class RunResult:
    """A run's trajectory, or why it has none: ``error`` (the text) and ``failure`` (the error
    itself, whose ``param`` names the field to mark), or ``pending`` while a worker computes it."""

    spec: RunSpec
    trajectory: Trajectory | None
    error: str = ""
    failure: SimulatorError | None = None
    pending: bool = False

    @classmethod
    def computing(cls, spec: RunSpec) -> "RunResult":
        return cls(spec, None, COMPUTING, pending=True)

    @property
    def summary(self) -> str:
        if self.trajectory is None:
            return self.error
        t = self.trajectory
        if t.status == "ok":
            return f"loss {t.loss[-1]:.4g} after {t.steps} steps"
        return t.message


@dataclass
class Scenario:
    surface: str = "rosenbrock"
    surface_params: dict = field(default_factory=dict)
    start: tuple[float, float] | None = None  # None: the surface's default start
    steps: int = 500
    noise: float = 0.0
    seed: int = 0
    runs: list[RunSpec] = field(default_factory=list)
    view: tuple[float, float, float, float] | None = None
    title: str = ""
    description: str = ""

    def shared_start(self) -> tuple[float, float]:
        if self.start is not None:
            return self.start
        return tuple(get_surface(self.surface).default_start)

    def start_of(self, run: RunSpec) -> tuple[float, float]:
        return run.start if run.start is not None else self.shared_start()

    def unique_name(self, base: str) -> str:
        names = {r.name for r in self.runs}
        if base not in names:
            return base
        numbered = re.fullmatch(r"(.*) \((\d+)\)", base)  # "Adam (3)" goes on as "Adam (4)"
        if numbered:
            base = numbered.group(1)
        n = 2
        while f"{base} ({n})" in names:
            n += 1
        return f"{base} ({n})"

    def next_color(self) -> str:
        used = [r.color for r in self.runs]
        for color in PALETTE:
            if color not in used:
                return color
        return PALETTE[len(self.runs) % len(PALETTE)]

    # ---- JSON ----------------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "format": FORMAT, "version": VERSION, "title": self.title, "description": self.description,
            "surface": self.surface, "surface_params": dict(self.surface_params),
            "start": None if self.start is None else list(self.start),
            "steps": self.steps, "noise": self.noise, "seed": self.seed,
            "view": None if self.view is None else list(self.view),
            "runs": [
                {
                    "name": r.name, "optimizer": r.optimizer, "hyperparams": _plain(r.hyperparams),
                    "schedule": _plain(r.schedule), "start": None if r.start is None else list(r.start),
                    "color": r.color, "visible": r.visible,
                }
                for r in self.runs
            ],
        }

    @classmethod
    def from_json(cls, data) -> "Scenario":
        """A checked Scenario; ScenarioError naming the first problem (hyperparameters are checked
        when the runs are computed, per run)."""
        try:
            return cls._from_json(data)
        except ScenarioError:
            raise
        except SimulatorError as error:  # unknown surface or optimizer, a refused formula
            raise ScenarioError(str(error)) from None

    @classmethod
    def _from_json(cls, data) -> "Scenario":
        if not isinstance(data, dict):
            raise ScenarioError("a scenario must be a JSON object")
        if data.get("format", FORMAT) != FORMAT:
            raise ScenarioError(f"not an OptiScope scenario (format {shown(data.get('format'))})")
        version = data.get("version", VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ScenarioError(f"scenario version must be a whole number >= 1, got {shown(version)}")
        if version > VERSION:
            raise ScenarioError(f"scenario version {shown(version)} is newer than this OptiScope "
                                f"(it reads version {VERSION})")
        known = {"format", "version", "title", "description", "surface", "surface_params", "start",
                 "steps", "noise", "seed", "view", "runs"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ScenarioError(f"unknown scenario key(s): {', '.join(unknown)}")
        surface = _text(data.get("surface", "rosenbrock"), "surface")
        surf = get_surface(surface)  # raises a clear error for unknown names and bad formulas
        surface_params = data.get("surface_params") or {}
        if not isinstance(surface_params, dict):
            raise ScenarioError("surface_params must be an object of name: number")
        surf.params_array(surface_params)
        runs_data = data.get("runs", [])
        if not isinstance(runs_data, list):
            raise ScenarioError("runs must be a list")
        if len(runs_data) > MAX_RUNS:
            raise ScenarioError(f"too many runs ({len(runs_data)}); at most {MAX_RUNS}")
        scenario = cls(
            surface=surface, surface_params=dict(surface_params),
            start=_point(data.get("start"), "start"),
            steps=_whole(data.get("steps", 500), "steps", 1, MAX_STEPS),
            noise=_number(data.get("noise", 0.0), "noise", minimum=0.0),
            seed=_whole(data.get("seed", 0), "seed", 0, 2**32 - 1),
            view=_view(data.get("view")),
            title=_text(data.get("title", ""), "title"),
            description=_text(data.get("description", ""), "description"),
        )
        for index, item in enumerate(runs_data):
            scenario.runs.append(_run(item, index, scenario))
        return scenario

    def save(self, path) -> None:
        """Write atomically: a failed save leaves any earlier file as it was."""
        text = json.dumps(self.to_json(), indent=2) + "\n"
        try:
            write_atomically(path, lambda out: out.write(text), suffix=".json.tmp")
        except ScenarioError:
            raise
        except SimulatorError as error:
            raise ScenarioError(str(error)) from None

    @classmethod
    def load(cls, path) -> "Scenario":
        try:
            content = Path(path).read_bytes()
        except OSError as error:
            raise ScenarioError(f"cannot read '{path}': {error.strerror or error}") from None
        data = parse_document(content, path, "JSON", ScenarioError)
        try:
            return cls.from_json(data)
        except SimulatorError as error:
            raise ScenarioError(f"'{Path(path).name}': {error}") from None


def compute_run(scenario: Scenario, run: RunSpec) -> RunResult:
    try:
        trajectory = simulate(
            surface=scenario.surface, optimizer=run.optimizer, start=scenario.start_of(run),
            steps=scenario.steps, hyperparams=run.hyperparams, noise=scenario.noise, seed=scenario.seed,
            surface_params=scenario.surface_params, label=run.name, schedule=run.schedule,
        )
    except SimulatorError as error:
        return RunResult(run, None, str(error), error)
    return RunResult(run, trajectory)


def check_run(scenario: Scenario, run: RunSpec) -> SimulatorError | None:
    """Why ``run`` cannot be computed in ``scenario`` (its arguments, checked as simulate() checks
    them before the first step), or None; cheap, where computing a long run is not."""
    try:
        prepare_run(scenario.surface, run.optimizer, [run.hyperparams], scenario.steps, scenario.noise,
                    run.schedule, scenario.surface_params,
                    lambda surface: check_start(scenario.start_of(run), surface))
    except SimulatorError as error:
        return error
    return None


def compute(scenario: Scenario) -> list[RunResult]:
    """One RunResult per run, in order. Every run gets the same noise sequence (same seed)."""
    return [compute_run(scenario, run) for run in scenario.runs]


def default_scenario() -> Scenario:
    """What a first launch shows: four classics racing down Rosenbrock's valley."""
    scenario = Scenario(
        surface="rosenbrock", start=(-1.5, 2.0), steps=600, title="Four classics on Rosenbrock",
        description="SGD crawls along the valley floor, momentum overshoots and then runs, "
                    "RMSprop and Adam rescale each axis.",
    )
    for name, optimizer, hyperparams in (
        ("SGD", "SGD", {"lr": 0.001}),
        ("SGD + momentum", "SGD", {"lr": 0.001, "momentum": 0.9}),
        ("RMSprop", "RMSprop", {"lr": 0.01}),
        ("Adam", "Adam", {"lr": 0.05}),
    ):
        scenario.runs.append(RunSpec(name, optimizer, hyperparams, color=scenario.next_color()))
    return scenario


def presets() -> list[tuple[str, Path]]:
    """(title, path) of every shipped scenario, sorted by file name."""
    found = []
    for path in sorted(PRESETS_DIR.glob("*.json")):
        try:
            title = parse_document(path.read_bytes(), path, "JSON", ScenarioError).get("title") or path.stem
        except (OSError, ScenarioError, AttributeError):
            title = path.stem
        found.append((title, path))
    return found


# ---- checks ------------------------------------------------------------------------------------


def _run(item, index: int, scenario: Scenario) -> RunSpec:
    where = f"runs[{index}]"
    if not isinstance(item, dict):
        raise ScenarioError(f"{where} must be an object")
    unknown = sorted(set(item) - set(RUN_KEYS))
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s): {', '.join(unknown)}")
    optimizer = get_optimizer(_text(item.get("optimizer", "Adam"), f"{where}.optimizer")).name
    name = _text(item.get("name") or optimizer, f"{where}.name").strip() or optimizer
    if any(r.name == name for r in scenario.runs):
        raise ScenarioError(f"{where}: the run name '{name}' is used twice")
    hyperparams = item.get("hyperparams") or {}
    if not isinstance(hyperparams, dict):
        raise ScenarioError(f"{where}.hyperparams must be an object of name: value")
    hyperparams = {k: tuple(v) if isinstance(v, list) else v for k, v in hyperparams.items()}
    schedule = item.get("schedule")
    if schedule is not None:
        if not (isinstance(schedule, list | tuple) and len(schedule) == 2 and isinstance(schedule[0], str)
                and isinstance(schedule[1], dict)):
            raise ScenarioError(f"{where}.schedule must be null or [name, {{parameters}}]")
        schedule = (schedule[0], schedule[1])
    color = _text(item.get("color") or scenario.next_color(), f"{where}.color")
    if not (len(color) == 7 and color.startswith("#") and all(c in string.hexdigits for c in color[1:])):
        raise ScenarioError(f"{where}.color must look like #1f77b4, got {shown(color)}")
    visible = item.get("visible", True)
    if not isinstance(visible, bool):
        raise ScenarioError(f"{where}.visible must be true or false")
    return RunSpec(name, optimizer, hyperparams, schedule, _point(item.get("start"), f"{where}.start"),
                   color.lower(), visible)


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{what} must be text, got {shown(value)}")
    if len(value) > 10_000:
        raise ScenarioError(f"{what} is too long")
    return value


def _number(value, what: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not is_finite_number(value):
        raise ScenarioError(f"{what} must be a finite number, got {shown(value)}")
    if minimum is not None and value < minimum:
        raise ScenarioError(f"{what} must be >= {minimum:g}, got {shown(value)}")
    return float(value)


def _whole(value, what: str, minimum: int, maximum: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ScenarioError(f"{what} must be a whole number from {minimum} to {maximum}, got {shown(value)}")
    return value


def _point(value, what: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ScenarioError(f"{what} must be null or [x, y], got {shown(value)}")
    return (_number(value[0], f"{what}[0]"), _number(value[1], f"{what}[1]"))


def _view(value) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise ScenarioError(f"view must be null or [xmin, xmax, ymin, ymax], got {shown(value)}")
    xmin, xmax, ymin, ymax = (_number(v, "view") for v in value)
    for bound in (xmin, xmax, ymin, ymax):
        if abs(bound) > MAX_VIEW_BOUND:
            raise ScenarioError(f"view bound {bound:g} is too large to draw (at most {MAX_VIEW_BOUND:g} "
                                "in absolute value)")
    if not (xmin < xmax and ymin < ymax):
        raise ScenarioError("view must have xmin < xmax and ymin < ymax")
    for axis, width in (("x", xmax - xmin), ("y", ymax - ymin)):
        if width < MIN_VIEW_WIDTH:
            raise ScenarioError(f"view width {width:g} in {axis} is too small to draw (at least "
                                f"{MIN_VIEW_WIDTH:g})")
    return (xmin, xmax, ymin, ymax)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
