"""Every picture and file the app exports is whole or not written: on a full disk the old file stays,
the message names the real cause, and no temporary is left behind."""

import os
from types import SimpleNamespace

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from gui.widgets.image_files import save_widget_picture
from simulator.errors import SimulatorError
from tests.file_limits import file_size_limit
from tests.test_cli import run_cli

LIMIT = 64 * 1024


def scenario_file(folder):
    from gui.scenario import default_scenario

    path = folder / "scenario.json"
    default_scenario().save(path)
    return path


def temporaries(folder):
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


@pytest.mark.parametrize("name", ["map.png", "map.svg"])
def test_render_to_a_full_disk_fails_and_keeps_the_old_picture(tmp_path, capsys, name):
    scenario = scenario_file(tmp_path)
    out = tmp_path / name
    code, _, err = run_cli(capsys, "render", scenario, "--out", out, "--size", "200x150")
    assert code == 0, err
    before = out.read_bytes()
    with file_size_limit(LIMIT):
        code, stdout, err = run_cli(capsys, "render", scenario, "--out", out, "--size", "1600x1200")
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and "file size limit" in err and "unknown image type" not in err
    assert out.read_bytes() == before and temporaries(tmp_path) == []


def test_export_map_of_the_window_is_atomic(window, tmp_path):
    out = tmp_path / "map.png"
    out.write_bytes(b"an earlier picture")
    window.resize(1600, 1000)
    with file_size_limit(1024), pytest.raises(SimulatorError, match="file size limit"):
        window.simulator.export_map(str(out))
    assert out.read_bytes() == b"an earlier picture" and temporaries(tmp_path) == []
    window.simulator.export_map(str(out))
    assert QImage(str(out)).width() > 100


def test_an_unknown_image_type_is_named_as_such(window, tmp_path):
    with pytest.raises(SimulatorError, match=r"unknown image type '\.txt'"):
        window.simulator.export_map(str(tmp_path / "map.txt"))
    assert "map.txt" not in os.listdir(tmp_path)


@pytest.mark.parametrize("name", ["plot.png", "plot.svg"])
def test_widget_pictures_are_atomic(qtbot, tmp_path, name):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(900, 700)
    plot.plot([1, 2, 3, 4] * 500, [4, 1, 3, 2] * 500)
    out = tmp_path / name
    save_widget_picture(plot, out)
    good = out.read_bytes()
    assert len(good) > 1000
    with file_size_limit(512), pytest.raises(SimulatorError, match="file size limit"):
        save_widget_picture(plot, out)
    assert out.read_bytes() == good and temporaries(tmp_path) == []


def test_export_checkpoint_keeps_the_old_file_on_a_full_disk(window, tmp_path):
    from trainers.errors import ConfigError

    training = window.show_training()
    checkpoint = tmp_path / "run.pt"
    checkpoint.write_bytes(os.urandom(200_000))
    exported = tmp_path / "exported.pt"
    exported.write_bytes(b"the old export")
    record = SimpleNamespace(checkpoint_path=checkpoint)
    with file_size_limit(LIMIT), pytest.raises(ConfigError, match="file size limit"):
        training.export_checkpoint(record, exported)
    assert exported.read_bytes() == b"the old export" and temporaries(tmp_path) == []
    training.export_checkpoint(record, exported)
    assert exported.read_bytes() == checkpoint.read_bytes()
