"""Geometry of the diagnostics: frame regions onto patch grids, checked against known corners
and against the real processors (tiny checkpoints built from configs, no download)."""

import numpy as np
import pytest

from vlthink.diagnostics.patch_grid import (
    Geometry,
    box_corners,
    center_crop_box,
    full_box,
    hull_mask,
    letterbox_box,
    patch_labels,
    patch_shares,
    project,
    region_shares,
)

H, W = 480, 640  # the Bridge camera frame

pytest_plugins = ("tiny_models",)  # the tiny-checkpoint fixtures


def _rect(x0, y0, x1, y1, hw=(H, W)):
    m = np.zeros(hw, bool)
    m[y0:y1, x0:x1] = True
    return m


def test_resize_naive_rectangle_on_known_cells():
    geo = Geometry((H, W), full_box(H, W), (16, 16))  # cells of 40 x 30 px
    shares = patch_shares(_rect(80, 60, 200, 120), geo)  # columns 2..4, rows 2..3, whole cells
    expect = np.zeros((16, 16))
    expect[2:4, 2:5] = 1.0
    np.testing.assert_allclose(shares, expect)
    half = patch_shares(_rect(80, 60, 100, 90), geo)  # half of cell (2, 2)
    assert half[2, 2] == pytest.approx(0.5) and half.sum() == pytest.approx(0.5)


def test_center_crop_drops_the_sides_and_letterbox_pads():
    crop = Geometry((H, W), center_crop_box(H, W, (336, 336), 336), (24, 24))
    assert crop.box == pytest.approx((80.0, 0.0, 560.0, 480.0))  # 640 -> 448 wide, 56 px each side
    assert patch_shares(_rect(0, 0, 80, 480), crop).sum() == 0  # cropped away
    assert patch_shares(_rect(80, 0, 100, 20), crop)[0, 0] == pytest.approx(1.0)
    box = Geometry((H, W), letterbox_box(H, W), (16, 16))  # a 640 x 640 square, 80 px bands
    full = patch_shares(np.ones((H, W), bool), box)
    assert full[0].sum() == 0 and full[-1].sum() == 0 and full[8].min() == pytest.approx(1.0)
    assert full.mean() == pytest.approx(H / W)  # the padding counts as nothing


def test_in_view_counts_what_a_centre_crop_keeps():
    from vlthink.diagnostics.attention_run import in_view

    crop = Geometry((H, W), center_crop_box(H, W, (336, 336), 336), (24, 24))  # x in [80, 560)
    assert in_view(_rect(500, 100, 600, 150), crop) == pytest.approx(0.6)
    assert in_view(_rect(500, 100, 600, 150), Geometry((H, W), full_box(H, W), (16, 16))) == 1.0


def test_region_shares_sum_to_one_and_labels_follow_the_largest_share():
    geo = Geometry((H, W), full_box(H, W), (16, 16))
    masks = {"target": _rect(80, 60, 190, 120), "robot": _rect(190, 60, 240, 120)}  # cell 4 split
    shares = region_shares(masks, geo)
    np.testing.assert_allclose(shares.sum(0), 1.0)
    assert shares[0, 2, 4] == pytest.approx(0.75) and shares[2, 2, 4] == pytest.approx(0.25)
    labels = patch_labels(shares)
    assert (labels[2:4, 2:5] == 0).all() and (labels[2:4, 5] == 2).all() and labels[0, 0] == 4


def test_projected_box_corners_match_a_known_pinhole_frame():
    """A board seen straight down from 1 m: its corners land where the pinhole model says."""
    f, cx, cy = 600.0, 320.0, 240.0
    intrinsic = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1]])
    extrinsic = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1.0]])  # world z=0 at 1 m depth
    corners = box_corners(np.array([0.1, 0.05, 0.0]), (0.05, 0.05, 0.0))
    uv = project(corners, intrinsic, extrinsic)
    assert uv[:, 0].min() == pytest.approx(cx + f * 0.05) and uv[:, 0].max() == pytest.approx(
        cx + f * 0.15
    )
    assert uv[:, 1].min() == pytest.approx(cy) and uv[:, 1].max() == pytest.approx(cy + f * 0.1)
    mask = hull_mask(uv, (H, W))
    assert mask.sum() == pytest.approx(60 * 60, abs=2 * 60)  # a 60 x 60 px square
    assert mask[270, 380] and not mask[270, 300]


def _coordinate_image():
    """x encoded in red, y in green (0..255 across the frame)."""
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 0] = np.round(np.linspace(0, 255, W))[None, :]
    img[..., 1] = np.round(np.linspace(0, 255, H))[:, None]
    return img


@pytest.mark.parametrize("kind", ["llava", "prismatic"])
def test_family_geometry_matches_the_processor(kind, tiny_llava_dir, tiny_prismatic_dir):
    """Run a coordinate-coded frame through the real processor and read back which frame
    columns reach the model's first and last input columns: the family's box must agree."""
    from vlthink.diagnostics.forward import _inputs
    from vlthink.diagnostics.models import load_model

    lm = load_model(str(tiny_llava_dir if kind == "llava" else tiny_prismatic_dir))
    inputs = _inputs(lm, _coordinate_image(), "do you see red ?")
    px = inputs["pixel_values"][0].numpy()
    ip = lm.processor.image_processor
    if kind == "llava":
        mean, std = np.array(ip.image_mean)[:, None, None], np.array(ip.image_std)[:, None, None]
    else:
        mean, std = np.array(ip.means[0])[:, None, None], np.array(ip.stds[0])[:, None, None]
    rgb = (px * std + mean) * 255.0
    x_first, x_last = rgb[0, :, 0].mean() / 255 * W, rgb[0, :, -1].mean() / 255 * W
    n = len(run_geometry(lm))
    geo = lm.family.geometry(lm.processor, (H, W), inputs, n)
    cols = px.shape[-1]
    step = (geo.box[2] - geo.box[0]) / cols  # frame px per model input column
    assert x_first == pytest.approx(geo.box[0] + step / 2, abs=step + 3)
    assert x_last == pytest.approx(geo.box[2] - step / 2, abs=step + 3)


def run_geometry(lm):
    from vlthink.diagnostics.forward import run_pass

    return run_pass(lm, _coordinate_image(), "do you see red ?").visual
