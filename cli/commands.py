"""The CLI's commands: thin wrappers that parse text, call the Python API and report."""

import json
import math
import os
import sys

from cli.values import parse_point, parse_settings
from simulator import OPTIMIZERS, SURFACES, simulate
from simulator.errors import SimulatorError
from simulator.schedules import SCHEDULES, join_warmup
from simulator.trajectory import CONVERGED, DIVERGED
from simulator.values import parse_value
from trainers.config import MODELS
from trainers.datasets import DATASETS


def _whole_number(text: str, option: str, minimum: int = 0) -> int:
    value = parse_value(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SimulatorError(f"{option} expects a whole number >= {minimum}, got '{text}'")
    return value


def _number(text: str, option: str) -> float:
    value = parse_value(text)
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value) if abs(value) <= sys.float_info.max else math.inf  # 400 digits: inf
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SimulatorError(f"{option} expects a number, got '{text}'")
    if value < 0:
        raise SimulatorError(f"{option} must be >= 0, got '{text}'")
    return float(value)


def check_writable(path: str, option: str = "--out") -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise SimulatorError(f"{option} '{path}' is a directory")
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise SimulatorError(f"{option} '{path}': '{directory}' is not a directory")
    if not os.path.isdir(directory):
        raise SimulatorError(f"{option} '{path}': directory '{directory}' does not exist")
    if not os.access(directory, os.W_OK):
        raise SimulatorError(f"{option} '{path}': directory '{directory}' is not writable")


def _schedule(args):
    """The --schedule/--schedule-set/--warmup flags as simulate()'s ``schedule`` argument."""
    settings = parse_settings(args.schedule_set, "--schedule-set")
    if settings and not args.schedule:
        raise SimulatorError("--schedule-set needs --schedule NAME")
    schedule = (args.schedule, settings) if args.schedule else None
    if args.warmup is None:
        return schedule
    return join_warmup(schedule, _whole_number(args.warmup, "--warmup", minimum=1))


def run_simulate(args) -> int:
    check_writable(args.out)
    trajectory = simulate(
        surface=args.surface,
        optimizer=args.optimizer,
        start=parse_point(args.start, "--start") if args.start else None,
        steps=_whole_number(args.steps, "--steps"),
        hyperparams=parse_settings(args.settings, "--set"),
        noise=_number(args.noise, "--noise"),
        seed=None if args.seed is None else _whole_number(args.seed, "--seed"),
        surface_params=parse_settings(args.surface_set, "--surface-set"),
        schedule=_schedule(args),
    )
    trajectory.to_csv(args.out)
    if trajectory.status == DIVERGED:
        print(f"{trajectory.message} ({len(trajectory.xy)} finite rows written to {args.out})",
              file=sys.stderr)
        return 0
    x, y = trajectory.final
    done = trajectory.message if trajectory.status == CONVERGED else f"{trajectory.steps} steps"
    print(
        f"{trajectory.optimizer} on {trajectory.surface}: {done}, "
        f"final ({x:.6g}, {y:.6g}), loss {trajectory.loss[-1]:.6g} -> {args.out}"
    )
    return 0


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        size = (0, 0)
    if not sep or not (100 <= size[0] <= 8000 and 100 <= size[1] <= 8000):
        raise SimulatorError(f"--size expects WxH with 100..8000 pixels each, got '{text}'")
    return size


ARROW_KINDS = ("gradient", "update", "momentum")


def _check_a_run_computes(scenario, path) -> None:
    """A scenario whose every run is refused is bad input, not a picture (exit 2, nothing written).

    Runs are tried in order until one computes, so a good scenario pays for one run twice (the
    renderer computes its runs itself); refused runs fail at their checks, before any step.
    """
    from gui.scenario import compute_run

    refused = []
    for run in scenario.runs:
        result = compute_run(scenario, run)
        if result.trajectory is not None:
            return
        refused.append(f"{run.name}: {result.error}")
    if refused:
        raise SimulatorError(f"'{os.path.basename(path)}': none of its {len(refused)} run(s) can be drawn; "
                             f"{refused[0]}")


def run_render(args) -> int:
    # Qt is imported here, not at the top: simulate and list must work without it
    from gui.render import render_scenario
    from gui.scenario import Scenario

    if not args.out.lower().endswith((".png", ".svg", ".jpg", ".jpeg", ".bmp")):
        raise SimulatorError(f"--out '{args.out}': use a .png or .svg file name")
    check_writable(args.out)
    size = _size(args.size)
    kinds = [k.strip().lower() for k in args.arrows.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in ARROW_KINDS]
    if unknown:
        raise SimulatorError(f"--arrows: unknown kind(s) {', '.join(unknown)}; use {', '.join(ARROW_KINDS)}")
    scenario = Scenario.load(args.scenario)
    _check_a_run_computes(scenario, args.scenario)
    step = None if args.step is None else _whole_number(args.step, "--step")
    arrows = {kind: kind in kinds for kind in ARROW_KINDS} if kinds else None
    drawn = render_scenario(scenario, args.out, step=step, size=size, arrows=arrows)
    print(f"{len(scenario.runs)} runs on {scenario.surface} at step {drawn} -> {args.out}")
    return 0


def _listing() -> dict:
    surfaces = {
        name: {
            "formula": s.formula,
            "description": s.description,
            "bounds": list(s.bounds),
            "minima": [list(m) for m in s.minima],
            "default_start": list(s.default_start),
            "params": dict(zip(s.param_names, s.param_defaults, strict=True)),
        }
        for name, s in SURFACES.items()
    }
    optimizers = {
        name: {
            "summary": spec.summary,
            "hyperparams": {
                h.name: {
                    "default": h.default,
                    "kind": h.kind,
                    "range": h.range_text(),
                    "minimum": h.minimum,
                    "maximum": h.maximum,
                    "scale": h.scale,
                    "typical": list(h.typical) if h.typical else None,
                    "help": h.help,
                }
                for h in spec.hyperparams
            },
            "state": list(spec.state_names),
        }
        for name, spec in OPTIMIZERS.items()
    }
    schedules = {
        name: {
            "summary": spec.summary,
            "params": {
                p.name: {"default": p.default, "kind": p.kind, "required": p.required,
                         "range": p.range_text(), "choices": list(p.choices), "help": p.help}
                for p in spec.params
            },
        }
        for name, spec in SCHEDULES.items()
    }
    datasets = {name: {"task": info.task, "kind": info.kind, "help": info.help}
                for name, info in DATASETS.items()}
    return {"surfaces": surfaces, "optimizers": optimizers, "schedules": schedules, "datasets": datasets,
            "models": list(MODELS)}


def _show(value) -> str:
    if isinstance(value, tuple | list):
        return ",".join(_show(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return f"{value:g}"


def run_prepare(args) -> int:
    """Compile every kernel now (or load it from Numba's cache), naming each as it is done."""
    from gui.simulator_tab.contours import compile_kernels as compile_contour_kernels
    from gui.simulator_tab.trail_geometry import compile_kernels as compile_trail_kernels
    from simulator.prepare import KERNEL_FAMILIES, prepare_kernels

    def compile_map_kernels() -> None:
        compile_trail_kernels()
        compile_contour_kernels()

    families = (*KERNEL_FAMILIES, ("the app's map (trails, contours)", compile_map_kernels))
    if not args.quiet:
        print("Compiling OptiScope's kernels (the first time takes a minute; later runs load them)",
              flush=True)

    def report(name: str, seconds: float) -> None:
        if not args.quiet:
            print(f"  {name}: {seconds:.1f} s", flush=True)

    timings = prepare_kernels(families, report)
    print(f"{len(timings)} kernel families ready in {sum(s for _, s in timings):.1f} s")
    return 0


def run_list(args) -> int:
    listing = _listing()
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    print("Surfaces:")
    for name, s in listing["surfaces"].items():
        xmin, xmax, ymin, ymax = s["bounds"]
        minima = "; ".join(f"({x:g}, {y:g}) -> {f:g}" for x, y, f in s["minima"]) or "none"
        params = " ".join(f"{k}={_show(v)}" for k, v in s["params"].items())
        print(f"  {name:<17} x[{xmin:g}, {xmax:g}] y[{ymin:g}, {ymax:g}]  minima: {minima}"
              + (f"  params: {params}" if params else ""))
    print("\nOptimizers (torch.optim; --set NAME=VALUE):")
    for name, o in listing["optimizers"].items():
        print(f"  {name}: {o['summary']}")
        for h_name, h in o["hyperparams"].items():
            print(f"      {h_name:<26} = {_show(h['default']):<14} {h['range']:<22} {h['help']}")
    print("\nSchedules (torch.optim.lr_scheduler; --schedule NAME --schedule-set KEY=VALUE):")
    for name, schedule in listing["schedules"].items():
        params = ", ".join(
            f"{p_name}" + ("" if p["required"] else f"={_show(p['default'])}")
            for p_name, p in schedule["params"].items()
        )
        print(f"  {name}({params}): {schedule['summary']}")
    print("\nTraining datasets (train --dataset NAME; models: " + ", ".join(listing["models"]) + "):")
    for name, dataset in listing["datasets"].items():
        print(f"  {name:<14} {dataset['task']:<15} {dataset['help']}")
    return 0
