"""OptiScope's entry point: no arguments opens the app; a command runs headless (see --help)."""

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from gui.preflight import startup_problem

        if problem := startup_problem():  # Qt itself would abort with a core dump
            print(problem, file=sys.stderr)
            return 1
        from gui.app import run_app

        return run_app()
    from cli import main as cli_main

    try:
        return cli_main(argv)
    except SystemExit as done:  # --help
        return int(done.code or 0)


if __name__ == "__main__":
    sys.exit(main())
