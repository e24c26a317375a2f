"""Parity boards: one upright black numeral (1–8) on white.

The numerals are drawn as thick round-capped strokes (no font), so they are bold, clean at
80 px and identical wherever the code runs.
"""

from __future__ import annotations

from .canvas import BLACK, WHITE, Canvas, arc_points

BACKGROUND = WHITE
W = 0.11  # stroke weight; the glyphs span y 0.2 … 0.8


def _ring(c: Canvas, ctr, r: float) -> None:
    c.ring(ctr, r + W / 2, W, BLACK)


def one(c):
    c.line([(0.40, 0.30), (0.53, 0.2), (0.53, 0.8)], W, BLACK)
    c.line([(0.39, 0.8), (0.67, 0.8)], W, BLACK)


def two(c):
    c.line(arc_points((0.5, 0.355), 0.155, 195, 375) + [(0.34, 0.8), (0.67, 0.8)], W, BLACK)


def three(c):
    c.line(
        arc_points((0.49, 0.345), 0.14, 200, 450) + arc_points((0.49, 0.635), 0.16, 270, 520)[1:],
        W,
        BLACK,
    )


def four(c):
    c.line([(0.60, 0.8), (0.60, 0.2), (0.32, 0.62), (0.70, 0.62)], W, BLACK)


def five(c):
    c.line(
        [(0.66, 0.2), (0.395, 0.2), (0.375, 0.455)] + arc_points((0.49, 0.61), 0.18, 232, 505),
        W,
        BLACK,
    )


def six(c):
    _ring(c, (0.5, 0.625), 0.165)
    c.line(arc_points((0.62, 0.625), 0.285, 180, 262, ry=0.42), W, BLACK)


def seven(c):
    c.line([(0.33, 0.2), (0.67, 0.2), (0.45, 0.8)], W, BLACK)


def eight(c):
    _ring(c, (0.5, 0.335), 0.125)
    _ring(c, (0.5, 0.64), 0.155)


DRAW = {"1": one, "2": two, "3": three, "4": four, "5": five, "6": six, "7": seven, "8": eight}
