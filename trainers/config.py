"""The run configuration: one validated object, loaded from TOML or JSON or built from CLI flags.

Five sections, each a dataclass: ``data``, ``model``, ``optimizer``, ``scheduler``, ``train``. The
optimizer and scheduler sections take any keyword argument of the chosen torch class next to their
own keys (``optimizer.lr``, ``scheduler.T_max``). This module checks names, types and ranges; the
values only torch can judge (an optimizer's ``betas``, a scheduler's ``gamma``) are checked by
building the real objects in ``trainers.factory`` before training starts.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any

from simulator.values import is_finite_number, parse_document, shown
from trainers.errors import ConfigError

MODELS = ("linear", "mlp", "cnn")
ACTIVATIONS = ("relu", "tanh", "gelu", "sigmoid", "leaky_relu", "elu", "silu", "softplus", "identity")
TASKS = ("classification", "regression")
INTERVALS = ("step", "epoch")
MONITORS = ("val_loss", "val_accuracy", "train_loss")
# Schedulers that advance once per optimizer step by design: their default interval is "step".
STEP_SCHEDULERS = ("onecyclelr", "cycliclr")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass
class DataConfig:
    name: str = "moons"
    path: str | None = None
    batch_size: int = 64
    val_fraction: float = 0.2
    noise: float | None = None  # None: the dataset's own default
    samples: int | None = None  # None: the dataset's default (synthetic) or all of it
    shuffle: bool = True
    target: str | int | None = None  # csv: column name or index; None = the last column
    task: str | None = None  # csv: "classification" / "regression"; None = inferred


@dataclass
class ModelConfig:
    name: str = "mlp"
    hidden: list[int] = field(default_factory=lambda: [32, 32])
    activation: str = "relu"


@dataclass
class OptimizerConfig:
    name: str = "Adam"
    options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of the torch class
    param_groups: list[dict[str, Any]] = field(default_factory=list)  # rules: {"match": regex, ...}
    no_decay_bias_norm: bool = False


@dataclass
class SchedulerConfig:
    name: str | None = None  # None: a constant learning rate
    options: dict[str, Any] = field(default_factory=dict)
    interval: str | None = None  # None: "step" for OneCycleLR/CyclicLR, else "epoch"
    warmup_steps: int = 0
    monitor: str = "val_loss"  # ReduceLROnPlateau's metric

    @property
    def effective_interval(self) -> str:
        if self.interval is not None:
            return self.interval
        return "step" if (self.name or "").lower() in STEP_SCHEDULERS else "epoch"


def default_threads() -> int:
    """Torch's CPU threads for a run that names none: the cores this process may use, less one for
    the GUI and the rest of the machine, at least one, and no more than the physical cores (torch's
    own default; hyper-threads only slow its kernels down).

    The number is part of the run, written to its files, checkpoint and command line, because
    torch's sums depend on it: the same run on another thread count differs in the last bits.
    """
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = list(range(os.cpu_count() or 1))
    threads = max(1, len(cpus) - 1)
    physical = _physical_cores(cpus)
    return min(threads, physical) if physical else threads


def _physical_cores(cpus) -> int | None:
    """How many physical cores the logical ``cpus`` are on (Linux), or None when it cannot tell."""
    cores = set()
    for cpu in cpus:
        try:
            with open(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list") as siblings:
                cores.add(siblings.read().strip())
        except OSError:
            return None
    return len(cores) or None


@dataclass
class TrainConfig:
    epochs: int = 10
    device: str = "auto"
    seed: int = 0
    grad_clip: float | None = None
    max_steps: int | None = None
    threads: int = field(default_factory=default_threads)  # torch's CPU threads (see default_threads)


SECTIONS = {"data": DataConfig, "model": ModelConfig, "optimizer": OptimizerConfig,
            "scheduler": SchedulerConfig, "train": TrainConfig}
# Keys of the optimizer/scheduler sections that are OptiScope's; every other key goes to torch.
OWN_KEYS = {"optimizer": ("name", "param_groups", "no_decay_bias_norm"),
             "scheduler": ("name", "interval", "warmup_steps", "monitor")}


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    # -- plain data -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: dict) -> RunConfig:
        """Build and validate a configuration from nested plain data (a parsed TOML/JSON file)."""
        if not isinstance(raw, dict):
            raise ConfigError(f"a configuration is a table of sections, got {type(raw).__name__}")
        unknown = [key for key in raw if key not in SECTIONS]
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown section{_suggest(unknown[0], SECTIONS)} "
                              f"(sections: {', '.join(SECTIONS)})", param=unknown[0])
        config = cls()
        for section, values in raw.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{section}: expected a table of keys, got {type(values).__name__}",
                                  param=section)
            for key, value in values.items():
                config.set(f"{section}.{key}", value)
        config.validate()
        return config

    def to_dict(self) -> dict:
        """Nested plain data, as written to files; ``from_dict(to_dict())`` gives the same config."""
        out = {}
        for section in SECTIONS:
            part = getattr(self, section)
            values = {}
            for f in fields(part):
                value = getattr(part, f.name)
                if f.name == "options":
                    values.update(copy.deepcopy(value))
                elif value is not None:
                    values[f.name] = copy.deepcopy(value)
            out[section] = values
        return out

    def copy(self) -> RunConfig:
        return copy.deepcopy(self)

    # -- one key at a time (files, CLI flags, the GUI) --------------------------------------
    def set(self, dotted_key: str, value) -> None:
        """Set ``section.key`` (e.g. ``optimizer.lr``) with its type checked; torch options go to
        the section's ``options`` dict unchecked here (the factory checks them against torch)."""
        section, _, key = dotted_key.partition(".")
        if section not in SECTIONS or not key:
            raise ConfigError(f"{dotted_key}: expected SECTION.KEY with a section among "
                              f"{', '.join(SECTIONS)}", param=dotted_key)
        part = getattr(self, section)
        if section in OWN_KEYS and key not in OWN_KEYS[section]:
            part.options[key] = _plain(value, dotted_key)
            return
        names = [f.name for f in fields(part) if f.name != "options"]
        if key not in names:
            raise ConfigError(f"{dotted_key}: unknown key{_suggest(key, names)} "
                              f"(keys of [{section}]: {', '.join(names)})", param=dotted_key)
        setattr(part, key, _CHECKS[dotted_key](value, dotted_key))

    def validate(self) -> None:
        """Checks that involve several keys."""
        data, scheduler = self.data, self.scheduler
        if data.name.lower() in ("csv", "mnist", "fashion_mnist") and not data.path:
            raise ConfigError(f"data.path: the '{data.name}' dataset reads files; give their path",
                              param="data.path")
        if scheduler.name is None and scheduler.options:
            key = next(iter(scheduler.options))
            raise ConfigError(f"scheduler.{key}: set scheduler.name to use scheduler options",
                              param=f"scheduler.{key}")
        is_plateau = (scheduler.name or "").lower() == "reducelronplateau"
        if is_plateau:
            if scheduler.effective_interval == "step" and scheduler.monitor != "train_loss":
                raise ConfigError("scheduler.monitor: with interval = \"step\" ReduceLROnPlateau can "
                                  "only watch train_loss (validation runs once per epoch)",
                                  param="scheduler.monitor")
            if scheduler.monitor.startswith("val_") and data.val_fraction == 0:
                raise ConfigError(f"scheduler.monitor: {scheduler.monitor} needs a validation set "
                                  "(data.val_fraction is 0)", param="scheduler.monitor")

    # -- files ------------------------------------------------------------------------------
    @classmethod
    def load(cls, path) -> RunConfig:
        """Read a ``.toml`` or ``.json`` configuration file."""
        path = os.fspath(path)
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except OSError as error:
            raise ConfigError(f"cannot read configuration '{path}': {error.strerror or error}") from None
        kind = "JSON" if path.lower().endswith(".json") else "TOML"
        return cls.from_dict(parse_document(content, path, kind, ConfigError))

    def save(self, path) -> None:
        """Write as TOML (``.toml``) or JSON (anything else), atomically."""
        from trainers.files import write_text_atomically

        path = os.fspath(path)
        text = to_toml(self.to_dict()) if path.lower().endswith(".toml") else \
            json.dumps(self.to_dict(), indent=2) + "\n"
        write_text_atomically(path, text)


# -- value checks ---------------------------------------------------------------------------

def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _plain(value, key):
    """Torch options arrive from TOML/JSON as lists; optimizers want tuples (betas, etas)."""
    if isinstance(value, list):
        return tuple(_plain(v, key) for v in value)
    if isinstance(value, float) and math.isnan(value):
        raise ConfigError(f"{key}: NaN is not a valid value", param=key, value=value)
    if isinstance(value, int) and not -INT64_MAX - 1 <= value <= INT64_MAX:
        # torch keeps integers in 64 bits and would fail with OverflowError at its first step
        raise ConfigError(f"{key}: {shown(value)} is too large (torch takes at most {INT64_MAX})",
                          param=key, value=value)
    return value


# torch keeps counts and sizes in 64-bit integers; a larger one would overflow inside it.
INT64_MAX = 2**63 - 1
# torch.manual_seed takes any 64-bit pattern: 0 .. 2**64 - 1.
SEED_MAX = 2**64 - 1


def _integer(minimum, optional=False, maximum=INT64_MAX, range_note=""):
    def check(value, key):
        if value is None and optional:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            too_large = isinstance(value, int) and value > maximum
            limits = f"from {minimum} to {maximum}{range_note}" if too_large or maximum != INT64_MAX \
                else f">= {minimum}"
            raise ConfigError(f"{key}: expected a whole number {limits}, got {shown(value)}",
                              param=key, value=value)
        return value
    return check


def _number(minimum, maximum=math.inf, optional=False, open_minimum=False, open_maximum=False):
    def check(value, key):
        if value is None and optional:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool) and is_finite_number(value)
        if ok:
            ok = (value > minimum if open_minimum else value >= minimum) and \
                 (value < maximum if open_maximum else value <= maximum)
        if not ok:
            low = "(" if open_minimum else "["
            high = ")" if open_maximum else "]"
            raise ConfigError(f"{key}: expected a number in {low}{minimum}, {maximum}{high}, "
                              f"got {shown(value)}", param=key, value=value)
        return float(value)
    return check


def _choice(choices, optional=False, lower=True):
    def check(value, key):
        if value is None and optional:
            return None
        if not isinstance(value, str) or (value.lower() if lower else value) not in choices:
            written = value if isinstance(value, str) else shown(value)
            raise ConfigError(f"{key}: unknown value '{written}'{_suggest(str(value), choices)} "
                              f"(choose from: {', '.join(choices)})", param=key, value=value)
        return value.lower() if lower else value
    return check


def _text(optional=False):
    def check(value, key):
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key}: expected a non-empty text, got {shown(value)}", param=key, value=value)
        return value.strip()
    return check


def _boolean(value, key):
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {shown(value)}", param=key, value=value)
    return value


def _widths(value, key):
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
        raise ConfigError(f"{key}: expected a list of layer widths (whole numbers >= 1), got {shown(value)}",
                          param=key)
    return value


def _target(value, key):
    if value is None or (isinstance(value, int) and not isinstance(value, bool)) or \
            (isinstance(value, str) and value.strip()):
        return value
    raise ConfigError(f"{key}: expected a column name or index, got {shown(value)}", param=key, value=value)


def _device(value, key):
    if not isinstance(value, str) or not _DEVICE.match(value.strip().lower()):
        raise ConfigError(f"{key}: expected auto, cpu, cuda, cuda:N or mps, got {shown(value)}",
                          param=key, value=value)
    return value.strip().lower()


def _param_groups(value, key):
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{key}: expected a list of rules like {{match = \"bias$\", weight_decay = 0}}",
                          param=key)
    rules = []
    for index, rule in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(rule, dict):
            raise ConfigError(f"{where}: expected a table with a 'match' regex, got {shown(rule)}",
                              param=where)
        if "match" not in rule:
            raise ConfigError(f"{where}.match: missing (a regex on parameter names, e.g. \"^head\\.\")",
                              param=f"{where}.match")
        pattern = rule["match"]
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"{where}.match: expected a regex text, got {shown(pattern)}",
                              param=f"{where}.match")
        try:
            re.compile(pattern)
        except re.error as error:
            raise ConfigError(f"{where}.match: invalid regex '{pattern}': {error}",
                              param=f"{where}.match") from None
        name = rule.get("name", pattern)
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.name: expected a non-empty text, got {shown(name)}",
                              param=f"{where}.name")
        rules.append({k: (_plain(v, f"{where}.{k}") if k not in ("match", "name") else v)
                      for k, v in rule.items()})
    names = [rule.get("name", rule["match"]) for rule in rules]
    for name in names:
        if name in ("default", "no_decay") or names.count(name) > 1:
            raise ConfigError(f"{key}: group name '{name}' is used twice or reserved; give rules "
                              "distinct 'name' keys", param=key, value=value)
    return rules


_CHECKS = {
    "data.name": _text(),
    "data.path": _text(optional=True),
    "data.batch_size": _integer(1),
    "data.val_fraction": _number(0.0, 1.0, open_maximum=True),
    "data.noise": _number(0.0, optional=True),
    "data.samples": _integer(2, optional=True),
    "data.shuffle": _boolean,
    "data.target": _target,
    "data.task": _choice(TASKS, optional=True),
    "model.name": _choice(MODELS),
    "model.hidden": _widths,
    "model.activation": _choice(ACTIVATIONS),
    "optimizer.name": _text(),
    "optimizer.param_groups": _param_groups,
    "optimizer.no_decay_bias_norm": _boolean,
    "scheduler.name": _text(optional=True),
    "scheduler.interval": _choice(INTERVALS, optional=True),
    "scheduler.warmup_steps": _integer(0),
    "scheduler.monitor": _choice(MONITORS),
    "train.epochs": _integer(1),
    "train.device": _device,
    "train.seed": _integer(0, maximum=SEED_MAX, range_note=" (torch's seed range)"),
    "train.grad_clip": _number(0.0, optional=True, open_minimum=True),
    "train.max_steps": _integer(1, optional=True),
    "train.threads": _integer(1),
}


# -- TOML writing (tomllib only reads) -------------------------------------------------------

def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table: a schedule's options inside SequentialLR's list
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot write {shown(value)} ({type(value).__name__}) to TOML")


def _toml_key(key) -> str:
    text = str(key)
    bare = text.isascii() and all(c.isalnum() or c in "_-" for c in text)
    return text if text and bare else json.dumps(text)  # a quoted key otherwise


def to_toml(config: dict) -> str:
    """A nested configuration dict as TOML text (sections, scalars, lists, lists of tables)."""
    lines = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        tables = {k: v for k, v in values.items() if isinstance(v, list) and v and
                  all(isinstance(item, dict) for item in v)}
        for key, value in values.items():
            if key not in tables and value is not None:
                lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
        for key, items in tables.items():
            for item in items:
                lines.append("")
                lines.append(f"[[{section}.{_toml_key(key)}]]")
                lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items() if v is not None)
        lines.append("")
    return "\n".join(lines)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)
