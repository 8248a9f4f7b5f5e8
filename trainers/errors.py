"""The one error type the training engine raises for bad input from people."""

from simulator.errors import InputError


class ConfigError(InputError):
    """A configuration value is invalid; the message names its key (``optimizer.lr``) and says why,
    and ``param`` holds that key (``value``, ``torch_text`` where known: see InputError)."""
