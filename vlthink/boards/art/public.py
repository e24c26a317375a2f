"""Public-information pictograms in the style of ISO 7001 (and ISO 7010 / ISO 3864 for the safety
signs): black figures on a white field in a thin rounded frame; prohibitions add a red ring and
a red bar from top-left to bottom-right; "disabled access" is the white wheelchair figure on
blue, "fire escape" the white running figure and door on safety green.
"""

from __future__ import annotations

import math

from .canvas import BLACK, SIGN_BLUE, SIGN_GREEN, SIGN_RED, WHITE, Canvas, arrow_path, transform

BACKGROUND = WHITE

# -- frames -----------------------------------------------------------------------------------


def frame(c: Canvas) -> None:
    c.rect(0.06, 0.06, 0.94, 0.94, BLACK, radius=0.07)
    c.rect(0.085, 0.085, 0.915, 0.915, WHITE, radius=0.05)


def filled(c: Canvas, color) -> None:
    c.rect(0.06, 0.06, 0.94, 0.94, color, radius=0.07)


def prohibition_ring(c: Canvas) -> None:
    c.ring((0.5, 0.5), 0.43, 0.075, SIGN_RED)


def prohibition_bar(c: Canvas) -> None:
    d = 0.37 / math.sqrt(2)
    c.line([(0.5 - d, 0.5 - d), (0.5 + d, 0.5 + d)], 0.07, SIGN_RED, caps=False)


# -- people -----------------------------------------------------------------------------------

TORSO, LIMB, HEAD = 0.17, 0.10, 0.09  # widths / head radius, in figure units (figure ≈ 1 tall)


def person(c: Canvas, pose: dict, scale: float, at, fill=BLACK, flip: bool = False) -> None:
    """A pictogram person. ``pose`` holds joint positions in figure units (y down, origin at the
    hip): head, neck, hip, and limb chains arm1/arm2/leg1/leg2 (lists of points from the body)."""

    def T(pts):
        return transform(pts, scale, at=at, flip_x=flip)

    c.circle(T([pose["head"]])[0], HEAD * scale, fill)
    c.line(T([pose["neck"], pose["hip"]]), TORSO * scale, fill)
    nx, ny = pose["neck"]
    for limb, side in (("arm1", 1), ("arm2", -1)):
        shoulder = (nx + side * 0.07, ny + 0.04)
        c.line(T([shoulder] + pose[limb]), LIMB * 0.85 * scale, fill)
    for limb in ("leg1", "leg2"):
        c.line(T([pose["hip"]] + pose[limb]), LIMB * scale, fill)


STANDING = dict(
    head=(0.0, -0.58), neck=(0.0, -0.42), hip=(0.0, 0.0),
    arm1=[(0.17, -0.22), (0.19, -0.02)], arm2=[(-0.17, -0.22), (-0.19, -0.02)],
    leg1=[(-0.05, 0.22), (-0.05, 0.44)], leg2=[(0.05, 0.22), (0.05, 0.44)],
)  # fmt: skip
WALKING = dict(
    head=(0.04, -0.58), neck=(0.02, -0.42), hip=(0.0, 0.0),
    arm1=[(0.16, -0.24), (0.26, -0.08)], arm2=[(-0.12, -0.24), (-0.22, -0.10)],
    leg1=[(0.12, 0.21), (0.22, 0.42)], leg2=[(-0.09, 0.20), (-0.22, 0.40)],
)  # fmt: skip
RUNNING = dict(
    head=(0.12, -0.58), neck=(0.08, -0.42), hip=(0.0, 0.0),
    arm1=[(0.22, -0.30), (0.34, -0.40)], arm2=[(-0.06, -0.22), (-0.24, -0.16)],
    leg1=[(0.20, 0.12), (0.22, 0.38)], leg2=[(-0.10, 0.18), (-0.32, 0.26)],
)  # fmt: skip
CLIMBING = dict(
    head=(0.06, -0.58), neck=(0.03, -0.42), hip=(0.0, 0.0),
    arm1=[(0.16, -0.24), (0.24, -0.08)], arm2=[(-0.12, -0.24), (-0.20, -0.10)],
    leg1=[(0.20, 0.12), (0.20, 0.30)], leg2=[(-0.04, 0.22), (-0.10, 0.42)],
)  # fmt: skip


# -- the pictograms ---------------------------------------------------------------------------


def disabled_access(c):
    filled(c, SIGN_BLUE)
    c.ring((0.46, 0.64), 0.215, 0.055, WHITE)  # wheel
    c.circle((0.44, 0.19), 0.065, WHITE)  # head
    c.line(
        [(0.43, 0.31), (0.43, 0.52), (0.62, 0.52), (0.68, 0.72), (0.78, 0.70)], 0.085, WHITE
    )  # body, thigh, shin
    c.line([(0.43, 0.37), (0.58, 0.42)], 0.06, WHITE)  # arm


def escalator(c):
    frame(c)
    c.line(
        [(0.14, 0.82), (0.30, 0.82), (0.66, 0.46), (0.86, 0.46)], 0.08, BLACK
    )  # the moving steps
    c.line([(0.22, 0.64), (0.30, 0.64), (0.64, 0.30), (0.80, 0.30)], 0.03, BLACK)  # handrail
    person(c, STANDING, 0.44, (0.47, 0.43))


def fire_escape(c):
    filled(c, SIGN_GREEN)
    c.rect(0.64, 0.18, 0.86, 0.84, WHITE)  # door frame
    c.rect(0.685, 0.23, 0.815, 0.84, SIGN_GREEN)
    person(c, RUNNING, 0.50, (0.40, 0.52), fill=WHITE)
    arrow_path(c, [(0.14, 0.82), (0.52, 0.82)], 0.05, 0.09, 0.14, WHITE)


def hairdresser(c):
    frame(c)
    # open scissors: each blade runs through the pivot to the opposite finger ring
    pivot = (0.40, 0.47)
    for tip, ring in (((0.24, 0.15), (0.55, 0.74)), ((0.56, 0.15), (0.25, 0.74))):
        c.poly([tip, (pivot[0] - 0.035, pivot[1]), (pivot[0] + 0.035, pivot[1])], BLACK)
        c.line(
            [pivot, (ring[0] + (pivot[0] - ring[0]) * 0.35, ring[1] + (pivot[1] - ring[1]) * 0.35)],
            0.045,
            BLACK,
        )
        c.ring(ring, 0.085, 0.04, BLACK)
    c.circle(pivot, 0.035, BLACK)
    # comb
    c.rect(0.70, 0.16, 0.77, 0.84, BLACK, radius=0.015)
    for i in range(11):
        y = 0.2 + i * 0.06
        c.line([(0.76, y), (0.86, y)], 0.025, BLACK, caps=False)


def information(c):
    frame(c)
    c.circle((0.5, 0.25), 0.075, BLACK)
    c.rect(0.445, 0.39, 0.565, 0.76, BLACK)
    c.rect(0.37, 0.39, 0.565, 0.45, BLACK)  # serif
    c.rect(0.37, 0.72, 0.64, 0.78, BLACK)  # foot


def _dog(c: Canvas, scale: float, at) -> None:
    """Dog in side view, facing left (local box ≈ 1 wide)."""

    def T(pts):
        return transform(pts, scale, at=at)

    c.line(T([(-0.22, -0.02), (0.24, -0.02)]), 0.20 * scale, BLACK)  # body
    c.line(T([(-0.24, -0.02), (-0.30, -0.22)]), 0.13 * scale, BLACK)  # neck
    c.poly(
        T(
            [
                (-0.38, -0.34),
                (-0.22, -0.34),
                (-0.20, -0.20),
                (-0.40, -0.18),
                (-0.50, -0.20),
                (-0.50, -0.26),
            ]
        ),
        BLACK,
    )  # head + snout
    c.poly(T([(-0.29, -0.33), (-0.22, -0.44), (-0.20, -0.30)]), BLACK)  # ear
    lw = 0.075 * scale
    for x0, x1 in ((-0.18, -0.22), (-0.09, -0.10), (0.17, 0.14), (0.26, 0.30)):
        c.line(T([(x0, 0.0), (x1, 0.30)]), lw, BLACK)
    c.line(T([(0.30, -0.06), (0.38, -0.20), (0.44, -0.26)]), 0.05 * scale, BLACK)  # tail


def no_dogs(c):
    _dog(c, 0.62, (0.52, 0.50))
    prohibition_ring(c)
    prohibition_bar(c)


def no_entry(c):
    person(c, WALKING, 0.46, (0.48, 0.52))
    prohibition_ring(c)
    prohibition_bar(c)


def no_parking(c):
    c.text("P", (0.5, 0.5), 0.42, BLACK, weight=0.06)
    prohibition_ring(c)
    prohibition_bar(c)


def no_smoking(c):
    c.rect(0.17, 0.55, 0.70, 0.63, BLACK)  # cigarette
    c.rect(0.72, 0.55, 0.78, 0.63, BLACK)  # lit end, after a gap
    for x in (0.66, 0.74):  # smoke
        pts = [
            (x + 0.025 * math.sin(i / 20 * 2 * math.pi), 0.50 - 0.24 * i / 20) for i in range(21)
        ]
        c.line(pts, 0.025, BLACK)
    prohibition_ring(c)
    prohibition_bar(c)


def recycle(c):
    frame(c)
    ctr, r = (0.5, 0.55), 0.37
    v = [
        (ctr[0] + r * math.cos(math.radians(a)), ctr[1] + r * math.sin(math.radians(a)))
        for a in (-90, 30, 150)
    ]

    def at(p, q, t):
        return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)

    for k in range(3):  # three chasing arrows, each bending round one corner of the triangle
        a, b, n = v[k], v[(k + 1) % 3], v[(k + 2) % 3]
        p0, p1 = at(a, b, 0.82), at(b, n, 0.18)  # the bend: a quadratic Bézier through the corner
        bend = [at(at(p0, b, t / 12), at(b, p1, t / 12), t / 12) for t in range(13)]
        arrow_path(c, [at(a, b, 0.52)] + bend + [at(b, n, 0.42)], 0.075, 0.14, 0.21, SIGN_GREEN)


def stairs(c):
    frame(c)
    steps = [(0.14, 0.84), (0.14, 0.76)]
    x, y = 0.14, 0.76
    for _ in range(4):
        x += 0.17
        steps += [(x, y), (x, y - 0.12)]
        y -= 0.12
    steps += [(0.86, y), (0.86, 0.84)]
    c.poly(steps, BLACK)
    person(c, CLIMBING, 0.42, (0.44, 0.385))


def taxi(c):
    frame(c)
    c.rect(0.37, 0.17, 0.63, 0.29, BLACK, radius=0.02)  # roof sign
    c.text("TAXI", (0.5, 0.23), 0.06, WHITE, weight=0.04)
    c.poly([(0.22, 0.50), (0.30, 0.32), (0.70, 0.32), (0.78, 0.50)], BLACK)  # cabin
    c.poly([(0.28, 0.48), (0.34, 0.36), (0.66, 0.36), (0.72, 0.48)], WHITE)  # windscreen
    c.rect(0.15, 0.48, 0.85, 0.72, BLACK, radius=0.04)  # body
    c.circle((0.25, 0.58), 0.045, WHITE)  # headlights
    c.circle((0.75, 0.58), 0.045, WHITE)
    c.rect(0.36, 0.62, 0.64, 0.66, WHITE)  # grille
    c.rect(0.18, 0.70, 0.32, 0.82, BLACK, radius=0.02)  # wheels
    c.rect(0.68, 0.70, 0.82, 0.82, BLACK, radius=0.02)


def telephone(c):
    frame(c)
    # a classic desk telephone: the handset resting on a body with a round dial
    c.line([(0.26, 0.30), (0.74, 0.30)], 0.10, BLACK)  # handset grip
    c.rect(0.15, 0.26, 0.35, 0.42, BLACK, radius=0.05)  # ear / mouth pieces
    c.rect(0.65, 0.26, 0.85, 0.42, BLACK, radius=0.05)
    c.poly([(0.30, 0.44), (0.70, 0.44), (0.82, 0.80), (0.18, 0.80)], BLACK)  # body
    c.ring((0.5, 0.62), 0.125, 0.035, WHITE)  # dial
    c.circle((0.5, 0.62), 0.035, WHITE)


def toilets(c):
    frame(c)
    c.line([(0.5, 0.16), (0.5, 0.84)], 0.025, BLACK)
    person(c, STANDING, 0.56, (0.29, 0.56))
    # woman: head, a trapezoid dress, arms and legs
    s, x0, y0 = 0.56, 0.71, 0.56
    c.circle((x0, y0 - 0.58 * s), HEAD * s, BLACK)
    c.poly(
        [
            (x0 - 0.07 * s, y0 - 0.47 * s),
            (x0 + 0.07 * s, y0 - 0.47 * s),
            (x0 + 0.20 * s, y0 + 0.16 * s),
            (x0 - 0.20 * s, y0 + 0.16 * s),
        ],
        BLACK,
    )
    c.rect(x0 - 0.07 * s, y0 - 0.50 * s, x0 + 0.07 * s, y0 - 0.40 * s, BLACK, radius=0.03 * s)
    for sx in (-1, 1):
        c.line(
            [
                (x0 + sx * 0.07 * s, y0 - 0.42 * s),
                (x0 + sx * 0.14 * s, y0 - 0.22 * s),
                (x0 + sx * 0.16 * s, y0 - 0.04 * s),
            ],
            LIMB * 0.85 * s,
            BLACK,
        )
        c.line(
            [(x0 + sx * 0.06 * s, y0 + 0.14 * s), (x0 + sx * 0.06 * s, y0 + 0.44 * s)],
            LIMB * s,
            BLACK,
        )


DRAW = {
    "disabled_access": disabled_access,
    "escalator": escalator,
    "fire_escape": fire_escape,
    "hairdresser": hairdresser,
    "information": information,
    "no_dogs": no_dogs,
    "no_entry": no_entry,
    "no_parking": no_parking,
    "no_smoking": no_smoking,
    "recycle": recycle,
    "stairs": stairs,
    "taxi": taxi,
    "telephone": telephone,
    "toilets": toilets,
}
