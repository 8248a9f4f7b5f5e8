"""Long runs and typed formulas are computed in a worker; the newest edit always wins.

The window's event loop keeps running meanwhile (benchmarks/bench_stalls.py measures how long it
can stall); these tests hold the contract: what is pending reads "computing…", what arrives late
for an edit since made is dropped, and the results equal a direct computation.
"""

import numpy as np
import pytest

from gui.scenario import COMPUTING, compute_run
from gui.simulator_tab.model import FOREGROUND_ROWS
from simulator import get_surface

LONG = 200_000  # steps: even one run of it is beyond what the GUI thread computes itself


def _model(window):
    return window.simulator.model


def _same_as_direct(model) -> None:
    for run, result in zip(model.scenario.runs, model.results, strict=True):
        direct = compute_run(model.scenario, run)
        assert result.spec is run and not result.pending
        assert (result.trajectory is None) == (direct.trajectory is None)
        if direct.trajectory is not None:
            assert np.array_equal(result.trajectory.xy, direct.trajectory.xy)
            assert np.array_equal(result.trajectory.lr, direct.trajectory.lr)


def test_long_runs_are_computed_in_a_worker_and_equal_a_direct_computation(qtbot, window):
    model = _model(window)
    assert LONG > FOREGROUND_ROWS
    statuses = []
    window.simulator.status.connect(statuses.append)
    with qtbot.waitSignal(model.busy_changed, timeout=10_000):
        model.set_steps(LONG)
    assert model.busy and all(r.pending and r.error == COMPUTING for r in model.results)
    assert statuses[-1].startswith("Computing 4 runs of 200,000 steps")
    tree = window.simulator.run_list.tree
    assert tree.topLevelItem(0).text(1) == COMPUTING or COMPUTING in tree.topLevelItem(0).toolTip(1)
    qtbot.waitUntil(lambda: not model.busy, timeout=120_000)
    assert statuses[-1] == "Runs computed"
    assert all(len(r.trajectory.xy) == LONG + 1 for r in model.results if r.trajectory.status == "ok")
    _same_as_direct(model)
    assert window.simulator.playback.last == max(len(r.trajectory.xy) - 1 for r in model.results)
    side = window.simulator.side  # the side plots follow, one run a turn of the event loop
    qtbot.waitUntil(lambda: not window.simulator.side_pending)
    assert all(side._drawn[i][0] is r.trajectory for i, r in enumerate(model.results))


def test_an_edit_made_while_the_worker_runs_wins_over_its_late_results(qtbot, window):
    model = _model(window)
    model.set_steps(LONG)
    assert model.busy
    model.set_steps(300)  # quick: computed at once; the worker's 100,000-step results arrive later
    assert not any(r.pending for r in model.results)
    qtbot.waitUntil(lambda: not model.busy, timeout=120_000)
    assert all(r.trajectory.steps <= 300 for r in model.results)
    _same_as_direct(model)


def test_a_run_edited_and_one_removed_while_computing(qtbot, window):
    model = _model(window)
    model.set_steps(LONG)
    model.update_run(0, hyperparams={"lr": 0.0123})  # pending again, with newer settings
    name_of_removed = model.scenario.runs[2].name
    model.remove_run(2)
    assert len(model.results) == 3 and all(r.pending for r in model.results)
    qtbot.waitUntil(lambda: not model.busy, timeout=180_000)
    assert name_of_removed not in [r.spec.name for r in model.results]
    assert model.results[0].trajectory.hyperparams["lr"] == 0.0123
    _same_as_direct(model)


def test_a_long_schedule_that_cannot_drive_the_run_is_refused_without_computing_it(qtbot, window):
    model = _model(window)
    model.set_steps(LONG)
    qtbot.waitUntil(lambda: not model.busy, timeout=120_000)
    before = model.results[0].trajectory
    why = model.try_update_run(0, schedule=("OneCycleLR", {"max_lr": 0.1, "total_steps": 50}))
    assert "total_steps" in why and not model.busy and model.results[0].trajectory is before
    assert model.try_update_run(0, schedule=("StepLR", {"step_size": 1000})) == ""
    assert model.busy and model.results[0].pending
    qtbot.waitUntil(lambda: not model.busy, timeout=120_000)
    assert model.results[0].trajectory.schedule[0] == "StepLR"


def test_exporting_while_computing_is_refused(qtbot, window, tmp_path):
    from gui.scenario import ScenarioError

    model = _model(window)
    model.set_steps(LONG)
    with pytest.raises(ScenarioError, match="still being computed"):
        window.simulator.export_csv(tmp_path / "runs.csv")
    assert not (tmp_path / "runs.csv").exists()
    qtbot.waitUntil(lambda: not model.busy, timeout=120_000)
    assert window.simulator.export_csv(tmp_path / "runs.csv") == 4


def test_closing_while_computing_waits_for_the_worker_and_applies_nothing(qtbot, window):
    model = _model(window)
    model.set_steps(LONG)
    applied = []
    model.changed.connect(lambda: applied.append(True))
    window.close()  # deferred until the worker is done; the fixture's thread check sees none left
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=120_000)
    assert applied == [] and all(r.pending for r in model.results)


def test_a_typed_formula_compiles_in_a_worker_and_the_newest_request_wins(qtbot, window):
    model = _model(window)
    panel = window.simulator.scenario_panel
    first = "expr:(x - 1)**2 + 3*sin(y)**2 + 0.25*x*y"
    second = "expr:(x + 1)**2 + 2*cos(y)**2 + 0.125*x*y"
    model.set_surface_in_background(first)
    model.set_surface_in_background(second)  # asked for before the first one is compiled
    assert model.busy and model.scenario.surface == "rosenbrock"
    qtbot.waitUntil(lambda: not model.busy, timeout=60_000)
    assert model.scenario.surface == get_surface(second).name != get_surface(first).name
    assert all(r.trajectory.surface == model.scenario.surface for r in model.results)
    refused = []
    model.surface_failed.connect(lambda name, why: refused.append((name, why)))
    panel.formula.setText("x + y +")
    panel._formula_entered()
    qtbot.waitUntil(lambda: not model.busy, timeout=60_000)
    assert refused and refused[0][0] == "expr:x + y +" and model.scenario.surface == get_surface(second).name
    assert panel.formula_error.isVisibleTo(panel) and panel.formula_error.text() == refused[0][1]


def test_a_surface_chosen_while_a_formula_compiles_is_not_replaced_by_it(qtbot, window):
    model = _model(window)
    model.set_surface_in_background("expr:(x - 2)**2 + 5*sin(x*y)**2 + 0.5*y")
    model.set_surface("booth")  # chosen from the list meanwhile: the later choice stands
    qtbot.waitUntil(lambda: not model.busy, timeout=60_000)
    assert model.scenario.surface == "booth"


def test_a_run_loaded_with_a_bad_lr_is_marked_on_its_field(qtbot, window):
    from gui.scenario import Scenario

    scenario = Scenario.from_json({"surface": "himmelblau", "steps": 50, "runs": [
        {"name": "bad", "optimizer": "SGD", "hyperparams": {"lr": -1.0}},
        {"name": "good", "optimizer": "Adam", "hyperparams": {"lr": 0.1}},
    ]})
    window.simulator.load_scenario(scenario)
    editor = window.simulator.run_editor
    assert editor.index == 0 and window.simulator.model.results[0].failure.param == "lr"
    form = editor.hyper_form
    assert "invalid lr=-1" in form.error("lr")
    qtbot.waitUntil(lambda: form.errors["lr"].isVisibleTo(editor))  # a new form shows on the next loop
    editor.show_run(1)
    assert editor.hyper_form.error("lr") == ""  # the good run's form is not marked
