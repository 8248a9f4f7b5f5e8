"""simulate(): what each recorded array means, noise, divergence and refused input."""

import numpy as np
import pytest

from simulator import SimulatorError, get_optimizer, get_surface, simulate


def test_rows_follow_the_contract():
    trajectory = simulate("rosenbrock", "Adam", start=(-1.5, 2.0), steps=300, hyperparams={"lr": 0.01})
    surface = get_surface("rosenbrock")
    assert trajectory.xy.shape == (301, 2) and trajectory.loss.shape == (301,)
    assert trajectory.grad.shape == (301, 2) and trajectory.lr.shape == (301,)
    assert tuple(trajectory.xy[0]) == (-1.5, 2.0)
    for k in (0, 1, 150, 300):
        x, y = trajectory.xy[k]
        assert trajectory.loss[k] == surface.value(x, y)
        assert tuple(trajectory.grad[k]) == surface.grad(x, y)
    assert np.all(trajectory.lr == 0.01)
    assert trajectory.status == "ok" and trajectory.message == "completed 300 steps"
    assert trajectory.loss[-1] < 0.5 * trajectory.loss[0]  # it does descend


def test_state_rows_hold_the_state_after_each_step():
    trajectory = simulate("booth", "Adam", start=(0.0, 0.0), steps=3, hyperparams={"lr": 0.1, "betas": (0.5, 0.9)})
    exp_avg_x = trajectory.state_column("exp_avg_x")
    step = trajectory.state_column("step")
    assert list(step) == [0.0, 1.0, 2.0, 3.0]
    assert exp_avg_x[0] == 0.0
    assert exp_avg_x[1] == pytest.approx(0.5 * trajectory.grad[0, 0], rel=1e-15)
    assert exp_avg_x[2] == pytest.approx(0.5 * exp_avg_x[1] + 0.5 * trajectory.grad[1, 0], rel=1e-15)
    assert trajectory.state_names == get_optimizer("Adam").state_names


def test_zero_steps_records_the_start_only():
    trajectory = simulate("himmelblau", "SGD", start=(1.0, 2.0), steps=0)
    assert trajectory.xy.tolist() == [[1.0, 2.0]] and trajectory.steps == 0


def test_default_start_is_the_surfaces():
    trajectory = simulate("rastrigin", "SGD", steps=1)
    assert tuple(trajectory.xy[0]) == get_surface("rastrigin").default_start


def test_hyperparameters_take_effect_on_every_call():
    # Numba freezes globals at compile time: hyperparameters must travel as arguments.
    slow = simulate("quadratic", "SGD", start=(2.0, 2.0), steps=5, hyperparams={"lr": 0.01})
    fast = simulate("quadratic", "SGD", start=(2.0, 2.0), steps=5, hyperparams={"lr": 0.05})
    assert slow.xy[1, 0] == 2.0 - 0.01 * 2.0
    assert fast.xy[1, 0] == 2.0 - 0.05 * 2.0


def test_noise_is_gaussian_and_reproducible():
    kwargs = dict(surface="quadratic", optimizer="SGD", start=(1.0, 1.0), steps=4000, hyperparams={"lr": 0.01})
    first = simulate(noise=0.5, seed=7, **kwargs)
    again = simulate(noise=0.5, seed=7, **kwargs)
    other = simulate(noise=0.5, seed=8, **kwargs)
    np.testing.assert_array_equal(first.xy, again.xy)
    np.testing.assert_array_equal(first.grad, again.grad)
    assert not np.array_equal(first.xy, other.xy)
    surface = get_surface("quadratic")
    exact = np.array([surface.grad(x, y) for x, y in first.xy])
    noise = first.grad - exact
    assert abs(noise.std() - 0.5) < 0.02 and abs(noise.mean()) < 0.02


def test_a_diverging_run_keeps_its_finite_rows():
    trajectory = simulate("rosenbrock", "SGD", start=(-1.5, 2.0), steps=1000, hyperparams={"lr": 0.01})
    assert trajectory.status == "diverged"
    k = trajectory.diverged_at
    assert trajectory.message == f"diverged at step {k}"
    assert trajectory.steps == k - 1 and len(trajectory.xy) == k
    for array in (trajectory.xy, trajectory.loss, trajectory.grad, trajectory.lr, trajectory.state):
        assert np.all(np.isfinite(array))


def test_a_point_running_away_is_stopped_while_still_finite():
    trajectory = simulate("saddle", "SGD", start=(0.5, 0.1), steps=10_000, hyperparams={"lr": 0.1})
    assert trajectory.status == "diverged"
    assert np.all(np.isfinite(trajectory.loss))
    assert abs(trajectory.xy[-1, 1]) > 1e5


@pytest.mark.parametrize("kwargs, culprit", [
    ({"surface": "nowhere"}, "unknown surface 'nowhere'"),
    ({"optimizer": "Adamm"}, "unknown optimizer 'Adamm'"),
    ({"hyperparams": {"lr": -1}}, "invalid lr=-1"),
    ({"hyperparams": {"momentum": 0.9}}, "Adam has no hyperparameter 'momentum'"),
    ({"start": (1.0,)}, "invalid start"),
    ({"start": (float("nan"), 0.0)}, "invalid start"),
    ({"start": (1e12, 0.0)}, "too far outside"),
    ({"steps": -1}, "invalid steps=-1"),
    ({"steps": 2.5}, "invalid steps=2.5"),
    ({"noise": -0.1}, "invalid noise"),
    ({"noise": float("inf")}, "invalid noise"),
    ({"noise": 0.1, "seed": -3}, "invalid seed"),
    ({"surface_params": {"c": 1.0}}, "unknown parameter 'c'"),
])
def test_bad_arguments_are_refused_with_a_named_culprit(kwargs, culprit):
    arguments = {"surface": "rosenbrock", "optimizer": "Adam", "start": (0.0, 0.0), "steps": 10} | kwargs
    with pytest.raises(SimulatorError, match=culprit.replace("(", r"\(")):
        simulate(**arguments)


def test_surface_parameters_change_the_surface():
    steep = simulate("quadratic", "SGD", start=(1.0, 1.0), steps=1, hyperparams={"lr": 0.01}, surface_params={"b": 50.0})
    assert steep.grad[0, 1] == 50.0 and steep.loss[0] == 0.5 * (1.0 + 50.0)


# ---- the kernel table: built from the registry, dispatched by id, cached under its key -------


def test_kernel_ids_are_the_registry_order():
    from simulator.optimizers import KERNELS, OPTIMIZERS

    assert len(set(KERNELS)) == len(KERNELS)
    records = [spec for spec in OPTIMIZERS.values() if not spec.closure]
    assert tuple(dict.fromkeys(spec.kernel for spec in records)) == KERNELS
    for spec in records:
        assert KERNELS[spec.kernel_id] is spec.kernel
    assert get_optimizer("Adam").kernel_id == get_optimizer("AdamW").kernel_id  # one kernel, two records
    assert get_optimizer("LBFGS").kernel_id == -1


def test_the_lr_travels_apart_from_the_packed_vector():
    sgd = get_optimizer("SGD")
    packed = sgd.pack(sgd.resolve({"lr": 0.125, "momentum": 0.5, "dampening": 0.25}))
    assert packed.tolist() == [0.5, 0.25, 0.0, 0.0, 0.0]  # momentum, dampening, weight_decay, nesterov, maximize
    assert sgd.slot("momentum") == 0
    adam = get_optimizer("Adam")
    assert adam.slot("betas") == 0  # momentum cycling writes beta1 here
    assert adam.pack(adam.resolve({"lr": 0.5}))[:2].tolist() == [0.9, 0.999]


def test_the_dispatch_runs_the_kernel_of_each_id_and_nothing_else():
    from numba import njit

    from simulator.kernels import build_dispatch

    def writer(value):
        @njit
        def step(p, g, lr, hp, state, fused):
            p[0] = value + lr * g[0] + hp[0] + state[0]
        return step

    dispatch = build_dispatch((writer(10.0), writer(20.0), writer(30.0)))

    @njit
    def run(kernel_id, p):
        dispatch(kernel_id, p, np.ones(2), 0.5, np.zeros(1), np.zeros(1), False)

    for kernel_id, expected in ((0, 10.5), (1, 20.5), (2, 30.5), (3, -1.0), (-1, -1.0)):
        p = np.array([-1.0, -1.0])
        run(kernel_id, p)
        assert p.tolist() == [expected, -1.0], kernel_id


def test_compiled_loops_are_cached_under_the_kernel_table():
    # Numba keys a cached loop to its own file only: without the table in the key, a loop compiled
    # before an optimizer was added would load from disk and silently skip the new kernel.
    from simulator import batch, engine, kernels
    from simulator.optimizers import KERNELS

    key = kernels.kernels_key(KERNELS)
    assert kernels.kernels_key(KERNELS[::-1]) != key
    assert kernels.kernels_key(KERNELS[:-1]) != key
    assert kernels.kernels_key(KERNELS) == key  # stable, so a warm cache loads
    for loop in (engine._run, batch._run_block, batch._explore, batch._adam_axis):
        assert set(KERNELS) <= set(loop._cache.steps), loop
        index_key = loop._cache._index_key((), loop.targetctx.codegen())
        assert index_key[-1] == kernels.kernels_key(loop._cache.steps), loop
