"""Shape × Color boards: one flat shape filled in one colour on a plain light background."""

from __future__ import annotations

import math

from vlthink.boards.catalogue import COLOR_RGB

from .canvas import Canvas, Point, regular_polygon

BACKGROUND = (238, 238, 234)  # plain light grey, the same on every shape board


def _heart() -> list[Point]:
    pts = []
    for i in range(240):
        t = 2 * math.pi * i / 240
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((0.5 + x * 0.0215, 0.48 - y * 0.0215))
    return pts


def _star() -> list[Point]:
    out = []
    for i in range(10):
        r = 0.38 if i % 2 == 0 else 0.155
        a = math.radians(-90 + 36 * i)
        out.append((0.5 + r * math.cos(a), 0.53 + r * math.sin(a)))
    return out


SHAPE_POINTS: dict[str, list[Point]] = {
    "trapezoid": [(0.30, 0.28), (0.70, 0.28), (0.86, 0.70), (0.14, 0.70)],
    "triangle": regular_polygon((0.5, 0.57), 0.40, 3),
    "right_triangle": [(0.18, 0.18), (0.18, 0.80), (0.82, 0.80)],
    "rectangle": [(0.12, 0.30), (0.88, 0.30), (0.88, 0.70), (0.12, 0.70)],
    "square": [(0.20, 0.20), (0.80, 0.20), (0.80, 0.80), (0.20, 0.80)],
    "parallelogram": [(0.30, 0.30), (0.90, 0.30), (0.70, 0.70), (0.10, 0.70)],
    "pentagon": regular_polygon((0.5, 0.53), 0.37, 5),
    "hexagon": regular_polygon((0.5, 0.5), 0.37, 6, rot=0),
    "heptagon": regular_polygon((0.5, 0.52), 0.37, 7),
    "heart": _heart(),
    "star": _star(),
    # block arrow pointing right
    "arrow": [
        (0.10, 0.40),
        (0.54, 0.40),
        (0.54, 0.22),
        (0.90, 0.50),
        (0.54, 0.78),
        (0.54, 0.60),
        (0.10, 0.60),
    ],
    # Greek cross (plus sign)
    "cross": [
        (0.38, 0.14),
        (0.62, 0.14),
        (0.62, 0.38),
        (0.86, 0.38),
        (0.86, 0.62),
        (0.62, 0.62),
        (0.62, 0.86),
        (0.38, 0.86),
        (0.38, 0.62),
        (0.14, 0.62),
        (0.14, 0.38),
        (0.38, 0.38),
    ],  # fmt: skip
}


def _darker(rgb, f=0.62):
    return tuple(int(v * f) for v in rgb)


def draw_shape(c: Canvas, shape: str, color: str) -> None:
    """Fill ``shape`` in ``color``; a thin darker rim of the same hue keeps light colours'
    silhouettes crisp against the light background."""
    fill = COLOR_RGB[color]
    rim = _darker(fill)
    if shape == "circle":
        c.circle((0.5, 0.5), 0.37 + 0.012, rim)
        c.circle((0.5, 0.5), 0.37, fill)
        return
    pts = SHAPE_POINTS[shape]
    c.line(pts + [pts[0]], 0.024, rim)  # rim: half of this stroke shows outside the edge
    c.poly(pts, fill)
