"""OptiScope's command line: ``simulate``, ``train``, ``render`` and ``list``.

Bad input never shows a traceback: it ends with exit status 2 and one line naming the problem.
"""

import argparse
import sys

from cli.commands import run_list, run_prepare, run_render, run_simulate
from cli.train import add_train_parser, run_train
from simulator.errors import SimulatorError
from trainers.errors import ConfigError

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's default prints the whole usage block
        raise SimulatorError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="optiscope", description="See how optimizers really move.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    simulate = commands.add_parser(
        "simulate", help="run one torch.optim optimizer on a 2-D surface and write its trajectory CSV"
    )
    simulate.add_argument(
        "--surface", default="rosenbrock",
        help="surface name (see `list`), or a typed formula: "
             "'expr:(x-1)**2 + 10*sin(y)**2' with optional bounds '@xmin,xmax,ymin,ymax'",
    )
    simulate.add_argument("--surface-set", action="append", metavar="KEY=VALUE",
                          help="surface parameter, e.g. b=10 for quadratic (repeatable)")
    simulate.add_argument("--optimizer", default="Adam",
                          help="optimizer name, any case: torch.optim's or a compiled extra (see `list`)")
    simulate.add_argument("--set", action="append", metavar="KEY=VALUE", dest="settings",
                          help="hyperparameter, e.g. lr=0.01 or betas=0.9,0.999 (repeatable)")
    simulate.add_argument("--schedule", metavar="NAME", help="torch lr scheduler, e.g. CosineAnnealingLR")
    simulate.add_argument("--schedule-set", action="append", metavar="KEY=VALUE",
                          help="scheduler parameter, e.g. T_max=500 (repeatable)")
    simulate.add_argument("--warmup", metavar="STEPS", help="linear warm-up over STEPS steps in front")
    simulate.add_argument("--start", metavar="X,Y", help="start point (default: the surface's)")
    simulate.add_argument("--steps", default="500", help="number of optimizer steps (default 500)")
    simulate.add_argument("--noise", default="0", help="gradient noise sigma (default 0)")
    simulate.add_argument("--seed", default=None, help="noise seed (default: random)")
    simulate.add_argument("--out", required=True, metavar="FILE.csv", help="trajectory CSV to write")

    add_train_parser(commands)

    render = commands.add_parser(
        "render", help="draw a scenario's map and runs to an image, without a window"
    )
    render.add_argument("scenario", metavar="SCENARIO.json", help="a saved scenario or a preset")
    render.add_argument("--out", required=True, metavar="FIGURE.png", help="image to write (.png or .svg)")
    render.add_argument("--step", default=None, metavar="K", help="draw the runs up to step K (default: all)")
    render.add_argument("--size", default="1200x900", metavar="WxH", help="image size in pixels")
    render.add_argument("--arrows", default="", metavar="KINDS",
                        help="arrows at the current points: comma list of gradient, update, momentum")

    prepare = commands.add_parser(
        "prepare", help="compile the kernels now, so nothing waits for Numba later (make does this once)")
    prepare.add_argument("--quiet", action="store_true", help="only the final line")

    listing = commands.add_parser("list", help="list surfaces and optimizers with their parameters")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _join_start_value(argv: list[str]) -> list[str]:
    # "--start -1.5,2" would read the negative point as an option: glue it to its flag.
    joined = []
    for arg in argv:
        if joined and joined[-1] == "--start" and arg.startswith("-"):
            joined[-1] = f"--start={arg}"
        else:
            joined.append(arg)
    return joined


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(_join_start_value(argv))
        if args.command == "simulate":
            return run_simulate(args)
        if args.command == "train":
            return run_train(args)
        if args.command == "render":
            return run_render(args)
        if args.command == "list":
            return run_list(args)
        if args.command == "prepare":
            return run_prepare(args)
    except (SimulatorError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    parser.print_help()
    return 0
