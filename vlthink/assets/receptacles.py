"""The OOD suite's receptacles: "plate" for training and the original's 16 held-out receptacles.

Names, bounding-box sizes (x × y × z, as the original lists them) and densities follow the
original suite's catalogue (``/work/shared/paper/original-assets.md``); the shapes and pictures are
this project's own: mostly flat things, a rounded slab or a disc whose top carries a procedural
texture (newspaper columns, an 8×8 chess board, record grooves, ...), and three lathes (plate,
flat bowl, frying pan).

Collision: every receptacle is one convex piece at its full height, so objects rest on top of
its rim plane (the plate's rim is 2.5 mm above its well, the pizza's crust 2 mm above the
cheese, the frying pan's 5 mm and the flat bowl's 8 mm above their floors). A dish built as a
floor disc plus a ring of convex rim wedges let PhysX blow the bowl and a roll of bread apart
when one came near the other.

Frame of every receptacle: metres, origin at the centre of its bounding box, z up, x and y as in
the original's size list (the newspaper's long side is y). ``support_z`` is the height (in that
frame) of the surface an object rests on, and ``support_half_extents`` the (x, y) half-size of
that surface (the whole flat top; a dish's opening inside its rim) around ``support_center``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import trimesh

from vlthink.assets.actors import CatalogueGeometry
from vlthink.assets.catalogue import Catalogue, Drawn
from vlthink.assets.noise import blend, fractal_noise, to_uint8
from vlthink.assets.parts import (
    Part,
    bounds,
    centred,
    collision_pieces,
    lathe_z,
)

RECEPTACLE_FRICTION = 0.8
# A thin receptacle pinched between a grasped object and the table was launched at 3 m/s under
# PhysX's default (no cap on how fast overlaps are pushed apart).
RECEPTACLE_MAX_DEPENETRATION_VELOCITY = 0.3  # m/s
FABRIC_FRICTION = 1.0  # cloth, carpet, mouse pad
TEXTURE_PX = 256  # pixels along the longer side of a top texture
CM = 0.01  # m


@dataclass(frozen=True)
class ReceptacleSpec(CatalogueGeometry):
    name: str
    split: str  # "train" or "ood"
    shape: Callable[..., tuple[list[Part], tuple[float, float]]]  # -> parts, support half (x, y)
    size: tuple[float, float, float]  # m, the original's bounding box (x, y, z)
    density: float  # kg/m³ over the convex pieces, the original's value
    friction: float = RECEPTACLE_FRICTION
    params: dict = field(default_factory=dict)

    def geometry(self) -> dict:
        return CATALOGUE.geometry(self.name)

    @property
    def support_z(self) -> float:
        """z (receptacle frame) of the surface objects rest on, at the centre."""
        return CATALOGUE.geometry(self.name)["support_z"]

    @property
    def support_center(self) -> tuple[float, float]:
        """(x, y) centre of the support region."""
        return CATALOGUE.geometry(self.name)["support_center"]

    @property
    def support_half_extents(self) -> tuple[float, float]:
        return CATALOGUE.geometry(self.name)["support_half"]


# ---------------------------------------------------------------------------------------------
# Top textures: a canvas in metres over the receptacle's (x, y) box
# ---------------------------------------------------------------------------------------------


class Canvas:
    """A top-down picture of a receptacle's (lx, ly) box: columns along +x, rows from +y down.

    ``X``, ``Y`` are each pixel's position in metres from the centre, ``R`` its distance from
    the centre; drawing is by boolean masks, so every shape is a line of numpy."""

    def __init__(self, lx: float, ly: float, background, seed: int = 0):
        scale = TEXTURE_PX / max(lx, ly)
        w, h = max(8, round(lx * scale)), max(8, round(ly * scale))
        self.rng = np.random.default_rng(seed)
        self.lx, self.ly = lx, ly
        cols = (np.arange(w) + 0.5) / w - 0.5
        rows = 0.5 - (np.arange(h) + 0.5) / h
        self.X, self.Y = np.meshgrid(cols * lx, rows * ly)
        self.R = np.hypot(self.X, self.Y)
        self.A = np.arctan2(self.Y, self.X)
        self.img = np.empty((h, w, 3), np.float32)
        self.img[:] = background

    def rect(self, x0, y0, x1, y1) -> np.ndarray:
        return (self.X >= x0) & (self.X <= x1) & (self.Y >= y0) & (self.Y <= y1)

    def disc(self, cx, cy, r) -> np.ndarray:
        return np.hypot(self.X - cx, self.Y - cy) <= r

    def paint(self, mask, color) -> None:
        self.img[mask] = color

    def noise(self, cells: int = 6, octaves: int = 3) -> np.ndarray:
        """Smooth noise in [0, 1] over the canvas."""
        h, w = self.img.shape[:2]
        return fractal_noise(self.rng, max(h, w), cells, octaves)[:h, :w]

    def shade(self, amount: float, cells: int = 6) -> None:
        """Multiply by smooth noise of +-amount (paper, fabric and glaze are never flat)."""
        self.img *= (1 + amount * (self.noise(cells) - 0.5) * 2)[..., None]

    def grain(self, amount: float) -> None:
        self.img *= (1 + self.rng.normal(0, amount, self.img.shape[:2]))[..., None]

    def done(self) -> np.ndarray:
        return to_uint8(self.img)


def _scatter(rng, n, r_max, min_gap, r_min=0.0):
    """n points in a ring r_min..r_max, at least min_gap apart (fewer if they do not fit)."""
    pts = []
    for _ in range(n * 40):
        r, a = np.sqrt(rng.uniform(r_min**2, r_max**2)), rng.uniform(0, 2 * np.pi)
        p = np.array([r * np.cos(a), r * np.sin(a)])
        if all(np.hypot(*(p - q)) >= min_gap for q in pts):
            pts.append(p)
        if len(pts) == n:
            break
    return pts


def plate_texture(r):
    c = Canvas(2 * r, 2 * r, (246, 246, 242))
    c.paint(np.abs(c.R - 0.73 * r) < 0.02 * r, (222, 222, 216))  # where the well meets the rim
    c.paint(np.abs(c.R - 0.93 * r) < 0.012 * r, (205, 175, 95))  # a thin gold line on the rim
    c.shade(0.02)
    return c.done()


def cloth_texture(lx, ly):
    c = Canvas(lx, ly, (70, 120, 185), seed=2)
    threads = 0.0016  # m between threads
    u, v = c.X / threads, c.Y / threads
    over = (np.floor(u) + np.floor(v)) % 2
    c.img = (
        blend((80, 130, 195), (55, 100, 165), over)
        * (0.85 + 0.15 * np.sin(np.pi * np.where(over > 0, u % 1, v % 1)))[..., None]
    )
    edge = np.minimum(lx / 2 - np.abs(c.X), ly / 2 - np.abs(c.Y))
    c.paint((edge > 0.006) & (edge < 0.011), (235, 235, 228))  # a woven white stripe near the hem
    c.paint(edge < 0.003, (60, 95, 150))  # the hem
    c.shade(0.18, cells=3)  # folds and wrinkles
    return c.done()


def carpet_texture(lx, ly):
    c = Canvas(lx, ly, (150, 30, 35), seed=3)
    ex, ey = lx / 2 - np.abs(c.X), ly / 2 - np.abs(c.Y)
    fringe = ex < 0.006
    c.paint(fringe & (np.sin(c.Y / 0.0007) > 0), (235, 225, 200))
    c.paint(fringe & (np.sin(c.Y / 0.0007) <= 0), (200, 190, 165))
    body = ~fringe
    edge = np.minimum(ex - 0.006, ey)
    c.paint(body & (edge < 0.012), (30, 40, 85))  # navy border
    c.paint(body & (edge > 0.004) & (edge < 0.007), (225, 200, 130))  # a cream line in it
    c.paint(body & (np.abs(edge - 0.016) < 0.0015), (225, 200, 130))
    diamond = np.abs(c.X) / (0.3 * lx) + np.abs(c.Y) / (0.32 * ly)
    c.paint(body & (diamond < 1) & (edge > 0.02), (30, 40, 85))  # the central medallion
    c.paint(body & (diamond < 0.72), (215, 150, 60))
    c.paint(body & (diamond < 0.4), (150, 30, 35))
    c.paint(body & (diamond < 0.18), (225, 200, 130))
    c.grain(0.09)  # pile
    return c.done()


def newspaper_texture(lx, ly):
    c = Canvas(lx, ly, (228, 224, 212), seed=4)
    top, margin = ly / 2 - 0.004, 0.004
    c.paint(c.rect(-lx / 2 + margin, top - 0.009, lx / 2 - margin, top), (30, 30, 30))  # masthead
    c.paint(c.rect(-lx / 2 + margin, top - 0.0115, lx / 2 - margin, top - 0.0105), (60, 60, 60))
    # A headline in two bold bars, a photo, then columns of text lines.
    y = top - 0.015
    c.paint(c.rect(-lx / 2 + margin, y - 0.004, lx / 2 - margin - 0.008, y), (45, 45, 45))
    c.paint(c.rect(-lx / 2 + margin, y - 0.0085, 0.0, y - 0.0055), (45, 45, 45))
    photo = c.rect(0.004, -0.01, lx / 2 - margin, y - 0.012)
    c.img[photo] = blend((70, 70, 70), (175, 175, 170), c.noise(3))[photo]
    cols = 3
    col_w = (lx - 2 * margin) / cols
    line = (np.mod(c.Y, 0.0022) < 0.0011) & (c.Y < y - 0.012) & (c.Y > -ly / 2 + margin)
    for k in range(cols):
        x0 = -lx / 2 + margin + k * col_w
        in_col = (c.X > x0 + 0.0008) & (c.X < x0 + col_w - 0.0008)
        c.paint(line & in_col & ~photo, (120, 118, 112))
    c.shade(0.04)
    return c.done()


def sheet_metal_texture(lx, ly):
    c = Canvas(lx, ly, (180, 182, 186), seed=5)
    rows = c.img.shape[0]
    streaks = c.rng.normal(0, 1, (rows, 1)) * 0.05 + c.rng.normal(0, 0.02, c.img.shape[:2])
    c.img *= (1 + streaks)[..., None]
    for sx in (-1, 1):
        for sy in (-1, 1):
            c.paint(c.disc(sx * (lx / 2 - 0.007), sy * (ly / 2 - 0.007), 0.0018), (45, 45, 48))
    return c.done()


def drawing_tablet_texture(lx, ly):
    c = Canvas(lx, ly, (28, 28, 32), seed=6)
    x0, x1, y0, y1 = -lx / 2 + 0.022, lx / 2 - 0.008, -ly / 2 + 0.008, ly / 2 - 0.008
    c.paint(c.rect(x0, y0, x1, y1), (52, 54, 60))  # the active area
    for cx, sx in ((x0, 1), (x1, -1)):
        for cy, sy in ((y0, 1), (y1, -1)):  # L-shaped corner marks
            for dx, dy in ((0.006, 0.0008), (0.0008, 0.006)):
                xa, xb = sorted((cx, cx + sx * dx))
                ya, yb = sorted((cy, cy + sy * dy))
                c.paint(c.rect(xa, ya, xb, yb), (200, 200, 205))
    for k in range(4):  # express keys down the left side
        cy = ly / 2 - 0.014 - k * 0.014
        c.paint(c.rect(-lx / 2 + 0.006, cy - 0.005, -lx / 2 + 0.016, cy + 0.005), (70, 72, 80))
    c.paint(c.disc(-lx / 2 + 0.011, -ly / 2 + 0.012, 0.0015), (60, 160, 255))  # status light
    c.grain(0.02)
    return c.done()


def tomato_slice_texture(r):
    c = Canvas(2 * r, 2 * r, (0, 0, 0), seed=7)
    c.paint(c.R <= r, (200, 40, 30))  # skin
    c.paint(c.R <= 0.95 * r, (235, 75, 55))  # flesh
    locules, a = 6, np.mod(c.A, 2 * np.pi / 6) - np.pi / 6
    gel = (c.R > 0.28 * r) & (c.R < 0.8 * r) & (np.abs(a) * c.R < 0.32 * r * (c.R / r + 0.2))
    c.paint(gel, (240, 150, 80))
    c.paint(c.R < 0.22 * r, (245, 150, 120))  # the pale core
    for k in range(locules):
        phi = (k + 0.5) * 2 * np.pi / locules
        for s, rad in ((-0.12, 0.5), (0.12, 0.5), (0.0, 0.62), (-0.1, 0.7), (0.1, 0.7)):
            cx, cy = rad * r * np.cos(phi + s), rad * r * np.sin(phi + s)
            c.paint(c.disc(cx, cy, 0.045 * r), (245, 225, 150))  # seeds
    c.shade(0.08)
    return c.done()


def pizza_texture(r):
    c = Canvas(2 * r, 2 * r, (0, 0, 0), seed=8)
    c.paint(c.R <= r, (200, 140, 70))  # crust
    c.paint(c.R <= 0.86 * r, (190, 50, 30))  # sauce
    cheese = (c.R <= 0.82 * r) & (c.noise(6) > 0.35)
    c.paint(cheese, (245, 215, 120))
    for p in _scatter(c.rng, 9, 0.62 * r, 0.3 * r):
        c.paint(c.disc(*p, 0.14 * r), (165, 40, 35))  # pepperoni
        c.paint(c.disc(*p, 0.04 * r) & c.disc(p[0] + 0.05 * r, p[1], 0.05 * r), (130, 25, 25))
    for p in _scatter(c.rng, 10, 0.75 * r, 0.15 * r):
        c.paint(np.abs(np.hypot(c.X - p[0], c.Y - p[1]) - 0.05 * r) < 0.018 * r, (30, 30, 30))
    for p in _scatter(c.rng, 8, 0.75 * r, 0.15 * r):
        c.paint(c.disc(*p, 0.05 * r) & (np.abs(c.Y - p[1]) < 0.025 * r), (50, 120, 40))  # basil
    c.paint((c.R > 0.9 * r) & (c.R <= r) & (c.rng.uniform(0, 1, c.R.shape) < 0.06), (120, 70, 30))
    c.shade(0.1)
    return c.done()


def flat_bowl_texture(r):
    c = Canvas(2 * r, 2 * r, (238, 232, 215), seed=9)
    c.paint(np.abs(c.R - 0.88 * r) < 0.05 * r, (40, 80, 160))  # a blue band inside the rim
    c.paint(np.abs(c.R - 0.45 * r) < 0.015 * r, (40, 80, 160))  # and a ring round the floor
    c.paint(np.abs(c.R - 0.98 * r) < 0.02 * r, (180, 150, 90))  # the unglazed lip
    c.shade(0.03)
    return c.done()


def record_texture(r):
    c = Canvas(2 * r, 2 * r, (15, 15, 17), seed=10)
    grooves = 0.5 + 0.5 * np.sin(c.R / 0.00025)
    tracks = (np.mod(c.R, 0.011) > 0.0102).astype(float)  # the gaps between songs shine
    c.img = blend((14, 14, 16), (48, 48, 54), 0.35 * grooves + 0.65 * tracks)
    c.paint(c.R > 0.985 * r, (25, 25, 28))  # the smooth edge
    c.paint(c.R < 0.4 * r, (20, 20, 22))  # the run-out
    c.paint(c.R < 0.34 * r, (190, 35, 40))  # label
    c.paint((c.R < 0.34 * r) & (np.abs(c.Y - 0.15 * r) < 0.025 * r) & (np.abs(c.X) < 0.2 * r), 235)
    c.paint((c.R < 0.34 * r) & (np.abs(c.Y + 0.16 * r) < 0.015 * r) & (np.abs(c.X) < 0.13 * r), 235)
    c.paint(c.R < 0.03 * r, (10, 10, 10))  # spindle hole
    return c.done()


def frying_pan_texture(r):
    c = Canvas(2 * r, 2 * r, (48, 48, 52), seed=11)
    c.img *= (1 + 0.05 * np.sin(c.R / 0.0012))[..., None]  # machining rings
    c.paint(c.R > 0.8 * r, (70, 70, 76))  # the sloping wall
    c.paint(c.R > 0.95 * r, (175, 175, 180))  # the steel lip
    c.shade(0.06)
    return c.done()


def mouse_pad_texture(lx, ly):
    c = Canvas(lx, ly, (0, 0, 0), seed=12)
    t = np.clip(0.5 + 0.5 * np.sin(45 * c.X + 30 * c.Y), 0, 1)
    c.img = blend((20, 35, 90), (35, 105, 175), t)
    c.paint(c.disc(0.025, -0.02, 0.011), (240, 200, 40))  # a logo
    c.paint(c.disc(0.025, -0.02, 0.007), (20, 35, 90))
    edge = np.minimum(lx / 2 - np.abs(c.X), ly / 2 - np.abs(c.Y))
    c.paint(edge < 0.002, (15, 15, 18))  # stitched rim
    c.paint((np.abs(edge - 0.001) < 0.0004) & (np.mod(c.X + c.Y, 0.003) < 0.0015), (140, 140, 145))
    c.grain(0.03)
    return c.done()


def cutting_board_texture(lx, ly):
    c = Canvas(lx, ly, (0, 0, 0), seed=13)
    wob = 0.0012 * np.sin(c.X / 0.03 + 1) + 0.002 * c.noise(2)
    rings = 0.5 + 0.5 * np.sin((c.Y + wob) / 0.0006)
    strips = np.floor((c.Y + ly / 2) / 0.018)  # glued bamboo strips, each its own shade
    c.img = blend((222, 180, 125), (180, 130, 80), 0.6 * rings**4 + 0.25 * np.mod(strips, 2))
    edge = np.minimum(lx / 2 - np.abs(c.X), ly / 2 - np.abs(c.Y))
    c.paint(np.abs(edge - 0.006) < 0.0009, (150, 100, 55))  # juice groove
    hole = np.hypot((c.X - (lx / 2 - 0.016)) / 2.2, c.Y) < 0.0045
    c.paint(hole, (95, 60, 30))  # the hanging slot, dark inside
    c.grain(0.03)
    return c.done()


def chess_board_texture(lx, ly):
    c = Canvas(lx, ly, (95, 55, 30), seed=14)
    border = 0.006
    inner = (np.abs(c.X) < lx / 2 - border) & (np.abs(c.Y) < ly / 2 - border)
    sq = (lx - 2 * border) / 8
    i, j = np.floor((c.X + lx / 2 - border) / sq), np.floor((c.Y + ly / 2 - border) / sq)
    c.paint(inner & ((i + j) % 2 == 0), (70, 40, 20))
    c.paint(inner & ((i + j) % 2 == 1), (235, 215, 170))
    c.grain(0.035)
    return c.done()


def manhole_texture(r):
    c = Canvas(2 * r, 2 * r, (70, 70, 72), seed=15)
    c.paint((c.R > 0.9 * r), (95, 95, 98))  # the frame
    c.paint(np.abs(c.R - 0.86 * r) < 0.02 * r, (40, 40, 42))
    c.paint(np.abs(c.R - 0.6 * r) < 0.03 * r, (110, 110, 112))
    rot = (c.X + c.Y) / np.sqrt(2), (c.X - c.Y) / np.sqrt(2)
    bumps = (np.mod(rot[0], 0.008) < 0.003) & (np.mod(rot[1], 0.008) < 0.003)
    c.paint(bumps & (c.R < 0.57 * r), (120, 120, 122))  # raised diamonds
    spokes = np.abs(np.mod(c.A, np.pi / 6) - np.pi / 12) * c.R < 0.015 * r
    c.paint(spokes & (c.R > 0.63 * r) & (c.R < 0.84 * r), (115, 115, 118))
    c.paint(c.disc(0.45 * r, 0, 0.05 * r) | c.disc(-0.45 * r, 0, 0.05 * r), (30, 30, 32))  # holes
    c.shade(0.15)
    return c.done()


def envelope_texture(lx, ly):
    c = Canvas(lx, ly, (240, 236, 222), seed=16)
    # Flap lines: the back's bottom flap meets the side flaps on two diagonals, the top flap's V.
    tip = (0.0, -0.1 * ly)
    for sx in (-1, 1):
        slope = (tip[1] + ly / 2) / (sx * lx / 2 - tip[0])
        diag = np.abs(c.Y - (-ly / 2 + slope * (c.X - sx * lx / 2))) < 0.0006
        c.paint(diag & (np.sign(c.X) == sx), (180, 172, 150))
        v = np.abs(c.Y - (ly / 2 - 0.55 * ly * (1 - np.abs(c.X) / (lx / 2)))) < 0.0006
        c.paint(v, (170, 162, 140))
    stamp = c.rect(lx / 2 - 0.022, ly / 2 - 0.027, lx / 2 - 0.005, ly / 2 - 0.005)
    c.paint(stamp, (245, 245, 240))
    c.paint(c.rect(lx / 2 - 0.020, ly / 2 - 0.025, lx / 2 - 0.007, ly / 2 - 0.007), (200, 50, 50))
    c.paint(c.disc(lx / 2 - 0.0135, ly / 2 - 0.016, 0.003), (240, 200, 60))
    wave = np.abs(c.Y - (ly / 2 - 0.016) - 0.0015 * np.sin(c.X / 0.002)) < 0.0005
    c.paint(wave & (c.X > lx / 2 - 0.045) & (c.X < lx / 2 - 0.016), (60, 60, 70))  # postmark
    for k in range(3):  # address lines
        y = -0.01 - k * 0.006
        c.paint(c.rect(-0.02, y - 0.0008, 0.025 - 0.008 * (k == 2), y + 0.0008), (80, 80, 95))
    c.shade(0.03)
    return c.done()


def notepad_texture(lx, ly):
    c = Canvas(lx, ly, (250, 236, 125), seed=17)
    pitch = 0.006
    ruled = (np.mod(c.X + lx / 2, pitch) < 0.0006) & (c.X > -lx / 2 + 0.02)
    c.paint(ruled, (120, 150, 200))
    c.paint(np.abs(c.Y - (ly / 2 - 0.012)) < 0.0006, (210, 60, 60))  # the margin line
    c.paint(c.X < -lx / 2 + 0.012, (120, 35, 40))  # the binding strip
    for y in (-ly / 4, ly / 4):
        c.paint(c.rect(-lx / 2 + 0.004, y - 0.004, -lx / 2 + 0.007, y + 0.004), (185, 185, 190))
    c.shade(0.03)
    return c.done()


# ---------------------------------------------------------------------------------------------
# Shapes -> (parts, support half-extents (x, y))
# ---------------------------------------------------------------------------------------------


def flat_piece(lx, ly, h, corner, bevel=0.0008, arc=10) -> trimesh.Trimesh:
    """A convex slab on z = 0: a rounded rectangle (corner radius ``corner``, a circle when it
    is half the side) with its top and bottom edges bevelled by ``bevel``."""
    corner = min(corner, lx / 2, ly / 2)
    bevel = min(bevel, h / 3, corner)
    pts = []
    for (sx, sy), a0 in zip([(1, 1), (-1, 1), (-1, -1), (1, -1)], np.arange(4) * np.pi / 2):
        cx, cy = sx * (lx / 2 - corner), sy * (ly / 2 - corner)
        for a in np.linspace(a0, a0 + np.pi / 2, arc):
            for inset, z in ((bevel, 0), (0, bevel), (0, h - bevel), (bevel, h)):
                r = corner - inset
                pts.append((cx + r * np.cos(a), cy + r * np.sin(a), z))
    return trimesh.convex.convex_hull(np.array(pts))


def slab(size, texture, *, corner=0.002, roughness=0.8, metallic=0.0):
    """A flat rounded box with the texture on top; objects rest on all of its top."""
    lx, ly, h = size
    part = Part(flat_piece(lx, ly, h, corner), (255, 255, 255), roughness=roughness,
                metallic=metallic, texture=texture(lx, ly))  # fmt: skip
    return [part], (lx / 2, ly / 2)


def disc(size, texture, *, roughness=0.7, metallic=0.0):
    lx, _, h = size
    part = Part(flat_piece(lx, lx, h, lx / 2, arc=24), (255, 255, 255), roughness=roughness,
                metallic=metallic, texture=texture(lx / 2))  # fmt: skip
    return [part], (lx / 2, lx / 2)


def turned(outline, texture, *, roughness, metallic=0.0):
    """A lathe about z through the closed outline [(r, z), ...] from the axis at the bottom out
    and back to the axis on top; it collides as the outline's hull, one flat convex piece, so
    objects rest on its rim plane (see the module docstring)."""
    rs, zs = zip(*outline)
    body = lathe_z(rs, zs, 64)
    r = max(rs)
    part = Part(body, (255, 255, 255), roughness=roughness, metallic=metallic, texture=texture(r))
    return [part], (r, r)


def plate():
    """White ceramic: a foot ring, a 3.5 mm-high well, a rim rising to 6 mm at 5.5 cm."""
    outline = [(0, 0.0008), (0.032, 0.0008), (0.034, 0), (0.036, 0), (0.04, 0.001),
               (0.055, 0.0048), (0.055, 0.0056), (0.052, 0.006), (0.047, 0.0056),
               (0.04, 0.0038), (0.037, 0.0035), (0, 0.0035)]  # fmt: skip
    return turned(outline, plate_texture, roughness=0.2)


def flat_bowl():
    """A shallow ceramic bowl, 12 mm deep at the rim, with a flat floor 4 mm thick."""
    outline = [(0, 0), (0.028, 0), (0.036, 0.0015), (0.048, 0.0065), (0.055, 0.0118),
               (0.0545, 0.012), (0.051, 0.0112), (0.044, 0.0075), (0.034, 0.0045),
               (0.03, 0.004), (0, 0.004)]  # fmt: skip
    return turned(outline, flat_bowl_texture, roughness=0.25)


def frying_pan():
    """A dark pan seen without its handle: a 3 mm base and a flared wall 8 mm high."""
    outline = [(0, 0), (0.046, 0), (0.05, 0.0015), (0.055, 0.0078), (0.0545, 0.008),
               (0.052, 0.0075), (0.048, 0.004), (0.045, 0.003), (0, 0.003)]  # fmt: skip
    return turned(outline, frying_pan_texture, roughness=0.45, metallic=0.5)


def pizza():
    """A 5 mm base with a puffed crust ring up to 7 mm."""
    outline = [(0, 0), (0.053, 0), (0.055, 0.0025), (0.0545, 0.0055), (0.052, 0.007),
               (0.049, 0.0067), (0.047, 0.005), (0, 0.005)]  # fmt: skip
    return turned(outline, pizza_texture, roughness=0.85)


# The catalogue: (name, shape(size in m), the original's size x, y, z (cm) and density (kg/m³),
# friction).
_ROWS = [
    ("plate", lambda s: plate(), (11.0, 11.0, 0.6), 1003, RECEPTACLE_FRICTION),
    ("cloth", lambda s: slab(s, cloth_texture, corner=0.003, roughness=1.0),
     (11.0, 11.0, 0.9), 6975, FABRIC_FRICTION),
    ("carpet", lambda s: slab(s, carpet_texture, corner=0.001, roughness=1.0),
     (11.0, 9.4, 0.4), 2815, FABRIC_FRICTION),
    ("newspaper", lambda s: slab(s, newspaper_texture, corner=0.0005, roughness=0.95),
     (8.1, 11.6, 0.4), 2278, RECEPTACLE_FRICTION),
    ("sheet metal", lambda s: slab(s, sheet_metal_texture, corner=0.001, roughness=0.35,
                                   metallic=0.8), (11.1, 9.4, 0.3), 2389, RECEPTACLE_FRICTION),
    ("drawing tablet", lambda s: slab(s, drawing_tablet_texture, corner=0.008, roughness=0.5),
     (11.3, 8.4, 0.4), 2868, RECEPTACLE_FRICTION),
    ("tomato slice", lambda s: disc(s, tomato_slice_texture, roughness=0.35),
     (11.0, 11.0, 0.4), 3089, RECEPTACLE_FRICTION),
    ("pizza", lambda s: pizza(), (11.0, 11.0, 0.7), 3862, RECEPTACLE_FRICTION),
    ("flat bowl", lambda s: flat_bowl(), (11.0, 11.0, 1.2), 4847, RECEPTACLE_FRICTION),
    ("gramophone disk", lambda s: disc(s, record_texture, roughness=0.3),
     (11.0, 11.0, 0.3), 2193, RECEPTACLE_FRICTION),
    ("frying pan", lambda s: frying_pan(), (11.0, 11.0, 0.8), 5104, RECEPTACLE_FRICTION),
    ("mouse pad", lambda s: slab(s, mouse_pad_texture, corner=0.01, roughness=0.9),
     (11.0, 11.0, 0.6), 3332, FABRIC_FRICTION),
    ("cutting board", lambda s: slab(s, cutting_board_texture, corner=0.008, roughness=0.7),
     (12.6, 11.0, 0.3), 3107, RECEPTACLE_FRICTION),
    ("chess board", lambda s: slab(s, chess_board_texture, corner=0.001, roughness=0.4),
     (11.0, 11.0, 0.6), 6368, RECEPTACLE_FRICTION),
    ("manhole cover", lambda s: disc(s, manhole_texture, roughness=0.75, metallic=0.4),
     (11.0, 11.0, 0.4), 3743, RECEPTACLE_FRICTION),
    ("envelope", lambda s: slab(s, envelope_texture, corner=0.0008, roughness=0.9),
     (11.0, 8.0, 0.3), 1824, RECEPTACLE_FRICTION),
    ("notepad", lambda s: slab(s, notepad_texture, corner=0.001, roughness=0.9),
     (11.0, 8.0, 0.4), 3087, RECEPTACLE_FRICTION),
]  # fmt: skip

RECEPTACLES: dict[str, ReceptacleSpec] = {
    name: ReceptacleSpec(
        name,
        "train" if name == "plate" else "ood",
        shape,
        size=tuple(v * CM for v in size),
        density=float(density),
        friction=friction,
        params={"s": tuple(v * CM for v in size)},
    )
    for name, shape, size, density, friction in _ROWS
}


def _draw(spec: ReceptacleSpec) -> Drawn:
    parts, support_half = spec.shape(**spec.params)
    lo, hi = bounds(parts)
    shift = -(lo + hi) / 2  # how far centring moves the parts; the support region moves too
    return Drawn(
        tuple(centred(parts)),
        {
            # Shape functions draw the support region around their own origin.
            "support_center": tuple(float(v) for v in shift[:2]),
            "support_half": tuple(float(v) for v in support_half),
        },
    )


def _support(spec: ReceptacleSpec, parts: list[Part]) -> dict:
    # The resting surface: top of the collision pieces that span the centre (x, y) = (0, 0).
    pieces = collision_pieces(parts)
    under = [h for h in pieces if (h.bounds[0, :2] < 0).all() and (h.bounds[1, :2] > 0).all()]
    return {"support_z": max(float(h.bounds[1, 2]) for h in under)}


CATALOGUE: Catalogue[ReceptacleSpec] = Catalogue(
    "receptacle",
    "receptacles",
    RECEPTACLES,
    draw=_draw,
    describe=_support,
    physics={"max_depenetration_velocity": RECEPTACLE_MAX_DEPENETRATION_VELOCITY},
)
RECEPTACLES_TRAIN: tuple[str, ...] = CATALOGUE.names("train")
RECEPTACLES_HELDOUT: tuple[str, ...] = CATALOGUE.names("ood")
receptacle_spec = CATALOGUE.spec
receptacle_parts = CATALOGUE.parts
receptacle_files = CATALOGUE.files
# Rest a receptacle on a table top at ``z_table`` with ``z = z_table + spec.half_height``; an object
# then rests on it at ``z = z_table + spec.half_height + spec.support_z + object.half_height``.
build_receptacle = CATALOGUE.build
