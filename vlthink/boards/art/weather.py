"""Weather icons in the usual forecast style: flat colour shapes on white."""

from __future__ import annotations

import math

from .canvas import WHITE, Canvas, arc_points, arrow_path

BACKGROUND = WHITE

SUN = (246, 170, 0)
CLOUD = (150, 162, 180)
CLOUD_BACK = (196, 204, 216)
CLOUD_DARK = (72, 80, 98)
RAIN = (28, 108, 222)
SNOW = (56, 140, 220)
NIGHT = (52, 62, 140)
BOLT = (255, 196, 0)
WIND = (82, 128, 168)


def _cloud(c: Canvas, cx: float, cy: float, s: float, fill, outline=None) -> None:
    """A cloud centred near (cx, cy): three puffs on a flat rounded base, ``s`` ≈ half width."""

    def parts(grow: float):
        k = s / 0.28
        c.circle((cx - 0.13 * k, cy + 0.01 * k), 0.115 * k + grow, col)
        c.circle((cx + 0.01 * k, cy - 0.06 * k), 0.155 * k + grow, col)
        c.circle((cx + 0.15 * k, cy + 0.03 * k), 0.10 * k + grow, col)
        c.rect(
            cx - 0.27 * k - grow,
            cy + 0.01 * k - grow,
            cx + 0.27 * k + grow,
            cy + 0.13 * k + grow,
            col,
            radius=0.06 * k + grow,
        )

    if outline is not None:
        col = outline
        parts(0.022)
    col = fill
    parts(0.0)


def _rays(c: Canvas, ctr, r0: float, r1: float, w: float, angles) -> None:
    for a in angles:
        ca, sa = math.cos(math.radians(a)), math.sin(math.radians(a))
        c.line([(ctr[0] + r0 * ca, ctr[1] + r0 * sa), (ctr[0] + r1 * ca, ctr[1] + r1 * sa)], w, SUN)


def _flake(c: Canvas, x: float, y: float, r: float) -> None:
    for k in range(3):
        a = math.radians(90 + 60 * k)
        dx, dy = r * math.cos(a), r * math.sin(a)
        c.line([(x - dx, y - dy), (x + dx, y + dy)], 0.032, SNOW)
    c.circle((x, y), 0.028, SNOW)


def _wind(
    c: Canvas, y: float, x0: float, x1: float, curl: float, color=WIND, w: float = 0.045
) -> None:
    """A wind streak from x0 to x1 ending in a curl that turns up and back."""
    pts = [(x0, y), (x1, y)] + arc_points((x1, y - curl), curl, 90, -180)[1:]
    c.line(pts, w, color)


def sunny(c):
    c.circle((0.5, 0.5), 0.17, SUN)
    _rays(c, (0.5, 0.5), 0.245, 0.37, 0.06, range(0, 360, 45))


def clear_night(c):
    c.circle((0.45, 0.53), 0.27, NIGHT)
    c.circle((0.58, 0.43), 0.225, WHITE)  # bite out of the disc: a crescent
    for x, y, r in [(0.72, 0.24, 0.08), (0.83, 0.47, 0.055), (0.80, 0.70, 0.045)]:
        pts = []
        for i in range(8):  # four-pointed twinkle stars
            rr = r if i % 2 == 0 else r * 0.32
            a = math.radians(-90 + 45 * i)
            pts.append((x + rr * math.cos(a), y + rr * math.sin(a)))
        c.poly(pts, NIGHT)


def cloudy(c):
    _cloud(c, 0.62, 0.38, 0.25, CLOUD_BACK)
    _cloud(c, 0.44, 0.56, 0.32, CLOUD, outline=WHITE)


def rainy(c):
    _cloud(c, 0.5, 0.38, 0.31, CLOUD)
    for x, y in [(0.34, 0.64), (0.50, 0.70), (0.66, 0.64), (0.42, 0.82), (0.58, 0.82)]:
        c.line([(x + 0.035, y - 0.045), (x - 0.02, y + 0.045)], 0.042, RAIN)


def snowing(c):
    _cloud(c, 0.5, 0.36, 0.31, CLOUD)
    for x, y in [(0.32, 0.68), (0.52, 0.76), (0.70, 0.66)]:
        _flake(c, x, y, 0.075)


def storm(c):
    _cloud(c, 0.5, 0.36, 0.32, CLOUD_DARK)
    bolt = [
        (0.52, 0.50),
        (0.40, 0.70),
        (0.49, 0.70),
        (0.43, 0.90),
        (0.63, 0.63),
        (0.535, 0.63),
        (0.60, 0.50),
    ]
    c.poly(bolt, BOLT)
    for x, y in [(0.30, 0.66), (0.70, 0.66), (0.26, 0.80), (0.74, 0.80)]:
        c.line([(x + 0.03, y - 0.04), (x - 0.015, y + 0.04)], 0.038, RAIN)


def sunrise(c):
    hy = 0.60  # horizon
    c.poly(arc_points((0.5, hy), 0.17, 180, 360), SUN)
    _rays(c, (0.5, hy), 0.235, 0.35, 0.055, range(207, 334, 42))
    c.line([(0.1, hy + 0.02), (0.9, hy + 0.02)], 0.045, SUN)
    arrow_path(c, [(0.5, 0.90), (0.5, 0.68)], 0.05, 0.08, 0.15, SUN)


def windy(c):
    _wind(c, 0.34, 0.12, 0.62, 0.085)
    _wind(c, 0.52, 0.20, 0.78, 0.075)
    _wind(c, 0.70, 0.12, 0.54, 0.07)


def windy_and_cloudy(c):
    _cloud(c, 0.56, 0.36, 0.28, CLOUD)
    _wind(c, 0.66, 0.10, 0.64, 0.075)
    _wind(c, 0.82, 0.20, 0.50, 0.06)


DRAW = {
    "clear_night": clear_night,
    "cloudy": cloudy,
    "rainy": rainy,
    "snowing": snowing,
    "storm": storm,
    "sunny": sunny,
    "sunrise": sunrise,
    "windy": windy,
    "windy_and_cloudy": windy_and_cloudy,
}
