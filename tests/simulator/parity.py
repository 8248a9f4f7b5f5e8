"""What every parity test does with a reference optimizer: replay the simulator's recorded
gradients into it, and compare the positions it reaches with the simulator's."""

import numpy as np


def replay_gradients(trajectory, optimizer, point) -> np.ndarray:
    """Positions ``optimizer`` (a torch optimizer over the one Parameter ``point``, which starts at
    the trajectory's first row) reaches when each step is handed the simulator's gradient."""
    import torch

    positions = [point.detach().numpy().copy()]
    for k in range(trajectory.steps):
        point.grad = torch.tensor(trajectory.grad[k], dtype=torch.float64)
        optimizer.step()
        positions.append(point.detach().numpy().copy())
    return np.array(positions)


def relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    """The largest difference of a step's point relative to that point's size (max norm). Not per
    coordinate: a coordinate crossing zero (y = 2e-5 on Adadelta's way down Rosenbrock) would turn
    a 1-ulp sqrt difference of the point into any "relative" error at all."""
    scale = np.maximum(np.max(np.abs(theirs), axis=1, keepdims=True), 1e-300)
    return float(np.max(np.abs(ours - theirs) / scale))


def assert_same_path(trajectory, theirs: np.ndarray, bit_exact: bool, tolerance: float) -> None:
    """Bit for bit where the reference's operations allow it, else within ``tolerance``; and the
    point moved (a case that never moves proves nothing)."""
    if bit_exact:
        mismatch = np.nonzero(np.any(trajectory.xy != theirs, axis=1))[0]
        assert mismatch.size == 0, f"first differing step {mismatch[0]}"
    else:
        assert relative_error(trajectory.xy, theirs) <= tolerance
    assert not np.array_equal(trajectory.xy[-1], trajectory.xy[0]), "the point never moved"
