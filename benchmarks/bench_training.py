"""Training engine overhead, measured in one run against a bare PyTorch loop doing the same work.

Both train the same MLP on the same standardised moons data with Adam, batch 128, shuffled each
epoch, and validate once per epoch. The bare loop is what a user would write by hand (no per-step
synchronisation at all); the engine also logs every step's loss, gradient norm and learning rates
and yields an event per step. Runs alternate (bare, engine, bare, ...) so both see the same
machine; the best samples/s of each (the run least disturbed by the rest of the machine) is
compared. Torch runs on one thread by default: with two, OpenMP's spinning threads made single runs
vary by ±15 % on the 2-core machine this was written on, far more than what is being measured.
Target: overhead under 5 %.

The engine's cost is a fixed amount per step (the gradient norm, the bookkeeping), so the overhead
is shown for two sizes: a tiny MLP whose step takes well under a millisecond on a CPU (the worst
case), and a 512-wide one, closer to a model worth training.

Run: make bench   (or .venv/bin/python benchmarks/bench_training.py [--device cuda] [--samples N])
"""

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from trainers.config import RunConfig  # noqa: E402
from trainers.loop import TrainingRun  # noqa: E402

SIZES = ([128, 128], [512, 512])
BATCH = 128


def engine_config(samples: int, epochs: int, device: str, hidden=SIZES[0]) -> RunConfig:
    return RunConfig.from_dict({
        "data": {"name": "moons", "samples": samples, "batch_size": BATCH, "val_fraction": 0.1},
        "model": {"name": "mlp", "hidden": list(hidden)},
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


def measure(config: RunConfig, repeats: int) -> tuple[float, float]:
    """Best samples/s of the bare loop and of the engine, alternating."""
    run_bare(config)  # warm-up: first-call costs (allocator, kernels) paid by neither side below
    run_engine(config)
    bare_rates, engine_rates = [], []
    for _ in range(repeats):
        seconds, samples = run_bare(config)
        bare_rates.append(samples / seconds)
        seconds, samples = run_engine(config)
        engine_rates.append(samples / seconds)
    return max(bare_rates), max(engine_rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, auto, ...")
    parser.add_argument("--samples", type=int, default=40_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    first = engine_config(args.samples, args.epochs, args.device)
    steps = -(-int(args.samples * 0.9) // BATCH) * args.epochs
    print(f"Training overhead: MLPs on moons ({args.samples} samples, batch {BATCH}, {args.epochs} epochs = "
          f"{steps} steps), Adam, device {TrainingRun(first).device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); best of {args.repeats} alternating runs each")
    for hidden in SIZES:
        bare, engine = measure(engine_config(args.samples, args.epochs, args.device, hidden), args.repeats)
        overhead = bare / engine - 1
        per_step = (1 / engine - 1 / bare) * BATCH * 1e6
        print(f"  MLP 2-{'-'.join(map(str, hidden))}-2: bare loop {bare:10,.0f} samples/s "
              f"({BATCH / bare * 1e3:.2f} ms/step), engine {engine:10,.0f} samples/s: "
              f"overhead {overhead:+.1%} ({per_step:+.0f} µs/step)   "
              f"target < 5%: {'met' if overhead < 0.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
