"""HyperParam: one constructor argument of a torch optimizer or scheduler, described for editors.

The kinds say how a value is typed and edited: FLOAT (a number), BOOL, PAIR (two numbers, e.g.
betas), INT (a whole number), CHOICE (one of a few strings or None).
"""

from dataclasses import dataclass

FLOAT, BOOL, PAIR, INT, CHOICE = "float", "bool", "pair", "int", "choice"


@dataclass(frozen=True)
class HyperParam:
    """One constructor argument of a torch optimizer.

    ``minimum``/``maximum`` bound what torch accepts (``None`` = unbounded; for a pair they bound
    each element); ``typical`` is the range an editor's slider spans; ``torch_error`` is torch's own
    message for a refused value, quoted in ours.
    """

    name: str
    default: float | bool | tuple | None
    help: str
    kind: str = FLOAT
    minimum: float | None = None
    maximum: float | None = None
    include_minimum: bool = True
    include_maximum: bool = True
    scale: str = "linear"
    typical: tuple[float, float] | None = None
    torch_error: str = ""
    first_may_be_none: bool = False  # Adafactor's eps=(None, 1e-3)

    @property
    def slots(self) -> int:
        return 2 if self.kind == PAIR else 1

    def range_text(self) -> str:
        if self.kind == BOOL:
            return "true or false"
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>=' if self.include_minimum else '>'} {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"{'<=' if self.include_maximum else '<'} {self.maximum:g}")
        return " and ".join(parts) if parts else "any finite number"

    def in_range(self, x: float) -> bool:
        above_minimum = self.minimum is None or x > self.minimum or (
            x == self.minimum and self.include_minimum
        )
        below_maximum = self.maximum is None or x < self.maximum or (
            x == self.maximum and self.include_maximum
        )
        return above_minimum and below_maximum
