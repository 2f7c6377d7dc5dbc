"""The ``digitnet`` command line: ``digitnet <command> [options]`` (also ``python -m digitnet``).

Each command lives in its own module under ``digitnet.commands`` with two functions:

    register(subparsers)  adds its argparse sub-parser (help text with examples)
    run(args) -> int      does the work; returns the exit status

Errors the user can fix (bad file, bad value, missing data) are raised as
ValueError / FileNotFoundError / OSError / digitnet.data errors and printed
here as one line, ``digitnet: error: ...``, with exit status 2 — no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from digitnet import __version__

COMMANDS = ["train", "evaluate", "predict", "view", "plot", "info", "robustness", "compare", "bench", "draw", "synth"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitnet",
        description="Neural networks from scratch in NumPy for handwritten digits.",
        epilog="Run 'digitnet COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"digitnet.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"digitnet.commands.{name}":
                continue  # command not part of this build
            raise
        module.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into e.g. head, which stopped reading
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("digitnet: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"digitnet: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
