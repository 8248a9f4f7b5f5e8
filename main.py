"""OptiScope's entry point: no arguments opens the app; a command runs headless (see --help)."""

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        # The desktop app arrives with its own issue; until then the front door shows the CLI.
        print("OptiScope's desktop app is not built yet. Headless commands:\n")
        argv = ["--help"]
    from cli import main as cli_main

    try:
        return cli_main(argv)
    except SystemExit as done:  # --help
        return int(done.code or 0)


if __name__ == "__main__":
    sys.exit(main())
