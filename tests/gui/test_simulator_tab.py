"""The main window and its Simulator tab, driven like a user would (pytest-qt, offscreen)."""

import json

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from gui.scenario import RunSpec, Scenario, default_scenario, presets
from gui.settings import AppSettings
from simulator import read_csv_runs, simulate


def tab_of(window):
    return window.simulator


def test_the_legend_follows_renames_hiding_and_arrows_but_not_recomputes(window):
    tab = tab_of(window)
    model = tab.model

    def legend():
        return [label.text for _, label in tab.map.legend.items]

    model.update_run(3, hyperparams={"lr": 0.02})  # a recompute: same entries, legend kept as is
    labels = [label for _, label in tab.map.legend.items]
    model.update_run(3, hyperparams={"lr": 0.03})
    assert [label for _, label in tab.map.legend.items] == labels
    model.rename_run(0, "plain SGD")
    assert legend()[0] == "plain SGD"
    model.update_run(1, visible=False)
    assert "SGD + momentum" not in legend()
    tab.map.set_arrows(gradient=True)
    assert "−gradient (direction)" in legend()


def test_first_launch_shows_the_classics_racing_with_a_legend(qtbot, window):
    tab = tab_of(window)
    assert [t for t in (window.tabs.tabText(i) for i in range(window.tabs.count()))] == ["Simulator", "Training", "Explore"]
    names = [r.spec.name for r in tab.model.results]
    assert names == ["SGD", "SGD + momentum", "RMSprop", "Adam"]
    assert all(r.trajectory is not None and r.trajectory.steps == 600 for r in tab.model.results)
    assert tab.run_list.tree.topLevelItemCount() == 4
    legend_names = [label.text for _, label in tab.map.legend.items]
    assert legend_names[:4] == names
    assert tab.playback.last == 600
    qtbot.waitUntil(lambda: not tab.map.field_pending, timeout=5000)  # computed in a worker
    assert tab.map.image.image is not None and tab.map.image.image.shape == (300, 300)
    assert len(tab.map.contours.xData) > 100  # contour lines were drawn


def test_the_default_window_plays_on_its_own(qtbot, settings, dialogs):
    from gui.app import MainWindow

    main = MainWindow(settings=settings)
    qtbot.addWidget(main)
    main.show()
    qtbot.waitUntil(lambda: main.simulator.playback.frame > 3, timeout=3000)
    main.close()  # closing mid-playback stops the timer
    assert not main.simulator.playback.playing


def test_add_run_and_change_a_hyperparameter_recomputes_it(window, qtbot):
    tab = tab_of(window)
    tab.run_list.add()
    assert len(tab.model.scenario.runs) == 5 and tab.model.selected == 4
    before = tab.model.results[4].trajectory.xy.copy()
    field = tab.run_editor.hyper_form.fields["lr"]
    field.edit.setText("0.002")
    field.edit.editingFinished.emit()
    after = tab.model.results[4].trajectory
    assert tab.model.scenario.runs[4].hyperparams["lr"] == 0.002
    assert not np.array_equal(before, after.xy)
    expected = simulate("rosenbrock", "Adam", start=(-1.5, 2.0), steps=600, hyperparams={"lr": 0.002})
    np.testing.assert_array_equal(after.xy, expected.xy)
    assert tab.map.trails.trails[4].shown


def test_invalid_values_are_shown_inline_and_change_nothing(window):
    tab = tab_of(window)
    tab.model.select(3)  # Adam
    form = tab.run_editor.hyper_form
    before = tab.model.results[3].trajectory.xy.copy()
    for text, message in (("-1", "invalid lr=-1"), ("fast", "'fast' is not a number")):
        form.fields["lr"].edit.setText(text)
        form.fields["lr"].edit.editingFinished.emit()
        assert message in form.error("lr")
        assert not form.errors["lr"].isHidden()
    form.fields["betas"].edits[1].setText("1.0")
    form.fields["betas"].edits[1].editingFinished.emit()
    assert "invalid betas=0.9,1" in form.error("betas")
    np.testing.assert_array_equal(tab.model.results[3].trajectory.xy, before)
    assert tab.model.scenario.runs[3].hyperparams == {"lr": 0.05}
    form.fields["lr"].edit.setText("0.01")
    form.fields["lr"].edit.editingFinished.emit()
    assert form.error("lr") == "" and tab.model.scenario.runs[3].hyperparams["lr"] == 0.01


def test_unreadable_lr_stays_marked_while_another_field_is_edited(window):
    """abc in lr, then a valid eps: lr keeps its mark and its text, the run keeps its lr (and says
    so), and the eps edit is taken."""
    tab = tab_of(window)
    tab.model.select(3)  # Adam, lr 0.05
    form = tab.run_editor.hyper_form
    form.fields["lr"].edit.setText("abc")
    form.fields["lr"].edit.editingFinished.emit()
    form.fields["eps"].edit.setText("1e-6")
    form.fields["eps"].edit.editingFinished.emit()
    run = tab.model.scenario.runs[3]
    assert form.error("lr") == "'abc' is not a number; lr stays 0.05"
    assert not form.errors["lr"].isHidden() and form.fields["lr"].edit.styleSheet()
    assert form.fields["lr"].edit.text() == "abc"
    assert dict(run.hyperparams) == {"lr": 0.05, "eps": 1e-6} and form.error("eps") == ""
    expected = simulate("rosenbrock", "Adam", start=(-1.5, 2.0), steps=600, hyperparams={"lr": 0.05, "eps": 1e-6})
    np.testing.assert_array_equal(tab.model.results[3].trajectory.xy, expected.xy)
    form.fields["lr"].edit.setText("0.01")
    form.fields["lr"].edit.editingFinished.emit()
    assert form.error("lr") == "" and not form.fields["lr"].edit.styleSheet()
    assert dict(run.hyperparams) == {"lr": 0.01, "eps": 1e-6}


def test_a_refused_edit_says_what_stays_and_a_cross_check_marks_the_culprit(window):
    tab = tab_of(window)
    tab.model.select(1)  # SGD + momentum 0.9
    form = tab.run_editor.hyper_form
    form.fields["nesterov"].box.setChecked(True)
    assert form.error("nesterov") == ""
    form.fields["momentum"].edit.setText("0")
    form.fields["momentum"].edit.editingFinished.emit()
    refusal = "SGD: invalid nesterov=True: Nesterov momentum requires momentum > 0 and dampening = 0"
    assert form.error("momentum").startswith(refusal) and form.error("momentum").endswith("; momentum stays 0.9")
    assert form.error("nesterov").startswith(refusal)  # at fault, though in force
    assert tab.model.scenario.runs[1].hyperparams["momentum"] == 0.9
    form.fields["nesterov"].box.setChecked(False)  # valid: the in-force values are fine again
    assert form.error("nesterov") == "" and tab.model.scenario.runs[1].hyperparams["nesterov"] is False
    assert form.error("momentum").startswith(refusal)  # its text, 0, is still not in force
    assert tab.model.scenario.runs[1].hyperparams["momentum"] == 0.9


def test_an_edited_value_is_checked_once_on_its_way_to_the_run(window, monkeypatch):
    from simulator import optimizers, schedules

    checked = []
    for module in (optimizers, schedules):
        original = module.coerce_given
        monkeypatch.setattr(module, "coerce_given", lambda params, overrides, owner, *rest, original=original:
                            checked.append(owner) or original(params, overrides, owner, *rest))
    tab = tab_of(window)
    tab.model.select(3)  # Adam
    editor = tab.run_editor
    editor.schedule.setCurrentText("CosineAnnealingLR")
    editor._schedule_chosen(editor.schedule.currentIndex())
    checked.clear()
    editor.hyper_form.fields["lr"].edit.setText("0.02")
    editor.hyper_form.fields["lr"].edit.editingFinished.emit()
    assert checked.count("Adam") == 1  # by the editor; simulate() takes the result as it is
    checked.clear()
    editor.schedule_form.fields["T_max"].edit.setText("300")
    editor.schedule_form.fields["T_max"].edit.editingFinished.emit()
    assert checked == ["CosineAnnealingLR"]  # once, by the editor: not again in simulate or its plan
    run = tab.model.scenario.runs[3]
    assert dict(run.hyperparams) == {"lr": 0.02} and run.schedule == ("CosineAnnealingLR", {"T_max": 300})
    expected = simulate("rosenbrock", "Adam", start=(-1.5, 2.0), steps=600, hyperparams={"lr": 0.02},
                        schedule=("CosineAnnealingLR", {"T_max": 300}))
    np.testing.assert_array_equal(tab.model.results[3].trajectory.xy, expected.xy)
    np.testing.assert_array_equal(tab.model.results[3].trajectory.lr, expected.lr)


def test_cross_parameter_errors_name_the_parameter(window):
    tab = tab_of(window)
    tab.model.select(0)  # SGD, momentum 0
    form = tab.run_editor.hyper_form
    form.fields["nesterov"].box.setChecked(True)
    assert "nesterov" in form.error("nesterov") or "momentum" in form.error("momentum")
    assert "nesterov" not in tab.model.scenario.runs[0].hyperparams


def test_stepping_and_scrubbing_move_through_the_precomputed_frames(window, qtbot):
    tab = tab_of(window)
    playback = tab.playback
    playback.seek(0)
    for _ in range(5):
        qtbot.keyClick(tab.map, Qt.Key.Key_Right)
    assert playback.frame == 5
    adam = tab.model.results[3].trajectory
    head = tab.map.run_items()[3].head.getData()
    assert (head[0][0], head[1][0]) == tuple(adam.xy[5])
    qtbot.keyClick(tab.map, Qt.Key.Key_Left)
    assert playback.frame == 4
    trail = tab.map.trails.trail_points(3)
    assert len(trail) <= 5 and tuple(trail[-1]) == tuple(adam.xy[4])
    qtbot.keyClick(tab.map, Qt.Key.Key_End)
    assert playback.frame == 600 and tab.bar.counter.text() == "step 600 / 600"
    qtbot.keyClick(tab.map, Qt.Key.Key_Home)
    assert playback.frame == 0
    tab.bar.slider.setValue(321)  # scrubbing
    assert playback.frame == 321
    head = tab.map.run_items()[1].head.getData()
    assert (head[0][0], head[1][0]) == tuple(tab.model.results[1].trajectory.xy[321])
    assert tab.side.cursors[0].value() == 321
    assert tab.side.table.item(3, 1).text() == "321"


def test_the_timeline_and_counter_follow_the_runs_length_while_paused(window):
    tab = tab_of(window)  # the window fixture does not play: the frame stays 0 from the start
    assert tab.playback.frame == 0 and not tab.playback.playing
    assert tab.bar.counter.text() == "step 0 / 600" and tab.bar.slider.maximum() == 600
    tab.playback.seek(100)
    tab.model.set_steps(300)  # shorter, the frame still inside: the range changes, the frame does not
    assert tab.bar.counter.text() == "step 100 / 300" and tab.bar.slider.maximum() == 300
    tab.model.set_steps(50)  # the frame beyond the end: it moves to the last step
    assert tab.playback.frame == 50 and tab.bar.counter.text() == "step 50 / 50"


def test_space_plays_and_pauses(window, qtbot):
    tab = tab_of(window)
    # slow enough that the 600 steps cannot end (and stop by themselves) before the second Space,
    # however long a loaded machine takes to get there
    tab.bar.speed.setValue(60)
    qtbot.keyClick(tab.map, Qt.Key.Key_Space)
    assert tab.playback.playing
    qtbot.waitUntil(lambda: tab.playback.frame > 5, timeout=3000)
    qtbot.keyClick(tab.map, Qt.Key.Key_Space)
    assert not tab.playback.playing


def test_playback_stops_at_the_end_or_loops(window, qtbot):
    playback = tab_of(window).playback
    playback.speed = 1000.0
    playback.seek(590)
    playback.play()
    qtbot.waitUntil(lambda: not playback.playing, timeout=3000)
    assert playback.frame == 600
    playback.loop = True
    playback.seek(595)
    playback.play()
    qtbot.waitUntil(lambda: playback.frame < 100, timeout=3000)
    playback.pause()


def test_export_csv_equals_simulate(window, tmp_path):
    tab = tab_of(window)
    path = tmp_path / "runs.csv"
    assert tab.export_csv(path) == 4
    loaded = read_csv_runs(path)
    assert [t.label for t in loaded] == [r.spec.name for r in tab.model.results]
    for trajectory, result in zip(loaded, tab.model.results, strict=True):
        spec = result.spec
        expected = simulate("rosenbrock", spec.optimizer, start=(-1.5, 2.0), steps=600,
                            hyperparams=spec.hyperparams, seed=0)
        np.testing.assert_array_equal(trajectory.xy, expected.xy)
        assert set(trajectory.state_names) == set(expected.state_names)
        for name in expected.state_names:  # the long format orders state columns across runs
            np.testing.assert_array_equal(trajectory.state_column(name), expected.state_column(name))


def test_save_and_reload_a_scenario_gives_the_same_runs(window, tmp_path):
    tab = tab_of(window)
    tab.model.update_run(2, start=(0.5, 2.5), schedule=("StepLR", {"step_size": 100}))
    tab.model.set_noise(0.05)
    tab.map.set_view((-1.0, 1.5, 0.0, 2.0))
    path = tmp_path / "scenario.json"
    tab.current_scenario().save(path)
    before = [r.trajectory.xy.copy() for r in tab.model.results]
    tab.load_scenario(default_scenario())
    assert window.load_file(path)
    assert [r.spec.name for r in tab.model.results] == ["SGD", "SGD + momentum", "RMSprop", "Adam"]
    for xy, result in zip(before, tab.model.results, strict=True):
        np.testing.assert_array_equal(result.trajectory.xy, xy)
    assert tab.model.scenario.runs[2].start == (0.5, 2.5)
    assert np.allclose(tab.map.view(), (-1.0, 1.5, 0.0, 2.0), atol=1e-6)


def test_a_bad_scenario_file_leaves_the_current_one(window, tmp_path, dialogs):
    tab = tab_of(window)
    names = [r.spec.name for r in tab.model.results]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"surface": "rosenbrock", "runs": [{"optimizer": "Nope"}]}))
    assert not window.load_file(bad)
    assert "unknown optimizer 'Nope'" in dialogs[-1]
    assert [r.spec.name for r in tab.model.results] == names


def test_unwritable_exports_report_and_keep_working(window, tmp_path, dialogs, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    target = str(tmp_path / "missing-folder" / "out.csv")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (target, ""))
    window.export_csv()
    assert "cannot write" in dialogs[-1]
    window.export_map("png")
    assert "cannot write" in dialogs[-1]
    window.save_scenario()
    assert "cannot write" in dialogs[-1]


def test_map_exports_png_and_svg(window, tmp_path):
    tab = tab_of(window)
    tab.export_map(str(tmp_path / "map.png"))
    tab.export_map(str(tmp_path / "map.svg"))
    assert (tmp_path / "map.png").stat().st_size > 10_000
    assert "<svg" in (tmp_path / "map.svg").read_text()[:2000]


@pytest.mark.parametrize("title_and_path", presets(), ids=lambda tp: tp[1].stem)
def test_every_preset_loads_in_the_window(window, title_and_path):
    title, path = title_and_path
    assert window.load_file(path)
    tab = tab_of(window)
    assert tab.model.scenario.title == title
    assert all(r.trajectory is not None for r in tab.model.results)
    tab.playback.end()
    assert tab.playback.frame == tab.playback.last


def test_a_diverging_run_is_marked_and_the_window_keeps_working(window):
    tab = tab_of(window)
    tab.model.update_run(0, hyperparams={"lr": 0.5})
    result = tab.model.results[0]
    assert result.trajectory.status == "diverged"
    assert "diverged at step" in tab.run_list.tree.topLevelItem(0).text(1)
    tab.playback.end()
    end = tab.map.run_items()[0].end
    assert end.isVisible() and len(end.getData()[0]) == 1  # the red cross where it left
    tab.playback.seek(0)
    assert not end.isVisible()
    tab.run_list.add()
    assert tab.model.results[-1].trajectory.status == "ok"


def test_clicks_move_the_shared_start_and_ctrl_click_one_run(window, qtbot):
    tab = tab_of(window)
    view = tab.map.plot.vb

    def click(x, y, modifier=Qt.KeyboardModifier.NoModifier):
        scene_point = view.mapViewToScene(QPointF(x, y))
        widget_point = tab.map.mapFromScene(scene_point)
        qtbot.mouseClick(tab.map.viewport(), Qt.MouseButton.LeftButton, modifier, widget_point)

    click(0.5, 2.0)
    shared = tab.model.scenario.shared_start()
    assert np.allclose(shared, (0.5, 2.0), atol=0.05)
    assert all(np.allclose(r.trajectory.xy[0], shared) for r in tab.model.results)
    tab.model.select(1)
    click(-1.0, 0.0, Qt.KeyboardModifier.ControlModifier)
    assert np.allclose(tab.model.scenario.runs[1].start, (-1.0, 0.0), atol=0.05)
    assert np.allclose(tab.model.results[1].trajectory.xy[0], tab.model.scenario.runs[1].start)
    assert np.allclose(tab.model.results[0].trajectory.xy[0], shared)
    assert tab.map.run_items()[1].own_start is not None


def test_dragging_the_start_marker_recomputes(window):
    tab = tab_of(window)
    tab.map.shared_start.setPos(QPointF(1.5, 2.5))  # what a drag does, step by step
    assert tab.model.scenario.shared_start() == (1.5, 2.5)
    assert tuple(tab.model.results[3].trajectory.xy[0]) == (1.5, 2.5)


def test_surface_formula_noise_and_steps(window, qtbot):
    tab = tab_of(window)
    panel = tab.scenario_panel
    panel.surface.setCurrentText("himmelblau")
    panel._surface_chosen(panel.surface.currentIndex())
    assert tab.model.scenario.surface == "himmelblau" and tab.model.results[0].trajectory.surface == "himmelblau"
    panel.formula.setText("x**2 + 3*y**2 @-2,2,-2,2")
    panel.formula.returnPressed.emit()
    assert panel.formula_error.text() == "compiling…"  # compiled in a worker
    qtbot.waitUntil(lambda: not tab.model.busy)
    assert tab.model.scenario.surface.startswith("expr:") and panel.formula_error.isHidden()
    assert tab.model.surface.bounds == (-2.0, 2.0, -2.0, 2.0)
    panel.formula.setText("__import__('os').system('true')")
    panel.formula.returnPressed.emit()
    qtbot.waitUntil(lambda: not tab.model.busy)
    assert not panel.formula_error.isHidden() and tab.model.scenario.surface.startswith("expr:x")
    assert "not allowed" in panel.formula_error.text() or "formula" in panel.formula_error.text()
    panel.steps.setValue(50)
    assert tab.playback.last == 50 and tab.model.results[0].trajectory.steps == 50
    panel.noise.setText("0.5")
    panel.noise.editingFinished.emit()
    noisy = tab.model.results[0].trajectory.grad.copy()
    panel.seed.setValue(3)
    assert not np.array_equal(noisy, tab.model.results[0].trajectory.grad)


def test_schedule_editor_with_warmup(window):
    tab = tab_of(window)
    tab.model.select(3)
    editor = tab.run_editor
    editor.schedule.setCurrentText("CosineAnnealingLR")
    editor._schedule_chosen(editor.schedule.currentIndex())
    assert tab.model.scenario.runs[3].schedule == ("CosineAnnealingLR", {"T_max": 600})
    editor.warmup.setValue(50)
    schedule = tab.model.scenario.runs[3].schedule
    assert schedule[0] == "SequentialLR" and schedule[1]["milestones"] == [50]
    lr = tab.model.results[3].trajectory.lr
    assert lr[1] < lr[50] and lr[-1] < lr[60]
    editor.schedule_form.fields["T_max"].edit.setText("0")
    editor.schedule_form.fields["T_max"].edit.editingFinished.emit()
    assert "invalid T_max=0" in editor.schedule_form.error("T_max")


def test_a_typed_lr_lambda_drives_the_run_and_a_bad_one_is_refused_on_its_field(window):
    tab = tab_of(window)
    tab.model.select(3)  # Adam, lr 0.05
    editor = tab.run_editor
    editor.schedule.setCurrentText("LambdaLR")
    editor._schedule_chosen(editor.schedule.currentIndex())
    assert tab.model.scenario.runs[3].schedule == ("LambdaLR", {"lr_lambda": "0.5**(epoch/200)"})
    field = editor.schedule_form.fields["lr_lambda"].edit
    field.setText("1/(1 + 0.1*epoch)")
    field.editingFinished.emit()
    assert tab.model.scenario.runs[3].schedule == ("LambdaLR", {"lr_lambda": "1 / (1 + 0.1 * epoch)"})
    lr = tab.model.results[3].trajectory.lr
    assert lr[1] == 0.05 and lr[11] == 0.05 * (1 / (1 + 0.1 * 10))
    field.setText("__import__('os').getcwd()")
    field.editingFinished.emit()
    assert "attribute access is not allowed" in editor.schedule_form.error("lr_lambda")
    assert tab.model.scenario.runs[3].schedule == ("LambdaLR", {"lr_lambda": "1 / (1 + 0.1 * epoch)"})
    field.setText("1/(epoch - 3)")  # checks as text; fails at the step it divides by zero
    field.editingFinished.emit()
    assert "division by zero" in editor.schedule_error.text() and not editor.schedule_error.isHidden()
    np.testing.assert_array_equal(tab.model.results[3].trajectory.lr, lr)  # the run stays as it was


def test_a_chained_schedule_from_a_file_is_shown_stage_by_stage(window):
    tab = tab_of(window)
    chained = ("ChainedScheduler", {"schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 10}),
                                                   ("ExponentialLR", {"gamma": 0.99})]})
    tab.model.update_run(3, schedule=chained)
    tab.model.select(0)
    tab.model.select(3)
    editor = tab.run_editor
    assert editor.schedule.currentText() == "ChainedScheduler" and not editor.warmup.isEnabled()
    assert [stage.schedule for stage in editor.composer.stages] == chained[1]["schedulers"]
    assert editor.composer.milestones.isHidden()
    lr = tab.model.results[3].trajectory.lr
    assert lr[1] == 0.05 * 0.5 and lr[12] == 0.05 * 0.99**11
    tab.model.select(0)  # a run without a schedule: no composer, the warm-up back
    assert editor.composer is None and editor.warmup.isEnabled()


def test_sequential_and_chained_schedules_are_composed_in_the_editor(window):
    from simulator import simulate

    tab = tab_of(window)
    tab.model.select(3)  # Adam, lr 0.05, 600 steps
    editor = tab.run_editor
    editor.schedule.setCurrentText("SequentialLR")
    editor._schedule_chosen(editor.schedule.currentIndex())
    starter = ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 60}),
                                               ("CosineAnnealingLR", {"T_max": 540})], "milestones": [60]})
    assert tab.model.scenario.runs[3].schedule == starter and not editor.warmup.isEnabled()
    composer = editor.composer
    second = composer.stages[1]
    second.form.fields["T_max"].edit.setText("300")  # a stage's field, checked by its own registry
    second.form.fields["T_max"].edit.editingFinished.emit()
    composer.add_stage()  # a third stage: refused until there is a milestone for it
    assert "needs one milestone fewer than schedulers (3)" in editor.schedule_error.text()
    assert tab.model.scenario.runs[3].schedule[1]["schedulers"][1] == ("CosineAnnealingLR", {"T_max": 300})
    composer.stages[2].box.setCurrentText("ExponentialLR")
    composer.stages[2]._chosen()
    composer.stages[2].form.fields["gamma"].edit.setText("0.98")
    composer.stages[2].form.fields["gamma"].edit.editingFinished.emit()
    composer.milestones.setText("60, abc")  # not whole numbers: said under the field, nothing applied
    composer.milestones.editingFinished.emit()
    assert "'abc' is not a number; the schedule stays as it was" in composer.milestones_error.text()
    assert not composer.milestones_error.isHidden()
    composer.milestones.setText("60, 360")
    composer.milestones.editingFinished.emit()
    assert composer.milestones_error.isHidden()
    composed = ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 60}),
                                                ("CosineAnnealingLR", {"T_max": 300}),
                                                ("ExponentialLR", {"gamma": 0.98})], "milestones": [60, 360]})
    assert tab.model.scenario.runs[3].schedule == composed and editor.schedule_error.isHidden()
    expected = simulate("rosenbrock", "Adam", start=(-1.5, 2.0), steps=600, hyperparams={"lr": 0.05},
                        schedule=composed)
    np.testing.assert_array_equal(tab.model.results[3].trajectory.lr, expected.lr)
    second.form.fields["T_max"].edit.setText("0")
    second.form.fields["T_max"].edit.editingFinished.emit()
    assert "invalid T_max=0" in second.form.error("T_max")
    assert tab.model.scenario.runs[3].schedule == composed  # nothing changed
    composer.remove_stage(2)
    assert "needs one milestone fewer" in editor.schedule_error.text()
    editor.schedule.setCurrentText("ChainedScheduler")
    editor._schedule_chosen(editor.schedule.currentIndex())
    chained = tab.model.scenario.runs[3].schedule
    assert chained[0] == "ChainedScheduler" and [n for n, _ in chained[1]["schedulers"]] == \
        ["ConstantLR", "CosineAnnealingLR"]
    editor.composer.remove_stage(0)
    assert not editor.composer.stages[0].remove.isEnabled()  # the last one stays


def test_run_list_hide_rename_duplicate_remove(window):
    tab = tab_of(window)
    tree = tab.run_list.tree
    tree.topLevelItem(0).setCheckState(0, Qt.CheckState.Unchecked)
    assert not tab.model.scenario.runs[0].visible and not tab.map.trails.trails[0].shown
    tree.topLevelItem(1).setText(0, "heavy ball")
    assert tab.model.scenario.runs[1].name == "heavy ball"
    tree.topLevelItem(2).setText(0, "heavy ball")  # taken: refused, name kept
    assert tab.model.scenario.runs[2].name == "RMSprop"
    tab.model.select(1)
    tab.run_list.duplicate()
    assert tab.model.scenario.runs[-1].name == "heavy ball (2)"
    np.testing.assert_array_equal(tab.model.results[-1].trajectory.xy, tab.model.results[1].trajectory.xy)
    tab.run_list.remove()
    assert len(tab.model.scenario.runs) == 4


def test_editing_a_run_in_the_list_keeps_the_edited_item_alive(window):
    # Renames and ticks arrive inside the item's own itemChanged signal: the list used to rebuild
    # itself there, deleting the item Qt was still setting (a use-after-free, a crash now and then).
    tree = tab_of(window).run_list.tree
    items = [tree.topLevelItem(row) for row in range(tree.topLevelItemCount())]
    items[0].setCheckState(0, Qt.CheckState.Unchecked)
    items[1].setText(0, "heavy ball")
    items[2].setText(0, "heavy ball")  # refused: the name goes back
    assert [tree.indexOfTopLevelItem(item) for item in items] == [0, 1, 2, 3]
    assert [item.text(0) for item in items] == ["SGD", "heavy ball", "RMSprop", "Adam"]
    assert items[0].checkState(0) == Qt.CheckState.Unchecked


def test_lbfgs_draws_its_line_search_points(window):
    tab = tab_of(window)
    tab.model.add_run(RunSpec("L-BFGS", "LBFGS", {"line_search_fn": "strong_wolfe"}))
    tab.playback.seek(3)
    items = tab.map.run_items()[-1]
    assert len(items.trials.getData()[0]) > 3


def test_the_window_remembers_the_last_scenario(qtbot, settings, dialogs):
    from gui.app import MainWindow

    first = MainWindow(settings=settings, autoplay=False)
    qtbot.addWidget(first)
    first.simulator.model.add_run(RunSpec("remembered", "Adagrad", {"lr": 0.3}))
    first.close()
    second = MainWindow(settings=settings, autoplay=False)
    qtbot.addWidget(second)
    assert second.simulator.model.scenario.runs[-1].name == "remembered"
    second.close()
    settings.path.write_text('{"scenario": "{broken"}')
    third = MainWindow(settings=AppSettings(settings.path), autoplay=False)
    qtbot.addWidget(third)
    assert len(third.simulator.model.scenario.runs) == 4
    assert "could not be restored" in third.statusBar().currentMessage()
    third.close()


def test_loading_a_scenario_replaces_the_runs(window):
    tab = tab_of(window)
    scenario = Scenario(surface="himmelblau", steps=100, runs=[RunSpec("only", "SGD", {"lr": 0.01})])
    tab.load_scenario(scenario)
    assert tab.run_list.tree.topLevelItemCount() == 1 and tab.playback.last == 100
    assert tab.map.surface.name == "himmelblau"


def test_side_plots_redraw_the_changed_run_and_keep_the_others(qtbot, window):
    tab = tab_of(window)
    qtbot.waitUntil(lambda: not tab.side_pending)
    curves = tab.side._curves
    before = [curves[i][0].getOriginalDataset()[1].copy() for i in range(4)]
    tab.model.update_run(3, hyperparams={"lr": 0.01})
    assert tab.side_pending  # the map first; the side plots a turn of the event loop later
    qtbot.waitUntil(lambda: not tab.side_pending)
    after = [curves[i][0].getOriginalDataset()[1] for i in range(4)]
    adam = tab.model.results[3].trajectory
    assert after[3][:len(adam.loss)].shape == adam.loss.shape and not np.array_equal(after[3], before[3])
    _, lrs = curves[3][1].getOriginalDataset()
    assert np.all(lrs == adam.lr)
    for i in range(3):  # f* did not move: the other curves were not touched
        assert np.array_equal(after[i], before[i])
