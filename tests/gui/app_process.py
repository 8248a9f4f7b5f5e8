"""`python main.py` in a child process, waited for until its window is shown (the ready marker)."""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gui.startup import READY_FILE_VARIABLE

ROOT = Path(__file__).resolve().parents[2]
WINDOW_LIMIT_S = 240  # generous: a cold Numba cache on a slow, busy machine compiles for a while


@dataclass
class Started:
    shown: dict | None  # what the ready marker says (title, visible, size, runs, ...); None: no window
    alive: bool  # still running when the window was shown (then killed)
    returncode: int
    stderr: str


def start_app(folder: Path, platform: str = "offscreen", **env_changes) -> Started:
    """Start the app with ``HOME`` and ``XDG_CONFIG_HOME`` in ``folder`` (unless given) and Qt on
    ``platform``; return once its window is shown, or it exited, or the limit passed."""
    ready = folder / "ready.json"
    env = dict(os.environ, QT_QPA_PLATFORM=platform, XDG_CONFIG_HOME=str(folder), HOME=str(folder))
    env.update(env_changes)
    env[READY_FILE_VARIABLE] = str(ready)
    process = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + WINDOW_LIMIT_S
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the marker, not waiting in its place
        alive = process.poll() is None
    finally:
        process.kill()
        _, err = process.communicate(timeout=30)
    shown = json.loads(ready.read_text()) if ready.exists() else None
    return Started(shown, alive, process.returncode, err)
