"""Laundry care symbols after ISO 3758: black line art on white.

Wash tub (dots give the maximum temperature: 1 = cold/30 °C, 2 = warm/40 °C, 3 = hot/50 °C;
one bar under the tub = permanent press (mild process), two bars = delicate (very mild); a hand
in the water = hand wash), triangle (bleach; two oblique lines = oxygen/non-chlorine only),
circle (professional cleaning; letters A = any solvent, W = wet cleaning), iron. A St Andrew's
cross over a symbol forbids the treatment.
"""

from __future__ import annotations

import math

from .canvas import BLACK, WHITE, Canvas, transform

BACKGROUND = WHITE
LW = 0.05  # line weight of the symbols


def _tub(c: Canvas, dy: float = 0.0, water: bool = True) -> None:
    top, bot = 0.28 + dy, 0.72 + dy
    left = [(0.12, top), (0.23, bot)]
    right = [(0.77, bot), (0.88, top)]
    c.line(left + right, LW, BLACK)
    if water:  # wavy water line from wall to wall
        wy = top + 0.09
        x0 = 0.12 + 0.11 * (wy - top) / (bot - top)
        x1 = 1 - x0
        pts = [
            (x0 + (x1 - x0) * i / 80, wy + 0.028 * math.sin(2 * math.pi * 3 * i / 80))
            for i in range(81)
        ]
        c.line(pts, LW, BLACK)


def _dots(c: Canvas, n: int, dy: float = 0.0) -> None:
    y = 0.575 + dy
    gap = 0.14
    for i in range(n):
        c.circle((0.5 + (i - (n - 1) / 2) * gap, y), 0.05, BLACK)


def _bars(c: Canvas, n: int) -> None:
    for i in range(n):
        y = 0.745 + 0.085 * i
        c.line([(0.2, y), (0.8, y)], LW, BLACK, caps=False)


def _cross(c: Canvas, box=(0.1, 0.12, 0.9, 0.88)) -> None:
    x0, y0, x1, y1 = box
    c.line([(x0, y0), (x1, y1)], LW, BLACK)
    c.line([(x1, y0), (x0, y1)], LW, BLACK)


def _triangle(c: Canvas) -> None:
    tri = [(0.5, 0.15), (0.89, 0.80), (0.11, 0.80)]
    c.line(tri + [tri[0]], LW, BLACK)


def _circle(c: Canvas, letter: str | None = None) -> None:
    c.ring((0.5, 0.5), 0.33 + LW / 2, LW, BLACK)
    if letter:
        c.text(letter, (0.5, 0.5), 0.27, BLACK, weight=0.04)


def _iron(c: Canvas) -> None:
    body = [(0.86, 0.72), (0.86, 0.47), (0.36, 0.47)]
    # the curved nose down to the pointed front
    nose = [
        (0.36 - 0.24 * math.sin(math.radians(a)), 0.47 + 0.25 * (1 - math.cos(math.radians(a))))
        for a in range(0, 91, 6)
    ]
    sole = [(0.12, 0.72), (0.86, 0.72)]
    c.line(body + nose + sole, LW, BLACK)
    c.line([(0.42, 0.47), (0.46, 0.31), (0.80, 0.31), (0.80, 0.47)], LW, BLACK)  # handle


def _hand(c: Canvas) -> None:
    """A hand dipping into the tub from the upper right, fingers first (ISO hand-wash)."""
    # local frame: fingers point down (+y), wrist at y = 0; then rotated to come in at an angle
    parts = [  # (polyline, width)
        ([(0.0, -0.40), (0.0, 0.02)], 0.15),  # forearm
        ([(0.0, 0.02), (0.0, 0.13)], 0.19),  # palm
        ([(-0.069, 0.14), (-0.069, 0.29)], 0.043),  # fingers
        ([(-0.023, 0.14), (-0.023, 0.33)], 0.043),
        ([(0.023, 0.14), (0.023, 0.32)], 0.043),
        ([(0.069, 0.14), (0.069, 0.27)], 0.043),
        ([(0.085, 0.06), (0.17, 0.18)], 0.05),  # thumb
    ]
    place = dict(scale=0.78, rot=35, at=(0.665, 0.20))
    for pts, w in parts:  # white halo so the hand stands clear of the tub's lines
        c.line(transform(pts, **place), (w + 0.04) * 0.78, WHITE)
    for pts, w in parts:
        c.line(transform(pts, **place), w * 0.78, BLACK)


def machine_wash(c):
    _tub(c)


def cold_wash(c):
    _tub(c)
    _dots(c, 1)


def warm_wash(c):
    _tub(c)
    _dots(c, 2)


def hot_wash(c):
    _tub(c)
    _dots(c, 3)


def machine_wash_permanent_press(c):
    _tub(c, dy=-0.07)
    _bars(c, 1)


def machine_wash_delicate(c):
    _tub(c, dy=-0.1)
    _bars(c, 2)


def hand_wash(c):
    _tub(c, dy=0.06)
    _hand(c)


def do_not_wash(c):
    _tub(c)
    _cross(c)


def bleach_allowed(c):
    _triangle(c)


def non_chlorine_bleach(c):
    _triangle(c)
    c.line([(0.35, 0.70), (0.52, 0.42)], LW, BLACK)
    c.line([(0.48, 0.70), (0.65, 0.42)], LW, BLACK)


def do_not_bleach(c):
    _triangle(c)
    _cross(c)


def dryclean(c):
    _circle(c)


def any_solvent(c):
    _circle(c, "A")


def wet_cleaning(c):
    _circle(c, "W")


def do_not_dryclean(c):
    _circle(c)
    _cross(c, (0.16, 0.16, 0.84, 0.84))


def iron(c):
    _iron(c)


def do_not_iron(c):
    _iron(c)
    _cross(c)


DRAW = {
    "any_solvent": any_solvent,
    "bleach_allowed": bleach_allowed,
    "cold_wash": cold_wash,
    "do_not_bleach": do_not_bleach,
    "do_not_dryclean": do_not_dryclean,
    "do_not_iron": do_not_iron,
    "do_not_wash": do_not_wash,
    "dryclean": dryclean,
    "hand_wash": hand_wash,
    "hot_wash": hot_wash,
    "iron": iron,
    "machine_wash_delicate": machine_wash_delicate,
    "machine_wash_permanent_press": machine_wash_permanent_press,
    "machine_wash": machine_wash,
    "non_chlorine_bleach": non_chlorine_bleach,
    "warm_wash": warm_wash,
    "wet_cleaning": wet_cleaning,
}
