"""Table looks: 21 procedural table tops named after the original suite's table photos.

The original OOD suite shows 21 photos of real tables (16 train, 5 held out); these are drawn by
code after their names (wooden boards, laminate, moulded plastic, grass, glass, stone), from a
fixed seed, so the same name gives the same pixels on every machine. ``table_texture(name)``
returns a square (H, W, 3) uint8 top-down image of the whole 1.4 × 1.8 m table top: rows run
along the table's x (1.4 m), columns along its y (1.8 m), so boards along the long side are
image rows. The scene maps it onto the table top; the first 16 minus the first are also the
vision axis's overlay textures (:mod:`.overlay_textures`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vlthink.assets.noise import blend, fractal_noise, to_uint8, unit_grid
from vlthink.errors import UnknownNameError
from vlthink.paths import cached_array, code_digest

TEXTURE_SIZE = 512  # pixels per side of a table-top texture


@dataclass(frozen=True)
class TableLook:
    name: str
    draw: Callable[[np.random.Generator, int], np.ndarray]  # (rng, size) -> (size, size, 3) uint8
    seed: int


def _wood(base_rgb, grain_rgb):
    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        y = np.linspace(0, 1, size)[:, None]
        x = np.linspace(0, 1, size)[None, :]
        phase = rng.uniform(0, 2 * np.pi, 3)
        rings = np.sin(40 * y + 3 * np.sin(6 * x + phase[0]) + 1.5 * np.sin(17 * y + phase[1]))
        t = (0.5 + 0.5 * rings) ** 3
        noise = rng.normal(0, 0.04, (size, size))
        base, grain = np.array(base_rgb, float), np.array(grain_rgb, float)
        img = base[None, None] * (1 - t[..., None]) + grain[None, None] * t[..., None]
        img *= (1 + noise)[..., None]
        return np.clip(img, 0, 255).astype(np.uint8)

    return draw


def _laminate(rgb, speckle=0.025, edge_rgb=None, edge=0.012):
    """Plain plastic laminate: one colour with a fine, faint speckle (and an edge band)."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        noise = (
            1 + rng.normal(0, speckle, (size, size)) + 0.03 * (fractal_noise(rng, size, 3) - 0.5)
        )
        img = np.array(rgb, float)[None, None] * noise[..., None]
        if edge_rgb is not None:
            x, y = unit_grid(size)
            img[np.minimum.reduce([x, y, 1 - x, 1 - y]) < edge] = edge_rgb
        return to_uint8(img)

    return draw


def _plastic(rgb):
    """Moulded plastic: an orange-peel surface, a broad sheen and a raised moulded rim."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        peel = 0.05 * (fractal_noise(rng, size, 64, 2) - 0.5)
        sheen = 0.12 * np.exp(-(((x - 0.6 + 0.3 * y) / 0.25) ** 2))
        img = np.array(rgb, float)[None, None] * (1 + peel + sheen)[..., None]
        edge = np.minimum.reduce([x, y, 1 - x, 1 - y])
        img[edge < 0.02] *= 0.8
        img[(edge > 0.02) & (edge < 0.026)] *= 1.15
        return to_uint8(img)

    return draw


def _boards(
    light_rgb,
    dark_rgb,
    boards=6,
    seam=0.004,
    seam_rgb=(60, 40, 28),
    lines=110,
    shades=0.08,
    palette=None,
    knots=0,
    nails=False,
    gloss=0.0,
):
    """Wooden boards along the table's long side (image rows): wavy grain lines, each board its
    own phase and shade (or a colour from ``palette``), seams of ``seam`` (image fraction) between
    them, dark knots, nail heads at the board ends, a glossy reflection band."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        row = np.minimum(np.floor(y * boards).astype(int), boards - 1)
        across = (y * boards) % 1
        phase = rng.uniform(0, 1, boards)[row]
        # Grain: lines along the board whose spacing wanders, plus fine fibres; both are noise
        # stretched along the board (image x).
        warp = 5 * _streaks(rng, size, 4, boards * 6) + 0.6 * np.sin(2 * np.pi * (x + phase))
        t = (0.5 + 0.5 * np.sin(2 * np.pi * (lines * y + warp + 3 * phase))) ** 4
        t = 0.7 * t + 0.3 * _streaks(rng, size, 12, size // 3)
        if palette is None:
            base = np.array(light_rgb, float) * (1 + shades * rng.uniform(-1, 1, boards))[:, None]
        else:
            base = np.asarray(palette, float)[rng.integers(0, len(palette), boards)]
        img = (
            blend(base[row], dark_rgb, 0.75 * t)
            * (1 + rng.normal(0, 0.03, (size, size)))[..., None]
        )
        for _ in range(knots):
            cx, cy = rng.uniform(0.05, 0.95, 2)
            d = np.hypot((x - cx) / 0.03, (y - cy) / 0.012)
            img[d < 1] = blend(dark_rgb, np.array(dark_rgb) * 0.6, np.clip(1 - d, 0, 1))[d < 1]
        if nails:
            for k in range(boards):
                for cx in (0.03, 0.97):
                    cy = (k + 0.5) / boards
                    img[np.hypot(x - cx, y - cy) < 0.004] = (45, 42, 40)
        if gloss:
            img += gloss * 255 * np.exp(-(((x - 0.35 - 0.5 * y) / 0.12) ** 2))[..., None]
        img[np.minimum(across, 1 - across) < seam * boards / 2] = seam_rgb
        return to_uint8(img)

    return draw


def _streaks(rng: np.random.Generator, size: int, cells_x: int, cells_y: int) -> np.ndarray:
    """Noise in [0, 1] stretched along image x (cells_x << cells_y): wood fibres and figure."""
    grid = rng.uniform(0, 1, (cells_y, cells_x)).astype(np.float32)
    img = Image.fromarray(grid, mode="F").resize((size, size), Image.BICUBIC)
    return np.clip(np.asarray(img), 0, 1)


def _speckled(base_rgb, fleck_colors, density=0.05, fleck_px=2):
    """Granite: a mottled base with scattered flecks of other colours."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        img = blend(base_rgb, np.array(base_rgb) * 0.8, fractal_noise(rng, size, 6))
        n = -(-size // fleck_px)  # cells of fleck_px pixels, covering the whole image
        pick = rng.uniform(0, 1, (n, n)) < density
        which = rng.integers(0, len(fleck_colors), (n, n))
        colors = np.asarray(fleck_colors, float)[which]
        mask = np.kron(pick, np.ones((fleck_px, fleck_px), bool))[:size, :size]
        big = np.kron(colors, np.ones((fleck_px, fleck_px, 1)))[:size, :size]
        img[mask] = big[mask]
        return to_uint8(img)

    return draw


def _grass():
    """Artificial grass seen from above: thousands of short blades over a dark green base."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        img = Image.new("RGB", (size, size), (40, 85, 30))
        pen = ImageDraw.Draw(img)
        greens = [(70, 140, 45), (95, 165, 55), (55, 115, 40), (120, 175, 70), (85, 150, 35)]
        blade = size / 100
        for _ in range(int(size * size / 10)):
            cx, cy = rng.uniform(0, size, 2)
            a = rng.uniform(0, 2 * np.pi)
            length = blade * rng.uniform(0.6, 1.4)
            end = (cx + length * np.cos(a), cy + length * np.sin(a))
            pen.line([(cx, cy), end], fill=greens[rng.integers(len(greens))], width=1)
        return np.asarray(img)

    return draw


def _patchwork(colors, cells=7):
    """A children's desk: blocks of bright colour with white grooves between them."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        jitter = 0.3 / cells
        cuts_x = np.r_[
            0, np.linspace(0, 1, cells + 1)[1:-1] + rng.uniform(-1, 1, cells - 1) * jitter, 1
        ]
        cuts_y = np.r_[
            0, np.linspace(0, 1, cells + 1)[1:-1] + rng.uniform(-1, 1, cells - 1) * jitter, 1
        ]
        i, j = np.searchsorted(cuts_x, x, "right") - 1, np.searchsorted(cuts_y, y, "right") - 1
        pick = rng.integers(0, len(colors), (cells + 1, cells + 1))
        img = np.asarray(colors, float)[pick[j, i]]
        gx = np.min(np.abs(x[..., None] - cuts_x), -1)
        gy = np.min(np.abs(y[..., None] - cuts_y), -1)
        img[(gx < 0.004) | (gy < 0.004)] = (245, 245, 240)
        return to_uint8(img * (1 + rng.normal(0, 0.02, (size, size)))[..., None])

    return draw


def _glass(tint_rgb):
    """A glass top: a pale tint over a blurred floor far below, reflections, a green edge."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        tiles = ((x * 3) % 1 < 0.02) | ((y * 3) % 1 < 0.02)  # floor tiles seen through the glass
        floor = Image.fromarray((255 * (1 - 0.15 * tiles)).astype(np.uint8))
        seen = np.asarray(floor.filter(ImageFilter.GaussianBlur(size / 120)), np.float32) / 255
        img = np.array(tint_rgb, float)[None, None] * seen[..., None]
        streaks = np.exp(-(((x + 0.6 * y - 0.5) / 0.05) ** 2)) + 0.6 * np.exp(
            -(((x + 0.6 * y - 0.75) / 0.025) ** 2)
        )
        img += 50 * streaks[..., None] + 10 * (fractal_noise(rng, size, 2) - 0.5)[..., None]
        img[np.minimum.reduce([x, y, 1 - x, 1 - y]) < 0.015] = np.array(tint_rgb) * 0.6
        return to_uint8(img)

    return draw


WOOD_SEAM = (55, 38, 26)

# The catalogue, after the original's 21 table photos (16 train, then 5 held out). The original
# calls ten of them just "table"; here each gets a name of its own after what it shows.
TABLE_LOOKS: dict[str, TableLook] = {
    look.name: look
    for look in [
        # The original's first table is its plain default; here the light wood every vlthink
        # scene stood on before the catalogue followed the original (same pixels).
        TableLook("plain table", _wood((196, 160, 116), (150, 112, 72)), seed=1),
        TableLook("blue plastic table", _plastic((55, 105, 185)), seed=2),
        TableLook("tv cabinet", _boards((84, 56, 38), (46, 30, 20), boards=1, gloss=0.12), seed=3),
        TableLook(
            "picnic table",
            _boards(
                (172, 156, 132),
                (120, 105, 88),
                boards=9,
                seam=0.012,
                seam_rgb=(35, 33, 30),
                lines=70,
                shades=0.1,
                nails=True,
            ),
            seed=4,
        ),  # fmt: skip
        TableLook("desk", _laminate((226, 196, 152), edge_rgb=(70, 70, 72)), seed=5),
        TableLook("walnut table", _boards((132, 88, 58), (80, 52, 34), boards=7), seed=6),
        TableLook("yellow desk", _laminate((236, 198, 55), edge_rgb=(90, 90, 92)), seed=7),
        TableLook("oak table", _boards((206, 152, 88), (160, 110, 60), boards=6, knots=3), seed=8),
        TableLook("white table", _laminate((238, 238, 234), speckle=0.01), seed=9),
        TableLook("black table", _laminate((30, 30, 32), speckle=0.06), seed=10),
        TableLook("cherry table", _boards((190, 96, 56), (140, 62, 36), boards=5), seed=11),
        TableLook("pink table", _laminate((236, 150, 176)), seed=12),
        TableLook("grey table", _laminate((112, 114, 118), speckle=0.04), seed=13),
        TableLook("grass table", _grass(), seed=14),
        TableLook(
            "rustic table",
            _boards(
                (170, 130, 95),
                (105, 76, 52),
                boards=6,
                seam=0.008,
                seam_rgb=(40, 28, 20),
                palette=[(170, 130, 95), (150, 128, 108), (185, 145, 100), (140, 108, 80)],
                knots=8,
                nails=True,
            ),
            seed=15,
        ),  # fmt: skip
        TableLook(
            "colorful desk",
            _patchwork(
                [
                    (220, 50, 50),
                    (250, 200, 40),
                    (40, 110, 200),
                    (60, 170, 80),
                    (240, 130, 40),
                    (140, 70, 170),
                ]
            ),
            seed=16,
        ),  # fmt: skip
        # held out
        TableLook("glass table", _glass((178, 212, 205)), seed=17),
        TableLook("green table", _laminate((42, 125, 92), edge_rgb=(30, 80, 60)), seed=18),
        TableLook("pink desk", _laminate((246, 204, 214), edge_rgb=(250, 250, 250)), seed=19),
        TableLook(
            "stone table",
            _speckled((98, 92, 90), [(205, 200, 195), (30, 30, 32), (160, 120, 110)], density=0.14),
            seed=20,
        ),  # fmt: skip
        TableLook(
            "dining table", _boards((118, 46, 30), (78, 28, 18), boards=4, gloss=0.1), seed=21
        ),
    ]
}
TABLE_LOOKS_TRAIN: tuple[str, ...] = tuple(list(TABLE_LOOKS)[:16])
TABLE_LOOKS_HELDOUT: tuple[str, ...] = tuple(list(TABLE_LOOKS)[16:])
DEFAULT_LOOK = "plain table"


@lru_cache(maxsize=64)
def table_texture(name: str, size: int = TEXTURE_SIZE) -> np.ndarray:
    """The (size, size, 3) uint8 texture of a table look; deterministic per name, drawn once per
    machine (``paths.cached_array``)."""
    try:
        look = TABLE_LOOKS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown table look {name!r}; known looks: {', '.join(sorted(TABLE_LOOKS))}"
        ) from None

    def draw() -> np.ndarray:
        return look.draw(np.random.default_rng(look.seed), size)

    return cached_array("table_looks", repr((name, size, drawing_code_digest())), draw)


@lru_cache(maxsize=1)
def drawing_code_digest() -> str:
    """Digest of the code that draws the looks (this module, the noise) and of its libraries."""
    import PIL

    from vlthink.assets import noise

    files = [Path(__file__), Path(noise.__file__)]
    return code_digest(files, np.__version__, PIL.__version__)
