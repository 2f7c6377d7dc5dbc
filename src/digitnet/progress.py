"""Progress bars for long tasks (robustness sweeps, comparison studies, loading image folders).

    for row in progress(rows, desc="loading images"):   ...        # wraps an iterable
    with progress(total=12, desc="robustness") as bar:   bar.update(1)

A tqdm bar on stderr when stderr is a terminal, and nothing at all otherwise (pipes, files, CI logs),
so output that is read by programs stays as it was. ``enabled`` forces it on or off.
"""

from __future__ import annotations

import shutil
import sys


def is_terminal(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def progress(
    iterable=None, total=None, desc: str | None = None, unit: str = "it", stream=None, enabled: bool | None = None
):
    """A tqdm bar over ``iterable`` (or counting to ``total``), silent unless ``stream`` is a terminal."""
    from tqdm.auto import tqdm

    stream = stream or sys.stderr
    on = is_terminal(stream) if enabled is None else enabled
    width = shutil.get_terminal_size((100, 20)).columns or 100  # a 0-wide pty would hide the bar
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=stream,
        disable=not on,
        leave=False,
        ncols=min(width, 120),
        dynamic_ncols=False,
    )
