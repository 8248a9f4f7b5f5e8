"""OptiScope's simulator: torch.optim's update rules on 2-D surfaces, compiled with Numba.

numpy + numba only: this package never imports Qt or torch.
"""

from simulator.batch import BatchResult, SweepResult, simulate_many, sweep
from simulator.engine import simulate
from simulator.errors import SimulatorError
from simulator.optimizers import OPTIMIZERS, get_optimizer
from simulator.surfaces import SURFACES, get_surface
from simulator.trajectory import Trajectory, read_csv_runs

__all__ = [
    "OPTIMIZERS",
    "SURFACES",
    "BatchResult",
    "SimulatorError",
    "SweepResult",
    "Trajectory",
    "get_optimizer",
    "get_surface",
    "read_csv_runs",
    "simulate",
    "simulate_many",
    "sweep",
]
