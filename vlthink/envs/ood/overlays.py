"""Image post-processing of the vision axis: overlay textures blended into the camera frame.

Two modes, both on the Bridge camera's RGB frame only (segmentation, depth and the human render
camera are left alone):

``tex``    the overlay is blended over the robot's and the object's pixels (found with the
           segmentation), nothing else; the crop window is fixed for the episode.
``whole``  the overlay is blended over every pixel, through a crop window that moves each frame.

The crop window is a 640 x 480 view into the 1024 x 1024 overlay texture. It starts at a place
drawn from the episode seed and slides with a constant velocity (drawn too), bouncing off the
texture's edges, so frame ``t`` of an episode always shows the same window: overlays are a
function of (seed, step) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vlthink.assets.overlay_textures import OVERLAY_SIZE, overlay_texture

WINDOW_SPEED_PX = (6.0, 14.0)  # px per control step, uniform; direction uniform (whole mode)


@dataclass(frozen=True)
class Overlay:
    """What one episode blends into its frames."""

    mode: str  # "tex" or "whole"
    name: str  # one of vlthink.assets.overlay_textures.OVERLAY_TEXTURES
    alpha: float  # weight of the overlay in the blend
    start: tuple[float, float]  # window's top-left corner at step 0 (px, x then y)
    velocity: tuple[float, float]  # px per control step; (0, 0) for "tex"


def draw_overlay(rng: np.random.RandomState, mode: str, names, alpha: float, frame_hw) -> Overlay:
    h, w = frame_hw
    name = names[rng.randint(len(names))]
    start = (float(rng.uniform(0, OVERLAY_SIZE - w)), float(rng.uniform(0, OVERLAY_SIZE - h)))
    velocity = (0.0, 0.0)
    if mode == "whole":
        speed, angle = rng.uniform(*WINDOW_SPEED_PX), rng.uniform(0, 2 * np.pi)
        velocity = (float(speed * np.cos(angle)), float(speed * np.sin(angle)))
    return Overlay(mode, name, float(alpha), start, velocity)


def _bounce(x: float, span: float) -> int:
    """Position x folded into [0, span] as if reflected at both ends."""
    period = 2 * span
    x = x % period
    return int(round(period - x if x > span else x))


def window(ov: Overlay, step: int, frame_hw) -> tuple[int, int]:
    """Top-left (x, y) of the crop window at control step ``step``."""
    h, w = frame_hw
    x = _bounce(ov.start[0] + ov.velocity[0] * step, OVERLAY_SIZE - w)
    y = _bounce(ov.start[1] + ov.velocity[1] * step, OVERLAY_SIZE - h)
    return x, y


_TEXTURES: dict[tuple[str, str], torch.Tensor] = {}


def _texture(name: str, device) -> torch.Tensor:
    key = (name, str(device))
    if key not in _TEXTURES:
        _TEXTURES[key] = torch.from_numpy(np.array(overlay_texture(name))).to(device)
    return _TEXTURES[key]


def blend(
    rgb: torch.Tensor, ov: Overlay, step: int, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """One (H, W, 3) uint8 frame with the overlay blended in (where ``mask`` is True, if given)."""
    h, w = rgb.shape[:2]
    x, y = window(ov, step, (h, w))
    crop = _texture(ov.name, rgb.device)[y : y + h, x : x + w].float()
    mixed = (rgb.float() * (1 - ov.alpha) + crop * ov.alpha).round().clamp(0, 255).to(rgb.dtype)
    if mask is None:
        return mixed
    return torch.where(mask[..., None], mixed, rgb)
