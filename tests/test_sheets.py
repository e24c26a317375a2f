"""The contact-sheet commands, `vlthink assets` and `vlthink frames`, run as a user would, on real
SAPIEN scenes (one object and one receptacle, one env and seed: the full sheets take a minute)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from vlthink.sheets import assets
from vlthink.sheets.frames import CAPTION_H


def vlthink(*args):
    cmd = [sys.executable, "-m", "vlthink.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))


def test_window_origin_centres_and_stays_inside_the_frame():
    assert assets.window_origin(100.0, 48, 224) == 76
    assert assets.window_origin(3.0, 48, 224) == 0
    assert assets.window_origin(220.0, 48, 224) == 224 - 48


def test_select_names_every_asset_or_the_chosen_ones():
    every = assets.select()
    assert len(every["objects"]) == 25 and len(every["receptacles"]) == 17
    assert assets.select(["carrot", "plate"]) == {"objects": ["carrot"], "receptacles": ["plate"]}
    with pytest.raises(KeyError, match="carot"):
        assets.select(["carot"])


def _cell(sheet: Image.Image, width: int) -> np.ndarray:
    """The first cell's pixels, under the title."""
    return np.asarray(sheet)[assets.TITLE_H : sheet.height - assets.LABEL_H, :width].astype(int)


def test_assets_writes_the_bridge_camera_sheets(tmp_path):
    out = vlthink("assets", "--out", str(tmp_path), "--only", "carrot", "--only", "plate")
    assert out.returncode == 0, out.stdout + out.stderr
    kind = assets.KINDS["objects"]
    side = kind.window * kind.zoom
    objects = Image.open(tmp_path / "objects.png").convert("RGB")
    assert objects.size == (2 * side, assets.TITLE_H + side + assets.LABEL_H)  # policy | camera
    for pane in (_cell(objects, side), _cell(objects, 2 * side)[:, side:]):
        r, b = pane[..., 0], pane[..., 2]
        assert ((r - b) > 150).mean() > 0.01  # the carrot's orange (the light wood table: 0)
    rec = assets.KINDS["receptacles"]
    receptacles = Image.open(tmp_path / "receptacles.png").convert("RGB")
    assert receptacles.width == rec.window * rec.zoom
    plate = _cell(receptacles, receptacles.width)
    h, w = plate.shape[:2]
    assert (plate[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].min(-1) > 220).mean() > 0.5  # white
    looks = Image.open(tmp_path / "table_looks.png").convert("RGB")
    cw, ch = assets.LOOK_CELL
    assert looks.size == (7 * cw, assets.TITLE_H + 3 * (ch + assets.LABEL_H))  # 21 looks
    blue = np.asarray(looks)[assets.TITLE_H : assets.TITLE_H + ch, cw : 2 * cw].astype(int)
    assert (blue[..., 2] - blue[..., 0]).mean() > 60  # look 2, the blue plastic table


def test_assets_unknown_name_is_one_clear_line(tmp_path):
    out = vlthink("assets", "--out", str(tmp_path), "--only", "carot")
    assert out.returncode == 2
    assert "carrot" in out.stderr and "Traceback" not in out.stderr


def test_frames_writes_one_captioned_frame_per_env_and_seed_at_the_scale_asked(tmp_path):
    out = vlthink(
        "frames",
        "VLThink-Parity-v0",
        "--seeds",
        "2",
        "--scale",
        "0.4",
        "--out",
        str(tmp_path / "f.png"),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    sheet = np.asarray(Image.open(tmp_path / "f.png").convert("RGB"))
    assert sheet.shape == (192 + CAPTION_H, 2 * 256, 3)  # 0.4 x the 640x480 frame, two seeds
    frames = sheet[CAPTION_H:, :256], sheet[CAPTION_H:, 256:]
    assert all(f.std() > 20 for f in frames)  # a scene, not a blank frame
    assert np.abs(frames[0].astype(int) - frames[1]).mean() > 1  # seeds differ
