"""Image post-processing of the vision axis: overlay textures blended into the camera frame.

Both modes follow what the frame shows: the *foreground* of a frame is every pixel that is not
background (not the backdrop, not empty), i.e. the robot and every thing on the table (object,
receptacle, distractors), found with the segmentation of the same render.

``tex``    (the paper's Tex03/Tex05) the overlay texture is resized to the bounding box of the
           foreground and blended over the foreground pixels only, so it moves and stretches
           with the arm every frame. The paper takes the largest box over its batch of envs;
           here each sub-env uses its own box.
``whole``  (Whole03/Whole05) the texture, resized to 1280x960, is blended over the whole
           frame through a 640x480 window whose top-left corner is the centre of the
           foreground's bounding box, so the window follows the arm.

An overlay is a function of the frame alone (seed + state): the same frame gets the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from vlthink.assets.sets import DEFAULT_ASSETS, asset_set
from vlthink.scene.backdrop import paste_

WHOLE_TEXTURE_WH = (1280, 960)  # px: the texture behind the whole-frame window (twice the frame)


@dataclass(frozen=True)
class Overlay:
    """What one episode blends into its frames."""

    mode: str  # "tex" or "whole"
    name: str  # one of vlthink.assets.overlay_textures.OVERLAY_TEXTURES
    alpha: float  # weight of the overlay in the blend


def draw_overlay(rng: np.random.RandomState, mode: str, names, alpha: float) -> Overlay:
    """The episode's overlay: a texture drawn uniformly from ``names`` (where it lies in a frame
    follows from what the frame shows)."""
    return Overlay(mode, names[rng.randint(len(names))], float(alpha))


def bbox(mask: torch.Tensor) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), end-exclusive, of the True pixels of an (H, W) mask; None if none."""
    m = mask.cpu().numpy()
    rows = np.flatnonzero(m.any(1))
    if len(rows) == 0:
        return None
    cols = np.flatnonzero(m[rows[0] : rows[-1] + 1].any(0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def window_corner(mask: torch.Tensor) -> tuple[int, int]:
    """Top-left (x, y) of the whole-frame window: the centre of the foreground's bounding box
    (of the whole frame when nothing is in front). Always inside the 1280x960 texture."""
    h, w = mask.shape
    x0, y0, x1, y1 = bbox(mask) or (0, 0, w, h)
    return (x0 + x1) // 2, (y0 + y1) // 2


_TEXTURES: dict[tuple, torch.Tensor] = {}
RESIZED_CACHE_SIZE = 16  # resized textures kept (at most 3.7 MB each, a 640 x 480 frame)


def _texture(name: str, device, assets: str = DEFAULT_ASSETS) -> torch.Tensor:
    """(3, S, S) float texture of asset set ``assets`` on ``device``, cached."""
    key = (assets, name, str(device))
    if key not in _TEXTURES:
        img = torch.from_numpy(np.array(asset_set(assets).overlay_texture(name)))
        _TEXTURES[key] = img.permute(2, 0, 1).float().to(device)
    return _TEXTURES[key]


def _resize(name: str, wh: tuple[int, int], device, assets: str = DEFAULT_ASSETS) -> torch.Tensor:
    """(h, w, 3) float: the texture resized to w x h (bilinear, antialiased when shrinking), laid
    out as the frames are (channels last: the blend then reads both in step)."""
    w, h = wh
    tex = _texture(name, device, assets)[None]
    out = F.interpolate(tex, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    return out[0].permute(1, 2, 0).contiguous()


def _scaled_resize(
    name: str, wh: tuple[int, int], alpha: float, device, assets: str = DEFAULT_ASSETS
) -> torch.Tensor:
    """The resized texture times ``alpha``: the overlay's term of the blend, made once."""
    return _resize(name, wh, device, assets) * alpha


# The last few sizes of the foreground's box, resized once each: the box keeps its size while the
# arm holds still, and the resize is most of an overlaid frame's cost. Read-only for callers.
_resized = lru_cache(maxsize=RESIZED_CACHE_SIZE)(_scaled_resize)


def _whole(name: str, alpha: float, device, assets: str = DEFAULT_ASSETS) -> torch.Tensor:
    key = ("whole", assets, name, alpha, str(device))
    if key not in _TEXTURES:
        _TEXTURES[key] = _scaled_resize(name, WHOLE_TEXTURE_WH, alpha, device, assets)
    return _TEXTURES[key]


def _mix(rgb: torch.Tensor, over_term: torch.Tensor, alpha: float) -> torch.Tensor:
    """round(rgb * (1 - alpha) + over * alpha) as uint8, given ``over_term`` = over * alpha
    (the same float32 operations in the same order, in place: a frame's blend is its cost)."""
    out = rgb.to(torch.float32, copy=True).mul_(1 - alpha).add_(over_term)
    return out.round_().clamp_(0, 255).to(rgb.dtype)


def blend_(
    rgb: torch.Tensor, ov: Overlay, foreground: torch.Tensor, assets: str = DEFAULT_ASSETS
) -> torch.Tensor:
    """Blend the overlay into one (H, W, 3) uint8 frame, in place (and return it);
    ``foreground``: (H, W) bool; ``assets``: the asset set whose texture, at its ``mix`` (the
    weight is the overlay's alpha times the mix), is blended."""
    h, w = rgb.shape[:2]
    alpha = ov.alpha * asset_set(assets).overlay_mix(ov.name)
    if ov.mode == "whole":
        x, y = window_corner(foreground)
        over = _whole(ov.name, alpha, rgb.device, assets)[y : y + h, x : x + w]
        return rgb.copy_(_mix(rgb, over, alpha))
    box = bbox(foreground)
    if box is None:
        return rgb
    x0, y0, x1, y1 = box
    region = rgb[y0:y1, x0:x1]
    over = _resized(ov.name, (x1 - x0, y1 - y0), alpha, rgb.device, assets)
    mixed = _mix(region, over, alpha)
    paste_(region, mixed, foreground[y0:y1, x0:x1])
    return rgb
