"""Argument checks shared by the optimisers and schedules: errors name the value and the range."""

from __future__ import annotations

import math
import numbers


def number_in(name, value, low, high=math.inf, low_open=False, high_open=True) -> float:
    """Return ``value`` as float if it lies in the interval, else raise ValueError naming it."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        if high == math.inf:
            wanted = f"{'>' if low_open else '>='} {low:g}"
        else:
            wanted = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a number {wanted}, got {value!r}")
    return float(value)
