"""ReduceLROnPlateau inside the compiled loops: torch's arithmetic on a float vector and a state.

torch's ``ReduceLROnPlateau.step(metrics)`` with the loss each step reaches. It watches the loss, so
unlike every other schedule it cannot be computed ahead of a run: ``engine._run``, ``lbfgs`` and
``batch`` call :func:`plateau_step` after each step. A module of its own: those loops need only
this, and lbfgs (which the optimizers' registry imports) must not import the schedules registry.
"""

import numpy as np
from numba import njit

# The parameters travel as a float vector (ReduceLROnPlateau.vector), the state (best, bad steps,
# cooldown counter) as another.
(_PLATEAU_MODE_MAX, _PLATEAU_ABSOLUTE, _PLATEAU_THRESHOLD, _PLATEAU_FACTOR, _PLATEAU_PATIENCE,
 _PLATEAU_COOLDOWN, _PLATEAU_MIN_LR, _PLATEAU_EPS) = range(8)
_PLATEAU_BEST, _PLATEAU_BAD_STEPS, _PLATEAU_COOLDOWN_LEFT = range(3)


class ReduceLROnPlateau:
    """Holds the resolved parameters; ``plateau_step`` does torch's arithmetic in compiled code."""

    def __init__(self, group, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        self.vector = np.array([
            1.0 if mode == "max" else 0.0, 1.0 if threshold_mode == "abs" else 0.0, threshold, factor,
            patience, cooldown, min_lr, eps,
        ], dtype=np.float64)


@njit(cache=True, error_model="numpy")
def plateau_start(vector):
    """A fresh state for ``vector`` (empty vector: no plateau; the state is then unused)."""
    state = np.zeros(3)
    if vector.shape[0] > 0:
        state[_PLATEAU_BEST] = -np.inf if vector[_PLATEAU_MODE_MAX] != 0.0 else np.inf  # torch's mode_worse
    return state


@njit(cache=True, error_model="numpy")
def plateau_step(vector, state, metric, lr):
    """torch's ``ReduceLROnPlateau.step(metric)`` for one param group whose lr is ``lr``; the new lr."""
    best, threshold = state[_PLATEAU_BEST], vector[_PLATEAU_THRESHOLD]
    if vector[_PLATEAU_MODE_MAX] == 0.0:
        better = metric < (best - threshold if vector[_PLATEAU_ABSOLUTE] != 0.0 else best * (1.0 - threshold))
    else:
        better = metric > (best + threshold if vector[_PLATEAU_ABSOLUTE] != 0.0 else best * (threshold + 1.0))
    if better:
        state[_PLATEAU_BEST] = metric
        state[_PLATEAU_BAD_STEPS] = 0.0
    else:
        state[_PLATEAU_BAD_STEPS] += 1.0
    if state[_PLATEAU_COOLDOWN_LEFT] > 0.0:
        state[_PLATEAU_COOLDOWN_LEFT] -= 1.0
        state[_PLATEAU_BAD_STEPS] = 0.0  # bad steps in cooldown are ignored
    if state[_PLATEAU_BAD_STEPS] > vector[_PLATEAU_PATIENCE]:
        scaled, floor = lr * vector[_PLATEAU_FACTOR], vector[_PLATEAU_MIN_LR]
        new_lr = floor if floor > scaled else scaled  # Python's max(lr * factor, min_lr)
        if lr - new_lr > vector[_PLATEAU_EPS]:
            lr = new_lr
        state[_PLATEAU_COOLDOWN_LEFT] = vector[_PLATEAU_COOLDOWN]
        state[_PLATEAU_BAD_STEPS] = 0.0
    return lr
