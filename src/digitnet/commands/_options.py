"""Checks for command-line (and TOML) option values: one-line ValueErrors naming the option, the value
and what is allowed. Values from TOML arrive with their TOML types, so every check tests the type too.

    positive_int("epochs", 0)   -> ValueError: --epochs must be a positive integer, got 0
"""

from __future__ import annotations

import math
import numbers


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def integer(name: str, value, low=None, high=None) -> int:
    """``value`` if it is an int (not a bool) in [low, high]."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            span = f" in {low}..{high}"
        else:
            span = f" >= {low}" if low is not None else f" <= {high}" if high is not None else ""
        raise ValueError(f"--{name} must be an integer{span}, got {_shown(value)}")
    return int(value)


def positive_int(name: str, value, high=None) -> int:
    """``value`` if it is an int >= 1 (and <= high)."""
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or value < 1
        or (high is not None and value > high)
    ):
        limit = f" (at most {high:,})" if high is not None else ""
        raise ValueError(f"--{name} must be a positive integer{limit}, got {_shown(value)}")
    return int(value)


def number(name: str, value, low=None, high=None, low_open=False, high_open=False) -> float:
    """``value`` if it is a finite real number in the interval given (open ends where asked)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        left = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        right = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        span = (
            f" in {left}, {right}"
            if low is not None and high is not None
            else f" {'>' if low_open else '>='} {low:g}"
            if low is not None
            else ""
        )
        raise ValueError(f"--{name} must be a finite number{span}, got {_shown(value)}")
    return float(value)


def choice(name: str, value, allowed, lower: bool = False) -> str:
    """``value`` if it is one of ``allowed`` (case-insensitive with ``lower``)."""
    key = value.lower().replace("-", "_") if lower and isinstance(value, str) else value
    pool = [a.lower().replace("-", "_") for a in allowed] if lower else list(allowed)
    if not isinstance(value, str) or key not in pool:
        raise ValueError(f"--{name} must be one of {', '.join(allowed)}; got {_shown(value)}")
    return value


def int_list(name: str, text: str) -> list[int]:
    """ "128,64" -> [128, 64]; a one-line error otherwise."""
    try:
        return [int(h) for h in text.split(",") if h.strip()]
    except ValueError:
        raise ValueError(f"--{name} must be comma-separated sizes like 128,64, got {_shown(text)}") from None
