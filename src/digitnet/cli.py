"""The ``digitnet`` command line: ``digitnet <command> [options]`` (also ``python -m digitnet``).

Each command lives in its own module under ``digitnet.commands`` with two functions:

    register(subparsers)  adds its argparse sub-parser (help text with examples)
    run(args) -> int      does the work; returns the exit status

Errors the user can fix (bad file, bad value, missing data) are raised as
ValueError / FileNotFoundError / OSError / digitnet.data errors and printed
here as one line, ``digitnet: error: ...``, with exit status 2 — no traceback.
SIGTERM is handled like Ctrl-C (SIGINT): the command stops through the same
KeyboardInterrupt path (temporary files removed, ``train`` says what was saved
and how to resume), exit status 128 + the signal number (130, 143).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading

from digitnet import __version__

COMMANDS = [
    "train",
    "evaluate",
    "predict",
    "view",
    "plot",
    "info",
    "robustness",
    "compare",
    "bench",
    "draw",
    "synth",
    "export",
]


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``digitnet train: error: ... (see 'digitnet train --help')``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="digitnet",
        description="Neural networks from scratch in NumPy for handwritten digits.",
        epilog="Run 'digitnet COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"digitnet.commands.{name}").register(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; handled exactly like Ctrl-C."""

    signum = signal.SIGTERM


def _on_sigterm(signum, frame):
    raise Terminated()


def _one_line(exc) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into e.g. head, which stopped reading
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt as exc:
        name = "terminated" if isinstance(exc, Terminated) else "interrupted"
        detail = f": {_one_line(exc)}" if exc.args else ""
        print(f"digitnet: {name}{detail}", file=sys.stderr)
        return 128 + int(getattr(exc, "signum", signal.SIGINT))
    except MemoryError:
        print("digitnet: error: out of memory; try a smaller model, --batch-size or --train-size", file=sys.stderr)
        return 2
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"digitnet: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
