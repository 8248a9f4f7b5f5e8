"""The error types OptiScope raises for bad input from people, carrying their culprit as data.

``str(error)`` is the one-line message for people. The fields say the same as data, so that an
editor can mark the field at fault without reading the message: ``param`` (the parameter or
configuration key, ``"lr"`` or ``"optimizer.lr"``), ``value`` (what was refused), ``owner`` (the
optimizer or schedule it belongs to), ``run`` (which run, when known) and ``torch_text`` (torch's
own words, where torch checks the value). A field not known where the error is raised is None
(``value``: :data:`NOT_GIVEN`, since None is a value people give).
"""


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = _NotGiven()


class InputError(ValueError):
    """A value a person supplied is invalid; the message names it and says why."""

    def __init__(self, message: str, *, param: str | None = None, value=NOT_GIVEN, owner: str | None = None,
                 run: str | None = None, torch_text: str | None = None):
        super().__init__(message)
        self.param, self.value, self.owner, self.run, self.torch_text = param, value, owner, run, torch_text

    def for_run(self, run: str) -> "InputError":
        """This error, told which run it is about (the message is unchanged)."""
        self.run = run
        return self


class SimulatorError(InputError):
    """The one error type the simulator raises for bad input from people."""
