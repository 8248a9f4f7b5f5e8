"""GUI responsiveness, measured in one run: recompute, animation frames, cold start, torch.

Prints:
  1. recompute after one hyperparameter change, 8 runs x 5,000 steps on Rosenbrock: ``compute()``
     of the whole scenario, and the Simulator tab's ``model.update_run`` (recompute one run, then
     the ``changed`` redraw of map and side plots), with and without the paint that follows.
     Target: < 50 ms.
  2. one animation frame with those 8 runs and ~5,000-point trails, painting included: a MapView
     alone (1000x800) and the whole SimulatorTab; median, 95th percentile, frames/s. Target: < 16 ms.
     Frames advance one step each, as playback at its default 60 steps/s does; a diagnostic line
     advances 16 steps a frame (1,000 steps/s, the fastest speed).
  3. cold start to a shown main window, in 3 fresh interpreters.
  4. the torch.optim baseline for the same 8 runs x 5,000 steps (analytic gradient, as in
     bench_simulator.py), and its ratio to ``compute()``.

"Painting included" means the frame is followed by ``QApplication.processEvents()``, which is what
the event loop does after a playback tick: the scene's dirty items are processed and the viewport
paints. (``widget.repaint()`` on a pyqtgraph view does not paint its scene items; before timing, the
script counts the viewport paint events and the trail-layer paints one frame really causes.) The
map's trails are one TrailLayer that re-renders, inside ``set_frame``, the few pixels a frame
changes in an image it keeps, and paints by copying that image: both halves are timed. The side
plots keep their curves and axes as pixmaps (Qt's item cache), so a frame copies them under the
moving cursor instead of replaying them; that too is a real paint of the frame.

PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call, which aborts Python
('none_dealloc') after a few thousand Qt calls; if the installed PySide6 does, this script says so and
pads None's reference count so the measurements can finish.

Run: .venv/bin/python benchmarks/bench_gui.py   (about a minute)
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# offscreen unless a platform is named: under a real X server (Xvfb) the frames are painted as a
# screen shows them: QT_QPA_PLATFORM=xcb xvfb-run -s "-screen 0 1920x1080x24" python benchmarks/bench_gui.py
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
import PySide6  # noqa: E402
import torch  # noqa: E402
from bench_simulator import torch_rosenbrock_path  # noqa: E402 (benchmarks/ is sys.path[0])
from PySide6.QtCore import QEvent, QObject  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.scenario import RunSpec, Scenario, compute, compute_run  # noqa: E402
from gui.simulator_tab.map_view import MapView  # noqa: E402
from gui.simulator_tab.tab import SimulatorTab  # noqa: E402
from gui.simulator_tab.trail_layer import TrailLayer  # noqa: E402
from gui.theme import configure_pyqtgraph  # noqa: E402
from simulator import get_surface  # noqa: E402

START = (-1.5, 2.0)
STEPS = 5_000
RUNS = (  # (name, torch.optim class, hyperparameters): none of them diverges in 5,000 steps
    ("SGD", "SGD", {"lr": 0.001}),
    ("SGD + momentum", "SGD", {"lr": 0.0005, "momentum": 0.9}),
    ("Adam", "Adam", {"lr": 0.02}),
    ("AdamW", "AdamW", {"lr": 0.02}),
    ("RMSprop", "RMSprop", {"lr": 0.005}),
    ("Adagrad", "Adagrad", {"lr": 0.5}),
    ("NAdam", "NAdam", {"lr": 0.02}),
    ("RAdam", "RAdam", {"lr": 0.005}),
)
CHANGED_RUN = 2  # Adam: its lr toggles between these two values, so every repetition is a real change
CHANGED_LRS = (0.021, 0.02)
RECOMPUTE_REPEATS = 20
FRAMES = range(4900, STEPS + 1)  # trails of 4,901 .. 5,001 points
FAST_FRAMES = range(3400, STEPS + 1, 16)  # 1,000 steps/s at 60 frames/s
TARGET_RECOMPUTE_MS = 50.0
TARGET_FRAME_MS = 16.0
COLD_STARTS = 3
TORCH_REPEATS = 3


def build_scenario() -> Scenario:
    scenario = Scenario(surface="rosenbrock", start=START, steps=STEPS, title="bench_gui")
    for name, optimizer, hyperparams in RUNS:
        scenario.runs.append(RunSpec(name, optimizer, dict(hyperparams), color=scenario.next_color()))
    return scenario


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.2f} ms"


def verdict(value_s: float, target_ms: float) -> str:
    value_ms = value_s * 1e3
    if value_ms < target_ms:
        return f"PASS  ({value_ms:.1f} ms < {target_ms:g} ms, {target_ms / value_ms:.1f}x headroom)"
    return f"FAIL  ({value_ms:.1f} ms >= {target_ms:g} ms, {value_ms / target_ms:.1f}x over)"


def settle(app: QApplication, seconds: float = 0.15) -> None:
    """Let layouts, pending timers (the map's 40 ms surface redraw) and first paints finish."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()


TRAIL_PAINTS = [0]


def count_trail_paints() -> None:
    """Count TrailLayer.paint calls. Installed before any item exists: PySide6 does not see a Python
    override patched in after an item was created."""
    original = TrailLayer.paint

    def paint(item, *args):
        TRAIL_PAINTS[0] += 1
        return original(item, *args)

    TrailLayer.paint = paint


class PaintEvents(QObject):
    """Counts paint events of the widgets it watches (the views' viewports)."""

    def __init__(self, widgets):
        super().__init__()
        self.count = 0
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


# ---- a PySide6 reference-count bug that would otherwise abort this benchmark ----------------------

_NONE_GUARD: list = []


def none_refs_lost_per_call() -> float:
    """References to None that one void PySide6 call drops (0 when the binding is correct)."""
    probe = QObject()
    probe.setObjectName("warm")
    before = sys.getrefcount(None)
    for _ in range(1000):
        probe.setObjectName("probe")
    return (before - sys.getrefcount(None)) / 1000


def guard_none() -> float:
    """With the bug, None's refcount reaches 0 after enough Qt calls and Python aborts
    ('none_dealloc'); the app itself dies a few seconds into playback. Pad the count so the
    measurements can finish, and say so."""
    lost = none_refs_lost_per_call()
    if lost > 0:
        _NONE_GUARD.extend([None] * 5_000_000)
    return lost


# ---- 1. recompute after a hyperparameter change -----------------------------------------------


def bench_compute(scenario: Scenario) -> tuple[list[float], list[float]]:
    compute(scenario)  # compile or load the kernels from the Numba cache
    whole, one = [], []
    for repeat in range(RECOMPUTE_REPEATS):
        run = scenario.runs[CHANGED_RUN]
        run.hyperparams = {**run.hyperparams, "lr": CHANGED_LRS[repeat % 2]}
        began = time.perf_counter()
        compute(scenario)
        whole.append(time.perf_counter() - began)
        began = time.perf_counter()
        compute_run(scenario, run)
        one.append(time.perf_counter() - began)
    return whole, one


def bench_update_run(app: QApplication, tab: SimulatorTab) -> tuple[list[float], list[float]]:
    model = tab.model
    tab.playback.seek(tab.playback.last)  # full-length trails on the map
    settle(app)
    no_paint, with_paint = [], []
    for repeat in range(RECOMPUTE_REPEATS + 2):
        hyperparams = {**model.scenario.runs[CHANGED_RUN].hyperparams, "lr": CHANGED_LRS[repeat % 2]}
        began = time.perf_counter()
        model.update_run(CHANGED_RUN, hyperparams=hyperparams)
        done = time.perf_counter()
        app.processEvents()
        painted = time.perf_counter()
        if repeat >= 2:  # the first two warm up pyqtgraph's paths
            no_paint.append(done - began)
            with_paint.append(painted - began)
    return no_paint, with_paint


# ---- 2. one animation frame ---------------------------------------------------------------------


def time_frames(app: QApplication, show_frame, frames=FRAMES) -> list[float]:
    for k in frames[:5]:  # warm-up
        show_frame(k)
        app.processEvents()
    times = []
    for k in frames:
        began = time.perf_counter()
        show_frame(k)
        app.processEvents()
        times.append(time.perf_counter() - began)
    return times


def paints_per_frame(app: QApplication, show_frame, viewports) -> str:
    """What one frame really paints: viewport paint events and trail-layer paints, per frame."""
    events = PaintEvents(viewports)
    show_frame(FRAMES[0])
    app.processEvents()
    events.count, trails_before = 0, TRAIL_PAINTS[0]
    for k in FRAMES[1:11]:
        show_frame(k)
        app.processEvents()
    return (f"{events.count / 10:g} viewport paints ({len(viewports)} viewports), "
            f"{(TRAIL_PAINTS[0] - trails_before) / 10:g} trail-layer paints")


def make_map(app: QApplication, scenario: Scenario, results) -> MapView:
    surface = get_surface(scenario.surface)
    view = MapView(background_fields=False)
    view.resize(1000, 800)
    view.show()
    view.set_surface(surface)
    view.set_view(surface.bounds)
    view.set_results(scenario, results)
    settle(app)
    return view


def bench_map(app: QApplication, scenario: Scenario, results) -> dict:
    view = make_map(app, scenario, results)
    painted = paints_per_frame(app, view.set_frame, [view.viewport()])
    frames = time_frames(app, view.set_frame)
    fast = time_frames(app, view.set_frame, FAST_FRAMES)
    data_only = []
    for k in FRAMES:  # the same frames without painting: set_frame's own share
        began = time.perf_counter()
        view.set_frame(k)
        data_only.append(time.perf_counter() - began)
    view.trails.hide()  # diagnostic: what is left without the trails
    no_trails = time_frames(app, view.set_frame)
    view.close()
    view.deleteLater()
    # diagnostic: the same view built with pyqtgraph's antialiasing off (the app turns it on)
    pg.setConfigOptions(antialias=False)
    try:
        plain = make_map(app, scenario, results)
        no_aa = time_frames(app, plain.set_frame)
        plain.close()
        plain.deleteLater()
    finally:
        configure_pyqtgraph()
    app.processEvents()
    return {"frames": frames, "fast": fast, "data_only": data_only, "painted": painted,
            "no_trails": no_trails, "no_aa": no_aa}


def bench_tab_frames(app: QApplication, tab: SimulatorTab) -> tuple[list[float], str, list[float]]:
    settle(app)
    viewports = [tab.map.viewport(), tab.side.loss.viewport(), tab.side.lr.viewport()]
    painted = paints_per_frame(app, tab.playback.seek, viewports)
    frames = time_frames(app, tab.playback.seek)
    # diagnostic: a large window, where the views' pixmaps outgrow Qt's default pixmap cache
    tab.resize(2560, 1440)
    settle(app)
    large = time_frames(app, tab.playback.seek)
    return frames, painted, large


def frame_line(label: str, times: list[float]) -> str:
    median = statistics.median(times)
    p95 = float(np.percentile(times, 95))
    return (f"  {label:<44s} median {ms(median)}   p95 {ms(p95)}   max {ms(max(times))}"
            f"   -> {1 / median:6.1f} frames/s")


# ---- 3. cold start ---------------------------------------------------------------------------------

COLD_START = """\
import time; began = time.perf_counter()
import os, sys
from PySide6.QtWidgets import QApplication
import gui.app
from gui.settings import AppSettings
imported = time.perf_counter()
app = QApplication([])
window = gui.app.MainWindow(settings=AppSettings(sys.argv[1]), autoplay=False)
built = time.perf_counter()
window.show()
app.processEvents()
shown = time.perf_counter()
since_launch = time.time() - float(os.environ["BENCH_GUI_LAUNCHED"])
print(imported - began, built - imported, shown - built, shown - began, since_launch, flush=True)
os._exit(0)
"""


def cold_start(settings_dir: str, index: int) -> tuple[float, ...] | str:
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", BENCH_GUI_LAUNCHED=repr(time.time()))
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", COLD_START, str(Path(settings_dir) / f"settings{index}.json")],
        cwd=ROOT, env=environment, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - began
    if done.returncode != 0:
        return f"exit status {done.returncode}: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
    imported, built, shown, total, since_launch = map(float, done.stdout.strip().splitlines()[-1].split())
    return imported, built, shown, total, since_launch, wall


# ---- 4. torch baseline --------------------------------------------------------------------------


def torch_run(optimizer_name: str, hyperparams: dict, steps: int) -> np.ndarray:
    return torch_rosenbrock_path(steps, optimizer_name, hyperparams)


def bench_torch(scenario: Scenario) -> tuple[list[float], list[np.ndarray]]:
    times, paths = [], []
    for _ in range(TORCH_REPEATS):
        began = time.perf_counter()
        paths = [torch_run(run.optimizer, run.hyperparams, scenario.steps) for run in scenario.runs]
        times.append(time.perf_counter() - began)
    return times, paths


# ---- report -----------------------------------------------------------------------------------------


def main() -> None:
    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    count_trail_paints()
    lost_per_call = guard_none()
    guarded_at = sys.getrefcount(None)

    print(f"OptiScope GUI benchmark - {QApplication.platformName()}, Python {sys.version.split()[0]}, "
          f"PySide6 {PySide6.__version__}, pyqtgraph {pg.__version__}, torch {torch.__version__} "
          f"(threads=1), CPU: {os.cpu_count()} cores")
    print(f"scenario: rosenbrock from {START}, {len(RUNS)} runs x {STEPS:,} steps: "
          + ", ".join(f"{name} lr={h['lr']:g}" for name, _, h in RUNS))
    if lost_per_call > 0:
        print(f"WARNING: this PySide6 drops {lost_per_call:.0f} reference(s) to None per void call (Python "
              f"{sys.version_info.major}.{sys.version_info.minor}, where None is not immortal): after enough "
              "Qt calls Python aborts with 'none_dealloc: deallocating None'. This benchmark pads None's "
              "refcount to finish; the app itself has no such pad.")

    # 1 -------------------------------------------------------------------------------------------
    scenario = build_scenario()
    whole, one = bench_compute(scenario)
    results = compute(scenario)
    statuses = {r.spec.name: (r.trajectory.status if r.trajectory else r.error) for r in results}
    assert all(s == "ok" for s in statuses.values()), statuses
    tab = SimulatorTab(build_scenario())
    tab.resize(1560, 900)
    tab.show()
    settle(app)
    update_no_paint, update_paint = bench_update_run(app, tab)
    compute_median = statistics.median(whole)
    print()
    print(f"1. Recompute after changing one run's lr (warm Numba), median of {RECOMPUTE_REPEATS}; "
          f"target < {TARGET_RECOMPUTE_MS:g} ms")
    print(f"  compute(scenario): all 8 runs                {ms(compute_median)}"
          f"   (min {ms(min(whole))}, max {ms(max(whole))})   {verdict(compute_median, TARGET_RECOMPUTE_MS)}")
    print(f"  compute_run(): the one changed run           {ms(statistics.median(one))}")
    print(f"  tab.model.update_run(): recompute + redraw   {ms(statistics.median(update_no_paint))}"
          f"   (min {ms(min(update_no_paint))}, max {ms(max(update_no_paint))})")
    print(f"  ... + processEvents (the paint that follows) {ms(statistics.median(update_paint))}"
          f"   (min {ms(min(update_paint))}, max {ms(max(update_paint))})   "
          f"{verdict(statistics.median(update_paint), TARGET_RECOMPUTE_MS)}")

    # 2 -------------------------------------------------------------------------------------------
    on_map = bench_map(app, scenario, results)
    tab_frames, tab_painted, tab_large = bench_tab_frames(app, tab)
    print()
    print(f"2. One animation frame, 8 runs, trails of {FRAMES[0] + 1:,}-{FRAMES[-1] + 1:,} points "
          f"(frames {FRAMES[0]}..{FRAMES[-1]}, {len(FRAMES)} samples, each followed by processEvents); "
          f"target < {TARGET_FRAME_MS:g} ms")
    print(f"  painting checked, per map frame: {on_map['painted']}; per tab frame (map, loss, lr): "
          f"{tab_painted}")
    print(frame_line("MapView 1000x800: set_frame + paint", on_map["frames"])
          + "   " + verdict(statistics.median(on_map["frames"]), TARGET_FRAME_MS))
    print(frame_line("  of which set_frame alone (no paint)", on_map["data_only"]))
    print(frame_line("  16 steps a frame (1,000 steps/s)", on_map["fast"]))
    print(frame_line("  diagnostic: same with the 8 trails hidden", on_map["no_trails"]))
    print(frame_line("  diagnostic: same, pyqtgraph antialias off", on_map["no_aa"]))
    print(frame_line("SimulatorTab 1560x900: seek + paint", tab_frames)
          + "   " + verdict(statistics.median(tab_frames), TARGET_FRAME_MS))
    print("  (playback.seek(k) runs tab._show_frame(k): map, side-plot cursors and table; and the "
          "playback bar)")
    print(frame_line("  diagnostic: same tab at 2560x1440", tab_large))
    tab.close()

    # 3 -------------------------------------------------------------------------------------------
    print()
    print(f"3. Cold start to a shown MainWindow (fresh interpreter, settings in a temp dir, "
          f"autoplay off), {COLD_STARTS} runs")
    print("  Numba cache: warm for every run (this process already ran the kernels, which fills the on-disk "
          "cache);\n  only the first start after a simulator change compiles. Run 1 may also pay cold OS "
          "file caches.")
    starts = []
    with tempfile.TemporaryDirectory() as settings_dir:
        for index in range(COLD_STARTS):
            outcome = cold_start(settings_dir, index)
            if isinstance(outcome, str):
                print(f"  run {index + 1}: FAILED, {outcome}")
                continue
            imported, built, shown, total, since_launch, wall = outcome
            starts.append((total, since_launch, wall))
            print(f"  run {index + 1}: {total:5.2f} s from the top of -c (imports {imported:4.2f} s, "
                  f"MainWindow {built:4.2f} s, show+events {shown:4.2f} s); "
                  f"{since_launch:5.2f} s from launch; subprocess wall {wall:5.2f} s")
    if starts:
        print(f"  median: {statistics.median(s[0] for s in starts):5.2f} s from the top of -c, "
              f"{statistics.median(s[1] for s in starts):5.2f} s from launch (interpreter start included), "
              f"{statistics.median(s[2] for s in starts):5.2f} s subprocess wall")

    # 4 -------------------------------------------------------------------------------------------
    torch_times, torch_paths = bench_torch(scenario)
    torch_median = statistics.median(torch_times)
    results = compute(scenario)
    gaps = [float(np.max(np.abs(path[-1] - result.trajectory.xy[-1])))
            for path, result in zip(torch_paths, results, strict=True)]
    print()
    print(f"4. torch baseline: the same {len(RUNS)} runs x {STEPS:,} steps as torch.optim loops with the "
          f"analytic gradient, median of {TORCH_REPEATS}")
    print(f"  torch.optim loops                            {ms(torch_median)}   (min {ms(min(torch_times))})")
    print(f"  compute(scenario) (from 1.)                  {ms(compute_median)}")
    print(f"  ratio torch / compute                        {torch_median / compute_median:8.0f}x")
    print(f"  final points, torch vs simulator: largest |difference| {max(gaps):.3g}")

    if lost_per_call > 0:
        dropped = guarded_at - sys.getrefcount(None)
        print()
        print(f"None references dropped by PySide6 during this benchmark: {dropped:,} "
              f"(None had ~{guarded_at - len(_NONE_GUARD):,} without the pad)")


if __name__ == "__main__":
    main()
