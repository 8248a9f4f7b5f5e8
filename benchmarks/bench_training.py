"""Training engine overhead, measured in one run against a bare PyTorch loop doing the same work.

Both train the same MLP (2 -> 128 -> 128 -> 2, ReLU) on the same standardised moons data with Adam,
batch 128, shuffled each epoch, and validate once per epoch. The bare loop is what a user would
write by hand (no per-step synchronisation at all); the engine also logs every step's loss, gradient
norm and learning rates and yields an event per step. Runs alternate (bare, engine, bare, ...) so
both see the same machine; the median samples/s of each is compared. Target: overhead under 5 %.

Run: make bench   (or .venv/bin/python benchmarks/bench_training.py [--device cuda] [--samples N])
"""

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from trainers.config import RunConfig  # noqa: E402
from trainers.loop import TrainingRun  # noqa: E402

HIDDEN = [128, 128]
BATCH = 128


def engine_config(samples: int, epochs: int, device: str) -> RunConfig:
    return RunConfig.from_dict({
        "data": {"name": "moons", "samples": samples, "batch_size": BATCH, "val_fraction": 0.1},
        "model": {"name": "mlp", "hidden": HIDDEN},
        "optimizer": {"name": "Adam", "lr": 1e-3},
        "train": {"epochs": epochs, "device": device, "seed": 0},
    })


def run_engine(config: RunConfig) -> tuple[float, int]:
    """(seconds, training samples seen) for the engine, data and model built beforehand."""
    run = TrainingRun(config)
    began = time.perf_counter()
    for _ in run.events():
        pass
    seconds = time.perf_counter() - began
    assert run.ended.status == "finished", run.ended.message
    return seconds, run.train_samples * config.train.epochs


def run_bare(config: RunConfig) -> tuple[float, int]:
    """The same training as a hand-written loop, on the engine's own tensors and model."""
    run = TrainingRun(config)  # reuse its data on the device and its freshly built model
    model, x, y = run.model, run.x_train, run.y_train
    x_val, y_val = run.x_val, run.y_val
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    n = len(x)
    began = time.perf_counter()
    for _ in range(config.train.epochs):
        order = torch.randperm(n, generator=generator).to(x.device)
        for start in range(0, n, BATCH):
            indices = order[start:start + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[indices]), y[indices])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            output = model(x_val)
            val_loss = loss_fn(output, y_val).item()
            _ = (output.argmax(1) == y_val).float().mean().item()
        model.train()
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - began
    assert math.isfinite(val_loss)
    return seconds, n * config.train.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, auto, ...")
    parser.add_argument("--samples", type=int, default=40_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = engine_config(args.samples, args.epochs, args.device)
    run_bare(config)  # warm-up: first-call costs (allocator, kernels) paid by neither side below
    run_engine(config)
    bare_rates, engine_rates = [], []
    for _ in range(args.repeats):
        seconds, samples = run_bare(config)
        bare_rates.append(samples / seconds)
        seconds, samples = run_engine(config)
        engine_rates.append(samples / seconds)
    bare, engine = statistics.median(bare_rates), statistics.median(engine_rates)
    device = TrainingRun(config).device
    steps = -(-int(args.samples * 0.9) // BATCH) * args.epochs
    print(f"Training overhead: MLP {HIDDEN} on moons ({args.samples} samples, batch {BATCH}, "
          f"{args.epochs} epochs = {steps} steps), Adam, device {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"  bare PyTorch loop : {bare:12,.0f} samples/s  (median of {args.repeats})")
    print(f"  OptiScope engine  : {engine:12,.0f} samples/s  (median of {args.repeats}; "
          "logs loss, grad norm, lr per step)")
    overhead = bare / engine - 1
    print(f"  overhead          : {overhead:+.1%}   target < 5%: {'met' if overhead < 0.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
