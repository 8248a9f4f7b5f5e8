"""The first start as a user meets it: `python main.py` to a shown window, with Numba's cache cold
and warm, and `main.py prepare` (the step `make` runs once after installing), measured in one run.

Each cold case gets an empty NUMBA_CACHE_DIR of its own, so nothing here touches the project's own
cache. The window is "shown" when the app writes its ready marker (OPTISCOPE_READY_FILE), which
it does from the event loop once the main window is visible.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_startup.py
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gui.startup import READY_FILE_VARIABLE, SPLASH_AFTER_S  # noqa: E402

WARM_STARTS = 3
LIMIT_S = 600


def start_to_window(cache_dir: str, scratch: Path) -> tuple[float, dict]:
    """Seconds from launching `main.py` to its shown window, and what its ready marker says."""
    marker = scratch / f"ready-{time.monotonic_ns()}.json"
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, XDG_CONFIG_HOME=str(scratch), HOME=str(scratch),
               QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    env[READY_FILE_VARIABLE] = str(marker)
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while not marker.exists():
            if process.poll() is not None:
                raise RuntimeError(f"main.py exited with {process.returncode}: {process.stderr.read()}")
            if time.perf_counter() - began > LIMIT_S:
                raise RuntimeError(f"no window within {LIMIT_S} s")
            time.sleep(0.01)
        seconds = time.perf_counter() - began
    finally:
        process.kill()
        process.communicate(timeout=30)
    return seconds, json.loads(marker.read_text())


def prepare(cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    began = time.perf_counter()
    subprocess.run([sys.executable, "main.py", "prepare", "--quiet"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=LIMIT_S)
    return time.perf_counter() - began


def main() -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', 'offscreen')}")
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)

        cold_cache = str(scratch / "cold-cache")
        cold, shown = start_to_window(cold_cache, scratch)
        kernels = shown["kernels_s"]
        blank = cold - kernels + SPLASH_AFTER_S if kernels > SPLASH_AFTER_S else cold
        print(f"1. main.py, empty Numba cache (an install without make):     {cold:6.2f} s to the window")
        print(f"   of which compiling behind the splash:                     {kernels:6.2f} s "
              f"(nothing on screen for about {blank:.1f} s)")
        warm = [start_to_window(cold_cache, scratch)[0] for _ in range(WARM_STARTS)]
        print(f"2. main.py again, that cache now warm (median of {WARM_STARTS}):        "
              f"{statistics.median(warm):6.2f} s to the window")

        make_cache = str(scratch / "make-cache")
        prepared = prepare(make_cache)
        print(f"3. main.py prepare, empty cache (make's set-up step, once):  {prepared:6.2f} s, every kernel")
        print(f"   main.py prepare again, warm (make when nothing changed):  {prepare(make_cache):6.2f} s")
        after_make = [start_to_window(make_cache, scratch)[0] for _ in range(WARM_STARTS)]
        after = statistics.median(after_make)
        print(f"4. main.py after prepare: the first `make run` (median of {WARM_STARTS}):  {after:6.2f} s "
              f"to the window, {cold / after:4.1f}x sooner than 1.")


if __name__ == "__main__":
    main()
