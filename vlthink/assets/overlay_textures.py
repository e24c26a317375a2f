"""Overlay textures of the OOD suite's vision axis: the table looks 2..17, as in the original.

The original's Tex and Whole variants blend the ``texture`` images of its tables 2–17 (16 of
them; table 1, the plain default, has none) over the frame. Here those are the same table looks
by number: :data:`OVERLAY_TEXTURES` lists looks 2..17 of :data:`.table_looks.TABLE_LOOKS` in
order, and ``overlay_texture(name, size)`` is that look drawn at ``size``. The env
(:mod:`vlthink.envs.ood.overlays`) resizes it: Tex to the bounding box of the robot and actors in
each frame, Whole to 1280×960 for a 640×480 window that follows them.
"""

from __future__ import annotations

import numpy as np

from vlthink.assets.table_looks import TABLE_LOOKS, table_texture
from vlthink.errors import UnknownNameError

OVERLAY_SIZE = 1024  # pixels per side as drawn; the env resizes (see the module docstring)
OVERLAY_TEXTURES: tuple[str, ...] = tuple(list(TABLE_LOOKS)[1:17])  # looks 2..17, 1-based


def overlay_texture(name: str, size: int = OVERLAY_SIZE) -> np.ndarray:
    """The (size, size, 3) uint8 overlay texture ``name``; deterministic, read-only."""
    if name not in OVERLAY_TEXTURES:
        raise UnknownNameError(f"unknown overlay {name!r}; known: {', '.join(OVERLAY_TEXTURES)}")
    img = table_texture(name, size)
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    return img
