"""Batch exploration speed: simulate_many() against plain torch.optim doing the same work, in one run.

The job: Adam (lr 0.01) on Rosenbrock from a 256 × 256 grid of starts over the view, 1000 steps.
Prints row-steps/s of
  (a) simulate_many(), best of several calls after a warm-up (compile time excluded);
  (b) the loop a user would write: one torch.optim.Adam over a (65536, 2) float64 tensor, loss
      summed over the rows, autograd; its default, foreach=False and fused=True variants, the best
      one counts. Run for fewer steps and scaled, since it is slow;
the ratio (target >= 3x), ns per row-step per core, and, for scale, the floor: Adam's exact update
alone over the same rows (its square roots and divisions, vectorised, no surface, no checks).
Also the first simulate_many() call in a fresh process with a warm Numba cache (and, with --cold,
with an empty cache: the compile).
The machine may be shared: every timing is the best of several repeats.

Run: .venv/bin/python benchmarks/bench_explore.py [--cold]
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from numba import njit, prange  # noqa: E402

from simulator import get_optimizer, get_surface, simulate_many  # noqa: E402
from simulator.batch import BLOCK_ROWS, _adam_axis  # noqa: E402
from simulator.numerics import FUSED, cpow  # noqa: E402

SIDE = 256
STEPS = 1000
TORCH_STEPS = 100
ROUNDS = 4
LR = 0.01


def grid_starts() -> np.ndarray:
    xmin, xmax, ymin, ymax = get_surface("rosenbrock").bounds
    xs, ys = np.meshgrid(np.linspace(xmin, xmax, SIDE), np.linspace(ymin, ymax, SIDE))
    return np.column_stack([xs.ravel(), ys.ravel()])


def best_seconds(run, repeats: int) -> float:
    """Best wall time over ``repeats`` calls (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return best


def torch_stepper(starts: np.ndarray, **options):
    """One step of the loop a user would write, ready to call (warmed up)."""
    point = torch.nn.Parameter(torch.tensor(starts, dtype=torch.float64))
    optimizer = torch.optim.Adam([point], lr=LR, **options)

    def step():
        optimizer.zero_grad()
        x, y = point[:, 0], point[:, 1]
        loss = ((1 - x) ** 2 + 100 * (y - x * x) ** 2).sum()
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step()
    return step


@njit(parallel=True, error_model="numpy")
def _adam_floor(blocks, steps, lr, hp, fused):
    """Adam's exact update alone, per block of rows, as simulate_many() runs it (no surface, no checks)."""
    for _ in prange(blocks):
        xs, ys = np.linspace(-1.0, 1.0, BLOCK_ROWS), np.linspace(-1.0, 3.0, BLOCK_ROWS)
        gxs, gys = np.linspace(0.5, 1.5, BLOCK_ROWS), np.linspace(-1.5, 0.5, BLOCK_ROWS)
        moments = np.zeros((6, BLOCK_ROWS))
        for k in range(steps):
            t = float(k + 1)
            bias_correction1 = 1.0 - cpow(hp[0], t)
            bias_correction2_sqrt = cpow(1.0 - cpow(hp[1], t), 0.5)
            _adam_axis(BLOCK_ROWS, xs, gxs, moments[0], moments[2], moments[4], lr, gxs, False, hp,
                       bias_correction1, bias_correction2_sqrt, fused)
            _adam_axis(BLOCK_ROWS, ys, gys, moments[1], moments[3], moments[5], lr, gys, False, hp,
                       bias_correction1, bias_correction2_sqrt, fused)


def in_fresh_process(code: str, cache_dir: str | None) -> float:
    """Seconds the snippet reports from a new interpreter (NUMBA_CACHE_DIR=cache_dir when given)."""
    environment = dict(os.environ)
    if cache_dir is not None:
        environment["NUMBA_CACHE_DIR"] = cache_dir
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip().splitlines()[-1])


FIRST_CALL = (
    "import time, numpy as np, simulator; t=time.perf_counter(); "
    "simulator.simulate_many('rosenbrock', 'Adam', np.array([[0.5, 0.5], [-1.0, 2.0]]), 10); "
    "print(time.perf_counter()-t)"
)


def main() -> None:
    starts = grid_starts()
    rows = len(starts)
    threads = numba.config.NUMBA_NUM_THREADS
    simulate_many("rosenbrock", "Adam", starts[:64], 10, {"lr": LR})  # compile (or load) before timing
    result = simulate_many("rosenbrock", "Adam", starts, STEPS, {"lr": LR})
    hp = get_optimizer("Adam").pack(get_optimizer("Adam").resolve({"lr": LR}))
    blocks = rows // BLOCK_ROWS
    _adam_floor(1, 2, LR, hp, FUSED)
    variants = {"default": {}, "foreach=False": {"foreach": False}, "fused=True": {"fused": True}}
    steppers = {name: torch_stepper(starts, **options) for name, options in variants.items()}

    def explore():
        simulate_many("rosenbrock", "Adam", starts, STEPS, {"lr": LR})

    # Rounds interleave the contenders, so that load from elsewhere on the machine hits them alike.
    ours = floor = float("inf")
    torch_times = dict.fromkeys(variants, float("inf"))
    for _ in range(ROUNDS):
        ours = min(ours, best_seconds(explore, 3))
        for name, step in steppers.items():
            seconds = best_seconds(lambda step=step: [step() for _ in range(TORCH_STEPS)], 1)
            torch_times[name] = min(torch_times[name], seconds * STEPS / TORCH_STEPS)
        floor = min(floor, best_seconds(lambda: _adam_floor(blocks, STEPS, LR, hp, FUSED), 2))
    best_torch = min(torch_times, key=torch_times.get)

    row_steps = rows * STEPS
    per_core = 1e9 * threads / row_steps
    print(f"numpy {np.__version__}, numba {numba.__version__} (threading layer {numba.threading_layer()}, "
          f"{threads} threads), torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"CPU: {os.cpu_count()} cores")
    print(f"job: Adam lr={LR} on rosenbrock, {SIDE}x{SIDE} starts over the view, {STEPS} steps "
          f"({row_steps:,} row-steps); {int((result.converged_step >= 0).sum())} rows reach the minimum, "
          f"{int(result.diverged.sum())} diverge")
    print(f"simulate_many:                      {ours:7.3f} s  {row_steps / ours:14,.0f} row-steps/s"
          f"  {ours * per_core:5.2f} ns per row-step per core")
    for name, seconds in torch_times.items():
        print(f"torch.optim.Adam autograd, {name:14s}: {seconds:7.3f} s  "
              f"{row_steps / seconds:14,.0f} row-steps/s  (timed over {TORCH_STEPS} steps, scaled)")
    print(f"ratio simulate_many / best torch ({best_torch}): {torch_times[best_torch] / ours:.1f}x"
          "  (target >= 3x)")
    print(f"floor, Adam's exact update alone:   {floor:7.3f} s  {row_steps / floor:14,.0f} row-steps/s"
          f"  {floor * per_core:5.2f} ns per row-step per core -> simulate_many takes {ours / floor:.1f}x it")

    first_warm = in_fresh_process(FIRST_CALL, None)
    print(f"first simulate_many() in a fresh process, warm Numba cache: {first_warm:6.2f} s")
    if "--cold" in sys.argv:
        with tempfile.TemporaryDirectory() as cold_cache:
            cold = in_fresh_process(FIRST_CALL, cold_cache)
        print(f"first simulate_many() in a fresh process, empty Numba cache: {cold:6.2f} s (compiles all)")


if __name__ == "__main__":
    main()
