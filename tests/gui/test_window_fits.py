"""A first start opens within the screen, on a laptop's 1280x800 as on 1920x1080, with every
visible widget at least as large as it needs to be."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gui.startup import READY_FILE_VARIABLE

ROOT = Path(__file__).resolve().parents[2]
WINDOW_LIMIT_S = 240


@pytest.mark.parametrize("width, height", [(1280, 800), (1920, 1080)])
def test_a_first_start_opens_within_the_screen(tmp_path, width, height):
    screens = tmp_path / "screens.json"
    screens.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": width,
                                                "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                                "dpr": 1}]}))
    ready = tmp_path / "ready.json"
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screens}", XDG_CONFIG_HOME=str(tmp_path),
               HOME=str(tmp_path))
    env[READY_FILE_VARIABLE] = str(ready)
    process = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + WINDOW_LIMIT_S
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the marker, not waiting in its place
    finally:
        process.kill()
        _, err = process.communicate(timeout=30)
    assert ready.exists(), err
    shown = json.loads(ready.read_text())
    assert shown["width"] <= width and shown["height"] <= height - 32, shown
    assert shown["width"] >= min(1560, width) - 1  # as large as the screen lets it be
