"""The real original asset pack, where ``VLTHINK_ORIGINAL_ASSETS`` points at one (skipped
otherwise). A copy that lacks files (a snapshot without its largest files) is refused unless
``VLTHINK_ORIGINAL_UNVERIFIED=1`` says to use it anyway."""

from __future__ import annotations

import os

import numpy as np
import pytest

from vlthink.assets.original import pack
from vlthink.envs.ids import ENV_IDS

pytestmark = pytest.mark.skipif(
    not os.environ.get(pack.ENV_VAR), reason=f"{pack.ENV_VAR} does not point at a pack"
)


@pytest.fixture(scope="module")
def assets():
    from vlthink.assets.sets import asset_set

    return asset_set("original")


def test_every_object_and_receptacle_mesh_fills_its_db_bounding_box(assets):
    for spec in [*assets.objects.values(), *assets.receptacles.values()]:
        verts = np.vstack([p.vertices for p in spec.pieces])
        extent = verts.max(0) - verts.min(0)
        assert extent == pytest.approx(2 * np.asarray(spec.half_size), abs=0.006), spec.name
        assert spec.density > 0 and spec.half_height > 0


def test_every_board_table_picture_and_overlay_is_in_the_pack(assets):
    from vlthink.assets.overlay_textures import OVERLAY_TEXTURES
    from vlthink.assets.table_looks import TABLE_LOOKS
    from vlthink.boards.catalogue import BOARDS

    assert set(assets._boards) == set(BOARDS)
    assert all(assets.table_picture(look).shape == (480, 640, 3) for look in TABLE_LOOKS)
    assert all(assets.overlay_mix(name) == 1.0 for name in OVERLAY_TEXTURES)
    assert assets.carrot.key == "001_carrot_simpler"


def _first_frame(env, seed: int) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    return env.unwrapped.camera_images(obs)[0].copy()


def test_the_same_seed_gives_the_same_first_frame_on_the_pack_s_meshes():
    import gymnasium as gym

    import vlthink.envs  # noqa: F401

    env = gym.make("VLThink-OOD-Plate-v0", assets="original")
    try:
        first = _first_frame(env, 5)
        _first_frame(env, 11)
        again = _first_frame(env, 5)
    finally:
        env.close()
    assert np.array_equal(first, again)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_env_makes_resets_and_steps_on_the_pack(env_id):
    import gymnasium as gym

    env = gym.make(env_id, assets="original")
    try:
        env.reset(seed=0)
        for _ in range(2):
            _, _, _, truncated, info = env.step(env.action_space.sample())
    finally:
        env.close()
    assert "success" in info and not bool(truncated)


def test_each_arrow_board_points_the_way_its_name_says_on_the_slab(assets):
    from vlthink.boards.catalogue import BOARDS

    # The slab shows its picture upright in the camera frame (rows along +x, towards the
    # camera); an arrow's head is where its dark pixels spread widest across the shaft.
    for key in (b.key for b in BOARDS.values() if b.family == "arrow"):
        dark = assets.board_texture(key)["image"].mean(-1) < 100
        rows, cols = np.nonzero(dark)
        along_cols = np.ptp(cols) > np.ptp(rows)
        axis, across = (cols, rows) if along_cols else (rows, cols)
        lo, hi = np.percentile(axis, 15), np.percentile(axis, 85)
        head_high = np.ptp(across[axis >= hi]) > np.ptp(across[axis <= lo])
        way = {(True, True): "right", (True, False): "left", (False, True): "down"}
        assert way.get((along_cols, head_high), "up") == BOARDS[key].concept, key
