"""A first start opens within the screen, on a laptop's 1280x800 as on 1920x1080."""

import json

import pytest

from tests.gui.app_process import start_app


@pytest.mark.parametrize("width, height", [(1280, 800), (1920, 1080)])
def test_a_first_start_opens_within_the_screen(tmp_path, width, height):
    screens = tmp_path / "screens.json"
    screens.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": width,
                                                "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                                "dpr": 1}]}))
    started = start_app(tmp_path, platform=f"offscreen:configfile={screens}")
    assert started.shown is not None, started.stderr
    shown = started.shown
    assert shown["width"] <= width and shown["height"] <= height - 32, shown
    assert shown["width"] >= min(1560, width) - 1  # as large as the screen lets it be
