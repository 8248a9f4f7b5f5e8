"""OptiScope's entry point: no arguments opens the app; a command runs headless (see --help)."""

import signal
import sys

INTERRUPTED = 130  # what a shell reports for a process ended by Ctrl+C (128 + SIGINT)


def main(argv: list[str] | None = None) -> int:
    own_process = argv is None  # the process's own command line, not a call from Python
    try:
        code = _run(sys.argv[1:] if own_process else argv)
    except KeyboardInterrupt as interrupt:
        # Ctrl+C while starting or computing: every file is written whole or not at all. A command
        # may say more (train: where it stopped) as the interrupt's text; "" means it already said.
        if own_process:  # Ctrl+C held down must not cut this line short
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        message = interrupt.args[0] if interrupt.args else "interrupted (Ctrl+C)"
        if message:
            print(message, file=sys.stderr, flush=True)
        code = INTERRUPTED
    if own_process:  # done and written; a late Ctrl+C would only add a traceback from an atexit hook
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code


def _run(argv: list[str]) -> int:
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
