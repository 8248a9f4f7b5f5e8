"""Checkpoints: everything a run needs to continue exactly where it was.

A checkpoint is one ``torch.save`` file holding plain data and tensors only (it loads with
``weights_only=True``): the configuration, model, optimizer and scheduler states, the RNG states,
the position in the epoch (with that epoch's sample order) and the metrics so far. Resuming on the
same device continues bit-identically to a run that was never interrupted.
"""

from __future__ import annotations

import os
import pickle
import zipfile

import torch

from trainers.config import RunConfig
from trainers.errors import ConfigError
from trainers.files import write_bytes_atomically
from trainers.metrics import MetricsLog

FORMAT = "optiscope-checkpoint"
VERSION = 1
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
    state = checkpoint_state(run)
    try:
        write_bytes_atomically(path, lambda out: torch.save(state, out))
    except RuntimeError as error:  # torch's zip writer reports a full disk this way
        raise ConfigError(f"cannot write checkpoint '{os.fspath(path)}': {error}") from None


def read_checkpoint(path) -> dict:
    """The checkpoint's contents, checked to be an OptiScope checkpoint; ConfigError otherwise."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigError(f"checkpoint '{path}' does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"'{path}' is not a readable checkpoint: {first_line}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ConfigError(f"'{path}' is not an OptiScope checkpoint")
    if state.get("version") != VERSION:
        raise ConfigError(f"'{path}' is checkpoint version {state.get('version')}; "
                          f"this OptiScope reads version {VERSION}")
    return state


def load_checkpoint(run_class, path, *, overrides: dict | None = None, checkpoint_path=None):
    """A run rebuilt from a checkpoint, ready to continue with ``events()``."""
    state = read_checkpoint(path)
    config = RunConfig.from_dict(state["config"])
    for key, value in (overrides or {}).items():
        if key not in RESUMABLE_OVERRIDES:
            raise ConfigError(f"{key}: cannot be changed when resuming (only "
                              f"{', '.join(RESUMABLE_OVERRIDES)} can)")
        config.set(key, value)
    config.validate()
    run = run_class(config, checkpoint_path=checkpoint_path)
    try:
        run.model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
        run.schedule.load_state_dict(state["scheduler"])
    except ConfigError:
        raise
    except (RuntimeError, KeyError, ValueError) as error:
        raise ConfigError(f"'{os.fspath(path)}' does not fit its own configuration: {error}") from None
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
