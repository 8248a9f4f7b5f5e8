"""Simulator speed, measured in one run against plain torch.optim loops doing the same work.

Prints: steps/s of one recorded Adam trajectory on Rosenbrock against
  (a) the loop a user would write: torch.optim.Adam on a 2-element float64 tensor, autograd loss;
  (b) a leaner torch loop: the same optimizer fed the analytic gradient (no autograd);
the kernels' first-call time with a cold and with a warm Numba cache, and `import simulator` time.
Target: >= 1000x loop (a); every start-up compile "a few seconds" at most with the cache warm.

Run: make bench   (or .venv/bin/python benchmarks/bench_simulator.py)
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from simulator import simulate  # noqa: E402

START = (-1.5, 2.0)
LR = 0.01


def best_rate(run, steps: int, repeats: int) -> float:
    """Best steps/s over ``repeats`` timed calls (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        run(steps)
        best = min(best, time.perf_counter() - began)
    return steps / best


def simulator_run(steps: int) -> None:
    simulate("rosenbrock", "Adam", start=START, steps=steps, hyperparams={"lr": LR})


def torch_autograd_run(steps: int) -> None:
    point = torch.nn.Parameter(torch.tensor(START, dtype=torch.float64))
    optimizer = torch.optim.Adam([point], lr=LR)
    path = np.empty((steps + 1, 2))
    for k in range(steps):
        optimizer.zero_grad()
        loss = (1 - point[0]) ** 2 + 100 * (point[1] - point[0] ** 2) ** 2
        loss.backward()
        path[k] = point.detach().numpy()
        optimizer.step()


def torch_rosenbrock_path(steps: int, optimizer_name: str = "Adam", hyperparams=None) -> np.ndarray:
    """A plain torch.optim loop fed Rosenbrock's analytic gradient: the baseline the benchmarks share."""
    point = torch.nn.Parameter(torch.tensor(START, dtype=torch.float64))
    optimizer = getattr(torch.optim, optimizer_name)([point], **(hyperparams or {"lr": LR}))
    path = np.empty((steps + 1, 2))
    for k in range(steps):
        x, y = point.detach().numpy()
        gradient = [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]
        point.grad = torch.tensor(gradient, dtype=torch.float64)
        path[k] = (x, y)
        optimizer.step()
    path[steps] = point.detach().numpy()
    return path


def torch_analytic_run(steps: int) -> None:
    torch_rosenbrock_path(steps)


def in_fresh_process(code: str, cache_dir: str) -> float:
    """Seconds the snippet reports from a new interpreter with NUMBA_CACHE_DIR=cache_dir."""
    environment = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip().splitlines()[-1])


IMPORT_TIME = "import time; t=time.perf_counter(); import simulator; print(time.perf_counter()-t)"
FIRST_CALL = (
    "import time, simulator; t=time.perf_counter(); "
    "[simulator.simulate('rosenbrock', name, steps=10) for name in simulator.OPTIMIZERS]; "
    "print(time.perf_counter()-t)"
)


def main() -> None:
    torch.set_num_threads(1)
    simulator_run(10)  # compile (or load from cache) before timing
    # 20 000 steps: a long run in the app; 1 000 000: where recording outgrows the CPU caches.
    ours = best_rate(simulator_run, 20_000, 20)
    ours_long = best_rate(simulator_run, 1_000_000, 3)
    autograd = best_rate(torch_autograd_run, 5_000, 3)
    analytic = best_rate(torch_analytic_run, 5_000, 3)
    print(f"torch {torch.__version__}, threads=1, CPU: {os.cpu_count()} cores")
    for label, rate in (("20k", ours), ("1M ", ours_long)):
        print(f"simulator Adam/Rosenbrock, {label} steps recorded: {rate:12,.0f} steps/s"
              f" ({1e9 / rate:.0f} ns/step)")
    print(f"torch.optim.Adam loop with autograd:           {autograd:12,.0f} steps/s"
          f"  -> ratio {ours / autograd:,.0f}x (1M: {ours_long / autograd:,.0f}x)")
    print(f"torch.optim.Adam loop, analytic grad:          {analytic:12,.0f} steps/s"
          f"  -> ratio {ours / analytic:,.0f}x (1M: {ours_long / analytic:,.0f}x)")

    with tempfile.TemporaryDirectory() as cold_cache:
        cold = in_fresh_process(FIRST_CALL, cold_cache)
        warm = in_fresh_process(FIRST_CALL, cold_cache)
        import_cold_cache = in_fresh_process(IMPORT_TIME, cold_cache)
    print(f"first simulate() of all {12} optimizers, cold Numba cache: {cold:6.2f} s (compiles)")
    print(f"first simulate() of all {12} optimizers, warm Numba cache: {warm:6.2f} s")
    print(f"import simulator (warm cache):                            {import_cold_cache:6.2f} s")


if __name__ == "__main__":
    main()
