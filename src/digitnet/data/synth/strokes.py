"""Pen strokes: smooth curves through skeleton points, jittered like a hand, drawn with a varying pen width.

``jitter(skeleton, rng, amount)`` moves every point by N(0, amount^2) (units of the box height) plus a smooth
warp shared by all strokes (two random low-frequency sinusoids), so a skeleton gives a new hand each time.
``curve(points)`` samples a uniform Catmull-Rom spline through the points (ends extended by reflection):
between P1 and P2, q(t) = 0.5 (2 P1 + (P2 - P0) t + (2 P0 - 5 P1 + 4 P2 - P3) t^2 + (3 P1 - P0 - 3 P2 + P3) t^3).
``draw(canvas, strokes, width, rng)`` stamps discs along each curve; the radius follows a pressure profile
w(s) = width * (1 + a sin(2 pi (f s + phi))) * taper(s), s the arc length fraction of the stroke.
"""

from __future__ import annotations

import numpy as np
from PIL import ImageDraw


def jitter(skeleton, rng: np.random.Generator, amount: float) -> list[np.ndarray]:
    """Each stroke as float (k, 2) points, jittered by ``amount`` and warped smoothly."""
    freq = rng.uniform(1.0, 3.0, size=2)
    phase = rng.uniform(0, 2 * np.pi, size=2)
    warp = rng.normal(0, amount, size=2)
    out = []
    for stroke in skeleton:
        p = np.asarray(stroke, dtype=np.float64)
        p = p + rng.normal(0, amount, size=p.shape)
        p[:, 0] += warp[0] * np.sin(freq[0] * np.pi * p[:, 1] + phase[0])
        p[:, 1] += warp[1] * np.sin(freq[1] * np.pi * p[:, 0] + phase[1])
        out.append(p)
    _rejoin(skeleton, out)
    return out


def _rejoin(skeleton, strokes: list[np.ndarray]) -> None:
    """Strokes that shared an end point in the skeleton (a corner) share it again after jitter."""
    ends = {}
    for i, stroke in enumerate(skeleton):
        for j in (0, len(stroke) - 1):
            key = tuple(stroke[j])
            if key in ends:
                a, b = ends[key]
                strokes[i][j] = strokes[a][b]
            else:
                ends[key] = (i, j)


def curve(points: np.ndarray, spacing: float) -> np.ndarray:
    """float (m, 2): the Catmull-Rom curve through ``points`` (k, 2), samples about ``spacing`` apart."""
    p = np.asarray(points, dtype=np.float64)
    if len(p) == 1:
        return p.copy()
    padded = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    p0, p1, p2, p3 = padded[:-3], padded[1:-2], padded[2:-1], padded[3:]
    steps = np.maximum(2, np.ceil(np.linalg.norm(p2 - p1, axis=1) / spacing).astype(np.int64) + 1)
    segment = np.repeat(np.arange(len(steps)), steps)
    index = np.arange(len(segment)) - np.repeat(np.cumsum(steps) - steps, steps)
    keep = (index > 0) | (segment == 0)  # a segment's first sample is the last one's end
    segment, t = segment[keep], (index / (steps[segment] - 1))[keep][:, None]
    p0, p1, p2, p3 = p0[segment], p1[segment], p2[segment], p3[segment]
    return 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3)


def pressure(m: int, rng: np.random.Generator, variation: float) -> np.ndarray:
    """float (m,) width factors in about [0.5, 1 + variation]: a slow wave and tapered ends."""
    s = np.linspace(0.0, 1.0, m)
    wave = 1 + variation * np.sin(2 * np.pi * (rng.uniform(0.3, 1.5) * s + rng.uniform(0, 1)))
    start, end = rng.uniform(0.5, 1.0), rng.uniform(0.4, 1.0)
    taper = np.minimum(1.0, np.minimum(start + (1 - start) * s / 0.12, end + (1 - end) * (1 - s) / 0.12))
    return wave * taper


def outline(path: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """float (2m, 2): the polygon of a stroke of half-width ``radius`` (m,) along ``path`` (m, 2): the path
    moved by +radius along its normals, then back along -radius."""
    tangent = np.gradient(path, axis=0) if len(path) > 1 else np.array([[1.0, 0.0]])
    tangent = tangent / np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1) * radius[:, None]
    return np.vstack([path + normal, (path - normal)[::-1]])


def tight_turns(path: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Indices of samples where the path bends more sharply than the pen is wide (the inner side of the
    outline folds over itself there): radius of curvature ds / dtheta < 1.5 * radius."""
    if len(path) < 3:
        return np.arange(0)
    step = np.diff(path, axis=0)
    heading = np.unwrap(np.arctan2(step[:, 1], step[:, 0]))
    turn = np.abs(np.diff(heading))
    length = 0.5 * (np.linalg.norm(step[1:], axis=1) + np.linalg.norm(step[:-1], axis=1))
    return 1 + np.flatnonzero(length < 1.5 * radius[1:-1] * turn)


def draw(canvas, strokes, width: float, rng: np.random.Generator, variation: float = 0.25, ink: int = 255) -> None:
    """Draw each stroke (canvas px) with a pen of diameter ``width`` varying with pressure: the stroke's
    outline polygon, round caps (discs) at its ends, and discs where it turns tighter than the pen."""
    pen = ImageDraw.Draw(canvas)
    for points in strokes:
        path = curve(points, spacing=max(0.5, width / 6))
        radius = 0.5 * np.maximum(width * pressure(len(path), rng, variation), 1.0)
        if len(path) > 1:
            pen.polygon(outline(path, radius).ravel().tolist(), fill=ink)
        for i in {0, len(path) - 1, *tight_turns(path, radius).tolist()}:
            (x, y), r = path[i], radius[i]
            pen.ellipse((x - r, y - r, x + r, y + r), fill=ink)
