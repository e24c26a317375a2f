"""The image pipeline of the paper's eval, on real SAPIEN scenes: "default" shader pack, robot
render material, lights, the table-look backdrop (a green screen in the same render pass, or
pasted in with the same pixels) and the Tex / Whole overlays that follow the foreground."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import sapien
import torch

import vlthink  # noqa: F401  (registers the envs)
from vlthink.assets.table_looks import TABLE_LOOKS
from vlthink.envs.ood import overlays
from vlthink.scene.backdrop import BACKDROP_DEPTH
from vlthink.scene.widowx import CAMERA_UID

# m per step in the base frame: towards the camera and sideways, gripper open
MOVE = torch.tensor([-0.03, 0.03, -0.01, 0, 0, 0, 1.0])


@pytest.fixture(scope="module")
def tex_env():
    env = gym.make("VLThink-OOD-Tex05-v0", render_mode="rgb_array")
    yield env
    env.close()


def camera_obs(env, obs=None) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """rgb (H, W, 3), segmentation (H, W) and the raw (1, H, W, 1) segmentation tensor."""
    obs = env.unwrapped.get_obs() if obs is None else obs
    cam = obs["sensor_data"][CAMERA_UID]
    return cam["rgb"][0].numpy(), cam["segmentation"][0, ..., 0].numpy(), cam["segmentation"]


def test_cameras_use_the_default_shader_pack_and_callers_can_override(tex_env):
    u = tex_env.unwrapped
    assert u.scene.sensors[CAMERA_UID].config.shader_pack == "default"  # the agent's camera
    assert u.scene.human_render_cameras["render_camera"].config.shader_pack == "default"
    other = gym.make("VLThink-Parity-v0", sensor_configs={"shader_pack": "minimal"})
    try:
        assert other.unwrapped.scene.sensors[CAMERA_UID].config.shader_pack == "minimal"
    finally:
        other.close()


def test_robot_render_material_and_lights(tex_env):
    u = tex_env.unwrapped
    parts = [
        part
        for link in u.agent.robot.links
        for entity in link._objs
        if (body := entity.entity.find_component_by_type(sapien.render.RenderBodyComponent))
        for shape in body.render_shapes
        for part in shape.parts
    ]
    assert len(parts) > 10
    assert all(abs(p.material.specular - 0.9) < 1e-6 for p in parts)
    assert all(abs(p.material.roughness - 0.3) < 1e-6 for p in parts)
    sub = u.scene.sub_scenes[0]
    assert np.allclose(sub.render_system.ambient_light, [0.3] * 3)
    lights = [
        c
        for e in sub.entities
        for c in e.components
        if isinstance(c, sapien.render.RenderDirectionalLightComponent)
    ]
    assert sorted(round(float(c.color[0]), 3) for c in lights) == [0.7, 0.7, 2.2]
    assert not any(c.shadow for c in lights)


def test_background_pixels_are_the_table_image_and_follow_the_look(tex_env):
    u = tex_env.unwrapped
    tex_env.reset(seed=0)
    rgb, seg, _ = camera_obs(tex_env)
    bg = seg == int(u.backdrop.seg_ids[0])
    assert bg.mean() > 0.5 and bg[-40:, -40:].all(), "the bottom-right corner shows only table"
    img = u.backdrop.image(u.backdrop.looks[0])
    assert np.abs(rgb[bg].astype(int) - img[bg]).max() <= 1
    other = next(n for n in TABLE_LOOKS if n != u.backdrop.looks[0])
    u.set_table_look(other)
    rgb2, _, _ = camera_obs(tex_env)
    img2 = u.backdrop.image(other)
    assert np.abs(rgb2[bg].astype(int) - img2[bg]).max() <= 1
    assert np.any(rgb2[-40:, -40:] != rgb[-40:, -40:]), "the corner changes with the look"
    # The human render camera (same pose and intrinsics) shows the same background.
    human = tex_env.render()[0].numpy()
    assert np.abs(human[bg].astype(int) - img2[bg]).max() <= 1
    # Depth: the backdrop's depth behind the table, the real depth in front of it (in a capture
    # that draws the backdrop: a composited one has nothing behind the table).
    u.composite_backdrop = False
    u.get_obs()
    u.composite_backdrop = True
    depth = (
        u.scene.sensors[CAMERA_UID]
        .get_obs(rgb=False, depth=True, position=False, segmentation=False)["depth"][0, ..., 0]
        .numpy()
    )
    assert np.all(np.abs(depth[bg] - BACKDROP_DEPTH * 1000) < 2)  # mm
    assert np.all(depth[(seg != 0) & ~bg] < 1000)


def _move_arm(env, steps=4):
    for _ in range(steps):
        obs = env.step(MOVE)[0]
    return obs


def test_tex_mask_covers_every_actor_and_follows_the_arm(tex_env):
    u = tex_env.unwrapped
    obs, _ = tex_env.reset(seed=0)
    rgb, seg, raw = camera_obs(tex_env, obs)
    fg = u.backdrop.foreground(raw)[0]
    for actor in (u.receptacles[int(u.rec_idx[0])], u.objects[int(u.obj_idx[0])]):
        pixels = seg == int(actor.per_scene_id[0])
        assert pixels.sum() > 100 and fg.numpy()[pixels].all()
    box = overlays.bbox(fg)
    obs = _move_arm(tex_env)
    _, _, raw2 = camera_obs(tex_env, obs)
    assert overlays.bbox(u.backdrop.foreground(raw2)[0]) != box, "the box follows the arm"


def test_whole_window_follows_the_arm():
    env = gym.make("VLThink-OOD-Whole05-v0")
    try:
        u = env.unwrapped
        obs, _ = env.reset(seed=0)
        corner = overlays.window_corner(u.backdrop.foreground(camera_obs(env, obs)[2])[0])
        obs = _move_arm(env)
        moved = overlays.window_corner(u.backdrop.foreground(camera_obs(env, obs)[2])[0])
        assert moved != corner
    finally:
        env.close()


def test_frames_are_deterministic_per_seed(tex_env):
    first = camera_obs(tex_env, tex_env.reset(seed=3)[0])[0]
    tex_env.reset(seed=4)
    again = camera_obs(tex_env, tex_env.reset(seed=3)[0])[0]
    assert np.array_equal(first, again)


def test_bodies_are_sorted_against_the_backdrop_plane_by_their_boxes():
    """A box wholly beyond the plane is hidden with the backdrop; one that crosses it in view
    makes the capture draw the backdrop; one outside the view, or in front, changes nothing."""
    from vlthink.scene.backdrop import depth_sort, view_planes

    pose = sapien.Pose([0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0])  # SAPIEN camera: looks along +x
    planes = view_planes(((100.0, 0.0, 50.0), (0.0, 100.0, 50.0), (0.0, 0.0, 1.0)), (100, 100))

    def box(x, y=0.0, half=0.05):
        c = np.array([x, y, 0.0])
        return np.stack([c - half, c + half])

    boxes = np.stack([box(1.0), box(2.0), box(1.5), box(1.5, y=5.0), box(1.505, half=0.002)])
    behind, crossing = depth_sort(boxes, pose, planes, 1.5)
    assert behind.tolist() == [False, True, False, False, False]
    # in view across the plane; off to the side (y = 5 m at 1.5 m depth: out of view); within
    # the margin of the plane
    assert crossing.tolist() == [False, False, True, False, True]


@pytest.mark.parametrize("obs_mode", ["rgb+segmentation", "rgb"])
def test_a_composited_capture_is_the_drawn_one_pixel_for_pixel(obs_mode):
    """On a CPU render the backdrop is pasted in rather than drawn: frames and segmentation are
    the drawn backdrop's, with things parked behind it hidden; a thing that crosses its plane in
    view makes that capture draw it. In rgb mode the empty pixels come from the colour's alpha,
    and the segmentation is read only when asked for."""
    pasted, drawn = (gym.make("VLThink-OOD-Train-v0", obs_mode=obs_mode) for _ in range(2))
    drawn.unwrapped.composite_backdrop = False

    def capture(env, obs):
        u = env.unwrapped
        return obs["sensor_data"][CAMERA_UID], u.camera_segmentation(), u.camera_foreground()

    try:
        rng = np.random.default_rng(0)
        frames = [tuple(capture(e, e.reset(seed=2)[0]) for e in (pasted, drawn))]
        for _ in range(3):
            action = torch.from_numpy(rng.uniform(-0.5, 0.5, 7).astype(np.float32))
            frames.append(tuple(capture(e, e.step(action)[0]) for e in (pasted, drawn)))
        assert pasted.unwrapped._composited is not None and drawn.unwrapped._composited is None
        # A parked thing moved onto the optical axis at the backdrop's depth: it crosses.
        u = pasted.unwrapped
        cam = u.scene.sensors[CAMERA_UID].camera.global_pose
        axis = cam.to_transformation_matrix()[0, :3, 0]
        spot = cam.p[0] + axis * BACKDROP_DEPTH
        name = next(n for n in u.object_names if n != u.object_names[int(u.obj_idx[0])])
        for env in (pasted, drawn):
            thing = env.unwrapped.objects[env.unwrapped.object_names.index(name)]
            thing.set_pose(sapien.Pose(spot.tolist()))
        frames.append(tuple(capture(e, e.unwrapped.get_obs()) for e in (pasted, drawn)))
        assert u._composited is None, "a thing across the plane: the backdrop is drawn"
        for (a, a_seg, a_fg), (b, b_seg, b_fg) in frames:
            assert sorted(a) == sorted(b)
            for key in a:  # rgb, and segmentation where the obs mode has it
                assert torch.equal(a[key], b[key]), key
            assert torch.equal(a_seg, b_seg)
            assert torch.equal(a_fg, b_fg)
    finally:
        pasted.close()
        drawn.close()


def test_camera_view_images_are_cached_on_disk_under_a_key_of_what_they_show(tmp_path, monkeypatch):
    from vlthink.scene import backdrop

    monkeypatch.setenv("VLTHINK_CACHE", str(tmp_path))
    pose = sapien.Pose([0.0, 0.0, 1.2], [0.7071068, 0.0, 0.7071068, 0.0])  # looking straight down
    k = ((500.0, 0.0, 80.0), (0.0, 500.0, 60.0), (0.0, 0.0, 1.0))
    table = ((-0.5, -0.5), (0.5, 0.5), 0.87)

    def view(look, pose_key=None):
        backdrop._camera_view.cache_clear()  # the in-memory cache would hide the disk
        key = pose_key or backdrop._pose_key(pose)
        return backdrop._camera_view(look, key, k, (160, 120), table)

    drawn = view("plain table")
    files = list((tmp_path / "backdrops").glob("*.npy"))
    assert len(files) == 1 and len(np.unique(drawn.reshape(-1, 3), axis=0)) > 100  # the table
    fresh = backdrop.warp_table_image(
        backdrop.table_looks.table_texture("plain table"), pose, k, (160, 120), *table
    )
    assert np.array_equal(drawn, fresh) and np.array_equal(view("plain table"), fresh)
    # Another look, or another camera pose, is another picture in another file.
    other_look, other_pose = (
        view("grey table"),
        view("plain table", (0.05, 0.0, 1.2, 0.7071068, 0.0, 0.7071068, 0.0)),
    )
    assert len(list((tmp_path / "backdrops").glob("*.npy"))) == 3
    assert not np.array_equal(other_look, drawn) and not np.array_equal(other_pose, drawn)
    # A corrupt file is drawn again, not trusted.
    files[0].write_bytes(b"not an array")
    assert np.array_equal(view("plain table"), fresh)


def test_cache_files_are_written_whole_by_concurrent_writers(tmp_path):
    """Workers filling the same cache at once: the file is always one writer's whole version."""
    from concurrent.futures import ThreadPoolExecutor

    from vlthink.paths import atomic_write

    path = tmp_path / "meshes" / "thing.obj"
    versions = [f"# writer {i}\n" + "v 0 0 0\n" * 20000 for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda text: atomic_write(path, text), versions))
    assert path.read_text() in versions
    assert [p.name for p in path.parent.iterdir()] == ["thing.obj"], "no temporary file is left"
    atomic_write(path, b"bytes too")
    assert path.read_bytes() == b"bytes too"
