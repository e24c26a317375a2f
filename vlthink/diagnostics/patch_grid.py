"""Where the pixels of a camera frame land on a model's patch grid, and where boards are.

A processor turns the frame into the model's input by a resize, possibly after a centre crop
(CLIP) or a square pad (Prismatic's ``letterbox``). All of these are an axis-aligned *box* in
frame pixel coordinates (it may reach outside the frame, for padding) that is scaled onto the
model input; the patch grid divides that box into ``rows x cols`` equal cells. So a region mask
of the frame maps onto the grid as the share of each cell's area that the region covers
(padding covers nothing).

Boards: the eight corners of a board's box, projected with the camera's ``intrinsic_cv`` and
``extrinsic_cv`` (what ManiSkill puts in ``obs["sensor_param"]``), give its full silhouette (a
box is convex, so the silhouette is the hull of the projected corners); comparing it with the
board's visible segmentation says how much of it the robot hides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Regions every patch is assigned to, in this order (a patch's label is the region covering
#: the largest share of it).
REGIONS = ("target", "distractor", "robot", "carrot", "background")


@dataclass(frozen=True)
class Geometry:
    """A frame of ``frame_hw`` pixels seen through ``box`` (x0, y0, x1, y1; pixels) on a grid."""

    frame_hw: tuple[int, int]
    box: tuple[float, float, float, float]
    grid: tuple[int, int]  # (rows, cols) of visual tokens, row-major in the sequence

    @property
    def n_patches(self) -> int:
        return self.grid[0] * self.grid[1]


def full_box(h: int, w: int) -> tuple[float, float, float, float]:
    """Naive resize (OpenVLA's ``resize-naive``, Qwen2.5-VL's smart resize): the whole frame."""
    return (0.0, 0.0, float(w), float(h))


def letterbox_box(h: int, w: int) -> tuple[float, float, float, float]:
    """Pad to a centred square, then resize (Prismatic's ``letterbox``)."""
    side = float(max(h, w))
    return ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)


def center_crop_box(
    h: int, w: int, crop_hw: tuple[int, int], shortest_edge: int | None
) -> tuple[float, float, float, float]:
    """Resize the shortest edge to ``shortest_edge`` (None: no resize), then crop ``crop_hw``
    from the centre (CLIP's image processor, used by LLaVA-1.5)."""
    if shortest_edge is None:
        scale, rh, rw = 1.0, h, w
    else:  # as transformers: the short side becomes `shortest_edge`, the long one is floored
        scale = shortest_edge / min(h, w)
        rh, rw = (
            (shortest_edge, int(shortest_edge * w / h))
            if h <= w
            else (int(shortest_edge * h / w), shortest_edge)
        )
    top, left = int(round((rh - crop_hw[0]) / 2)), int(round((rw - crop_hw[1]) / 2))
    return (left / scale, top / scale, (left + crop_hw[1]) / scale, (top + crop_hw[0]) / scale)


def patch_shares(mask: np.ndarray, geo: Geometry) -> np.ndarray:
    """(rows, cols) share of each grid cell's area covered by the True pixels of ``mask``.

    A pixel belongs to the cell its centre falls in; pixels outside the box are cropped away."""
    h, w = mask.shape
    if (h, w) != tuple(geo.frame_hw):
        raise ValueError(
            f"mask is {h}x{w}, the geometry is for {geo.frame_hw[0]}x{geo.frame_hw[1]}"
        )
    x0, y0, x1, y1 = geo.box
    rows, cols = geo.grid
    cx = np.floor(((np.arange(w) + 0.5) - x0) / (x1 - x0) * cols).astype(int)
    cy = np.floor(((np.arange(h) + 0.5) - y0) / (y1 - y0) * rows).astype(int)
    ys, xs = np.nonzero(mask)
    r, c = cy[ys], cx[xs]
    keep = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
    counts = np.zeros((rows, cols))
    np.add.at(counts, (r[keep], c[keep]), 1.0)
    cell_area = (x1 - x0) / cols * (y1 - y0) / rows  # px^2 of frame per cell (padding included)
    return np.clip(counts / cell_area, 0.0, 1.0)


def region_shares(masks: dict[str, np.ndarray], geo: Geometry) -> np.ndarray:
    """(len(REGIONS), rows, cols): per region the share of every cell. ``background`` is what
    the other regions leave (padding included), so the shares of a cell sum to 1."""
    out = np.zeros((len(REGIONS), *geo.grid))
    for i, name in enumerate(REGIONS[:-1]):
        if name in masks:
            out[i] = patch_shares(masks[name], geo)
    out[-1] = np.clip(1.0 - out[:-1].sum(0), 0.0, 1.0)
    return out


def patch_labels(shares: np.ndarray) -> np.ndarray:
    """(rows, cols) index into REGIONS of the region covering the largest share of each cell."""
    return np.argmax(shares, axis=0)


# --- camera projection ----------------------------------------------------------------------------


def box_corners(center: np.ndarray, half_size: tuple[float, float, float]) -> np.ndarray:
    """(8, 3) world corners of an axis-aligned box (boards lie unrotated on the table)."""
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
    return np.asarray(center, float)[None] + signs * np.asarray(half_size, float)[None]


def project(points: np.ndarray, intrinsic: np.ndarray, extrinsic: np.ndarray) -> np.ndarray:
    """(N, 2) pixel coordinates (x right, y down; OpenCV) of world points."""
    p = np.c_[points, np.ones(len(points))] @ np.asarray(extrinsic, float)[:3].T
    uv = p @ np.asarray(intrinsic, float).T
    return uv[:, :2] / uv[:, 2:3]


def hull_mask(points_xy: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """(H, W) mask of the pixels whose centres lie inside the convex hull of ``points_xy``."""
    from scipy.spatial import ConvexHull

    hull = points_xy[ConvexHull(points_xy).vertices]  # counter-clockwise
    h, w = hw
    x0, y0 = np.floor(hull.min(0)).astype(int)
    x1, y1 = np.ceil(hull.max(0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    out = np.zeros(hw, bool)
    if x1 <= x0 or y1 <= y0:
        return out
    gx, gy = np.meshgrid(np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5)
    inside = np.ones(gx.shape, bool)
    for a, b in zip(hull, np.roll(hull, -1, axis=0)):
        inside &= (b[0] - a[0]) * (gy - a[1]) - (b[1] - a[1]) * (gx - a[0]) >= 0
    out[y0:y1, x0:x1] = inside
    return out
