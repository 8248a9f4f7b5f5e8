"""The one error type the simulator raises for bad input from people."""


class SimulatorError(ValueError):
    """A value a user supplied is invalid; the message names it and says why."""
