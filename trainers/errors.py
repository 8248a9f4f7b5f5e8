"""The one error type the training engine raises for bad input from people."""


class ConfigError(ValueError):
    """A configuration value is invalid; the message names its key (``optimizer.lr``) and says why."""
