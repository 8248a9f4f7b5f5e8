"""``optiscope train``: real PyTorch training from a config file and/or flags, headless.

Prints a progress bar with ETA (on a terminal) and one line per epoch; writes the metrics CSV and
checkpoints as it goes, so an interrupted run (Ctrl+C, a divergence) keeps everything so far.
"""

import os
import signal
import sys
import time

from cli.commands import check_writable
from cli.values import parse_settings
from simulator.errors import SimulatorError
from simulator.values import parse_value
from trainers.command import FLAG_KEYS, TEXT_KEYS, duration_text

INTERRUPTED = 130
RUN_FAILED = 1
_BAR_WIDTH = 24
_REDRAW_SECONDS = 0.1


def add_train_parser(commands) -> None:
    train = commands.add_parser(
        "train", help="train a model with any torch.optim optimizer and scheduler, headless",
        description="Settings come from --config (TOML or JSON), then the flags override them.")
    train.add_argument("--config", metavar="RUN.toml", help="run configuration (.toml or .json)")
    train.add_argument("--dataset", help="moons, circles, spirals, blobs, linear, sine, digits, "
                                         "breast_cancer, iris, csv, mnist, fashion_mnist")
    train.add_argument("--data-path", metavar="PATH", help="CSV file, or the directory of the IDX files")
    train.add_argument("--model", help="linear, mlp or cnn")
    train.add_argument("--hidden", metavar="W1,W2", help="hidden layer widths (cnn: channels)")
    train.add_argument("--activation", help="relu, tanh, gelu, ...")
    train.add_argument("--optimizer", help="any torch.optim optimizer, any case")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", dest="settings",
                       help="optimizer option (lr=0.01, betas=0.9,0.99) or any SECTION.KEY=VALUE "
                            "(data.noise=0.3); repeatable")
    train.add_argument("--param-group", action="append", metavar="match=REGEX;KEY=VALUE;...",
                       help="a parameter-group rule, e.g. 'match=^head\\.;name=head;lr=0.1' (repeatable; "
                            "the first matching rule wins)")
    train.add_argument("--scheduler", help="any torch.optim.lr_scheduler class, e.g. CosineAnnealingLR")
    train.add_argument("--scheduler-set", action="append", metavar="KEY=VALUE",
                       help="scheduler option, e.g. T_max=20 (repeatable)")
    train.add_argument("--epochs", help="number of epochs")
    train.add_argument("--batch-size", help="samples per optimizer step")
    train.add_argument("--max-steps", help="stop after this many optimizer steps")
    train.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    train.add_argument("--threads", help="torch CPU threads (default: the cores less one); part of the run, "
                                         "since torch's sums depend on it")
    train.add_argument("--seed", help="seed for the data split, the initial weights and shuffling")
    train.add_argument("--metrics-out", metavar="METRICS.csv", help="write metrics (epoch,step,metric,value)")
    train.add_argument("--checkpoint", metavar="RUN.pt",
                       help="save a checkpoint after every epoch and at the end")
    train.add_argument("--resume", metavar="RUN.pt", help="continue a run from its checkpoint")
    train.add_argument("--quiet", action="store_true", help="only the final summary")


def _overrides(args) -> dict:
    """Every configuration key the flags set, in a fixed order (the flags, then --set, then
    --scheduler-set)."""
    values = {}
    for flag, key in FLAG_KEYS.items():
        text = getattr(args, flag.removeprefix("--").replace("-", "_"))
        if text is not None:
            value = text if key in TEXT_KEYS else parse_value(text)
            if key == "model.hidden" and not isinstance(value, tuple):
                value = (value,)
            values[key] = list(value) if isinstance(value, tuple) else value
    for key, value in parse_settings(args.settings, "--set").items():
        values[key if "." in key else f"optimizer.{key}"] = value
    for key, value in parse_settings(args.scheduler_set, "--scheduler-set").items():
        values[f"scheduler.{key}"] = value
    if args.param_group:
        values["optimizer.param_groups"] = [_param_group(text) for text in args.param_group]
    return values


def _param_group(text: str) -> dict:
    """``match=^head\\.;name=head;lr=0.1`` -> ``{"match": "^head\\.", "name": "head", "lr": 0.1}``."""
    rule = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SimulatorError(f"--param-group expects match=REGEX;KEY=VALUE;..., got '{text}'")
        rule[key] = value if key in ("match", "name") else parse_value(value)
    if "match" not in rule:
        raise SimulatorError(f"--param-group needs match=REGEX, got '{text}'")
    return rule


def _check_output(path: str | None, option: str) -> None:
    if path is not None:
        check_writable(path, option)


def config_from_args(args):
    """The run configuration the flags describe: --config's file (or the defaults), then the flags."""
    from trainers.config import RunConfig

    config = RunConfig.load(args.config) if args.config else RunConfig()
    for key, value in _overrides(args).items():
        config.set(key, value)
    config.validate()
    return config


def run_train(args) -> int:
    # torch is imported only here: simulate, render and list do not pay for it
    from trainers.loop import DIVERGED, FAILED, STOPPED, TrainingRun

    _check_output(args.metrics_out, "--metrics-out")
    _check_output(args.checkpoint, "--checkpoint")
    overrides = _overrides(args)
    if args.resume:
        if args.config:
            raise SimulatorError("--resume takes its configuration from the checkpoint; drop --config")
        checkpoint = args.checkpoint or args.resume
        run = TrainingRun.from_checkpoint(args.resume, overrides=overrides, checkpoint_path=checkpoint)
    else:
        run = TrainingRun(config_from_args(args), checkpoint_path=args.checkpoint)
    report = _Report(run, quiet=args.quiet, metrics_out=args.metrics_out)
    previous = signal.getsignal(signal.SIGINT)

    def stop_gently(signum, frame):  # the first Ctrl+C ends the run cleanly; a second one aborts
        run.stop()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, stop_gently)
    try:
        for event in run.events():
            report.show(event)
    except KeyboardInterrupt:  # the second Ctrl+C: stop here; the files keep what they last had
        report.clear_bar()
        # main.py prints the line (exit 130), so that a third Ctrl+C cannot add another one
        raise KeyboardInterrupt("" if report.summary_shown else _abandoned(run, args.metrics_out)) from None
    finally:
        signal.signal(signal.SIGINT, previous)
        report.clear_bar()
    ended = run.ended
    if ended.status == STOPPED:
        return INTERRUPTED
    if ended.status in (DIVERGED, FAILED):
        return RUN_FAILED
    return 0


class _Report:
    """What the user sees: a live bar on a terminal, a line per epoch, a summary."""

    def __init__(self, run, quiet: bool, metrics_out: str | None):
        self.run = run
        self.quiet = quiet
        self.metrics_out = metrics_out
        self.live = sys.stderr.isatty() and not quiet
        self.last_draw = 0.0
        self.started = time.perf_counter()
        self.first_step = 0
        self.rate = None
        self.bar_shown = False
        self.summary_shown = False

    def show(self, event) -> None:
        from trainers.datasets import describe_task
        from trainers.loop import EpochEnded, RunEnded, RunStarted, StepLogged

        if isinstance(event, RunStarted):
            self.first_step = event.start_step
            self.started = time.perf_counter()
            if not self.quiet:
                resumed = f", resuming after step {event.start_step}" if event.start_step else ""
                note = f" ({event.device_note})" if event.device_note != event.device else ""
                epochs = f"{event.epochs} epoch{'s' if event.epochs != 1 else ''}"
                threads = f"{event.threads} CPU thread{'s' if event.threads != 1 else ''}"
                task = describe_task(self.run.dataset)  # an inferred task is said, never silent
                print(f"Training on {event.device}{note}, {threads}: {task}; {event.train_samples} "
                      f"training / {event.val_samples} validation samples, {event.parameters:,} parameters, "
                      f"groups {', '.join(event.groups)}; {epochs} × {event.steps_per_epoch} steps{resumed}",
                      flush=True)
        elif isinstance(event, StepLogged):
            rate = event.samples_per_s
            self.rate = rate if self.rate is None else 0.9 * self.rate + 0.1 * rate  # a steady figure
            now = time.perf_counter()
            if self.live and now - self.last_draw >= _REDRAW_SECONDS:
                self.last_draw = now
                self._draw_bar(event, now)
        elif isinstance(event, EpochEnded):
            self._write_metrics()
            if not self.quiet:
                self.clear_bar()
                print(_epoch_line(event, self.run.config.train.epochs), flush=True)
        elif isinstance(event, RunEnded):
            self._write_metrics()
            self.clear_bar()
            self.summary_shown = True
            print(_summary(event, self.metrics_out, self.run.checkpoint_path),
                  file=sys.stdout if event.status == "finished" else sys.stderr, flush=True)

    def _draw_bar(self, event, now: float) -> None:
        total = self.run.total_steps
        done = event.step / total
        filled = int(done * _BAR_WIDTH)
        bar = "█" * filled + "░" * (_BAR_WIDTH - filled)
        steps_done = event.step - self.first_step
        eta = (now - self.started) / steps_done * (total - event.step) if steps_done else 0.0
        text = (f"\repoch {event.epoch}/{self.run.config.train.epochs} |{bar}| {done:4.0%} "
                f"{event.step}/{total} steps · loss {event.train_loss:.4g} · "
                f"{_count(self.rate)} samples/s · ETA {duration_text(eta)} ")
        sys.stderr.write(text)
        sys.stderr.flush()
        self.bar_shown = True

    def clear_bar(self) -> None:
        if self.bar_shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.bar_shown = False

    def _write_metrics(self) -> None:
        from trainers.checkpoint import sigint_deferred

        if self.metrics_out:
            with sigint_deferred():  # as the checkpoint: a Ctrl+C lands after the file is whole
                self.run.metrics.write_csv(self.metrics_out)


def _abandoned(run, metrics_out) -> str:
    """The one line for a run aborted by a second Ctrl+C: where it was, and what is on disk."""
    kept = [path for path in (run.checkpoint_path, metrics_out) if path and os.path.exists(path)]
    files = f"kept as last written: {', '.join(map(str, kept))}" if kept else "nothing was saved"
    return f"interrupted at step {run.position.step} by a second Ctrl+C; {files}"


def _epoch_line(event, epochs: int) -> str:
    parts = [f"train loss {event.train_loss:.4f}"]
    if event.val_loss is not None:
        parts.append(f"val loss {event.val_loss:.4f}")
    if event.val_accuracy is not None:
        parts.append(f"val accuracy {event.val_accuracy:.1%}")
    return (f"Epoch {event.epoch}/{epochs}: {', '.join(parts)} "
            f"({event.seconds:.2f} s, {_count(event.samples_per_s)} samples/s)")


def _summary(event, metrics_out, checkpoint) -> str:
    parts = [f"{event.message} in {duration_text(event.seconds)}"]
    if event.best_val_loss is not None:
        parts.append(f"best val loss {event.best_val_loss:.4f}")
    if event.best_val_accuracy is not None:
        parts.append(f"best val accuracy {event.best_val_accuracy:.1%}")
    written = [path for path in (metrics_out, checkpoint) if path]
    tail = f" -> {', '.join(written)}" if written else ""
    return "; ".join(parts) + tail


def _count(rate: float | None) -> str:
    if rate is None:
        return "?"
    return f"{rate / 1000:.1f}k" if rate >= 1000 else f"{rate:.0f}"
