"""The Explore tab: basin maps and lr sweeps from the batch engine, in a worker thread, offscreen."""

import csv
import threading

import numpy as np
import pytest

from gui.explore_tab.views import DIVERGED, NOT_CONVERGED, basin_image, minimum_colour
from simulator import simulate

WAIT_MS = 120_000


@pytest.fixture
def explore(window):
    tab = window.show_explore()
    tab.model.set_steps(150)
    tab.resolution.setCurrentIndex(0)  # 64 x 64
    return tab


def wait_idle(qtbot, tab):
    qtbot.waitUntil(lambda: not tab.is_busy, timeout=WAIT_MS)


def test_basin_map_labels_every_start_and_explains_it(qtbot, explore):
    assert explore.compute_basin()
    wait_idle(qtbot, explore)
    result = explore.basin_result
    assert result is not None and not result.cancelled and len(result.final_loss) == 64 * 64
    assert set(np.unique(result.minimum_index)) <= {-1, 0, 1, 2, 3}
    assert len({i for i in result.minimum_index if i >= 0}) == 4  # Himmelblau: four basins
    xs, ys, _ = explore._basin_grid
    row = 40 * 64 + 50
    start = (xs[50], ys[40])
    single = simulate("himmelblau", "Adam", start=start, steps=150, hyperparams={"lr": 0.1})
    assert tuple(result.final_xy[row]) == tuple(single.final)
    text = explore.basin.describe(*start)
    assert text.startswith(f"start ({start[0]:.4g}, {start[1]:.4g}):") and "minimum" in text
    image = explore.basin.image.image
    assert image.shape == (64, 64, 3)
    assert np.array_equal(image, basin_image(result, (64, 64)))


def test_clicking_a_start_plays_it_in_the_simulator(qtbot, window, explore):
    explore.compute_basin()
    wait_idle(qtbot, explore)
    xs, ys, _ = explore._basin_grid
    explore.basin.start_clicked.emit(float(xs[10]), float(ys[20]))
    scenario = window.simulator.model.scenario
    added = scenario.runs[-1]
    assert scenario.surface == "himmelblau" and scenario.steps == 150
    assert added.start == (xs[10], ys[20]) and added.optimizer == "Adam" and added.hyperparams == {"lr": 0.1}
    assert window.tabs.currentWidget() is window.simulator
    trajectory = window.simulator.model.results[-1].trajectory
    index = 20 * 64 + 10
    assert tuple(trajectory.final) == tuple(explore.basin_result.final_xy[index])
    window.simulator.playback.pause()


def test_playing_a_start_says_which_scenario_settings_the_simulator_took(qtbot, window, explore):
    window.simulator.model.set_noise(2.0)
    window.simulator.scenario_panel.refresh()
    explore.compute_basin()
    wait_idle(qtbot, explore)
    xs, ys, _ = explore._basin_grid
    explore.basin.start_clicked.emit(float(xs[10]), float(ys[20]))
    scenario = window.simulator.model.scenario
    assert scenario.noise == explore.model.scenario.noise == 0.0
    assert window.simulator.scenario_panel.noise.text() == "0"  # the field shows what the runs use
    assert "noise σ 0" in window.statusBar().currentMessage()
    window.simulator.playback.pause()


def test_a_large_map_can_be_cancelled(qtbot, explore):
    explore.model.set_steps(5000)
    explore.resolution.setCurrentIndex(3)  # 512 x 512 x 5000 steps: far too long to wait for
    assert explore.compute_basin()
    qtbot.waitUntil(lambda: explore.progress.maximum() > 1, timeout=WAIT_MS)
    explore.cancel()
    wait_idle(qtbot, explore)
    result = explore.basin_result
    assert result.cancelled and 0 < np.count_nonzero(result.done) < 512 * 512
    assert "cancelled" in explore.progress.format() and explore.basin_button.isEnabled()
    # the legend's shares count the starts computed, never the black pixels that were not
    computed = np.count_nonzero(result.done)
    elsewhere = np.count_nonzero((result.minimum_index < 0) & ~result.diverged & result.done) / computed
    legend = explore.basin.legend.text()
    assert f"shares of the {computed:,} starts computed" in legend
    assert f"ends elsewhere {elsewhere:.0%}" in legend


def test_sweep_marks_a_best_lr_per_run_and_opens_a_point(qtbot, window, explore):
    explore.lr_low.setText("1e-3")
    explore.lr_high.setText("0.3")
    explore.lr_count.setValue(6)
    explore.start_count.setValue(8)
    explore.model.update_run(2, visible=False)
    assert explore.compute_sweep()
    wait_idle(qtbot, explore)
    lines = explore.sweep.lines
    assert [line["name"] for line in lines] == ["Adam", "SGD"]
    for line, (_, _, _, result, _) in zip(lines, explore.sweep_results, strict=True):
        assert result.final_loss.shape == (6, 8) and line["best"] == result.best_index
        assert line["lrs"].tolist() == pytest.approx(np.geomspace(1e-3, 0.3, 6).tolist())
    assert "best lr" in explore.sweep.note.text()
    stars = [item for item in explore.sweep.plot.getPlotItem().listDataItems() if item.opts["symbol"] == "star"]
    assert len(stars) == 2
    opened = []
    explore.sweep.point_clicked.connect(lambda run, lr: opened.append((run, lr)))
    stars[1].sigPointsClicked.emit(stars[1], stars[1].scatter.points(), None)  # what a click on it emits
    assert opened == [(lines[1]["run"], float(lines[1]["lrs"][lines[1]["best"]]))]
    explore.sweep.point_clicked.emit(1, 0.01)
    added = window.simulator.model.scenario.runs[-1]
    assert added.optimizer == "SGD" and added.hyperparams["lr"] == 0.01 and added.start is None
    window.simulator.playback.pause()


def test_bad_lr_range_is_refused_with_a_message(qtbot, explore, dialogs):
    explore.lr_low.setText("0.5")
    explore.lr_high.setText("0.1")
    assert not explore.compute_sweep()
    assert "0 < from < to" in dialogs[-1] and not explore.is_busy


def test_exports_of_map_and_sweep(qtbot, explore, tmp_path):
    with pytest.raises(ValueError, match="compute a basin map first"):
        explore.export_basin(tmp_path / "none.csv")
    explore.compute_basin()
    wait_idle(qtbot, explore)
    assert explore.export_basin(tmp_path / "basin.csv") == 64 * 64
    with open(tmp_path / "basin.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["x0", "y0", "final_x"] and len(rows) == 64 * 64 + 1
    assert float(rows[1][2]) == explore.basin_result.final_xy[0, 0]
    # every cell is a plain number: the starts read back as the map's own grid
    xs, ys, _ = explore._basin_grid
    starts = np.array([[float(row[0]), float(row[1])] for row in rows[1:]])
    grid_x, grid_y = np.meshgrid(xs, ys)
    assert np.array_equal(starts, np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    explore.export_image(explore.basin.plot, tmp_path / "basin.png")
    assert (tmp_path / "basin.png").stat().st_size > 1000
    explore.lr_count.setValue(3)
    explore.start_count.setValue(4)
    explore.compute_sweep()
    wait_idle(qtbot, explore)
    assert explore.export_sweep(tmp_path / "sweep.csv") == 3 * 3 * 4
    with pytest.raises(ValueError, match="cannot write"):
        explore.export_image(explore.sweep.plot, tmp_path / "missing" / "sweep.png")


def test_basin_colours():
    from types import SimpleNamespace

    result = SimpleNamespace(
        minimum_index=np.array([0, 1, -1, 0]), diverged=np.array([False, False, False, True]),
        converged_step=np.array([0, 100, -1, -1]), steps=100, minima=np.zeros((2, 2)),
        done=np.array([True, True, True, True]))
    image = basin_image(result, (2, 2)).reshape(4, 3)
    assert tuple(image[0]) == minimum_colour(0)  # at once: full brightness
    assert np.all(image[1] < np.array(minimum_colour(1))) and np.any(image[1] > 0)  # slowest: dimmer
    assert tuple(image[2]) == NOT_CONVERGED and tuple(image[3]) == DIVERGED


def test_the_basin_csv_is_written_in_the_job_thread(qtbot, explore, tmp_path, monkeypatch):
    explore.compute_basin()
    wait_idle(qtbot, explore)
    target = tmp_path / "basin.csv"
    monkeypatch.setattr(explore, "_ask", lambda *args: str(target))
    threads = []
    real_export = explore.export_basin
    monkeypatch.setattr(explore, "export_basin", lambda path: threads.append(threading.current_thread())
                        or real_export(path))
    explore.export_basin_dialog()
    assert explore.is_busy  # the dialog returned while the rows are being written
    wait_idle(qtbot, explore)
    assert threads and threads[0] is not threading.main_thread()
    assert target.exists() and len(target.read_text().splitlines()) == 64 * 64 + 1
    assert explore.progress.format() == f"{64 * 64:,} rows written"
