"""Compile the simulator's kernels ahead of use, so nobody waits for Numba later.

Numba compiles a kernel on its first call and keeps it on disk (``cache=True``); with a cold cache
the first simulate() takes seconds, the first L-BFGS run or basin map more. ``main.py prepare``
(which ``make`` runs once after installing, and again when the simulator's sources change) calls
each compiled family once on a tiny case, so every later call, the app's first window included,
loads it from the cache instead. A warm cache makes this a fraction of a second.
"""

import time
from collections.abc import Callable

import numpy as np

_STARTS = np.array([[-1.0, 1.5], [0.5, -0.5]])
_FORMULA = "expr:(x - 1)**2 + 2*sin(y)**2"


def _loop() -> None:
    from simulator.engine import simulate

    simulate("rosenbrock", "Adam", steps=3)


def _lbfgs() -> None:
    from simulator.engine import simulate

    simulate("rosenbrock", "LBFGS", steps=3)


def _formula() -> None:
    from simulator.engine import simulate

    simulate(_FORMULA, "Adam", steps=3)


def _many() -> None:
    from simulator.batch import simulate_many

    simulate_many("rosenbrock", "Adam", _STARTS, steps=3)


def _many_lbfgs() -> None:
    from simulator.batch import simulate_many

    simulate_many("rosenbrock", "LBFGS", _STARTS, steps=3)


def _many_formula() -> None:
    from simulator.batch import simulate_many

    simulate_many(_FORMULA, "Adam", _STARTS, steps=3)


# What each compiled family is, as a person reads it, and the call that compiles it. Every
# optimizer and built-in surface shares one compiled loop (they dispatch on integer ids); the
# cached loops are keyed to the kernel table (kernels.keyed_to), so an added or edited kernel
# recompiles them here instead of loading a loop that lacks it.
KERNEL_FAMILIES: tuple[tuple[str, Callable[[], None]], ...] = (
    ("every optimizer on the built-in surfaces", _loop),
    ("L-BFGS", _lbfgs),
    ("typed formulas", _formula),
    ("many starts at once (Explore)", _many),
    ("many L-BFGS starts", _many_lbfgs),
    ("many starts on a typed formula", _many_formula),
)


def prepare_kernels(families=KERNEL_FAMILIES, report: Callable[[str, float], None] | None = None
                    ) -> list[tuple[str, float]]:
    """Compile (or load from the cache) each family; ``[(name, seconds), ...]``, also handed to
    ``report`` as each one is done."""
    timings = []
    for name, compile_family in families:
        started = time.perf_counter()
        compile_family()
        timings.append((name, time.perf_counter() - started))
        if report is not None:
            report(*timings[-1])
    return timings
