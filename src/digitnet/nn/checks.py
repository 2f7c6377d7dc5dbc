"""Argument checks for every constructor in digitnet.nn: errors name the value and what was expected.

    number("lr", lr, 0.0, low_open=True)          lr in (0, inf)
    number("beta1", b, 0.0, 1.0, high_open=True)  b in [0, 1)
    positive("eps", eps)                          eps in (0, inf)
    int_pair(3, "kernel_size")                    (3, 3);  (3, 5) stays (3, 5)

Intervals are closed unless ``low_open`` / ``high_open`` say otherwise (both
keyword-only, so a call site always shows which ends are open).
"""

from __future__ import annotations

import math
import numbers


def number(name, value, low=-math.inf, high=math.inf, *, low_open=False, high_open=False) -> float:
    """``value`` as float if it is a real number in the interval, else ValueError naming it."""
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


def positive(name, value) -> float:
    """``value`` as float if it is > 0."""
    return number(name, value, 0.0, low_open=True)


def non_negative(name, value) -> float:
    """``value`` as float if it is >= 0."""
    return number(name, value, 0.0)


def is_int(value) -> bool:
    """True for Python and NumPy integers (not bools)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, what) -> int:
    """``value`` as int if it is an integer >= 1 (a pair is refused: "3 input channels" must be one number)."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


def int_pair(value, what, minimum=1) -> tuple[int, int]:
    """(a, b) from an int or a pair of ints, each >= ``minimum``."""
    pair = (value, value) if is_int(value) else value
    ok = isinstance(pair, (tuple, list)) and len(pair) == 2 and all(is_int(v) and v >= minimum for v in pair)
    if not ok:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise ValueError(f"{what} must be {kind} int or pair, got {value!r}")
    return int(pair[0]), int(pair[1])
