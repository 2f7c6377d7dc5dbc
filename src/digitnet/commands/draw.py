"""``digitnet draw``: draw digits in the browser and watch every model answer.

Serves the page of digitnet.app on http://127.0.0.1:PORT/ with the standard library's HTTP
server and opens it in the default browser. Models come from the paths given, else from every
``runs/*/model.npz`` under the current folder.
"""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser

from digitnet.commands import _options as opt

# the defaults of digitnet.app.api.SaveLimits (not imported here: the CLI starts without loading the app)
SAVE_RATE, SAVE_QUOTA_MB, SAVE_MAX_FILES = 60, 50, 10_000

EXAMPLES = """examples:
  digitnet draw                          every runs/*/model.npz under this folder
  digitnet draw runs/mlp runs/cnn        two run folders, side by side
  digitnet draw model.npz --port 0       any free port
  digitnet draw --no-browser --save-dir my_digits --threshold 0.8

Saved drawings go to --save-dir as <timestamp>_<label>.png plus labels.csv; score a model on
them with 'digitnet evaluate MODEL --images my_digits'. Saving is limited (--save-rate per minute,
--save-quota MB and --save-max-files in the folder; 0 turns saving off).
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "draw",
        help="draw digits in the browser and see every model's answer",
        description="Open a page where you draw a digit and see each model's probabilities, the 28x28 "
        "image it sees and a saliency map; browse the MNIST test set with each model's guess.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "models",
        nargs="*",
        metavar="MODEL_OR_FOLDER",
        help="model .npz files, run folders, or folders of runs (default: runs/*/model.npz)",
    )
    p.add_argument("--port", type=int, default=8000, help="port to serve on; 0 picks a free one (default 8000)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: only this computer can connect)"
    )
    p.add_argument("--no-browser", action="store_true", help="print the address but do not open a browser")
    p.add_argument(
        "--data-dir",
        default=None,
        help="folder with the MNIST files for the test-set tab (default $DIGITNET_DATA, else ~/.cache/digitnet)",
    )
    p.add_argument("--save-dir", default="drawings", help="where 'Save' writes drawings (default ./drawings)")
    p.add_argument(
        "--threshold", type=float, default=0.6, help="below this top probability the answer is 'not sure' (default 0.6)"
    )
    p.add_argument(
        "--save-rate",
        type=int,
        default=SAVE_RATE,
        help=f"most drawings 'Save' accepts per minute (default {SAVE_RATE})",
    )
    p.add_argument(
        "--save-quota",
        type=float,
        default=SAVE_QUOTA_MB,
        metavar="MB",
        help=f"most megabytes of drawings in --save-dir (default {SAVE_QUOTA_MB})",
    )
    p.add_argument(
        "--save-max-files",
        type=int,
        default=SAVE_MAX_FILES,
        help=f"most drawings in --save-dir (default {SAVE_MAX_FILES})",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from digitnet.app import AppModel, DrawingApp, TestSet, find_model_files, make_server, url_of
    from digitnet.app.api import SaveLimits

    if not 0 <= args.threshold <= 1:
        raise ValueError(f"--threshold must be between 0 and 1, got {args.threshold}")
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {args.port}")
    limits = SaveLimits(
        per_minute=opt.integer("save-rate", args.save_rate, low=0, high=10**6),
        quota_bytes=int(opt.number("save-quota", args.save_quota, low=0.0, high=1e7) * 2**20),
        max_files=opt.integer("save-max-files", args.save_max_files, low=0, high=10**8),
    )
    models = [AppModel.load(name, path) for name, path in find_model_files(args.models)]
    app = DrawingApp(
        models, TestSet.from_mnist(args.data_dir), threshold=args.threshold, save_dir=args.save_dir, save_limits=limits
    )
    try:
        server = make_server(app, host=args.host, port=args.port)
    except OSError as exc:
        hint = " (pass --port 0 to use any free port)" if args.port else ""
        raise OSError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}{hint}") from None
    url = url_of(server)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: bound to {args.host}: other computers on the network can use this app", file=sys.stderr)
    print(f"digitnet draw: {len(models)} model(s) ({', '.join(m.name for m in models)}) at {url}", flush=True)
    print("press Ctrl+C to stop", flush=True)
    if not args.no_browser:
        threading.Timer(0.3, webbrowser.open, args=(url,)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\ndigitnet draw: stopped")
    finally:
        server.server_close()
    return 0
