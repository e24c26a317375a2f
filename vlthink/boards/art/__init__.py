"""The board drawings: one module per art family, each with a ``DRAW`` table
(concept key → function drawing onto a :class:`~vlthink.boards.art.canvas.Canvas`) and a
``BACKGROUND`` colour. :func:`render` turns a board key into its shipped image."""

from __future__ import annotations

from PIL import Image

from vlthink.boards.catalogue import board

from . import arrow, laundry, parity, public, shapes, traffic, weather
from .canvas import OUT_SIZE, Canvas

FAMILIES = {
    "traffic": traffic,
    "laundry": laundry,
    "weather": weather,
    "arrow": arrow,
    "public": public,
    "parity": parity,
}

FRAME_RGB = (150, 150, 150)
FRAME_WIDTH = 0.008  # of the board side: a thin grey edge so the board's outline shows


def render(board_key: str, size: int = OUT_SIZE) -> Image.Image:
    """The RGB image of a board (``size`` × ``size``), drawn from scratch."""
    b = board(board_key)
    if b.family == "shape":
        c = Canvas(shapes.BACKGROUND, size=size * 4)
        shapes.draw_shape(c, b.concept, b.color)
    else:
        mod = FAMILIES[b.family]
        c = Canvas(mod.BACKGROUND, size=size * 4)
        mod.DRAW[b.concept](c)
    w = FRAME_WIDTH
    for x0, y0, x1, y1 in ((0, 0, 1, w), (0, 1 - w, 1, 1), (0, 0, w, 1), (1 - w, 0, 1, 1)):
        c.rect(x0, y0, x1, y1, FRAME_RGB)
    return c.finish(size)
