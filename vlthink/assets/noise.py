"""Small deterministic noise fields for procedural textures (numpy + Pillow only)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth noise in [0, 1]: a cells×cells random grid upsampled bicubically to size×size."""
    grid = rng.uniform(0, 1, (cells, cells)).astype(np.float32)
    img = Image.fromarray(grid, mode="F").resize((size, size), Image.BICUBIC)
    return np.clip(np.asarray(img), 0, 1)


def fractal_noise(
    rng: np.random.Generator, size: int, cells: int = 4, octaves: int = 4
) -> np.ndarray:
    """Sum of value-noise octaves (each twice as fine, half as strong), scaled to [0, 1]."""
    total, weight = np.zeros((size, size), np.float32), 0.0
    for k in range(octaves):
        amp = 0.5**k
        total += amp * value_noise(rng, size, cells * 2**k)
        weight += amp
    total /= weight
    return (total - total.min()) / max(float(np.ptp(total)), 1e-6)


def blend(a, b, t: np.ndarray) -> np.ndarray:
    """Per-pixel mix of two RGB colours (or images) by t in [0, 1]; float result."""
    t = np.asarray(t, np.float32)[..., None]
    return np.asarray(a, np.float32) * (1 - t) + np.asarray(b, np.float32) * t


def to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(img, 0, 255).astype(np.uint8)


def unit_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) pixel coordinates scaled to [0, 1)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    return x, y
