"""SimulatorModel: the scenario being edited and its computed runs, with change signals.

Every edit goes through a method here; it recomputes what the edit touches (one run for a run's
settings, every run for the surface, steps, noise or the shared start) and emits ``changed``.
Computing is synchronous: 8 runs x 5,000 steps take a few milliseconds (benchmarks/bench_gui.py),
and a formula surface is compiled once, when it is typed.
"""

from PySide6.QtCore import QObject, Signal

from gui.scenario import MAX_RUNS, RunResult, RunSpec, Scenario, ScenarioError, compute, compute_run
from simulator import SimulatorError, get_surface
from simulator.evaluation import check_start


class SimulatorModel(QObject):
    changed = Signal()  # runs recomputed (and maybe added/removed)
    surface_changed = Signal()  # a new surface (or surface parameters): the map redraws its field
    selection_changed = Signal(int)

    def __init__(self, scenario: Scenario, parent=None):
        super().__init__(parent)
        self.scenario = scenario
        self.surface = get_surface(scenario.surface)
        self.results: list[RunResult] = compute(scenario)
        self.selected = 0 if scenario.runs else -1

    # ---- whole scenario ----------------------------------------------------------------------

    def load(self, scenario: Scenario) -> None:
        surface = get_surface(scenario.surface)  # raises before anything is replaced
        self.scenario, self.surface = scenario, surface
        self.results = compute(scenario)
        self.surface_changed.emit()
        self.changed.emit()
        self.select(0 if scenario.runs else -1)

    def set_surface(self, name: str) -> None:
        """A built-in name or ``expr:...``; SimulatorError (nothing changed) if it cannot be used."""
        surface = get_surface(name)
        self.scenario.surface, self.surface = surface.name, surface
        self.scenario.surface_params = {}
        self.scenario.start = None
        self.scenario.view = None
        for run in self.scenario.runs:
            run.start = None
        self._recompute_all()
        self.surface_changed.emit()

    def set_steps(self, steps: int) -> None:
        self.scenario.steps = int(steps)
        self._recompute_all()

    def set_noise(self, sigma: float) -> None:
        self.scenario.noise = float(sigma)
        self._recompute_all()

    def set_seed(self, seed: int) -> None:
        self.scenario.seed = int(seed)
        self._recompute_all()

    def set_start(self, x: float, y: float) -> None:
        self.scenario.start = (float(x), float(y))
        self._recompute(lambda run: run.start is None)

    # ---- runs ----------------------------------------------------------------------------------

    def select(self, index: int) -> None:
        self.selected = index if 0 <= index < len(self.scenario.runs) else -1
        self.selection_changed.emit(self.selected)

    def add_run(self, spec: RunSpec | None = None) -> int:
        if len(self.scenario.runs) >= MAX_RUNS:
            raise ScenarioError(f"at most {MAX_RUNS} runs")
        if spec is None:
            spec = RunSpec("Adam", "Adam", {"lr": 0.05})
        spec = spec.copy(name=self.scenario.unique_name(spec.name), color=self.scenario.next_color())
        self.scenario.runs.append(spec)
        self.results.append(compute_run(self.scenario, spec))
        self.changed.emit()
        self.select(len(self.scenario.runs) - 1)
        return self.selected

    def duplicate_run(self, index: int) -> int:
        return self.add_run(self.scenario.runs[index])

    def remove_run(self, index: int) -> None:
        del self.scenario.runs[index]
        del self.results[index]
        self.changed.emit()
        self.select(min(index, len(self.scenario.runs) - 1))

    def rename_run(self, index: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise ScenarioError("a run needs a name")
        if any(r.name == name for i, r in enumerate(self.scenario.runs) if i != index):
            raise ScenarioError(f"there is already a run called '{name}'")
        self.update_run(index, name=name)

    def update_run(self, index: int, **changes) -> None:
        """Replace fields of run ``index`` (optimizer, hyperparams, schedule, start, color, visible,
        name) and recompute it when its trajectory depends on them."""
        run = self.scenario.runs[index]
        for key, value in changes.items():
            setattr(run, key, value)
        if set(changes) & {"optimizer", "hyperparams", "schedule", "start", "name"}:
            self.results[index] = compute_run(self.scenario, run)
        else:
            self.results[index] = RunResult(run, self.results[index].trajectory, self.results[index].error)
        self.changed.emit()

    def try_update_run(self, index: int, **changes) -> str:
        """``update_run``, but only if the changed run can be computed: otherwise nothing changes
        (the run keeps its trajectory on the map) and the return value says why."""
        run = self.scenario.runs[index]
        result = compute_run(self.scenario, run.copy(**changes))
        if result.trajectory is None:
            return result.error
        for key, value in changes.items():
            setattr(run, key, value)
        self.results[index] = RunResult(run, result.trajectory, result.error)
        self.changed.emit()
        return ""

    def check_start(self, x: float, y: float) -> str:
        """Why (x, y) cannot be a start, or ""."""
        try:
            check_start((x, y), self.surface)
        except SimulatorError as error:
            return str(error)
        return ""

    # ---- internals -------------------------------------------------------------------------------

    def _recompute_all(self) -> None:
        self.results = compute(self.scenario)
        self.changed.emit()

    def _recompute(self, which) -> None:
        for index, run in enumerate(self.scenario.runs):
            if which(run):
                self.results[index] = compute_run(self.scenario, run)
        self.changed.emit()
