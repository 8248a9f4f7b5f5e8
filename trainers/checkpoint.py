"""Checkpoints: everything a run needs to continue exactly where it was.

A checkpoint holds plain data and tensors only (it loads with ``weights_only=True``): the
configuration, model, optimizer and scheduler states, the RNG states, the position in the epoch
(with that epoch's sample order) and the metrics so far. Resuming on the same device continues
bit-identically to a run that was never interrupted.

The file is the ``torch.save`` of ``{"format", "version", "sha256", "payload"}``: ``payload`` is
the ``torch.save`` bytes of that state (as a uint8 tensor) and ``sha256`` their SHA-256, so that a
damaged file (one flipped bit in an optimizer's state) is refused instead of resumed. Nothing of a
file is used before the checksum matches and its whole structure is checked; every refusal is one
ConfigError naming the file and the bad key.

Version 1 (before the checksum) is refused: its content cannot be verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import threading

import torch

from simulator.values import shown
from trainers.config import RunConfig
from trainers.errors import ConfigError
from trainers.files import write_bytes_atomically
from trainers.metrics import MetricsLog

FORMAT = "optiscope-checkpoint"
VERSION = 2  # 2: the state is a checksummed payload; 1 was the bare state, without a checksum
# What may change when a run is resumed: how long it goes on, and where. Everything else would
# make it a different run.
RESUMABLE_OVERRIDES = ("train.epochs", "train.max_steps", "train.device")


def checkpoint_state(run) -> dict:
    position = run.position
    rng = {"torch": torch.get_rng_state(), "shuffle": run.shuffle_generator.get_state()}
    if run.device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(run.device)
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": run.config.to_dict(),
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.schedule.state_dict(),
        "rng": rng,
        "position": {
            "epoch": position.epoch, "batch": position.batch, "step": position.step,
            "permutation": position.permutation,
            "epoch_loss_sum": position.epoch_loss_sum, "epoch_samples": position.epoch_samples,
            "best_val_loss": position.best_val_loss, "best_val_accuracy": position.best_val_accuracy,
            "epoch_seconds": position.epoch_seconds,
        },
        "metrics": list(run.metrics.rows),
        "status": None if run.ended is None else run.ended.status,
    }


def save_checkpoint(run, path) -> None:
    write_checkpoint_file(path, checkpoint_state(run))


def write_checkpoint_file(path, state: dict) -> None:
    """Write ``state`` as a checkpoint file (checksummed payload), atomically and whole: a Ctrl+C
    during the write takes effect once the file is complete."""
    with sigint_deferred():
        buffer = io.BytesIO()
        torch.save(state, buffer)
        payload = buffer.getbuffer()
        wrapper = {"format": FORMAT, "version": VERSION, "sha256": hashlib.sha256(payload).hexdigest(),
                   "payload": torch.frombuffer(payload, dtype=torch.uint8)}
        try:
            write_bytes_atomically(path, lambda out: torch.save(wrapper, out))
        except RuntimeError as error:  # torch's zip writer reports a full disk this way
            raise ConfigError(f"cannot write checkpoint '{os.fspath(path)}': {error}") from None


@contextlib.contextmanager
def sigint_deferred():
    """Hold a Ctrl+C back until the block ends, then deliver it to the handler it was meant for.

    A Ctrl+C that stops ``train`` (the first ends the run gently, a second one aborts) would
    otherwise land inside ``torch.save`` and leave the final checkpoint unwritten. Only the main
    thread receives signals; elsewhere (the GUI's training thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(signal.SIGINT, received[-1])  # Python's default handler raises KeyboardInterrupt
            elif previous == signal.SIG_DFL:
                signal.raise_signal(signal.SIGINT)


def read_checkpoint(path) -> dict:
    """The state a checkpoint file holds, after its checksum and structure are checked;
    ConfigError naming the file (and the bad key) otherwise."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigError(f"checkpoint '{path}' does not exist")
    wrapper = _load(path, path)
    if not isinstance(wrapper, dict) or wrapper.get("format") != FORMAT:
        raise ConfigError(f"'{path}' is not an OptiScope checkpoint")
    version = wrapper.get("version")
    if version == 1:
        raise ConfigError(f"'{path}' is checkpoint version 1, written without a checksum; this "
                          f"OptiScope reads version {VERSION} only (train the run again)")
    if version != VERSION:
        raise ConfigError(f"'{path}' is checkpoint version {shown(version)}; "
                          f"this OptiScope reads version {VERSION}")
    digest, payload = wrapper.get("sha256"), wrapper.get("payload")
    if not isinstance(digest, str) or not isinstance(payload, torch.Tensor) or \
            payload.dtype != torch.uint8 or payload.dim() != 1:
        raise ConfigError(f"'{path}' is not an OptiScope checkpoint (no checksummed payload)")
    content = payload.numpy().tobytes()
    if hashlib.sha256(content).hexdigest() != digest:
        raise ConfigError(f"'{path}' is damaged: its content does not match its SHA-256 checksum")
    state = _load(io.BytesIO(content), path)
    _check_state(state, path)
    return state


def _load(source, path: str):
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # torch's unpickler raises whatever the bytes provoke: KeyError for
        # a text file, IndexError for a CSV, UnpicklingError, BadZipFile, EOFError, ...
        text = str(error).strip()
        first_line = f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
        raise ConfigError(f"'{path}' is not a readable checkpoint ({first_line})") from None


# -- the structure of a checkpoint's state ---------------------------------------------------

_POSITION_KEYS = ("epoch", "batch", "step", "permutation", "epoch_loss_sum", "epoch_samples",
                  "best_val_loss", "best_val_accuracy", "epoch_seconds")


def _refuse(path: str, key: str, why: str, value=None) -> None:
    got = "" if value is None else f", got {_kind(value)}"
    raise ConfigError(f"'{path}': {key} {why}{got}")


def _kind(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    if isinstance(value, dict | list | tuple):
        return f"a {type(value).__name__}"
    return shown(value)


def _is_whole(value, minimum: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_state(state, path: str) -> None:
    """Types and shapes of everything :func:`load_checkpoint` reads, before any of it is used."""
    if not isinstance(state, dict):
        _refuse(path, "the state", "must be a table", state)
    for key, kind in (("config", dict), ("model", dict), ("optimizer", dict), ("scheduler", dict),
                      ("rng", dict), ("position", dict), ("metrics", list)):
        if key not in state:
            _refuse(path, key, "is missing")
        if not isinstance(state[key], kind):
            _refuse(path, key, "must be a table" if kind is dict else "must be a list", state[key])
    for name, tensor in state["model"].items():
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            _refuse(path, f"model.{name}", "must be a tensor", tensor)
    _check_optimizer_state(state["optimizer"], path)
    for key in ("main", "warmup"):
        if key not in state["scheduler"]:
            _refuse(path, f"scheduler.{key}", "is missing")
        if not isinstance(state["scheduler"][key], dict | None):
            _refuse(path, f"scheduler.{key}", "must be a table or none", state["scheduler"][key])
    rng = state["rng"]
    for key in ("torch", "shuffle", "cuda"):
        if key not in rng and key != "cuda":
            _refuse(path, f"rng.{key}", "is missing")
        if key in rng and not (isinstance(rng[key], torch.Tensor) and rng[key].dtype == torch.uint8
                               and rng[key].dim() == 1):
            _refuse(path, f"rng.{key}", "must be a uint8 tensor (a generator state)", rng[key])
    _check_position(state["position"], path)
    for index, row in enumerate(state["metrics"]):
        if not (isinstance(row, tuple | list) and len(row) == 4 and _is_whole(row[0]) and _is_whole(row[1])
                and isinstance(row[2], str) and _is_number(row[3])):
            _refuse(path, f"metrics[{index}]", "must be (epoch, step, metric, value)", row)
    if not isinstance(state.get("status"), str | None):
        _refuse(path, "status", "must be text or none", state.get("status"))


def _check_optimizer_state(optimizer: dict, path: str) -> None:
    state, groups = optimizer.get("state"), optimizer.get("param_groups")
    if not isinstance(state, dict):
        _refuse(path, "optimizer.state", "must be a table", state)
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        _refuse(path, "optimizer.param_groups", "must be a list of tables", groups)
    for index, group in enumerate(groups):
        params = group.get("params")
        if not isinstance(params, list) or not all(_is_whole(p) for p in params):
            _refuse(path, f"optimizer.param_groups[{index}].params", "must be a list of parameter indices",
                    params)
    for key, values in state.items():  # the values are torch's to judge (LBFGS keeps lists)
        if not _is_whole(key) or not isinstance(values, dict):
            _refuse(path, f"optimizer.state.{key}", "must be a parameter index with a table of tensors",
                    values)


def _check_position(position: dict, path: str) -> None:
    for key in _POSITION_KEYS:
        if key not in position:
            _refuse(path, f"position.{key}", "is missing")
    for key, minimum in (("epoch", 1), ("batch", 0), ("step", 0), ("epoch_samples", 0)):
        if not _is_whole(position[key], minimum):
            _refuse(path, f"position.{key}", f"must be a whole number >= {minimum}", position[key])
    for key in ("epoch_loss_sum", "epoch_seconds", "best_val_loss", "best_val_accuracy"):
        value = position[key]
        if not (_is_number(value) or (value is None and key.startswith("best_"))):
            _refuse(path, f"position.{key}", "must be a number", value)
    permutation = position["permutation"]
    if permutation is not None and not (isinstance(permutation, torch.Tensor) and permutation.dim() == 1
                                        and permutation.dtype == torch.int64):
        _refuse(path, "position.permutation", "must be none or an int64 tensor of sample indices",
                permutation)


def _check_fits(state: dict, run, path: str) -> None:
    """What only the rebuilt run can tell: the model's parameter names and shapes, the generator
    states' sizes, the epoch's sample order."""
    expected = run.model.state_dict()
    saved = state["model"]
    for name in expected:
        if name not in saved:
            _refuse(path, f"model.{name}", "is missing")
        if tuple(saved[name].shape) != tuple(expected[name].shape):
            _refuse(path, f"model.{name}", f"must have shape {tuple(expected[name].shape)} (its "
                    "configuration's)", saved[name])
    extra = [name for name in saved if name not in expected]
    if extra:
        _refuse(path, f"model.{extra[0]}", "is not a parameter of the model its configuration builds")
    rng = state["rng"]
    generators = [("torch", torch.get_rng_state()), ("shuffle", run.shuffle_generator.get_state())]
    if "cuda" in rng and run.device.type == "cuda":
        generators.append(("cuda", torch.cuda.get_rng_state(run.device)))
    for key, current in generators:
        if rng[key].numel() != current.numel():
            _refuse(path, f"rng.{key}", f"must hold {current.numel()} bytes", rng[key])
    position = state["position"]
    if position["batch"] > run.steps_per_epoch:
        _refuse(path, "position.batch", f"must be at most {run.steps_per_epoch} (batches per epoch)",
                position["batch"])
    permutation = position["permutation"]
    if permutation is not None and not torch.equal(torch.sort(permutation).values,
                                                   torch.arange(run.train_samples)):
        _refuse(path, "position.permutation", f"must be an order of the {run.train_samples} training samples",
                permutation)


def load_checkpoint(run_class, path, *, overrides: dict | None = None, checkpoint_path=None):
    """A run rebuilt from a checkpoint, ready to continue with ``events()``."""
    state = read_checkpoint(path)
    try:
        config = RunConfig.from_dict(state["config"])
    except ConfigError as error:
        raise ConfigError(f"'{os.fspath(path)}': config: {error}") from None
    for key, value in (overrides or {}).items():
        if key not in RESUMABLE_OVERRIDES:
            raise ConfigError(f"{key}: cannot be changed when resuming (only "
                              f"{', '.join(RESUMABLE_OVERRIDES)} can)")
        config.set(key, value)
    config.validate()
    run = run_class(config, checkpoint_path=checkpoint_path)
    _check_fits(state, run, os.fspath(path))
    try:
        run.model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
        run.schedule.load_state_dict(state["scheduler"])
    except ConfigError:
        raise
    except (RuntimeError, KeyError, ValueError, TypeError, AttributeError, IndexError) as error:
        text = str(error).strip()
        first_line = text.splitlines()[0] if text else type(error).__name__
        raise ConfigError(f"'{os.fspath(path)}' does not fit its own configuration: {first_line}") from None
    rng = state["rng"]
    torch.set_rng_state(rng["torch"])
    run.shuffle_generator.set_state(rng["shuffle"])
    if "cuda" in rng and run.device.type == "cuda":
        torch.cuda.set_rng_state(rng["cuda"], run.device)
    saved = state["position"]
    position = run.position
    position.epoch, position.batch, position.step = saved["epoch"], saved["batch"], saved["step"]
    position.permutation = saved["permutation"]
    position.epoch_loss_sum, position.epoch_samples = saved["epoch_loss_sum"], saved["epoch_samples"]
    position.best_val_loss, position.best_val_accuracy = saved["best_val_loss"], saved["best_val_accuracy"]
    position.epoch_seconds = saved["epoch_seconds"]
    run.metrics = MetricsLog([tuple(row) for row in state["metrics"]])
    return run
