"""How a run is spoken of on the command line: the ``train`` command's flags as configuration keys.

One table serves both directions: the CLI reads flags into a configuration with it, and
:func:`command_line` writes a configuration back as the flags that rebuild it (the Training tab's
"CLI command"). Both front doors import it from here, so neither imports the other.
"""

from __future__ import annotations

import json
import shlex

# The flags that set one configuration key each, in the order a command line shows them.
FLAG_KEYS = {
    "--dataset": "data.name", "--data-path": "data.path", "--model": "model.name",
    "--hidden": "model.hidden", "--activation": "model.activation", "--optimizer": "optimizer.name",
    "--scheduler": "scheduler.name", "--epochs": "train.epochs", "--batch-size": "data.batch_size",
    "--max-steps": "train.max_steps", "--device": "train.device", "--seed": "train.seed",
    "--threads": "train.threads",
}
# Keys whose values are names: text even when they look like numbers ("--dataset 1" is a name).
TEXT_KEYS = frozenset({"data.name", "data.path", "model.name", "model.activation", "optimizer.name",
                       "scheduler.name", "train.device"})
# Shown even at their default, so that a command reads as a run and repeats it on any machine.
ALWAYS_SHOWN = frozenset({"optimizer.name", "train.threads"})


def command_line(config) -> str:
    """The ``python main.py train ...`` command that trains exactly ``config`` (flags only)."""
    from trainers.config import OWN_KEYS, RunConfig

    flags = {key: flag for flag, key in FLAG_KEYS.items()}
    defaults, wanted = RunConfig().to_dict(), config.to_dict()
    args = ["python", "main.py", "train"]
    for section, values in wanted.items():
        own = OWN_KEYS.get(section, ())
        for key, value in values.items():
            if key == "param_groups":
                for rule in value:
                    args += ["--param-group", ";".join(f"{k}={flag_text(v)}" for k, v in rule.items())]
                continue
            dotted = f"{section}.{key}"
            if dotted in flags:
                if value != defaults[section].get(key) or dotted in ALWAYS_SHOWN:
                    args += [flags[dotted], flag_text(value)]
            elif section == "optimizer" and key not in own:
                args += ["--set", f"{key}={flag_text(value)}"]
            elif section == "scheduler" and key not in own:
                args += ["--scheduler-set", f"{key}={flag_text(value)}"]
            elif value != defaults[section].get(key):
                args += ["--set", f"{dotted}={flag_text(value)}"]
    return shlex.join(args)


def flag_text(value) -> str:
    """A value as the CLI's value syntax writes it (``simulator.values.parse_value`` reads it back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        if any(isinstance(v, list | tuple | dict) for v in value):  # schedules of schedules: as JSON
            return json.dumps(value)
        return ",".join(flag_text(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def duration_text(seconds: float) -> str:
    """``12.3 s`` under a minute, ``H:MM:SS`` above (progress bars, summaries, ETAs)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"
