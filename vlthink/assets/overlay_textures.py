"""Overlay textures for the OOD suite's vision axis: 16 colourful procedural patterns.

The env blends one of these (at 0.3 or 0.5) over the robot and object pixels, or over the whole
frame; the whole-frame variant crops a moving 640×480 window out of the full texture, so the
default size is 1024×1024. Each pattern is drawn from a fixed seed: the same name and size give
the same pixels everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vlthink.assets.noise import blend, fractal_noise, to_uint8, unit_grid

OVERLAY_SIZE = 1024  # pixels per side (larger than a 640×480 frame so a window can move)
Draw = Callable[[np.random.Generator, int], np.ndarray]


def _palette(rng: np.random.Generator, t: np.ndarray, colors) -> np.ndarray:
    """Map t in [0, 1] through a piecewise-linear colour ramp."""
    colors = np.asarray(colors, np.float32)
    stops = np.linspace(0, 1, len(colors))
    return np.stack([np.interp(t, stops, colors[:, c]) for c in range(3)], -1)


def stripes(rng, size):
    x, y = unit_grid(size)
    band = np.floor((x + y) * 14).astype(int) % 4
    return to_uint8(
        np.asarray([(230, 40, 60), (250, 210, 40), (40, 160, 90), (40, 90, 200)], np.float32)[band]
    )


def polka_dots(rng, size):
    x, y = unit_grid(size)
    n = 12
    fx, fy = (x * n) % 1 - 0.5, (y * n + 0.5 * (np.floor(x * n) % 2)) % 1 - 0.5
    dot = np.hypot(fx, fy) < 0.3
    img = np.empty((size, size, 3), np.float32)
    img[:] = (30, 60, 150)
    img[dot] = (250, 235, 90)
    return to_uint8(img)


def camouflage(rng, size):
    colors = np.asarray([(85, 100, 55), (130, 125, 80), (60, 70, 40), (160, 140, 100)], np.float32)
    layers = [fractal_noise(rng, size, 5, 3) for _ in range(3)]
    idx = np.zeros((size, size), int)
    for k, layer in enumerate(layers, start=1):
        idx[layer > 0.55] = k
    return to_uint8(colors[idx])


def color_noise(rng, size):
    return to_uint8(np.stack([fractal_noise(rng, size, 8, 4) for _ in range(3)], -1) * 255)


def marble(rng, size):
    x, y = unit_grid(size)
    turb = fractal_noise(rng, size, 4, 5)
    t = 0.5 + 0.5 * np.sin(10 * (x + y) + 8 * turb)
    return to_uint8(_palette(rng, t, [(250, 245, 235), (200, 120, 160), (90, 40, 110)]))


def brick(rng, size):
    x, y = unit_grid(size)
    rows = 16
    r = np.floor(y * rows)
    u = x * 8 + 0.5 * (r % 2)
    shade = rng.uniform(0.8, 1.15, (rows, 20))[r.astype(int), np.floor(u).astype(int) % 20]
    img = np.asarray((170, 65, 45), np.float32)[None, None] * shade[..., None]
    mortar = ((y * rows) % 1 < 0.08) | (u % 1 < 0.04)
    img[mortar] = (215, 210, 200)
    return to_uint8(img)


def leaves(rng, size):
    img = Image.new("RGB", (size, size), (40, 80, 35))
    draw = ImageDraw.Draw(img)
    greens = [(70, 140, 50), (120, 180, 60), (30, 110, 60), (170, 200, 80), (200, 160, 40)]
    for _ in range(int(0.0012 * size * size / 4)):
        cx, cy = rng.uniform(0, size, 2)
        length, width = rng.uniform(0.04, 0.09) * size, rng.uniform(0.015, 0.03) * size
        a = rng.uniform(0, np.pi)
        t = np.linspace(0, np.pi, 16)
        outline = np.concatenate(
            [
                np.stack([np.cos(t) * length, np.sin(t) * width], 1),
                np.stack([np.cos(t[::-1]) * length, -np.sin(t[::-1]) * width], 1),
            ]
        )
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        pts = outline @ rot.T + (cx, cy)
        color = greens[rng.integers(len(greens))]
        draw.polygon([tuple(p) for p in pts], fill=color)
        draw.line([tuple(pts[0]), tuple(pts[15])], fill=(25, 60, 25), width=max(1, size // 512))
    return np.asarray(img)


def checker(rng, size):
    x, y = unit_grid(size)
    n = 10
    idx = (np.floor(x * n) + np.floor(y * n)).astype(int) % 2
    return to_uint8(np.asarray([(250, 130, 30), (30, 170, 200)], np.float32)[idx])


def zigzag(rng, size):
    x, y = unit_grid(size)
    tri = np.abs((x * 12) % 2 - 1) * 0.08
    band = np.floor((y + tri) * 18).astype(int) % 3
    return to_uint8(np.asarray([(240, 70, 120), (255, 240, 230), (60, 50, 140)], np.float32)[band])


def tartan(rng, size):
    x, y = unit_grid(size)

    def sett(u):
        p = (u * 6) % 1
        return np.select([p < 0.35, p < 0.45, p < 0.8, p < 0.85], [0, 1, 2, 3], 0)

    colors = np.asarray([(160, 25, 35), (20, 30, 60), (30, 90, 50), (240, 210, 60)], np.float32)
    a, b = colors[sett(x)], colors[sett(y)]
    twill = ((np.arange(size)[:, None] + np.arange(size)[None, :]) // 2 % 2).astype(np.float32)
    return to_uint8(blend(a, b, 0.35 + 0.3 * twill))


def hexagons(rng, size):
    x, y = unit_grid(size)
    s = 14.0
    # Axial hex coordinates by cube rounding.
    q = np.sqrt(3) / 3 * x * s - y * s / 3
    r = 2 / 3 * y * s
    cx, cz = q, r
    cy = -cx - cz
    rx, ry, rz = np.round(cx), np.round(cy), np.round(cz)
    dx, dy, dz = np.abs(rx - cx), np.abs(ry - cy), np.abs(rz - cz)
    rx = np.where((dx > dy) & (dx > dz), -ry - rz, rx)
    rz = np.where(~((dx > dy) & (dx > dz)) & ~(dy > dz), -rx - ry, rz)
    idx = (rx.astype(int) * 7 + rz.astype(int) * 3) % 5
    colors = np.asarray(
        [(250, 200, 40), (240, 120, 30), (200, 60, 40), (250, 235, 150), (170, 90, 20)], np.float32
    )
    edge = np.maximum.reduce([dx, dy, dz]) > 0.42
    img = colors[idx]
    img[edge] = (60, 30, 10)
    return to_uint8(img)


def waves(rng, size):
    x, y = unit_grid(size)
    t = 0.5 + 0.5 * np.sin(2 * np.pi * (9 * y + 0.6 * np.sin(2 * np.pi * 3 * x)))
    return to_uint8(_palette(rng, t, [(10, 40, 110), (30, 150, 200), (220, 245, 250)]))


def mosaic(rng, size):
    from scipy.spatial import cKDTree

    seeds = rng.uniform(0, 1, (160, 2))
    x, y = unit_grid(size)
    d, idx = cKDTree(seeds).query(np.stack([x.ravel(), y.ravel()], 1), k=2)
    colors = rng.uniform(40, 255, (len(seeds), 3)).astype(np.float32)
    img = colors[idx[:, 0]].reshape(size, size, 3)
    border = (d[:, 1] - d[:, 0]).reshape(size, size) < 0.004
    img[border] = (30, 30, 30)
    return to_uint8(img)


def confetti(rng, size):
    img = Image.new("RGB", (size, size), (250, 250, 245))
    draw = ImageDraw.Draw(img)
    palette = [(230, 50, 80), (40, 170, 230), (250, 200, 30), (110, 200, 80), (150, 80, 200)]
    for _ in range(int(size * size / 900)):
        cx, cy = rng.uniform(0, size, 2)
        w, h = rng.uniform(0.006, 0.02, 2) * size
        draw.rectangle([cx, cy, cx + w, cy + h], fill=palette[rng.integers(len(palette))])
    return np.asarray(img)


def rainbow(rng, size):
    x, y = unit_grid(size)
    hue = (x * 1.5 + 0.3 * y) % 1
    rgb = np.stack(
        [
            np.clip(np.abs(hue * 6 - 3) - 1, 0, 1),
            np.clip(2 - np.abs(hue * 6 - 2), 0, 1),
            np.clip(2 - np.abs(hue * 6 - 4), 0, 1),
        ],
        -1,
    )
    return to_uint8(rgb * 235 + 10)


def tie_dye(rng, size):
    x, y = unit_grid(size)
    r = np.hypot(x - 0.5, y - 0.5)
    a = np.arctan2(y - 0.5, x - 0.5)
    t = (r * 8 + a / np.pi * 1.5 + 0.6 * fractal_noise(rng, size, 6, 3)) % 1
    return to_uint8(
        _palette(
            rng,
            t,
            [
                (230, 30, 120),
                (250, 150, 20),
                (240, 230, 40),
                (40, 180, 220),
                (120, 40, 200),
                (230, 30, 120),
            ],
        )
    )


OVERLAYS: dict[str, tuple[Draw, int]] = {
    "stripes": (stripes, 1),
    "polka dots": (polka_dots, 2),
    "camouflage": (camouflage, 3),
    "color noise": (color_noise, 4),
    "marble": (marble, 5),
    "brick": (brick, 6),
    "leaves": (leaves, 7),
    "checker": (checker, 8),
    "zigzag": (zigzag, 9),
    "tartan": (tartan, 10),
    "hexagons": (hexagons, 11),
    "waves": (waves, 12),
    "mosaic": (mosaic, 13),
    "confetti": (confetti, 14),
    "rainbow": (rainbow, 15),
    "tie-dye": (tie_dye, 16),
}
OVERLAY_TEXTURES: tuple[str, ...] = tuple(OVERLAYS)


@lru_cache(maxsize=32)
def overlay_texture(name: str, size: int = OVERLAY_SIZE) -> np.ndarray:
    """The (size, size, 3) uint8 overlay texture ``name``; deterministic, read-only."""
    try:
        draw, seed = OVERLAYS[name]
    except KeyError:
        raise KeyError(f"unknown overlay {name!r}; known: {', '.join(OVERLAYS)}") from None
    img = np.ascontiguousarray(draw(np.random.default_rng(seed), size), dtype=np.uint8)
    assert img.shape == (size, size, 3)
    img.setflags(write=False)
    return img
