"""Atomic file writes: the one helper every digitnet writer uses (standard library only).

    atomicfile.write(path, lambda f: f.write(data))      # f: a binary file in path's folder

The data go to ``.tmp-<name>-<pid>-<random>`` next to ``path``, are flushed and fsynced, and the
file is renamed over ``path`` (``os.replace``: readers see the old file or the new one, never
half of one). The temporary file is removed on every exit path (an exception, KeyboardInterrupt,
a SIGTERM turned into an exception). A save killed outright (SIGKILL, power loss) can leave its
temporary file behind; the next write into that folder removes temporary files of ``path``
whose writing process is gone, or that are older than STALE_SECONDS.

Why a top-level package: ``digitnet.nn`` imports nothing of digitnet outside nn, and
``digitnet.data`` imports no nn, yet both write files atomically (model files, IDX files).
A stdlib-only package below both is the one home that respects both rules.
"""

from __future__ import annotations

import os
import re
import tempfile
import time

PREFIX = ".tmp-"
STALE_SECONDS = 3600.0
LEGACY = re.compile(r"\.tmp-[a-z0-9_]{8}\.npz")


def temp_prefix(path) -> str:
    """The name prefix of temporary files written for ``path``: ``.tmp-<name>-``."""
    return f"{PREFIX}{os.path.basename(os.fspath(path))}-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale(path) -> list[str]:
    """Delete temporary files left by killed writes of ``path``; returns the names removed."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    prefix = temp_prefix(path)
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        if not name.startswith(prefix):
            continue
        pid_text = name[len(prefix) :].split("-", 1)[0]
        full = os.path.join(folder, name)
        try:
            old = now - os.stat(full).st_mtime > STALE_SECONDS
            dead = pid_text.isascii() and pid_text.isdigit() and not _pid_alive(int(pid_text))
            if (dead or old) and pid_text != str(os.getpid()):
                os.remove(full)
                removed.append(name)
        except OSError:
            continue
    removed += _remove_legacy(folder, names, now)
    return removed


def _remove_legacy(folder, names, now) -> list[str]:
    """Old-style ``.tmp-XXXXXXXX.npz`` files (digitnet <= 0.1 model saves), once STALE_SECONDS old."""
    removed = []
    for name in names:
        if not (LEGACY.fullmatch(name)):
            continue
        full = os.path.join(folder, name)
        try:
            if now - os.stat(full).st_mtime > STALE_SECONDS:
                os.remove(full)
                removed.append(name)
        except OSError:
            continue
    return removed


def write(path, writer, mode: int = 0o644, make_folder: bool = True) -> str:
    """Write ``path`` atomically: ``writer(f)`` fills a binary temporary file, which is renamed over
    ``path``. Returns ``path`` as a string."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if make_folder:
        os.makedirs(folder, exist_ok=True)
    remove_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{temp_prefix(path)}{os.getpid()}-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes the file private; data and model files are normally readable
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return path
