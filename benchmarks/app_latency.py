"""End-to-end latency of the drawing app: one drawing POSTed to /api/predict, answered with every model's
probabilities and saliency map. Target: median under 50 ms.

    python benchmarks/app_latency.py                     # tiny untrained models built on the fly
    python benchmarks/app_latency.py runs/a runs/b       # your trained models (files or run folders)
    python benchmarks/app_latency.py --requests 500

The drawing is a 280x280 canvas PNG as the page sends it (about the size of the real thing). Each
request goes over one keep-alive connection to a local server, like the page's fetch calls; the
figures include JSON encoding, PNG decoding, MNIST-style preprocessing, forward and backward passes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time

import numpy as np
from PIL import Image, ImageDraw

from digitnet.app import AppModel, DrawingApp, find_model_files, make_server
from digitnet.app.images import png_bytes
from digitnet.nn import Dense, Flatten, ReLU, Sequential


def canvas_drawing() -> str:
    """A "7" on a white 280x280 canvas, as a PNG data URL."""
    import base64

    img = Image.new("L", (280, 280), "white")
    ImageDraw.Draw(img).line([(70, 60), (210, 60), (120, 230)], fill=17, width=18, joint="curve")
    return "data:image/png;base64," + base64.b64encode(png_bytes(img)).decode("ascii")


def tiny_models() -> list[AppModel]:
    """An MLP 784-128-10 and, where the conv layers exist, a LeNet-like CNN; untrained (speed is the same)."""
    models = [AppModel("mlp-128", Sequential([Flatten(), Dense(128), ReLU(), Dense(10)], input_shape=(1, 28, 28)))]
    try:
        from digitnet.nn import Conv2D, MaxPool2D
    except ImportError:
        return models
    cnn = Sequential(
        [
            Conv2D(1, 6, 5, padding=2),
            ReLU(),
            MaxPool2D(2),
            Conv2D(6, 16, 5),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(120),
            ReLU(),
            Dense(84),
            ReLU(),
            Dense(10),
        ],
        input_shape=(1, 28, 28),
    )
    return models + [AppModel("lenet-like", cnn)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help="model files or run folders (default: tiny models)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests first (default 10)")
    args = parser.parse_args(argv)

    models = [AppModel.load(n, p) for n, p in find_model_files(args.models)] if args.models else tiny_models()
    with tempfile.TemporaryDirectory() as save_dir:
        server = make_server(DrawingApp(models, None, save_dir=save_dir), port=0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        body = json.dumps({"image": canvas_drawing()}).encode("utf-8")
        conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
        times = []
        for i in range(args.warmup + args.requests):
            start = time.perf_counter()
            conn.request("POST", "/api/predict", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - start
            if response.status != 200:
                raise SystemExit(f"request failed: {response.status} {answer[:200]!r}")
            if i >= args.warmup:
                times.append(elapsed * 1000)
        conn.close()
        server.shutdown()
        server.server_close()

    ms = np.asarray(times)
    print(
        f"digitnet draw: POST /api/predict, one 280x280 PNG drawing ({len(body) / 1024:.1f} kB request, "
        f"{len(answer) / 1024:.1f} kB answer)"
    )
    print(f"models: {', '.join(f'{m.name} ({m.model.n_params():,} params)' for m in models)}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}"
    )
    print(
        f"{len(ms)} requests: median {statistics.median(ms):.1f} ms, p90 {np.percentile(ms, 90):.1f} ms, "
        f"min {ms.min():.1f} ms, max {ms.max():.1f} ms  (target: median < 50 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
