"""Scenarios as plain data: JSON round trip, checks with clear messages, computing runs."""

import json

import numpy as np
import pytest

from gui.scenario import RunSpec, Scenario, ScenarioError, compute, default_scenario, presets
from simulator import simulate


def test_json_round_trip_keeps_everything(tmp_path):
    scenario = default_scenario()
    scenario.runs.append(RunSpec("cosine", "SGD", {"lr": 0.01, "momentum": 0.9},
                                 ("CosineAnnealingLR", {"T_max": 300}), (0.5, 2.5), "#123456", False))
    scenario.view = (-2.0, 2.0, -1.0, 3.0)
    scenario.noise, scenario.seed = 0.1, 7
    path = tmp_path / "s.json"
    scenario.save(path)
    loaded = Scenario.load(path)
    assert loaded.to_json() == scenario.to_json()
    for ours, theirs in zip(compute(scenario), compute(loaded), strict=True):
        np.testing.assert_array_equal(ours.trajectory.xy, theirs.trajectory.xy)


def test_runs_equal_simulate():
    scenario = default_scenario()
    for result in compute(scenario):
        spec = result.spec
        expected = simulate(scenario.surface, spec.optimizer, start=scenario.shared_start(), steps=scenario.steps,
                            hyperparams=spec.hyperparams, seed=scenario.seed)
        np.testing.assert_array_equal(result.trajectory.xy, expected.xy)


def test_a_bad_run_gets_its_message_and_the_others_still_run():
    scenario = default_scenario()
    scenario.runs[1].hyperparams = {"lr": -1.0}
    results = compute(scenario)
    assert results[1].trajectory is None and "invalid lr=-1" in results[1].error
    assert all(r.trajectory is not None for i, r in enumerate(results) if i != 1)


@pytest.mark.parametrize("data, message", [
    ([], "must be a JSON object"),
    ({"format": "other"}, "not an OptiScope scenario"),
    ({"surface": "nowhere"}, "unknown surface 'nowhere'"),
    ({"surface": "expr:__import__('os')"}, "not allowed|only the functions"),
    ({"steps": 0}, "steps must be a whole number from 1"),
    ({"steps": "many"}, "steps must be a whole number"),
    ({"noise": -1}, "noise must be >= 0"),
    ({"start": [1]}, r"start must be null or \[x, y\]"),
    ({"view": [1, 0, 0, 1]}, "xmin < xmax"),
    ({"runs": {}}, "runs must be a list"),
    ({"runs": [{"optimizer": "Adamm"}]}, "unknown optimizer 'Adamm'"),
    ({"runs": [{"name": "a"}, {"name": "a"}]}, "used twice"),
    ({"runs": [{"color": "red"}]}, "color must look like"),
    ({"runs": [{"schedule": "StepLR"}]}, r"schedule must be null or \[name"),
    ({"runs": [{"lr": 0.1}]}, "unknown key"),
    ({"colour": 1}, "unknown scenario key"),
    ({"version": "1"}, "version must be a whole number >= 1, got '1'"),
    ({"version": -1}, "version must be a whole number >= 1, got -1"),
    ({"version": True}, "version must be a whole number >= 1, got True"),
    ({"version": 2}, "version 2 is newer than this OptiScope"),
    ({"view": [-1e308, 1e308, -1, 1]}, "view bound -1e[+]308 is too large to draw"),
    ({"view": [0, 1e-200, 0, 1]}, "view width 1e-200 in x is too small to draw"),
    ({"noise": 10**400}, "noise must be a finite number, got 1000"),
    ({"noise": np.float64(-3.5)}, "noise must be >= 0, got -3.5$"),
])
def test_malformed_scenarios_are_refused_clearly(data, message):
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_json(data)


def test_unreadable_files_are_refused_clearly(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        Scenario.load(broken)
    with pytest.raises(ScenarioError, match="cannot read"):
        Scenario.load(tmp_path / "missing.json")
    with pytest.raises(ScenarioError, match="cannot write"):
        default_scenario().save(tmp_path / "no-such-folder" / "s.json")


def test_file_open_refuses_what_the_json_parser_cannot_take_in_one_line(tmp_path):
    """The GUI's File > Open: ValueError (digits) and RecursionError (nesting) become ScenarioError."""
    for name, content, message in (("big.json", b'{"steps": ' + b"1" * 5000 + b"}", "more than 4300 digits"),
                                   ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested more than 32")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ScenarioError, match=message) as refused:
            Scenario.load(tmp_path / name)
        assert name in str(refused.value)


def test_a_file_with_a_utf8_bom_loads(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(default_scenario().to_json()).encode())
    assert Scenario.load(path).to_json() == default_scenario().to_json()


def test_every_preset_loads_and_every_run_computes():
    found = presets()
    assert len(found) >= 5
    for title, path in found:
        scenario = Scenario.load(path)
        assert scenario.title == title and scenario.description
        results = compute(scenario)
        assert results and all(r.error == "" for r in results), (path.name, [r.error for r in results])
        assert len({r.spec.name for r in results}) == len(results)
        json.loads(path.read_text())  # plain JSON, readable by anyone
