"""Every surface by name: the built-in table and typed formulas, behind one ``get_surface``.

This module sits above both kinds: ``simulator.builtin_surfaces`` (the table) and
``simulator.formula`` (``expr:...``) know only the :class:`~simulator.surface.Surface` type, never
this lookup, so neither imports the other.
"""

from simulator.builtin_surfaces import SURFACE_NAMES, SURFACES
from simulator.errors import SimulatorError
from simulator.surface import Surface

__all__ = ["SURFACES", "SURFACE_NAMES", "get_surface"]


def get_surface(name: str) -> Surface:
    """The surface called ``name``: case-insensitive, '-' or ' ' may stand for '_'.

    ``expr:<formula>`` or ``expr:<formula>@xmin,xmax,ymin,ymax`` is a typed surface f(x, y),
    compiled on first use (see simulator.formula).
    """
    if isinstance(name, str) and name.lstrip()[:5].lower() == "expr:":
        from simulator.formula import formula_surface  # imported on demand: SymPy is slow to import

        return formula_surface(name)
    key = name.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(name, str) else ""
    try:
        return SURFACES[key]
    except KeyError:
        raise SimulatorError(
            f"unknown surface {name!r}; choose from: {', '.join(SURFACE_NAMES)}"
        ) from None
