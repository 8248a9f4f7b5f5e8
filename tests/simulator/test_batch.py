"""simulate_many() and sweep(): every row is simulate() from its start, bit for bit; labels, sweeps,
noise, progress and cancellation, threads, refused input."""

import threading

import numpy as np
import pytest

from simulator import (
    OPTIMIZERS,
    SURFACES,
    SimulatorError,
    get_surface,
    simulate,
    simulate_many,
    sweep,
)

# Where the starts lie, as fractions of the view: corners, centre, and one far outside it.
FRACTIONS = [(0.1, 0.9), (0.5, 0.5), (0.95, 0.05), (0.3, 0.6), (6.0, -5.0)]
FORMULA = "expr:sqrt(x + 4) + 3*sin(y)**2 + 0.1*x*y"


def starts_in_view(surface: str, fractions=FRACTIONS) -> np.ndarray:
    xmin, xmax, ymin, ymax = get_surface(surface).bounds
    return np.array([(xmin + fx * (xmax - xmin), ymin + fy * (ymax - ymin)) for fx, fy in fractions])


def assert_rows_equal_simulate(result, surface, optimizer, starts, steps, hyperparams=None, schedule=None,
                               **kwargs):
    for i, start in enumerate(starts):
        where = f"row {i} from {tuple(start)}"
        try:
            trajectory = simulate(surface, optimizer, start=tuple(start), steps=steps, hyperparams=hyperparams,
                                  schedule=schedule, **kwargs)
        except SimulatorError as error:  # not finite at the start: simulate() refuses, a batch reports it
            assert "not finite there" in str(error)
            assert result.diverged_at[i] == 0 and tuple(result.final_xy[i]) == tuple(start), where
            continue
        assert tuple(result.final_xy[i]) == trajectory.final, where  # bit for bit
        assert result.final_loss[i] == trajectory.loss[-1], where
        expected = trajectory.diverged_at if trajectory.status == "diverged" else -1
        assert result.diverged_at[i] == expected and result.diverged[i] == (expected >= 0), where


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_ends_where_simulate_ends(optimizer):
    starts = starts_in_view("rosenbrock")
    steps = 12 if optimizer == "LBFGS" else 150
    hyperparams = {"lr": 0.5} if optimizer == "LBFGS" else None
    result = simulate_many("rosenbrock", optimizer, starts, steps, hyperparams)
    assert result.done.all() and not result.cancelled
    assert_rows_equal_simulate(result, "rosenbrock", optimizer, starts, steps, hyperparams)


# Options, schedules (momentum cycling, ReduceLROnPlateau per row), surfaces, divergence.
CASES = [
    ("SGD", {"lr": 0.003}, "rosenbrock", None),  # most starts diverge
    ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}, "himmelblau",
     ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 20})),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}, "himmelblau",
     ("ReduceLROnPlateau", {"patience": 2, "factor": 0.5})),
    ("Adam", {"lr": 0.02, "betas": (0.5, 0.9)}, "rastrigin", ("OneCycleLR", {"max_lr": 0.1})),
    ("Adam", {"lr": 0.3, "maximize": True, "eps": 1e-3}, "saddle", None),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.5}, "beale", ("CosineAnnealingLR", {"T_max": 40})),
    ("AdamW", {"lr": 0.05, "amsgrad": True}, "ackley", ("ReduceLROnPlateau", {"patience": 1})),
    ("NAdam", {"lr": 0.05, "decoupled_weight_decay": True, "weight_decay": 0.1}, "levi13",
     ("StepLR", {"step_size": 30})),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}, "goldstein_price",
     ("ReduceLROnPlateau", {"patience": 3, "factor": 0.3})),
    ("Rprop", {}, "mccormick", ("ExponentialLR", {"gamma": 0.99})),
    ("LBFGS", {"line_search_fn": "strong_wolfe"}, "himmelblau", ("ReduceLROnPlateau", {"patience": 1})),
    ("Adam", {"lr": 0.1}, FORMULA, None),
    ("RAdam", {"lr": 0.1}, FORMULA, ("ReduceLROnPlateau", {"patience": 2})),
]


@pytest.mark.parametrize("optimizer, hyperparams, surface, schedule", CASES,
                         ids=lambda v: v if isinstance(v, str) else None)
def test_options_schedules_and_surfaces_end_where_simulate_ends(optimizer, hyperparams, surface, schedule):
    starts = starts_in_view(surface)
    steps = 15 if optimizer == "LBFGS" else 120
    result = simulate_many(surface, optimizer, starts, steps, hyperparams, schedule=schedule)
    assert_rows_equal_simulate(result, surface, optimizer, starts, steps, hyperparams, schedule)


def test_diverged_rows_keep_their_last_finite_point():
    result = simulate_many("rosenbrock", "SGD", starts_in_view("rosenbrock"), 120, {"lr": 0.002})
    assert result.diverged.sum() >= 2 and (~result.diverged).any()
    assert np.all(np.isfinite(result.final_xy)) and np.all(np.isfinite(result.final_loss))


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_every_built_in_surface_evaluates_as_simulate_does(surface):
    starts = starts_in_view(surface, FRACTIONS[:4])
    for optimizer, hyperparams in (("Adam", {"lr": 0.05}), ("SGD", {"lr": 1e-3})):
        result = simulate_many(surface, optimizer, starts, 40, hyperparams)
        assert_rows_equal_simulate(result, surface, optimizer, starts, 40, hyperparams)


def test_surface_parameters_reach_the_rows_and_the_minima():
    starts = starts_in_view("rosenbrock", FRACTIONS[:3])
    moved = simulate_many("rosenbrock", "Adam", starts, 60, {"lr": 0.05}, surface_params={"a": 2.0})
    assert_rows_equal_simulate(moved, "rosenbrock", "Adam", starts, 60, {"lr": 0.05}, surface_params={"a": 2.0})
    assert moved.minima.shape == (0, 2) and np.all(moved.minimum_index == -1)  # (1, 1) is no longer one
    kept = simulate_many("quadratic", "SGD", np.array([[1.0, 1.0]]), 300, {"lr": 0.1}, surface_params={"b": 5.0})
    assert kept.minima.tolist() == [[0.0, 0.0]] and kept.minimum_index.tolist() == [0]


def test_a_start_where_the_loss_is_not_finite_diverges_at_step_zero():
    result = simulate_many(FORMULA, "SGD", np.array([[-5.0, 0.0], [0.0, 0.0]]), 10)
    assert result.diverged.tolist() == [True, False] and result.diverged_at[0] == 0
    assert tuple(result.final_xy[0]) == (-5.0, 0.0) and np.isnan(result.final_loss[0])
    with pytest.raises(SimulatorError, match="not finite there"):
        simulate(FORMULA, "SGD", start=(-5.0, 0.0), steps=10)  # one run refuses; a batch reports it


@pytest.mark.parametrize("optimizer", ["Adagrad", "Adam"])
def test_zero_divided_by_zero_diverges_like_torch_in_both_engines(optimizer):
    kwargs = dict(surface="quadratic", optimizer=optimizer, steps=3, hyperparams={"eps": 0.0})
    single = simulate(start=(0.0, 0.0), **kwargs)  # torch computes 0/0 = NaN: the run diverges
    assert single.status == "diverged" and single.message == "diverged at step 1"
    starts = np.array([[1.0, 1.0]] * 5 + [[0.0, 0.0]])  # the last block may run in a worker thread
    result = simulate_many(starts=starts, **kwargs)
    assert result.diverged.tolist() == [False] * 5 + [True] and result.diverged_at[-1] == 1
    assert tuple(result.final_xy[-1]) == (0.0, 0.0)
    assert_rows_equal_simulate(result, starts=starts[:5], **kwargs)


# ---- where runs end: basins and convergence -------------------------------------------------------


def test_himmelblau_starts_next_to_each_minimum_are_labelled_with_it():
    surface = get_surface("himmelblau")
    minima = np.array([m[:2] for m in surface.minima])
    starts = minima + np.array([0.3, -0.25])
    result = simulate_many("himmelblau", "SGD", starts, 200, {"lr": 0.01})
    assert result.minima.tolist() == minima.tolist()
    assert result.minimum_index.tolist() == [0, 1, 2, 3]
    assert np.all(result.converged_step > 0) and np.all(result.converged_step < 200)
    assert result.tolerance == pytest.approx(1e-3 * np.hypot(10, 10)) and result.near == 10 * result.tolerance
    assert np.all(np.hypot(*(result.final_xy - minima).T) <= result.tolerance)


def test_converged_step_is_the_first_row_within_tolerance():
    start = np.array([[1.0, 1.0]])
    result = simulate_many("quadratic", "SGD", start, 100, {"lr": 0.05}, tolerance=0.01)
    trajectory = simulate("quadratic", "SGD", start=(1.0, 1.0), steps=100, hyperparams={"lr": 0.05})
    first = int(np.argmax(np.hypot(*trajectory.xy.T) <= 0.01))
    assert result.converged_step.tolist() == [first] and first > 0
    far = simulate_many("quadratic", "SGD", start, 100, {"lr": 0.05}, tolerance=1e-30, near=1e-30)
    assert far.converged_step.tolist() == [-1] and far.minimum_index.tolist() == [-1]


def test_surfaces_without_known_minima_label_nothing():
    result = simulate_many("saddle", "SGD", np.array([[0.5, 0.0], [0.5, 0.1]]), 50, {"lr": 0.1})
    assert result.minima.shape == (0, 2)
    assert result.minimum_index.tolist() == [-1, -1] and result.converged_step.tolist() == [-1, -1]


# ---- sweeps ----------------------------------------------------------------------------------


def test_a_learning_rate_sweep_picks_a_sensible_lr_on_a_quadratic():
    # ½(x² + 10y²): plain descent is stable for lr < 2/10 and fastest near 2/11
    values = [1e-3, 1e-2, 0.05, 0.1, 0.18, 0.25, 0.5]
    starts = np.array([[2.0, 1.5], [-1.0, 2.5], [2.5, -2.5]])
    result = sweep("quadratic", "SGD", starts, 100, param="lr", values=values)
    assert result.final_xy.shape == (7, 3, 2) and result.final_loss.shape == (7, 3)
    assert result.values == values and result.param == "lr"
    assert result.diverged[5:].all() and not result.diverged[:5].any()
    assert result.best_value == 0.18 and result.best_index == 4
    assert np.all(np.isinf(result.mean_final_loss[5:]))
    one = result.for_value(3)
    direct = simulate_many("quadratic", "SGD", starts, 100, {"lr": 0.1})
    np.testing.assert_array_equal(one.final_xy, direct.final_xy)
    np.testing.assert_array_equal(one.converged_step, direct.converged_step)


def test_a_sweep_over_another_hyperparameter_with_a_schedule_matches_simulate():
    starts = starts_in_view("himmelblau", FRACTIONS[:3])
    schedule = ("CosineAnnealingLR", {"T_max": 30})
    values = [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)]
    result = sweep("himmelblau", "Adam", starts, 60, param="betas", values=values, hyperparams={"lr": 0.1},
                   schedule=schedule)
    assert result.values == values
    for v, betas in enumerate(values):
        assert_rows_equal_simulate(result.for_value(v), "himmelblau", "Adam", starts, 60,
                                   {"lr": 0.1, "betas": betas}, schedule)


# ---- noise -------------------------------------------------------------------------------------


def test_noise_is_reproducible_chunk_independent_and_simulates_stream():
    starts = starts_in_view("quadratic", FRACTIONS[:4])
    kwargs = dict(surface="quadratic", optimizer="Adam", starts=starts, steps=80, hyperparams={"lr": 0.05},
                  noise=0.4)
    first = simulate_many(seed=3, **kwargs)
    again = simulate_many(seed=3, chunk_rows=1, **kwargs)
    other = simulate_many(seed=4, **kwargs)
    np.testing.assert_array_equal(first.final_xy, again.final_xy)
    assert not np.array_equal(first.final_xy, other.final_xy)
    assert first.seed == 3
    for i, start in enumerate(starts):
        trajectory = simulate("quadratic", "Adam", start=tuple(start), steps=80, hyperparams={"lr": 0.05},
                              noise=0.4, seed=(3, i))
        assert tuple(first.final_xy[i]) == trajectory.final
    drawn = simulate_many(seed=None, **kwargs)
    assert isinstance(drawn.seed, int)
    np.testing.assert_array_equal(simulate_many(seed=drawn.seed, **kwargs).final_xy, drawn.final_xy)


def test_a_noisy_sweep_gives_each_start_the_same_noise_for_every_value():
    starts = np.array([[1.0, 1.0], [-1.0, 2.0]])
    result = sweep("quadratic", "SGD", starts, 30, values=[0.01, 0.01], noise=0.5, seed=9)
    np.testing.assert_array_equal(result.final_xy[0], result.final_xy[1])


# ---- progress, cancellation, threads ---------------------------------------------------------------


def test_progress_is_reported_per_chunk_and_false_cancels():
    starts = starts_in_view("himmelblau", FRACTIONS[:4] * 2)
    full = simulate_many("himmelblau", "Adam", starts, 50, {"lr": 0.05})
    calls = []
    whole = simulate_many("himmelblau", "Adam", starts, 50, {"lr": 0.05}, chunk_rows=3,
                          progress=lambda done, total: calls.append((done, total)))
    assert calls == [(3, 8), (6, 8), (8, 8)] and not whole.cancelled and whole.done.all()
    np.testing.assert_array_equal(whole.final_xy, full.final_xy)

    cancelled = simulate_many("himmelblau", "Adam", starts, 50, {"lr": 0.05}, chunk_rows=3,
                              progress=lambda done, total: False)
    assert cancelled.cancelled and cancelled.done.tolist() == [True] * 3 + [False] * 5
    np.testing.assert_array_equal(cancelled.final_xy[:3], full.final_xy[:3])
    assert np.isnan(cancelled.final_xy[3:]).all() and np.isnan(cancelled.final_loss[3:]).all()
    assert (cancelled.minimum_index[3:] == -1).all() and (cancelled.converged_step[3:] == -1).all()
    assert not cancelled.diverged[3:].any()

    finished = simulate_many("himmelblau", "Adam", starts, 50, {"lr": 0.05}, chunk_rows=8,
                             progress=lambda done, total: False)
    assert not finished.cancelled and finished.done.all()  # nothing was left to cancel


def test_runs_from_worker_threads_even_at_once_give_the_same_answers():
    starts = starts_in_view("rosenbrock", FRACTIONS[:4] * 8)
    expected = simulate_many("rosenbrock", "Adam", starts, 200, {"lr": 0.01}).final_xy
    results, errors = [], []

    def work():
        try:
            results.append(simulate_many("rosenbrock", "Adam", starts, 200, {"lr": 0.01}, chunk_rows=5,
                                         progress=lambda done, total: None).final_xy)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(results) == 3
    for result in results:
        np.testing.assert_array_equal(result, expected)


# ---- refused input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, culprit", [
    ({"starts": None}, "invalid starts=None"),
    ({"starts": [1.0, 2.0]}, "invalid starts"),
    ({"starts": [[1.0, 2.0, 3.0]]}, "invalid starts"),
    ({"starts": np.zeros((0, 2))}, "M >= 1"),
    ({"starts": [[0.0, 0.0], [np.nan, 1.0]]}, "row 1"),
    ({"starts": [[0.0, 0.0], [1e12, 0.0]]}, "too far outside"),
    ({"starts": "abc"}, "invalid starts"),
    ({"surface": "nope"}, "unknown surface"),
    ({"optimizer": "Adamm"}, "unknown optimizer"),
    ({"hyperparams": {"lr": -1.0}}, "invalid lr"),
    ({"hyperparams": {"foo": 1.0}}, "no hyperparameter 'foo'"),
    ({"steps": -1}, "invalid steps"),
    ({"steps": 2.5}, "invalid steps"),
    ({"steps": 10**9}, "invalid steps"),
    ({"noise": -0.1}, "invalid noise"),
    ({"noise": 0.1, "seed": -3}, "invalid seed"),
    ({"noise": 0.1, "seed": "x"}, "invalid seed"),
    ({"schedule": ("StepLR", {})}, "step_size"),
    ({"tolerance": 0.0}, "invalid tolerance"),
    ({"tolerance": float("nan")}, "invalid tolerance"),
    ({"tolerance": 0.1, "near": 0.01}, "invalid near"),
    ({"chunk_rows": 0}, "invalid chunk_rows"),
    ({"progress": "yes"}, "invalid progress"),
    ({"surface_params": {"q": 1.0}}, "unknown parameter"),
    ({"optimizer": "LBFGS", "noise": 0.1}, "set noise to 0"),
    ({"optimizer": "LBFGS", "schedule": ("OneCycleLR", {"max_lr": 0.1})}, "cycle_momentum"),
])
def test_bad_arguments_are_refused_with_a_named_culprit(kwargs, culprit):
    arguments = dict(surface="rosenbrock", optimizer="Adam", starts=[[0.0, 0.0], [1.0, 2.0]], steps=5)
    arguments.update(kwargs)
    with pytest.raises(SimulatorError, match=culprit):
        simulate_many(**arguments)


@pytest.mark.parametrize("kwargs, culprit", [
    ({"param": "foo"}, "no hyperparameter 'foo'"),
    ({"param": 3}, "invalid param"),
    ({"values": []}, "invalid values"),
    ({"values": None}, "invalid values"),
    ({"values": [0.1, -1.0]}, "invalid lr"),
    ({"param": "betas", "values": [0.9]}, "invalid betas"),
    ({"hyperparams": [1]}, "mapping"),
])
def test_bad_sweeps_are_refused_with_a_named_culprit(kwargs, culprit):
    arguments = dict(surface="quadratic", optimizer="Adam", starts=[[1.0, 1.0]], steps=5, values=[0.1])
    arguments.update(kwargs)
    with pytest.raises(SimulatorError, match=culprit):
        sweep(**arguments)


@pytest.mark.parametrize("kwargs", [
    {"surface": "nope"},
    {"optimizer": "Adamm"},
    {"hyperparams": {"lr": -1.0}},
    {"hyperparams": {"foo": 1.0}},
    {"steps": 2.5},
    {"noise": -0.1},
    {"schedule": ("StepLR", {})},
    {"surface_params": {"q": 1.0}},
    {"optimizer": "LBFGS", "noise": 0.1},
    {"optimizer": "LBFGS", "schedule": ("OneCycleLR", {"max_lr": 0.1})},
    {"steps": -1, "noise": -0.1},  # two culprits: both name the same first one
])
def test_simulate_and_simulate_many_refuse_alike(kwargs):
    # one preparation (engine.prepare_run) checks both: the same words for the same mistake
    arguments = {"surface": "rosenbrock", "optimizer": "Adam", "steps": 5, **kwargs}
    with pytest.raises(SimulatorError) as single:
        simulate(start=(0.0, 0.0), **arguments)
    with pytest.raises(SimulatorError) as many:
        simulate_many(starts=[[0.0, 0.0]], **arguments)
    assert str(single.value) == str(many.value)
