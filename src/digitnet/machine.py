"""What timings depend on, recorded next to them: CPU, cores, memory, NumPy/BLAS build, thread settings.

facts()     everything (``digitnet bench`` stores it in its report)
summary()   the few facts a study's results file needs to be read against
"""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path

THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
)


def facts() -> dict:
    """What the timings depend on: CPU, cores, memory, NumPy/BLAS build, thread settings, versions."""
    import numpy as np

    facts = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": np.__version__,
        "environment": {k: os.environ.get(k) for k in THREAD_VARIABLES},
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }  # others' jobs slow us
    try:
        text = Path("/proc/cpuinfo").read_text()
        lines = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        facts["cpu"] = lines.get("model name\t", "").strip() or platform.processor()
        flags = set(lines.get("flags\t", "").split())
        facts["cpu_flags"] = sorted(flags & {"avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "amx_tile"})
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        facts["memory_gib"] = round(int(mem.split()[1]) / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        facts["cpu"] = platform.processor() or platform.machine()
    try:
        facts["numpy_config"] = json.loads(json.dumps(np.show_config(mode="dicts"), default=str))
    except (TypeError, ValueError):  # NumPy < 1.26 has no mode="dicts"
        facts["numpy_config"] = None
    for package in ("torch", "scipy", "numba"):
        try:
            facts[package] = metadata.version(package)  # the version without importing it here
        except metadata.PackageNotFoundError:
            facts[package] = None
    return facts


def summary() -> dict:
    """CPU, cores, Python, NumPy and the thread settings (a subset of ``facts``, without the BLAS build)."""
    import numpy as np

    everything = facts()
    return {
        "cpu": everything.get("cpu"),
        "cores": everything["cores"],
        "python": everything["python"],
        "numpy": np.__version__,
        "load_average": everything["load_average"],
        **{k: everything["environment"][k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS")},
    }
