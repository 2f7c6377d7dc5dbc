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
    pieces = []
    for i in range(len(p) - 1):
        p0, p1, p2, p3 = padded[i:i + 4]
        steps = max(2, int(np.ceil(np.linalg.norm(p2 - p1) / spacing)) + 1)
        t = np.linspace(0.0, 1.0, steps)[:, None]
        q = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                   + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3)
        pieces.append(q if i == 0 else q[1:])
    return np.vstack(pieces)


def pressure(m: int, rng: np.random.Generator, variation: float) -> np.ndarray:
    """float (m,) width factors in about [0.5, 1 + variation]: a slow wave and tapered ends."""
    s = np.linspace(0.0, 1.0, m)
    wave = 1 + variation * np.sin(2 * np.pi * (rng.uniform(0.3, 1.5) * s + rng.uniform(0, 1)))
    start, end = rng.uniform(0.5, 1.0), rng.uniform(0.4, 1.0)
    taper = np.minimum(1.0, np.minimum(start + (1 - start) * s / 0.12, end + (1 - end) * (1 - s) / 0.12))
    return wave * taper


def draw(canvas, strokes, width: float, rng: np.random.Generator, variation: float = 0.25,
         ink: int = 255, chunk: int = 4) -> None:
    """Draw each stroke (canvas px) with a pen of diameter ``width`` varying with pressure: pieces of
    ``chunk`` samples as round-jointed lines of their mean width, with a disc at every piece's ends."""
    pen = ImageDraw.Draw(canvas)
    for points in strokes:
        path = curve(points, spacing=max(0.5, width / 4))
        diameter = np.maximum(width * pressure(len(path), rng, variation), 1.0)
        for start in range(0, max(len(path) - 1, 1), chunk):
            piece = path[start:start + chunk + 1]
            w = float(diameter[start:start + chunk + 1].mean())
            if len(piece) > 1:
                pen.line([tuple(p) for p in piece], fill=ink, width=max(1, round(w)), joint="curve")
            for x, y in (piece[0], piece[-1]):
                pen.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=ink)
