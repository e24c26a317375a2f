"""Drawing primitives for the board art, in unit coordinates.

Every drawing works on a square ``Canvas`` whose coordinates run from (0, 0) at the top-left to
(1, 1) at the bottom-right (y grows downward, as in the PNG). The canvas is rendered at
``SUPERSAMPLE`` × the shipped size and box/Lanczos-filtered down, which anti-aliases every edge
(Pillow's polygons themselves are aliased). Only Pillow and numpy are used, and the one font is
the scalable one Pillow itself ships (``ImageFont.load_default(size=…)``, Pillow ≥ 10.1), so the
same code gives the same pixels wherever the same Pillow version runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from PIL import Image, ImageDraw, ImageFont

Point = tuple[float, float]
RGB = tuple[int, int, int]

OUT_SIZE = 512  # shipped PNG side, pixels
SUPERSAMPLE = 4  # drawing resolution = OUT_SIZE * SUPERSAMPLE (2048 px)

WHITE: RGB = (255, 255, 255)
BLACK: RGB = (24, 24, 26)
# Sign colours (close to the BS 381C / RAL shades used on European signs).
SIGN_RED: RGB = (200, 16, 46)
SIGN_BLUE: RGB = (0, 82, 160)
SIGN_GREEN: RGB = (0, 135, 80)
SIGN_YELLOW: RGB = (255, 204, 0)


class Canvas:
    """A square RGB drawing surface addressed in unit coordinates."""

    def __init__(self, bg: RGB = WHITE, size: int = OUT_SIZE * SUPERSAMPLE):
        self.size = size
        self.img = Image.new("RGB", (size, size), bg)
        self.draw = ImageDraw.Draw(self.img)

    # -- coordinate helpers --------------------------------------------------------------------
    def px(self, v: float) -> float:
        return v * self.size

    def pts(self, points: Iterable[Point]) -> list[tuple[float, float]]:
        s = self.size
        return [(x * s, y * s) for x, y in points]

    # -- filled primitives ---------------------------------------------------------------------
    def poly(self, points: Sequence[Point], fill: RGB) -> None:
        self.draw.polygon(self.pts(points), fill=fill)

    def circle(self, c: Point, r: float, fill: RGB) -> None:
        self.ellipse(c, r, r, fill)

    def ellipse(self, c: Point, rx: float, ry: float, fill: RGB) -> None:
        x, y = c
        self.draw.ellipse(self.pts([(x - rx, y - ry), (x + rx, y + ry)]), fill=fill)

    def rect(
        self, x0: float, y0: float, x1: float, y1: float, fill: RGB, radius: float = 0.0
    ) -> None:
        box = self.pts([(x0, y0), (x1, y1)])
        if radius > 0:
            self.draw.rounded_rectangle(box, radius=self.px(radius), fill=fill)
        else:
            self.draw.rectangle(box, fill=fill)

    def ring(self, c: Point, r: float, width: float, fill: RGB) -> None:
        """Circle outline whose outer radius is ``r``."""
        x, y = c
        self.draw.ellipse(
            self.pts([(x - r, y - r), (x + r, y + r)]),
            outline=fill,
            width=max(1, round(self.px(width))),
        )

    def rounded_poly(self, points: Sequence[Point], radius: float, fill: RGB) -> None:
        """Convex polygon with its corners rounded by ``radius`` (outer outline = ``points``)."""
        inner = inset(points, radius)
        self.poly(inner, fill)
        self.line(inner + [inner[0]], 2 * radius, fill)

    # -- strokes -------------------------------------------------------------------------------
    def line(self, points: Sequence[Point], width: float, fill: RGB, caps: bool = True) -> None:
        """Thick polyline with round joints (and round caps unless ``caps`` is False)."""
        p = self.pts(points)
        w = max(1, round(self.px(width)))
        for a, b in zip(p[:-1], p[1:]):
            _segment(self.draw, a, b, w, fill)
        joints = p if caps else p[1:-1]
        for x, y in joints:
            r = w / 2
            self.draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)

    def arc(
        self, c: Point, r: float, a0: float, a1: float, width: float, fill: RGB, caps: bool = True
    ) -> None:
        """Stroke along a circle arc; angles in degrees, 0 = +x (right), 90 = +y (down)."""
        self.line(arc_points(c, r, a0, a1), width, fill, caps)

    # -- text ----------------------------------------------------------------------------------
    def text(
        self,
        s: str,
        c: Point,
        height: float,
        fill: RGB,
        weight: float = 0.0,
        width: float | None = None,
    ) -> None:
        """Text centred on ``c`` whose ink is ``height`` tall (unit coords).

        ``weight`` emboldens by stroking the glyph outlines (fraction of the height);
        ``width``, if given, squeezes/stretches the text horizontally to that ink width.
        """
        probe = ImageFont.load_default(size=200)
        grow = 200 * weight
        x0, y0, x1, y1 = probe.getbbox(s)
        scale = self.px(height) / (y1 - y0 + 2 * grow)
        size = max(8, round(200 * scale))
        font = ImageFont.load_default(size=size)
        grow = size * weight
        x0, y0, x1, y1 = font.getbbox(s)
        g = math.ceil(grow)
        tw, th = x1 - x0 + 2 * g, y1 - y0 + 2 * g
        layer = Image.new("L", (tw + 8, th + 8), 0)
        ld = ImageDraw.Draw(layer)
        # embolden by a union of copies shifted round a circle (a disc dilation; FreeType's
        # stroker leaves notches at contour joins)
        offsets = [(0.0, 0.0)]
        if grow > 0:
            for ring in (grow, grow * 0.5):
                offsets += [
                    (ring * math.cos(2 * math.pi * i / 32), ring * math.sin(2 * math.pi * i / 32))
                    for i in range(32)
                ]
        for dx, dy in offsets:
            ld.text((4 + g - x0 + dx, 4 + g - y0 + dy), s, fill=255, font=font)
        tw, th = layer.width - 8, layer.height - 8
        if width is not None:
            nw = max(1, round(self.px(width) * (tw + 8) / tw))
            layer = layer.resize((nw, layer.height), Image.LANCZOS)
        cx, cy = self.pts([c])[0]
        ox, oy = round(cx - layer.width / 2), round(cy - layer.height / 2)
        self.img.paste(Image.new("RGB", layer.size, fill), (ox, oy), layer)

    # -- output --------------------------------------------------------------------------------
    def finish(self, out_size: int = OUT_SIZE) -> Image.Image:
        return self.img.resize((out_size, out_size), Image.LANCZOS)


def _segment(draw: ImageDraw.ImageDraw, a, b, w: float, fill: RGB) -> None:
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    n = math.hypot(dx, dy)
    if n == 0:
        return
    nx, ny = -dy / n * w / 2, dx / n * w / 2
    draw.polygon(
        [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)], fill=fill
    )


# ---------------------------------------------------------------------------------------------
# Geometry helpers (pure functions on point lists)
# ---------------------------------------------------------------------------------------------


def arc_points(
    c: Point, r: float, a0: float, a1: float, n: int | None = None, ry: float | None = None
) -> list[Point]:
    """Points along an arc from angle ``a0`` to ``a1`` (degrees, y-down: 90 = straight down)."""
    ry = r if ry is None else ry
    n = n or max(8, int(abs(a1 - a0) / 3))
    return [
        (
            c[0] + r * math.cos(math.radians(a0 + (a1 - a0) * i / n)),
            c[1] + ry * math.sin(math.radians(a0 + (a1 - a0) * i / n)),
        )
        for i in range(n + 1)
    ]


def regular_polygon(c: Point, r: float, n: int, rot: float = -90.0) -> list[Point]:
    """Vertices of a regular n-gon; the first vertex at angle ``rot`` (−90 = pointing up)."""
    return [
        (
            c[0] + r * math.cos(math.radians(rot + 360 * i / n)),
            c[1] + r * math.sin(math.radians(rot + 360 * i / n)),
        )
        for i in range(n)
    ]


def inset(points: Sequence[Point], d: float) -> list[Point]:
    """Move each edge of a convex polygon inward by ``d`` and return the new vertices."""
    pts = list(points)
    # orientation: positive area = clockwise in y-down coordinates
    area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]))
    sign = 1 if area > 0 else -1
    lines = []
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        dx, dy = x1 - x0, y1 - y0
        n = math.hypot(dx, dy)
        nx, ny = -dy / n * sign, dx / n * sign  # inward normal
        lines.append(((x0 + nx * d, y0 + ny * d), (dx, dy)))
    out = []
    for i in range(len(lines)):
        (p, u), (q, v) = lines[i - 1], lines[i]
        den = u[0] * v[1] - u[1] * v[0]
        t = ((q[0] - p[0]) * v[1] - (q[1] - p[1]) * v[0]) / den
        out.append((p[0] + u[0] * t, p[1] + u[1] * t))
    return out


def transform(
    points: Iterable[Point],
    scale: float = 1.0,
    rot: float = 0.0,
    at: Point = (0.0, 0.0),
    flip_x: bool = False,
) -> list[Point]:
    """Scale, optionally mirror left-right, rotate (degrees, clockwise on screen), translate."""
    cr, sr = math.cos(math.radians(rot)), math.sin(math.radians(rot))
    out = []
    for x, y in points:
        x, y = x * scale, y * scale
        if flip_x:
            x = -x
        out.append((at[0] + x * cr - y * sr, at[1] + x * sr + y * cr))
    return out


def mirror(points: Iterable[Point]) -> list[Point]:
    """Mirror left-right about the board's centre line x = 0.5."""
    return [(1 - x, y) for x, y in points]


def arrow_path(
    c: Canvas,
    path: Sequence[Point],
    width: float,
    head_len: float,
    head_w: float,
    fill: RGB,
    tail_cap: bool = False,
) -> None:
    """A stroked path (``width`` thick) that ends in a triangular arrowhead at ``path[-1]``."""
    (xa, ya), (xb, yb) = path[-2], path[-1]
    n = math.hypot(xb - xa, yb - ya)
    ux, uy = (xb - xa) / n, (yb - ya) / n
    base = (xb - ux * head_len, yb - uy * head_len)
    shaft = list(path[:-1]) + [(base[0] + ux * 0.002, base[1] + uy * 0.002)]
    c.line(shaft, width, fill, caps=False)
    if tail_cap:
        c.circle(shaft[0], width / 2, fill)
    px_, py_ = -uy, ux
    c.poly(
        [
            (xb, yb),
            (base[0] + px_ * head_w / 2, base[1] + py_ * head_w / 2),
            (base[0] - px_ * head_w / 2, base[1] - py_ * head_w / 2),
        ],
        fill,
    )
