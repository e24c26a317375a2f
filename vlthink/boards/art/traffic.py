"""Traffic signs, drawn after the UK (Vienna-convention) sign standard.

Warnings are white triangles with a red border, prohibitions white discs with a red ring (a red
bar from top-left to bottom-right cancels an action), mandatory signs blue discs with white
symbols, "no stopping"/"no waiting" blue discs with a red ring and red cross/bar, "stop give
way" a red octagon reading STOP, "yield" an inverted red-bordered triangle.
"""

from __future__ import annotations

import math

from .canvas import (
    BLACK,
    SIGN_BLUE,
    SIGN_RED,
    WHITE,
    Canvas,
    arc_points,
    arrow_path,
    inset,
    mirror,
    regular_polygon,
    transform,
)  # fmt: skip

BACKGROUND = (246, 246, 244)

C = (0.5, 0.5)
R = 0.43  # disc signs: outer radius
RING = 0.085  # prohibition ring width
BAR = 0.075  # prohibition bar width

TRI = [(0.5, 0.10), (0.945, 0.87), (0.055, 0.87)]  # warning triangle, outer outline
TRI_BORDER = 0.085


# -- sign bodies ------------------------------------------------------------------------------


def warning(c: Canvas) -> None:
    c.rounded_poly(TRI, 0.04, SIGN_RED)
    c.rounded_poly(inset(TRI, TRI_BORDER), 0.012, WHITE)


def prohibition(c: Canvas) -> None:
    c.circle(C, R, SIGN_RED)
    c.circle(C, R - RING, WHITE)


def prohibition_bar(c: Canvas) -> None:
    r = R - RING + 0.01
    d = r / math.sqrt(2)
    c.line([(0.5 - d, 0.5 - d), (0.5 + d, 0.5 + d)], BAR, SIGN_RED, caps=False)


def mandatory(c: Canvas) -> None:
    c.circle(C, R, SIGN_BLUE)


def clearway(c: Canvas) -> None:
    """Blue disc with a red ring: the "no stopping" / "no waiting" family."""
    c.circle(C, R, SIGN_RED)
    c.circle(C, R - 0.07, SIGN_BLUE)


# -- pictogram parts --------------------------------------------------------------------------


def _turn_left_path(scale=1.0):
    """Arrow path: up the middle, then a 90° bend to the left (unit box, before scaling)."""
    p = [(0.60, 0.80), (0.60, 0.52)]
    p += arc_points((0.46, 0.52), 0.14, 0, -90)[1:]
    p += [(0.18, 0.38)]
    return transform([(x - 0.5, y - 0.5) for x, y in p], scale=scale, at=C)


def _car_rear(c: Canvas, cx: float, cy: float, fill, w: float = 0.17) -> None:
    """A car seen from behind (for "no overtaking")."""
    h = w * 0.55
    c.poly(
        [
            (cx - w * 0.36, cy - h * 0.15),
            (cx - w * 0.28, cy - h * 0.95),
            (cx + w * 0.28, cy - h * 0.95),
            (cx + w * 0.36, cy - h * 0.15),
        ],
        fill,
    )
    c.rect(cx - w / 2, cy - h * 0.25, cx + w / 2, cy + h * 0.55, fill, radius=w * 0.08)
    c.rect(cx - w * 0.44, cy + h * 0.4, cx - w * 0.22, cy + h * 0.9, fill, radius=w * 0.04)
    c.rect(cx + w * 0.22, cy + h * 0.4, cx + w * 0.44, cy + h * 0.9, fill, radius=w * 0.04)
    c.poly(
        [
            (cx - w * 0.25, cy - h * 0.25),
            (cx - w * 0.2, cy - h * 0.8),
            (cx + w * 0.2, cy - h * 0.8),
            (cx + w * 0.25, cy - h * 0.25),
        ],
        WHITE,
    )
    c.rect(cx - w * 0.42, cy + h * 0.02, cx - w * 0.28, cy + h * 0.18, WHITE)
    c.rect(cx + w * 0.28, cy + h * 0.02, cx + w * 0.42, cy + h * 0.18, WHITE)


def _car_side(c: Canvas, pts_at, scale, fill=BLACK) -> None:
    """A car in side view facing left, in a local box x∈[0,1], y∈[0,0.5]."""
    body = [
        (0.0, 0.30),
        (0.04, 0.20),
        (0.22, 0.16),
        (0.34, 0.02),
        (0.70, 0.02),
        (0.84, 0.17),
        (1.0, 0.20),
        (1.0, 0.38),
        (0.0, 0.38),
    ]
    c.poly(transform(body, scale, at=pts_at), fill)
    win = [(0.38, 0.07), (0.52, 0.07), (0.52, 0.17), (0.27, 0.17)]
    win2 = [(0.57, 0.07), (0.68, 0.07), (0.77, 0.17), (0.57, 0.17)]
    c.poly(transform(win, scale, at=pts_at), WHITE)
    c.poly(transform(win2, scale, at=pts_at), WHITE)
    for wx in (0.2, 0.8):
        ((x, y),) = transform([(wx, 0.38)], scale, at=pts_at)
        c.circle((x, y), 0.12 * scale, WHITE)
        c.circle((x, y), 0.095 * scale, fill)


# -- the signs --------------------------------------------------------------------------------


def ahead_only(c):
    mandatory(c)
    arrow_path(c, [(0.5, 0.82), (0.5, 0.17)], 0.12, 0.2, 0.34, WHITE)


def turn_left_ahead(c):
    mandatory(c)
    p = _turn_left_path(1.05)
    arrow_path(c, p, 0.11, 0.17, 0.30, WHITE)


def _no_turn(c, right: bool):
    prohibition(c)
    p = _turn_left_path(0.86)
    if right:
        p = mirror(p)
    arrow_path(c, p, 0.09, 0.14, 0.25, BLACK)
    prohibition_bar(c)


def no_left_turn(c):
    _no_turn(c, right=False)


def no_right_turn(c):
    _no_turn(c, right=True)


def no_u_turn(c):
    prohibition(c)
    p = [(0.37, 0.78), (0.37, 0.47)] + arc_points((0.52, 0.47), 0.15, 180, 360)[1:] + [(0.67, 0.70)]
    arrow_path(c, p, 0.085, 0.14, 0.23, BLACK)
    prohibition_bar(c)


def no_entry(c):
    c.circle(C, R, SIGN_RED)
    c.rect(0.17, 0.425, 0.83, 0.575, WHITE)


def max_speed(c):
    prohibition(c)
    c.text("30", (0.5, 0.5), 0.30, BLACK, weight=0.05)


def minimum_speed(c):
    mandatory(c)
    c.text("30", (0.5, 0.5), 0.30, WHITE, weight=0.05)


def no_overtaking(c):
    prohibition(c)
    _car_rear(c, 0.37, 0.50, BLACK, w=0.21)
    _car_rear(c, 0.63, 0.50, SIGN_RED, w=0.21)


def no_stopping(c):
    clearway(c)
    r = R - 0.07
    d = r / math.sqrt(2)
    c.line([(0.5 - d, 0.5 - d), (0.5 + d, 0.5 + d)], 0.075, SIGN_RED, caps=False)
    c.line([(0.5 + d, 0.5 - d), (0.5 - d, 0.5 + d)], 0.075, SIGN_RED, caps=False)


def no_waiting(c):
    clearway(c)
    r = R - 0.07
    d = r / math.sqrt(2)
    c.line([(0.5 - d, 0.5 - d), (0.5 + d, 0.5 + d)], 0.075, SIGN_RED, caps=False)


def no_through_road(c):
    c.rect(0.1, 0.1, 0.9, 0.9, SIGN_BLUE, radius=0.05)
    c.rect(0.135, 0.135, 0.865, 0.865, WHITE, radius=0.035)
    c.rect(0.155, 0.155, 0.845, 0.845, SIGN_BLUE, radius=0.025)
    c.rect(0.42, 0.36, 0.58, 0.80, WHITE)
    c.rect(0.22, 0.22, 0.78, 0.36, SIGN_RED)


def stop_give_way(c):
    octo = regular_polygon(C, 0.45, 8, rot=-90 + 22.5)
    c.poly(octo, SIGN_RED)
    ring = regular_polygon(C, 0.415, 8, rot=-90 + 22.5)
    c.line(ring + [ring[0]], 0.018, WHITE)
    c.text("STOP", (0.5, 0.5), 0.23, WHITE, weight=0.06, width=0.62)


def yield_(c):
    tri = [(0.06, 0.14), (0.94, 0.14), (0.5, 0.90)]
    c.rounded_poly(tri, 0.04, SIGN_RED)
    c.rounded_poly(inset(tri, 0.1), 0.012, WHITE)


def roundabout(c):
    mandatory(c)
    r, w, hl, hw = 0.215, 0.085, 0.12, 0.2
    for k in range(3):
        a0 = -90 + 120 * k + 30
        a1 = a0 + 78  # heads point clockwise (UK roundabouts run clockwise)
        shaft = arc_points(C, r, a0, a1, n=30)
        c.line(shaft, w, WHITE, caps=False)
        ang = math.radians(a1)
        bx, by = shaft[-1]
        tx, ty = -math.sin(ang), math.cos(ang)  # tangent, clockwise
        nx, ny = math.cos(ang), math.sin(ang)  # radial
        c.poly(
            [
                (bx + tx * hl, by + ty * hl),
                (bx + nx * hw / 2, by + ny * hw / 2),
                (bx - nx * hw / 2, by - ny * hw / 2),
            ],
            WHITE,
        )


def sharp_route_deviation(c):
    c.rect(0.06, 0.27, 0.94, 0.73, BLACK, radius=0.03)
    c.rect(0.085, 0.295, 0.915, 0.705, WHITE, radius=0.02)
    c.rect(0.105, 0.315, 0.895, 0.685, BLACK, radius=0.01)
    for x in (0.25, 0.47, 0.69):  # white chevrons pointing left
        c.poly(
            [
                (x - 0.1, 0.5),
                (x + 0.04, 0.34),
                (x + 0.14, 0.34),
                (x, 0.5),
                (x + 0.14, 0.66),
                (x + 0.04, 0.66),
            ],
            WHITE,
        )


def _steep(c, up: bool):
    warning(c)
    wedge = [(0.245, 0.78), (0.755, 0.78), (0.365, 0.54)]  # high on the left: the road descends
    if up:
        wedge = mirror(wedge)
    c.poly(wedge, BLACK)
    c.text("10%", (0.595 if not up else 0.405, 0.555), 0.09, BLACK, weight=0.05)


def steep_downwards(c):
    _steep(c, up=False)


def steep_upwards(c):
    _steep(c, up=True)


def road_narrows_right(c):
    warning(c)
    c.line([(0.41, 0.78), (0.41, 0.42)], 0.05, BLACK, caps=False)
    c.line([(0.61, 0.78), (0.61, 0.64), (0.53, 0.54), (0.53, 0.42)], 0.05, BLACK, caps=False)


def uneven_road(c):
    warning(c)
    top = []
    for i in range(61):
        x = 0.28 + 0.44 * i / 60
        bump = math.exp(-(((x - 0.41) / 0.05) ** 2)) + math.exp(-(((x - 0.59) / 0.05) ** 2))
        top.append((x, 0.70 - 0.11 * bump))
    c.poly(top + [(0.72, 0.77), (0.28, 0.77)], BLACK)


def road_works(c):
    warning(c)
    w = 0.034
    c.circle((0.405, 0.445), 0.033, BLACK)  # head
    c.line([(0.41, 0.50), (0.38, 0.615)], 0.055, BLACK)  # torso, leaning forward
    c.line([(0.38, 0.62), (0.42, 0.69), (0.45, 0.77)], w, BLACK)  # front leg
    c.line([(0.38, 0.62), (0.34, 0.70), (0.31, 0.77)], w, BLACK)  # back leg
    c.line([(0.41, 0.51), (0.47, 0.57), (0.52, 0.57)], 0.028, BLACK)  # arms to the handle
    c.line([(0.43, 0.50), (0.60, 0.69)], 0.02, BLACK)  # spade handle
    c.poly([(0.585, 0.665), (0.64, 0.70), (0.62, 0.745), (0.57, 0.72)], BLACK)  # blade
    c.poly(arc_points((0.65, 0.775), 0.1, 180, 360, ry=0.075), BLACK)  # heap of earth


def loose_chippings(c):
    warning(c)
    _car_side(c, (0.25, 0.575), 0.36)
    for x, y, s in [
        (0.67, 0.59, 0.026),
        (0.73, 0.53, 0.02),
        (0.72, 0.665, 0.024),
        (0.64, 0.51, 0.018),
        (0.77, 0.61, 0.018),
        (0.66, 0.755, 0.02),
        (0.735, 0.755, 0.018),
    ]:
        c.poly(regular_polygon((x, y), s, 5, rot=17 * x * 100), BLACK)


def falling_rocks(c):
    warning(c)
    cliff = [
        (0.26, 0.77),
        (0.43, 0.40),
        (0.475, 0.44),
        (0.44, 0.52),
        (0.48, 0.60),
        (0.44, 0.69),
        (0.47, 0.77),
    ]
    c.poly(cliff, BLACK)
    for x, y, s in [
        (0.555, 0.47, 0.036),
        (0.62, 0.585, 0.034),
        (0.545, 0.625, 0.026),
        (0.59, 0.74, 0.036),
        (0.67, 0.745, 0.03),
        (0.525, 0.75, 0.024),
    ]:
        c.poly(regular_polygon((x, y), s, 6, rot=x * 300), BLACK)


def wild_animals(c):
    warning(c)
    s, at = 0.50, (0.245, 0.415)

    def T(pts):
        return transform(pts, s, at=at)

    body = [
        (0.18, 0.44),
        (0.28, 0.33),
        (0.52, 0.30),
        (0.68, 0.24),
        (0.78, 0.32),
        (0.74, 0.47),
        (0.56, 0.55),
        (0.30, 0.57),
        (0.18, 0.52),
    ]
    c.poly(T(body), BLACK)
    c.line(T([(0.70, 0.32), (0.83, 0.13)]), 0.11 * s, BLACK)  # neck
    c.poly(T([(0.76, 0.08), (0.88, 0.06), (1.0, 0.15), (0.98, 0.20), (0.84, 0.20)]), BLACK)  # head
    aw = 0.04 * s
    c.line(T([(0.82, 0.09), (0.77, -0.02), (0.70, -0.08)]), aw, BLACK)  # antlers
    c.line(T([(0.78, 0.01), (0.86, -0.07)]), aw, BLACK)
    c.line(T([(0.73, -0.05), (0.68, 0.01)]), aw, BLACK)
    lw = 0.065 * s
    c.line(T([(0.68, 0.45), (0.84, 0.52), (0.98, 0.48)]), lw, BLACK)  # front legs, reaching forward
    c.line(T([(0.62, 0.49), (0.76, 0.62), (0.90, 0.64)]), lw, BLACK)
    c.line(T([(0.28, 0.50), (0.14, 0.64), (0.03, 0.74)]), lw, BLACK)  # hind legs, pushing off
    c.line(T([(0.24, 0.46), (0.10, 0.54), (-0.02, 0.60)]), lw, BLACK)
    c.poly(T([(0.20, 0.40), (0.11, 0.33), (0.24, 0.36)]), BLACK)  # tail


DRAW = {
    "ahead_only": ahead_only,
    "falling_rocks": falling_rocks,
    "loose_chippings": loose_chippings,
    "max_speed": max_speed,
    "minimum_speed": minimum_speed,
    "no_u_turn": no_u_turn,
    "no_entry": no_entry,
    "no_left_turn": no_left_turn,
    "no_overtaking": no_overtaking,
    "no_right_turn": no_right_turn,
    "no_stopping": no_stopping,
    "no_through_road": no_through_road,
    "no_waiting": no_waiting,
    "road_narrows_right": road_narrows_right,
    "road_works": road_works,
    "roundabout": roundabout,
    "sharp_route_deviation": sharp_route_deviation,
    "steep_downwards": steep_downwards,
    "steep_upwards": steep_upwards,
    "stop_give_way": stop_give_way,
    "turn_left_ahead": turn_left_ahead,
    "uneven_road": uneven_road,
    "wild_animals": wild_animals,
    "yield": yield_,
}
