"""Small things a user notices: names, colours, what an export holds."""

import pytest

from gui.scenario import PALETTE, RunSpec, default_scenario
from gui.simulator_tab.map_view import ARROW_COLORS


def rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def test_duplicating_a_numbered_run_counts_on():
    scenario = default_scenario()
    scenario.runs = [RunSpec(name=name, optimizer="Adam") for name in ("Adam", "Adam (2)", "Adam (3)")]
    assert scenario.unique_name("Adam (3)") == "Adam (4)"
    assert scenario.unique_name("Adam") == "Adam (4)"
    assert scenario.unique_name("SGD (lr 0.1)") == "SGD (lr 0.1)"


def test_no_arrow_shares_a_colour_with_a_run():
    for kind, colour in ARROW_COLORS.items():
        nearest = min(sum((a - b) ** 2 for a, b in zip(rgb(colour), rgb(run), strict=True)) ** 0.5
                      for run in PALETTE)
        assert nearest > 90, (kind, colour)


def test_the_basin_export_holds_the_legend_and_no_buttons(qtbot, window, tmp_path):
    from PySide6.QtGui import QImage

    explore = window.show_explore()
    explore.model.set_steps(150)
    explore.resolution.setCurrentIndex(0)  # 64 x 64
    assert explore.compute_basin()
    qtbot.waitUntil(lambda: not explore.is_busy, timeout=120_000)
    plot = explore.basin.plot.getPlotItem()
    assert plot.buttonsHidden and not plot.getAxis("bottom").autoSIPrefix
    explore.export_image(explore.basin.figure, tmp_path / "basin.png")
    picture = QImage(str(tmp_path / "basin.png"))
    assert picture.height() > explore.basin.plot.height() + explore.basin.legend.height() // 2
    assert explore.basin.legend.text() and explore.basin.legend.isVisibleTo(explore.basin.figure)


def test_the_timeline_spans_the_window_on_a_laptop(qtbot, window):
    from gui.simulator_tab.playback import TIMELINE_MIN_WIDTH

    window.resize(1280, 768)
    qtbot.waitUntil(lambda: window.width() == 1280)
    bar = window.simulator.bar
    assert bar.width() >= window.width() - 20  # under the map and the side plots, not the map alone
    assert bar.slider.width() >= TIMELINE_MIN_WIDTH


def test_a_typed_value_moves_its_slider(qtbot, window):
    from gui.widgets.param_editors import ParamForm

    form = next(f for f in window.simulator.findChildren(ParamForm) if "lr" in f.fields and f.isVisible())
    field = form.fields["lr"]
    assert field.slider is not None
    field.edit.setText("100")  # beyond the slider's range (1e-5 … 10): the slider goes to its end
    field._edited()
    assert field.slider.value() == field.slider.maximum()
    field.edit.setText("1e-5")
    field._edited()
    assert field.slider.value() == field.slider.minimum()


def test_a_formula_error_goes_once_a_built_in_surface_or_a_preset_shows(qtbot, window):
    from gui.scenario import Scenario, presets

    panel = window.simulator.scenario_panel
    panel.formula.setText("x +* y")
    panel._formula_entered()  # what Enter in the field does
    qtbot.waitUntil(lambda: "formula" in panel.formula_error.text())  # compiled (refused) in a worker
    assert panel.formula_error.isVisibleTo(panel)
    window.simulator.model.set_surface("booth")
    assert not panel.formula_error.isVisibleTo(panel)
    panel.formula.setText("sin(")
    panel._formula_entered()
    qtbot.waitUntil(lambda: not window.simulator.model.busy)
    assert panel.formula_error.isVisibleTo(panel) and "formula" in panel.formula_error.text()
    window.simulator.load_scenario(Scenario.load(presets()[0][1]))
    assert not panel.formula_error.isVisibleTo(panel)


@pytest.mark.parametrize("schedule, warmup, culprit", [
    ("ReduceLROnPlateau", 30, "cannot be nested"),
    ("OneCycleLR", 0, "total_steps"),
])
def test_a_schedule_that_cannot_drive_the_run_is_refused_next_to_it(qtbot, window, schedule, warmup, culprit):
    tab = window.simulator
    editor, model = tab.run_editor, tab.model
    model.select(0)
    editor.warmup.setValue(warmup)  # a warm-up alone is a valid schedule: applied
    before = (model.scenario.runs[0].schedule, model.results[0].trajectory)
    editor.schedule.setCurrentText(schedule)
    editor._schedule_chosen(editor.schedule.currentIndex())  # what choosing it in the box does
    if schedule == "OneCycleLR":
        editor._schedule_param_edited("total_steps", 50)  # shorter than the 600-step run
    assert editor.schedule_error.isVisibleTo(editor) and culprit in editor.schedule_error.text()
    assert model.results[0].trajectory is not None  # the run stays on the map
    if schedule == "ReduceLROnPlateau":  # refused as a whole: the run is exactly as it was
        assert (model.scenario.runs[0].schedule, model.results[0].trajectory) == before


def test_a_marked_field_is_readable():
    import re

    from gui.widgets.param_editors import ERROR_STYLE

    def luminance(colour: str) -> float:
        channels = [c / 255 for c in rgb(colour)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    background = re.search(r"background: (#[0-9a-f]{6})", ERROR_STYLE).group(1)
    text = re.search(r"[^-]color: (#[0-9a-f]{6})", ERROR_STYLE).group(1)
    light, dark = sorted((luminance(background), luminance(text)), reverse=True)
    assert (light + 0.05) / (dark + 0.05) > 7  # WCAG AAA; black on #3a1e1e was 1.5
