"""Arrow boards: one bold black block arrow, pointing to the top/bottom/left/right of the PNG."""

from __future__ import annotations

from .canvas import BLACK, Canvas, transform

BACKGROUND = (248, 248, 246)

# block arrow pointing up, centred on the origin (unit coords)
UP = [
    (0.0, -0.38),
    (0.29, -0.06),
    (0.11, -0.06),
    (0.11, 0.38),
    (-0.11, 0.38),
    (-0.11, -0.06),
    (-0.29, -0.06),
]
ROTATION = {"up": 0, "right": 90, "down": 180, "left": 270}  # clockwise on screen


def _arrow(direction: str):
    def draw(c: Canvas) -> None:
        c.poly(transform(UP, rot=ROTATION[direction], at=(0.5, 0.5)), BLACK)

    draw.__name__ = f"arrow_{direction}"
    return draw


DRAW = {d: _arrow(d) for d in ROTATION}
