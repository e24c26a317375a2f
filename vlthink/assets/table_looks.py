"""Table looks: procedural table-top textures, a named catalogue split into training and held-out.

Every look is drawn by code from a fixed seed (no files, nothing downloaded), so the same name
gives the same pixels on every machine. ``table_texture(name)`` returns an (H, W, 3) uint8 image
that the scene maps onto the table top.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vlthink.assets.noise import blend, fractal_noise, to_uint8, unit_grid

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


def _laminate(rgb, speckle=0.025):
    """Plain plastic laminate: one colour with a fine, faint speckle."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        noise = (
            1 + rng.normal(0, speckle, (size, size)) + 0.03 * (fractal_noise(rng, size, 3) - 0.5)
        )
        return to_uint8(np.array(rgb, float)[None, None] * noise[..., None])

    return draw


def _marble(base_rgb, vein_rgb, vein_width=0.04):
    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        turb = fractal_noise(rng, size, 3, 5)
        veins = np.abs(np.sin(6 * (x + 0.6 * y) + 6 * turb))
        t = np.clip(1 - veins / vein_width, 0, 1) ** 0.7
        cloud = 0.06 * (fractal_noise(rng, size, 4) - 0.5)
        return to_uint8(blend(base_rgb, vein_rgb, 0.8 * t) * (1 + cloud)[..., None])

    return draw


def _speckled(base_rgb, fleck_colors, density=0.05, fleck_px=2):
    """Granite and terrazzo: a base with scattered flecks of other colours."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        img = blend(base_rgb, np.array(base_rgb) * 0.85, fractal_noise(rng, size, 6))
        n = -(-size // fleck_px)  # cells of fleck_px pixels, covering the whole image
        pick = rng.uniform(0, 1, (n, n)) < density
        which = rng.integers(0, len(fleck_colors), (n, n))
        colors = np.asarray(fleck_colors, float)[which]
        mask = np.kron(pick, np.ones((fleck_px, fleck_px), bool))[:size, :size]
        big = np.kron(colors, np.ones((fleck_px, fleck_px, 1)))[:size, :size]
        img[mask] = big[mask]
        return to_uint8(img)

    return draw


def _felt(rgb, fuzz=0.06):
    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        t = 0.7 * fractal_noise(rng, size, 16, 3) + 0.3 * rng.uniform(0, 1, (size, size))
        return to_uint8(np.array(rgb, float)[None, None] * (1 + fuzz * (t - 0.5))[..., None])

    return draw


def _weave(warp_rgb, weft_rgb, threads=96):
    """Linen, denim: alternating over-under threads of two colours."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        u, v = x * threads, y * threads
        over = (np.floor(u) + np.floor(v)) % 2
        shade = 0.85 + 0.15 * np.sin(np.pi * np.where(over > 0, u % 1, v % 1))
        img = blend(warp_rgb, weft_rgb, over) * shade[..., None]
        return to_uint8(img * (1 + rng.normal(0, 0.03, (size, size)))[..., None])

    return draw


def _gingham(base_rgb, check_rgb, checks=10):
    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        a = (np.floor(x * checks * 2) % 2 == 0).astype(float)
        b = (np.floor(y * checks * 2) % 2 == 0).astype(float)
        img = blend(base_rgb, check_rgb, 0.5 * a + 0.5 * b)
        return to_uint8(img * (1 + rng.normal(0, 0.02, (size, size)))[..., None])

    return draw


def _tiles(tile_rgb, grout_rgb, tiles=6, grout=0.04, variation=0.08, alt_rgb=None):
    """Square tiles in a grout grid; each tile a slightly different shade (or two colours)."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        i, j = np.floor(x * tiles).astype(int), np.floor(y * tiles).astype(int)
        shade = 1 + variation * rng.uniform(-1, 1, (tiles, tiles))[j, i]
        img = np.array(tile_rgb, float)[None, None] * shade[..., None]
        if alt_rgb is not None:
            alt = (i + j) % 2 == 1
            img[alt] = np.array(alt_rgb, float)[None] * shade[alt][:, None]
        fx, fy = (x * tiles) % 1, (y * tiles) % 1
        line = (np.minimum(fx, 1 - fx) < grout / 2) | (np.minimum(fy, 1 - fy) < grout / 2)
        img[line] = grout_rgb
        return to_uint8(img)

    return draw


def _brushed(rgb):
    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        streaks = rng.normal(0, 1, (size, 1)) * 0.05 + rng.normal(0, 0.025, (size, size))
        sheen = 0.08 * np.sin(np.linspace(0, np.pi, size))[None, :]
        return to_uint8(np.array(rgb, float)[None, None] * (1 + streaks + sheen)[..., None])

    return draw


def _concrete(rgb):
    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        t = 0.25 * (fractal_noise(rng, size, 5, 5) - 0.5) + rng.normal(0, 0.03, (size, size))
        pits = rng.uniform(0, 1, (size, size)) < 0.004
        img = np.array(rgb, float)[None, None] * (1 + t)[..., None]
        img[pits] *= 0.6
        return to_uint8(img)

    return draw


def _cork():
    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        n = size // 3
        grains = np.kron(rng.uniform(0, 1, (n + 1, n + 1)), np.ones((3, 3)))[:size, :size]
        t = 0.55 * grains + 0.45 * fractal_noise(rng, size, 12, 3)
        return to_uint8(blend((214, 170, 118), (138, 92, 52), t))

    return draw


def _painted(rgb, strokes=0.05):
    """Painted wood: flat colour with faint horizontal brush strokes."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        brush = rng.normal(0, 1, (size, 1)) * strokes * 0.4 + rng.normal(
            0, strokes * 0.3, (size, size)
        )
        return to_uint8(np.array(rgb, float)[None, None] * (1 + brush)[..., None])

    return draw


def _planks(light_rgb, dark_rgb, planks=5, seam_rgb=(70, 50, 35)):
    """Wooden planks along x: wood grain with a dark seam every 1/planks of the height."""
    wood = _wood(light_rgb, dark_rgb)

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        img = wood(rng, size).astype(float).transpose(1, 0, 2)  # grain along x
        y = np.arange(size) / size
        row = np.floor(y * planks).astype(int)
        img *= (1 + 0.08 * rng.uniform(-1, 1, planks)[row])[:, None, None]
        seam = np.minimum((y * planks) % 1, 1 - (y * planks) % 1) < 0.012 * planks
        img[seam] = seam_rgb
        return to_uint8(img)

    return draw


def _zebrawood():
    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        wobble = 0.05 * np.sin(9 * y + 2) + 0.04 * fractal_noise(rng, size, 3)
        t = (np.sin(2 * np.pi * 16 * (x + wobble)) > 0.3).astype(float) * 0.85
        return to_uint8(blend((226, 196, 140), (92, 62, 38), t))

    return draw


def _velvet(rgb):
    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        sheen = 0.35 * (fractal_noise(rng, size, 3, 3) - 0.5) + rng.normal(0, 0.025, (size, size))
        return to_uint8(np.array(rgb, float)[None, None] * (1 + sheen)[..., None])

    return draw


def _mosaic(colors, cells=18):
    """Small glass tiles, each one of a few blues, in a pale grout grid."""

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        x, y = unit_grid(size)
        i, j = np.floor(x * cells).astype(int), np.floor(y * cells).astype(int)
        pick = rng.integers(0, len(colors), (cells, cells))[j, i]
        img = np.asarray(colors, float)[pick]
        fx, fy = (x * cells) % 1, (y * cells) % 1
        img[(np.minimum(fx, 1 - fx) < 0.06) | (np.minimum(fy, 1 - fy) < 0.06)] = (225, 225, 220)
        return to_uint8(img)

    return draw


# The catalogue: 16 looks for training and 5 held out (the OOD suite's table axis). Held-out
# looks are of kinds the training set lacks (checker, terrazzo, velvet, mosaic, striped wood),
# so "unseen table" means unseen material, not a new shade of a seen one.
TABLE_LOOKS: dict[str, TableLook] = {
    look.name: look
    for look in [
        TableLook("light oak", _wood((196, 160, 116), (150, 112, 72)), seed=1),
        TableLook("dark walnut", _wood((110, 75, 50), (70, 45, 30)), seed=2),
        TableLook("cherry wood", _wood((170, 90, 60), (125, 60, 40)), seed=3),
        TableLook("pine planks", _planks((225, 190, 140), (190, 150, 100)), seed=4),
        TableLook("cream laminate", _laminate((240, 224, 182)), seed=5),
        TableLook("grey laminate", _laminate((150, 152, 155)), seed=6),
        TableLook(
            "white marble", _marble((235, 233, 228), (105, 105, 112), vein_width=0.2), seed=7
        ),
        TableLook(
            "black granite", _speckled((45, 45, 48), [(120, 120, 120), (180, 180, 175)]), seed=8
        ),
        TableLook("green felt", _felt((40, 110, 60)), seed=9),
        TableLook("beige linen", _weave((210, 195, 165), (190, 175, 145)), seed=10),
        TableLook("red gingham", _gingham((245, 240, 235), (200, 40, 45)), seed=11),
        TableLook("terracotta tiles", _tiles((190, 100, 65), (215, 200, 180)), seed=12),
        TableLook("brushed steel", _brushed((170, 172, 176)), seed=13),
        TableLook("concrete", _concrete((140, 138, 132)), seed=14),
        TableLook("cork", _cork(), seed=15),
        TableLook("mint paint", _painted((160, 215, 190)), seed=16),
        # held out
        TableLook(
            "checkerboard",
            _tiles(
                (235, 235, 230),
                (235, 235, 230),
                tiles=8,
                grout=0.0,
                variation=0.0,
                alt_rgb=(45, 45, 50),
            ),
            seed=17,
        ),
        TableLook(
            "terrazzo",
            _speckled(
                (225, 220, 210),
                [(200, 80, 70), (60, 120, 130), (230, 180, 60), (90, 90, 90)],
                density=0.08,
                fleck_px=6,
            ),
            seed=18,
        ),
        TableLook("purple velvet", _velvet((110, 50, 130)), seed=19),
        TableLook(
            "blue mosaic",
            _mosaic([(40, 90, 170), (60, 130, 200), (30, 60, 120), (110, 170, 220)]),
            seed=20,
        ),
        TableLook("zebrawood", _zebrawood(), seed=21),
    ]
}
TABLE_LOOKS_TRAIN: tuple[str, ...] = tuple(list(TABLE_LOOKS)[:16])
TABLE_LOOKS_HELDOUT: tuple[str, ...] = tuple(list(TABLE_LOOKS)[16:])
DEFAULT_LOOK = "light oak"


@lru_cache(maxsize=64)
def table_texture(name: str, size: int = TEXTURE_SIZE) -> np.ndarray:
    """The (size, size, 3) uint8 texture of a table look; deterministic per name."""
    try:
        look = TABLE_LOOKS[name]
    except KeyError:
        raise KeyError(
            f"unknown table look {name!r}; known looks: {', '.join(sorted(TABLE_LOOKS))}"
        ) from None
    img = look.draw(np.random.default_rng(look.seed), size)
    img.setflags(write=False)
    return img
