"""Attention diagnostic: tiny models whose attention is known in advance (built from configs with
crafted weights, no download), the sdpa switch, and one run on real VL-Think scenes."""

import json

import numpy as np
import pytest

from vlthink.diagnostics.attention import scene_maps, scene_rows
from vlthink.diagnostics.forward import ensure_attention_weights, run_pass
from vlthink.diagnostics.models import load_model
from vlthink.diagnostics.patch_grid import region_shares
from vlthink.diagnostics.rundir import DiagnosticsError

H, W = 480, 640
RECTS = {  # (x0, y0, x1, y1) px, aligned to the 16 x 16 grid's 40 x 30 px cells of a resized frame
    "target": ((80, 60, 200, 120), (255, 0, 0)),  # 3 x 2 cells, the only red thing
    "distractor": ((400, 60, 520, 150), (0, 0, 255)),  # 3 x 3 cells
    "robot": ((280, 0, 360, 90), (20, 20, 20)),
    "carrot": ((240, 300, 320, 330), (0, 200, 0)),
}
TARGET_CELLS = 6

pytest_plugins = ("tiny_models",)  # the tiny-checkpoint fixtures


def _frame():
    img = np.full((H, W, 3), 128, np.uint8)
    masks = {}
    for name, ((x0, y0, x1, y1), colour) in RECTS.items():
        img[y0:y1, x0:x1] = colour
        masks[name] = np.zeros((H, W), bool)
        masks[name][y0:y1, x0:x1] = True
    return img, masks


def _scores(model_dir, layers=None):
    lm = load_model(str(model_dir))
    layers = layers if layers is not None else list(range(lm.n_layers))
    img, masks = _frame()
    asked = run_pass(lm, img, "do you see red square ?", attention=True)
    describe = run_pass(lm, img, "what ?", attention=True)
    shares = region_shares(masks, asked.geometry)
    return scene_rows(scene_maps(asked, describe, layers), shares, asked, layers), asked


def test_attention_forced_on_the_target_scores_mass_one(tiny_prismatic_target_dir):
    rows, asked = _scores(tiny_prismatic_target_dir)
    assert asked.geometry.grid == (16, 16) and list(asked.visual) == list(range(1, 257))
    assert {r["layer"] for r in rows} == {"0", "1", "mean"} and {r["map"] for r in rows} == {
        "raw",
        "ratio",
    }
    for r in rows:
        assert r["mass_target"] == pytest.approx(1.0, abs=1e-6), r
        assert r["pointing"] == 1
        assert r["area_target"] == pytest.approx(TARGET_CELLS / 256)
        assert r["lift_target"] == pytest.approx(256 / TARGET_CELLS, rel=1e-5)
        assert r["mass_distractor"] + r["mass_robot"] + r["mass_background"] < 1e-6


def test_uniform_attention_scores_the_area_share(tiny_prismatic_uniform_dir):
    rows, _ = _scores(tiny_prismatic_uniform_dir)
    for r in rows:
        assert r["mass_target"] == pytest.approx(TARGET_CELLS / 256, abs=1e-6)
        assert r["mass_distractor"] == pytest.approx(9 / 256, abs=1e-6)
        assert r["lift_target"] == pytest.approx(1.0, abs=1e-4)
        assert sum(
            r[f"mass_{k}"] for k in ("target", "distractor", "robot", "carrot", "background")
        ) == pytest.approx(1.0)


def test_llava_visual_tokens_are_where_the_image_tokens_are(tiny_llava_dir, tmp_path):
    """Keys only on image tokens -> all attention on them; uniform queries -> their count share."""
    from tiny_models import build_tiny_llava_crafted

    rows, asked = _scores(tiny_llava_dir)
    assert asked.geometry.grid == (4, 4) and len(asked.visual) == 16
    assert all(r["visual_share"] > 0.999 for r in rows)
    np.testing.assert_allclose(asked.visual_attention(0), 1 / 16, rtol=1e-5)  # equal keys
    rows_u, asked_u = _scores(build_tiny_llava_crafted(tmp_path / "llava_uniform", "uniform"))
    assert rows_u[0]["visual_share"] == pytest.approx(16 / len(asked_u.token_ids), rel=1e-5)


def test_sdpa_model_is_switched_to_eager_or_refused(tiny_llava_dir):
    lm = load_model(str(tiny_llava_dir), attn_implementation="sdpa")
    img, _ = _frame()
    with pytest.raises(DiagnosticsError, match="no attention weights"):
        run_pass(lm, img, "do you see red ?", attention=True)  # never read as empty
    with pytest.raises(DiagnosticsError, match=r"'sdpa'.*--attn refuse"):
        ensure_attention_weights(lm, "refuse")
    assert ensure_attention_weights(lm, "switch") == "switched sdpa -> eager"
    assert lm.describe()["attn_implementation"] == "eager"
    assert run_pass(lm, img, "do you see red ?", attention=True).attn_last.shape[0] == lm.n_layers


def test_a_model_of_no_known_family_is_refused(tmp_path):
    from tiny_models import build_tiny_openvla

    with pytest.raises(DiagnosticsError, match="model_type 'tinyvla' is not a family"):
        load_model(str(build_tiny_openvla(tmp_path / "vla")))


def test_attention_run_on_vl_think_scenes_resumes_and_reports_occlusion(
    tiny_prismatic_target_dir, tmp_path, capsys
):
    import pandas as pd

    from vlthink.cli import main

    out = tmp_path / "att"
    args = [
        "diagnose",
        "attention",
        "--model",
        str(tiny_prismatic_target_dir),
        "--out",
        str(out),
        "--envs",
        "Shape",
        "Parity",
        "--episodes",
        "1",
        "--no-progress",
    ]
    assert main(args) == 0
    summary = pd.read_csv(out / "attention_summary.csv")
    assert set(summary["domain"]) == {"Shape", "Parity", "all"}
    assert (summary["target_in_view"] == 1.0).all()  # resize-naive: the whole frame is seen
    masses = summary.filter(like="mass_").sum(axis=1)
    np.testing.assert_allclose(masses, 1.0, atol=1e-6)
    occ = pd.read_csv(out / "occlusion.csv").set_index(["layout", "position"])
    assert (
        occ.loc[("3 boards", "center"), "robot_share"]
        > occ.loc[("3 boards", "left"), "robot_share"]
        > 0
    )
    assert occ.loc[("3 boards", "right"), "robot_share"] == 0
    assert (occ["visible_outside"] == 0).all() and (occ["other_share"] < 0.01).all()  # corners fit
    assert (out / "diagnostics_attention_shape.png").stat().st_size > 10_000
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        manifest["model"]["attn_implementation"] == "eager" and manifest["environment"]["versions"]
    )
    n_rows = len((out / "items.jsonl").read_text().splitlines())
    assert main(args) == 0 and len((out / "items.jsonl").read_text().splitlines()) == n_rows
    capsys.readouterr()
    assert main(args + ["--layers", "0"]) == 2
    err = capsys.readouterr().err
    assert "layers" in err and "new --out" in err and len(err.strip().splitlines()) == 1


def test_qwen25vl_grid_from_image_grid_thw_and_uniform_attention(tmp_path):
    """Qwen2.5-VL: dynamic resolution (640 x 480 -> 448 x 336 -> 12 x 16 merged tokens of 40 px
    of the frame), visual tokens at the <|image_pad|> ids, uniform queries -> area share."""
    from tiny_models import build_tiny_qwen25vl, load_tiny_qwen

    lm = load_tiny_qwen(build_tiny_qwen25vl(tmp_path / "qwen", craft="uniform"))
    img = np.full((H, W, 3), 128, np.uint8)
    target = np.zeros((H, W), bool)
    target[80:160, 80:200] = True  # 3 x 2 cells of 40 x 40 px
    asked = run_pass(lm, img, "do you see red ?", attention=True)
    describe = run_pass(lm, img, "what ?", attention=True)
    assert asked.geometry.grid == (12, 16) and len(asked.visual) == 192
    assert asked.visual_share(0) == pytest.approx(192 / len(asked.token_ids), rel=1e-5)
    shares = region_shares({"target": target}, asked.geometry)
    rows = scene_rows(scene_maps(asked, describe, [0, 1]), shares, asked, [0, 1])
    assert all(r["area_target"] == pytest.approx(6 / 192) for r in rows)
    assert all(r["lift_target"] == pytest.approx(1.0, abs=1e-4) for r in rows)


def test_llava_crafted_target_checks_the_centre_crop_and_the_grid_order(tmp_path):
    """Through CLIP's resize + centre crop (x in [75, 555) of the frame for this 32 px model, a
    4 x 4 grid of 120 px cells) the crafted model attends to mostly-red cells only: a red target
    in cell (row 2, column 2) gets all of it, a red square left of the crop none."""
    from tiny_models import build_tiny_llava_crafted

    lm = load_model(str(build_tiny_llava_crafted(tmp_path / "llava_target", "target")))
    img = np.full((H, W, 3), 128, np.uint8)
    target = np.zeros((H, W), bool)
    target[240:360, 315:435] = True  # row 2, column 2 (0-based) of the crop's grid
    img[target] = (255, 0, 0)
    img[300:400, 0:70] = (255, 0, 0)  # red, but cropped away by the processor
    asked = run_pass(lm, img, "do you see red ?", attention=True)
    describe = run_pass(lm, img, "what ?", attention=True)
    assert asked.geometry.box == pytest.approx((75.0, 0.0, 555.0, 480.0))
    amap = asked.visual_attention(0)
    assert amap[2, 2] == pytest.approx(1.0, abs=1e-6)
    rows = scene_rows(
        scene_maps(asked, describe, [0]),
        region_shares({"target": target}, asked.geometry),
        asked,
        [0],
    )
    assert all(
        r["mass_target"] == pytest.approx(1.0, abs=1e-6) and r["pointing"] == 1 for r in rows
    )
