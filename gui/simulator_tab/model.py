"""SimulatorModel: the scenario being edited and its computed runs, with change signals.

Every edit goes through a method here; it recomputes what the edit touches (one run for a run's
settings, every run for the surface, steps, noise or the shared start) and emits ``changed``.

Short runs are computed at once, on the GUI thread: 8 runs x 5,000 steps take a few milliseconds
(benchmarks/bench_gui.py). Longer ones (up to 200,000 steps a run; L-BFGS evaluates the surface
several times a step) would freeze the window, so they go to a worker thread: their results read
"computing…" (``RunResult.pending``) until it is done, and ``busy_changed`` says when. The
compiled loops release the GIL, so the window keeps drawing meanwhile. Every edit stamps the runs
it touches; a result computed from an older stamp is dropped and the run computed again, so a
late result never overwrites a newer edit. A typed formula is compiled in a worker too
(``set_surface_in_background``): SymPy and Numba take a second for a long one.
"""

import copy

from PySide6.QtCore import QObject, Signal

from gui.scenario import MAX_RUNS, RunResult, RunSpec, Scenario, ScenarioError, check_run, compute_run
from gui.workers import JobWorker
from simulator import SimulatorError, get_surface, simulate
from simulator.evaluation import check_start

# Rows (steps of one run) computed on the GUI thread per edit at most: about 20 ms of Adam.
FOREGROUND_ROWS = 150_000
LBFGS_ROW_COST = 20  # an L-BFGS row evaluates f and its gradient up to max_eval (25) times


def _compiled(name: str):
    """The surface ``name``, compiled, and the engine's loop for it loaded (for the first formula
    of a session Numba loads the formula loop from its cache: 35 ms better spent in the worker)."""
    surface = get_surface(name)
    simulate(name, "SGD", steps=1)
    return surface


def _rows_cost(scenario: Scenario, runs: list[RunSpec]) -> int:
    return sum(scenario.steps * (LBFGS_ROW_COST if run.optimizer == "LBFGS" else 1) for run in runs)


class SimulatorModel(QObject):
    changed = Signal()  # runs recomputed (and maybe added/removed)
    surface_changed = Signal()  # a new surface (or surface parameters): the map redraws its field
    selection_changed = Signal(int)
    busy_changed = Signal(bool)  # a worker computes runs (or compiles a formula) / is done
    surface_failed = Signal(str, str)  # (surface name, why) a background surface could not be used

    def __init__(self, scenario: Scenario, parent=None):
        super().__init__(parent)
        self.scenario = scenario
        self.surface = get_surface(scenario.surface)
        self.results: list[RunResult] = [RunResult.computing(run) for run in scenario.runs]
        self.selected = 0 if scenario.runs else -1
        self._stamp = 0  # counts edits
        self._stamps: dict[int, int] = {}  # id(run) -> the stamp of its last edit
        self._runs_worker: JobWorker | None = None
        self._surface_worker: JobWorker | None = None
        self._wanted_surface = ""  # the surface the newest background request asked for
        self._compiling = ""  # the one the surface worker compiles
        self._recompute(scenario.runs)

    @property
    def busy(self) -> bool:
        return self._runs_worker is not None or self._surface_worker is not None

    def stop_all(self) -> list[JobWorker]:
        """The workers still running (closing the window waits for them). Nothing they compute
        afterwards is applied."""
        self._stamp += 1
        self._stamps.clear()
        self._wanted_surface = ""
        return [w for w in (self._runs_worker, self._surface_worker) if w is not None and w.isRunning()]

    # ---- whole scenario ----------------------------------------------------------------------

    def load(self, scenario: Scenario) -> None:
        surface = get_surface(scenario.surface)  # raises before anything is replaced
        self.scenario, self.surface = scenario, surface
        self._wanted_surface = ""
        self.results = [RunResult.computing(run) for run in scenario.runs]
        self._recompute(scenario.runs, emit=False)
        self.surface_changed.emit()
        self.changed.emit()
        self.select(0 if scenario.runs else -1)

    def set_surface(self, name: str) -> None:
        """A built-in name or ``expr:...``; SimulatorError (nothing changed) if it cannot be used."""
        surface = get_surface(name)
        self._wanted_surface = ""  # a background request made before this one is no longer wanted
        self.scenario.surface, self.surface = surface.name, surface
        self.scenario.surface_params = {}
        self.scenario.start = None
        self.scenario.view = None
        for run in self.scenario.runs:
            run.start = None
        self._recompute(self.scenario.runs)
        self.surface_changed.emit()

    def set_surface_in_background(self, name: str) -> None:
        """``set_surface`` once the surface is compiled, in a worker (a typed formula takes SymPy
        and Numba up to a second or two); ``surface_failed(name, why)`` if it cannot be used."""
        self._wanted_surface = name
        if self._surface_worker is None:
            self._start_surface_worker(name)

    def set_steps(self, steps: int) -> None:
        self.scenario.steps = int(steps)
        self._recompute(self.scenario.runs)

    def set_noise(self, sigma: float) -> None:
        self.scenario.noise = float(sigma)
        self._recompute(self.scenario.runs)

    def set_seed(self, seed: int) -> None:
        self.scenario.seed = int(seed)
        self._recompute(self.scenario.runs)

    def set_start(self, x: float, y: float) -> None:
        self.scenario.start = (float(x), float(y))
        self._recompute([run for run in self.scenario.runs if run.start is None])

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
        self.results.append(RunResult.computing(spec))
        self._recompute([spec])
        self.select(len(self.scenario.runs) - 1)
        return self.selected

    def duplicate_run(self, index: int) -> int:
        return self.add_run(self.scenario.runs[index])

    def remove_run(self, index: int) -> None:
        run = self.scenario.runs.pop(index)
        self._stamps.pop(id(run), None)  # a result on its way for it is dropped
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
            self._recompute([run])
        else:
            old = self.results[index]
            self.results[index] = RunResult(run, old.trajectory, old.error, old.failure, old.pending)
            self.changed.emit()

    def try_update_run(self, index: int, **changes) -> str:
        """``update_run``, but only if the changed run can be computed: otherwise nothing changes
        (the run keeps its trajectory on the map) and the return value says why."""
        run = self.scenario.runs[index]
        changed = run.copy(**changes)
        if _rows_cost(self.scenario, [changed]) > FOREGROUND_ROWS:
            # too long to compute here just to judge it: check its arguments, compute it in the worker
            error = check_run(self.scenario, changed)
            if error is not None:
                return str(error)
            self.update_run(index, **changes)
            return ""
        result = compute_run(self.scenario, changed)
        if result.trajectory is None:
            return result.error
        for key, value in changes.items():
            setattr(run, key, value)
        self._stamp += 1
        self._stamps[id(run)] = self._stamp  # a result still on its way for the old settings is dropped
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

    # ---- computing -------------------------------------------------------------------------------

    def _recompute(self, runs: list[RunSpec], emit: bool = True) -> None:
        """Stamp ``runs`` as edited and compute them: now if that is quick, else in the worker."""
        self._stamp += 1
        for run in runs:
            self._stamps[id(run)] = self._stamp
        index_of = {id(run): index for index, run in enumerate(self.scenario.runs)}
        if _rows_cost(self.scenario, runs) <= FOREGROUND_ROWS:
            for run in runs:
                self.results[index_of[id(run)]] = compute_run(self.scenario, run)
        else:
            for run in runs:
                self.results[index_of[id(run)]] = RunResult.computing(run)
            if self._runs_worker is None:
                self._start_runs_worker()
            # else: when the running worker is done, its out-of-date results are dropped and the
            # runs still pending are computed by the next one
        if emit:
            self.changed.emit()

    def _pending_runs(self) -> list[int]:
        """The indices of the runs waiting for the worker (none once the window is closing)."""
        pairs = enumerate(zip(self.scenario.runs, self.results, strict=True))
        return [index for index, (run, result) in pairs if result.pending and id(run) in self._stamps]

    def _start_runs_worker(self) -> None:
        snapshot = copy.deepcopy(self.scenario)  # the worker never sees later edits
        live = self.scenario.runs
        runs = [(id(live[i]), self._stamps[id(live[i])], snapshot.runs[i]) for i in self._pending_runs()]

        def job(progress):
            computed = []
            for key, stamp, run in runs:
                if not progress(len(computed), len(runs)):
                    break
                computed.append((key, stamp, compute_run(snapshot, run)))
            return computed

        worker = JobWorker(job, self)
        worker.done.connect(self._runs_computed)
        worker.failed.connect(self._runs_failed)
        worker.finished.connect(worker.deleteLater)
        self._runs_worker = worker
        worker.start()
        self.busy_changed.emit(True)

    def _runs_computed(self, computed: list) -> None:
        self._runs_worker = None
        index_of = {id(run): index for index, run in enumerate(self.scenario.runs)}
        applied = False
        for key, stamp, result in computed:
            index = index_of.get(key)
            if index is None or self._stamps.get(key) != stamp:
                continue  # removed, or edited since: its newer settings are computed next
            run = self.scenario.runs[index]
            self.results[index] = RunResult(run, result.trajectory, result.error, result.failure)
            applied = True
        self._after_runs_worker(applied)

    def _runs_failed(self, message: str) -> None:
        self._runs_worker = None
        for index, run in enumerate(self.scenario.runs):
            if self.results[index].pending:
                self.results[index] = RunResult(run, None, message)
        self._after_runs_worker(True)

    def _after_runs_worker(self, applied: bool) -> None:
        if self._pending_runs():
            self._start_runs_worker()
        elif not self.busy:
            self.busy_changed.emit(False)
        if applied:
            self.changed.emit()

    def _start_surface_worker(self, name: str) -> None:
        worker = JobWorker(lambda progress: _compiled(name), self)
        # bound methods, not lambdas: these slots must run on the GUI thread (queued)
        worker.done.connect(self._surface_compiled)
        worker.failed.connect(self._surface_refused)
        worker.finished.connect(worker.deleteLater)
        self._surface_worker, self._compiling = worker, name
        worker.start()
        self.busy_changed.emit(True)

    def _surface_compiled(self, _surface) -> None:
        self._surface_ready(self._compiling, "")

    def _surface_refused(self, why: str) -> None:
        self._surface_ready(self._compiling, why)

    def _surface_ready(self, name: str, why: str) -> None:
        self._surface_worker = None
        wanted = self._wanted_surface
        if wanted and wanted != name:  # asked for another one meanwhile
            self._start_surface_worker(wanted)
            return
        self._wanted_surface = ""
        if wanted:  # still wanted (not replaced by a direct edit, a load or a closing window)
            if why:
                self.surface_failed.emit(name, why)
            else:
                try:
                    self.set_surface(name)  # compiled now: cached, so this is quick
                except SimulatorError as error:
                    self.surface_failed.emit(name, str(error))
        if not self.busy:
            self.busy_changed.emit(False)
