"""The array module every layer computes with: NumPy, or CuPy on a GPU.

Layer code never imports numpy directly for computation; it calls ``xp()`` and
uses whatever array module is active, so the same code runs on a GPU when
CuPy is installed and ``use("cupy")`` (or ``DIGITNET_BACKEND=cupy``) is set.

    from digitnet.nn import backend
    xp = backend.xp()
    y = xp.tanh(x)

``to_device`` moves a NumPy array into the active module; ``to_numpy`` brings
any array back to the host (for saving, printing and plotting).
"""

from __future__ import annotations

import os

import numpy as np

_BACKENDS = ("numpy", "cupy")
_current = None  # the module object in use
_name = "numpy"


def use(name: str):
    """Select the array module by name: "numpy" or "cupy". Returns the module."""
    global _current, _name
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(_BACKENDS)}")
    if name == "cupy":
        try:
            import cupy  # noqa: F401  (optional dependency)
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise RuntimeError("backend 'cupy' needs CuPy and a CUDA GPU: pip install 'digitnet[gpu]'") from exc
        _current = cupy
    else:
        _current = np
    _name = name
    return _current


def xp():
    """The active array module (numpy by default)."""
    if _current is None:
        use(os.environ.get("DIGITNET_BACKEND", "numpy"))
    return _current


def name() -> str:
    """Name of the active backend."""
    xp()
    return _name


def to_device(array, dtype=None):
    """An array of the active module holding ``array`` (no copy when already there)."""
    mod = xp()
    return mod.asarray(array, dtype=dtype)


def to_numpy(array) -> np.ndarray:
    """A NumPy array holding ``array``, wherever it lives."""
    if isinstance(array, np.ndarray):
        return array
    get = getattr(array, "get", None)  # cupy.ndarray.get() copies to the host
    if get is not None:
        return get()
    return np.asarray(array)


def available() -> list[str]:
    """Backends that can be used on this machine."""
    names = ["numpy"]
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            names.append("cupy")
    except Exception:  # ImportError, or CUDA present without a device
        pass
    return names
