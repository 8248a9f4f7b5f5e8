"""The one Param type: coerce / check / show / range_text, refusals carrying their culprit, and
values resolved once (a Resolved is not checked again)."""

import pickle

import numpy as np
import pytest

from simulator import SimulatorError, get_optimizer, simulate
from simulator.lbfgs import LBFGS_OPTIONS
from simulator.params import BOOL, CHOICE, INT, INT_LIST, PAIR, Param
from simulator.schedules import get_schedule, resolve_schedule


def refusal(call) -> SimulatorError:
    with pytest.raises(SimulatorError) as refused:
        call()
    return refused.value


@pytest.mark.parametrize("call, message, param, value, owner, torch_text", [
    (lambda: get_optimizer("SGD").resolve({"lr": -1}),
     "SGD: invalid lr=-1: must be >= 0 (torch: Invalid learning rate: -1)", "lr", -1, "SGD",
     "Invalid learning rate: -1"),
    (lambda: get_optimizer("Adam").resolve({"betas": (0.9, 1.0)}),
     "Adam: invalid betas=0.9,1.0: element 1 must be >= 0 and < 1 (torch: Invalid beta parameter at index 1: "
     "1.0)", "betas", (0.9, 1.0), "Adam", "Invalid beta parameter at index 1: 1.0"),
    (lambda: get_optimizer("SGD").resolve({"momentum": 0.0, "nesterov": True}),
     "SGD: invalid nesterov=True: Nesterov momentum requires momentum > 0 and dampening = 0 (torch: Nesterov "
     "momentum requires a momentum and zero dampening)", "nesterov", True, "SGD",
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: get_optimizer("LBFGS").resolve({"line_search_fn": "wolfe"}),
     "LBFGS: invalid line_search_fn='wolfe': must be one of none, strong_wolfe (torch: only 'strong_wolfe' is "
     "supported)", "line_search_fn", "wolfe", "LBFGS", "only 'strong_wolfe' is supported"),
    (lambda: get_optimizer("LBFGS").resolve({"max_iter": np.int64(-3)}),
     "LBFGS: invalid max_iter=-3: must be a whole number >= 1 and <= 1000000", "max_iter", -3, "LBFGS", None),
    (lambda: get_schedule("CyclicLR").resolve({"base_lr": 0.1, "max_lr": 1.0, "mode": "sawtooth"}),
     "CyclicLR: invalid mode=sawtooth: must be one of triangular, triangular2, exp_range", "mode", "sawtooth",
     "CyclicLR", None),
    (lambda: get_schedule("StepLR").resolve({}), "StepLR: missing required parameter 'step_size'",
     "step_size", None, "StepLR", None),
    (lambda: get_schedule("SequentialLR").resolve({"schedulers": [5], "milestones": []}),
     "SequentialLR: invalid schedulers=5: expected a schedule name or (name, parameters)", "schedulers", 5,
     "SequentialLR", None),
    (lambda: get_optimizer("Adam").resolve({"momentum": 0.9}),
     "Adam has no hyperparameter 'momentum'; valid: lr, betas, eps, weight_decay, amsgrad, maximize, "
     "decoupled_weight_decay", "momentum", None, "Adam", None),
])
def test_a_refusal_carries_its_culprit_as_data(call, message, param, value, owner, torch_text):
    error = refusal(call)
    assert str(error) == message
    assert (error.param, error.owner, error.torch_text) == (param, owner, torch_text)
    if value is not None:
        assert error.value == value


def test_the_culprit_survives_the_trip_through_simulate_and_pickling():
    error = refusal(lambda: simulate("rosenbrock", "Adam", steps=3, hyperparams={"eps": -1.0}))
    assert (error.param, error.value, error.owner) == ("eps", -1.0, "Adam")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.param, copy.value, copy.owner) == (str(error), "eps", -1.0, "Adam")
    assert error.for_run("fast Adam").run == "fast Adam" and str(error).startswith("Adam: invalid eps=-1.0")


def test_coerce_show_and_range_text_per_kind():
    pair = Param("etas", (0.5, 1.2), "", kind=PAIR)
    assert pair.coerce([1, np.float32(2.5)], "Rprop") == (1.0, 2.5)
    assert Param("on", False, "", kind=BOOL).coerce(np.bool_(True), "X") is True
    whole = Param("n", 1, "", kind=INT, minimum=1)
    assert whole.coerce(4.0, "X") == 4 and type(whole.coerce(4.0, "X")) is int
    assert whole.coerce(10**20, "X") == 10**20  # exactly, not through a float
    assert Param("m", None, "", kind=INT_LIST).coerce(3, "X") == [3]
    choice = Param("mode", "min", "", kind=CHOICE, choices=("min", "max"))
    assert choice.coerce(" MAX ", "X") == "max"
    assert refusal(lambda: choice.coerce(None, "X")).value is None
    assert Param("x", 0.0, "", minimum=0.0, include_minimum=False, maximum=1.0).range_text() == "> 0 and <= 1"
    assert [o.range_text() for o in LBFGS_OPTIONS[1:3]] == [
        "a whole number >= 1 and <= 1000000", "a whole number >= 1 and <= 1000000, or none (max_iter*5//4)"]
    assert pair.show((None, 1e-3)) == "none,0.001" and choice.show("max") == "max"
    assert LBFGS_OPTIONS[-1].show("none") == "'none'"  # the word, not the value none


def test_a_resolved_value_is_not_checked_again():
    adam = get_optimizer("Adam")
    resolved = adam.check({"lr": 0.1, "betas": [0.8, 0.9]})
    assert dict(resolved) == {"lr": 0.1, "betas": (0.8, 0.9)}  # what was given, coerced
    assert resolved.values == {**adam.defaults, "lr": 0.1, "betas": (0.8, 0.9)}
    assert adam.check(resolved) is resolved and adam.resolve(resolved) == resolved.values
    adamw = get_optimizer("AdamW").check(resolved)  # another owner checks for itself
    assert adamw is not resolved and adamw.values["weight_decay"] == 1e-2
    with pytest.raises(TypeError):
        resolved["lr"] = -1.0  # read-only: a change would bypass the check
    lbfgs = get_optimizer("LBFGS").check({"max_iter": 8})
    assert dict(lbfgs) == {"max_iter": 8} and lbfgs.values["max_eval"] == 10  # derived, not given


def test_a_resolved_schedule_that_depends_on_the_run_length_is_resolved_again_for_another():
    one_cycle = get_schedule("OneCycleLR").check({"max_lr": 0.1}, 600)
    assert one_cycle.values["total_steps"] == 600 and dict(one_cycle) == {"max_lr": 0.1}
    assert get_schedule("OneCycleLR").check(one_cycle, 600) is one_cycle
    assert resolve_schedule(("OneCycleLR", one_cycle), 1000)[1]["total_steps"] == 1000
    step = get_schedule("StepLR").check({"step_size": 5}, 600)
    assert get_schedule("StepLR").check(step, 1000) is step  # its values do not depend on the length


def test_every_registry_default_is_a_valid_value():
    from simulator import OPTIMIZERS
    from simulator.schedules import SCHEDULES

    for spec in OPTIMIZERS.values():
        for param in spec.hyperparams:
            assert param.coerce(param.default, spec.name) == param.default, (spec.name, param.name)
    for spec in SCHEDULES.values():
        for param in spec.params:
            if not param.required:
                assert param.coerce(param.default, spec.name) == param.default, (spec.name, param.name)
