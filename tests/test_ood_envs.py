"""OOD-suite environments on the CPU: ids, splits, sampling rules, overlays, determinism, oracle."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import vlthink
from vlthink.assets.objects import OBJECTS_HELDOUT, OBJECTS_TRAIN, object_spec
from vlthink.assets.receptacles import RECEPTACLES_HELDOUT, RECEPTACLES_TRAIN
from vlthink.assets.table_looks import TABLE_LOOKS_HELDOUT, TABLE_LOOKS_TRAIN
from vlthink.envs import PLACED_ON
from vlthink.envs.ood import layout
from vlthink.envs.ood.episode import (
    ARM_OFFSETS,
    MOVE_STEP,
    TEMPLATE_TRAIN,
    TEMPLATES_HELDOUT,
    TEMPLATES_SPARE,
    draw_episode,
)
from vlthink.envs.ood.overlays import WHOLE_TEXTURE_WH, blend_, window_corner
from vlthink.envs.ood.variants import VARIANTS, env_id
from vlthink.policies.base import EpisodeSpec, Observation
from vlthink.policies.oracle import OraclePolicy
from vlthink.scene.widowx import CAMERA_UID, MAX_EPISODE_STEPS, ROBOT_INIT_QPOS, TABLE_TOP_Z

IDS = list(vlthink.OOD_TASKS)
BY_NAME = {v.name: v for v in VARIANTS}
_ENVS: dict[tuple, gym.Env] = {}


def make(env_id_: str, **kwargs) -> gym.Env:
    """One env per (id, kwargs) for the whole module: building a scene costs seconds."""
    key = (env_id_, tuple(sorted(kwargs.items())))
    if key not in _ENVS:
        _ENVS[key] = gym.make(env_id_, **kwargs)
    return _ENVS[key]


def rgb(obs) -> np.ndarray:
    return obs["sensor_data"][CAMERA_UID]["rgb"][0].numpy()


def seg(obs) -> np.ndarray:
    return obs["sensor_data"][CAMERA_UID]["segmentation"][0, ..., 0].numpy()


# ---- ids and sets (no simulator) -----------------------------------------------------------------
def test_fourteen_ids_on_four_axes():
    names = [
        "Train",
        "VisionImg",
        "Tex03",
        "Tex05",
        "Whole03",
        "Whole05",
        "Carrot",
        "Plate",
        "Instruct",
        "MultiCarrot",
        "MultiPlate",
        "Position",
        "EEPose",
        "PosChangeTo",
    ]
    assert IDS == [f"VLThink-OOD-{n}-v0" for n in names]
    axes = {i: vlthink.OOD_TASKS[i].group for i in IDS}
    assert set(axes.values()) == {"Train", "Vision", "Semantic", "Execution"}
    assert all(vlthink.OOD_TASKS[i].suite == "ood" for i in IDS)


def test_heldout_sets_are_disjoint_from_training():
    assert not set(OBJECTS_TRAIN) & set(OBJECTS_HELDOUT)
    assert not set(RECEPTACLES_TRAIN) & set(RECEPTACLES_HELDOUT) and RECEPTACLES_TRAIN == ("plate",)
    assert not set(TABLE_LOOKS_TRAIN) & set(TABLE_LOOKS_HELDOUT) and len(TABLE_LOOKS_HELDOUT) == 5
    assert len(set(TEMPLATES_HELDOUT)) == 16 and len(set(TEMPLATES_SPARE)) == 4
    assert TEMPLATE_TRAIN not in TEMPLATES_HELDOUT + TEMPLATES_SPARE
    assert not set(TEMPLATES_HELDOUT) & set(TEMPLATES_SPARE)
    assert not set(layout.YAWS_TRAIN) & set(layout.YAWS_HELDOUT)
    inner = {tuple(c) for c in layout.CELLS["grid"]}
    assert len(inner) == 36 and len(layout.CELLS["ring"]) == 28
    assert not inner & {tuple(c) for c in layout.CELLS["ring"]}
    assert np.allclose(layout.CELLS["grid"].mean(0), (-0.16, 0.0))


def _draws(cfg, n, start=0):
    return [draw_episode(cfg, np.random.RandomState(s)) for s in range(start, start + n)]


@pytest.mark.parametrize("name", list(BY_NAME))
def test_train_split_uses_training_assets_only(name):
    multiplate = name == "MultiPlate"  # the original's train split: plate + held-out distractor
    for ep in _draws(BY_NAME[name].train, 60):
        assert ep.object in OBJECTS_TRAIN and ep.receptacle == "plate"
        looks = TABLE_LOOKS_TRAIN + TABLE_LOOKS_HELDOUT if multiplate else TABLE_LOOKS_TRAIN
        assert ep.table_look in looks and ep.template == TEMPLATE_TRAIN
        assert ep.instruction == f"put {ep.object} on plate"
        assert ep.object_yaw in layout.YAWS_TRAIN
        assert ep.overlay is None and ep.arm_offsets is None and ep.move_to_cell is None
        if multiplate:
            assert ep.distractor_receptacle in RECEPTACLES_HELDOUT
        else:
            assert ep.distractor_receptacle is None
        assert ep.distractor_object is None or ep.distractor_object in OBJECTS_TRAIN
        assert any(np.allclose(ep.object_cell, c) for c in layout.CELLS["grid"])


def test_ood_splits_use_their_heldout_sets():
    checks = {
        "VisionImg": lambda e: e.table_look in TABLE_LOOKS_HELDOUT,
        "Carrot": lambda e: e.object in OBJECTS_HELDOUT,
        "Plate": lambda e: e.receptacle in RECEPTACLES_HELDOUT and e.receptacle in e.instruction,
        "Instruct": lambda e: e.template in TEMPLATES_HELDOUT,
        "MultiCarrot": lambda e: {e.object, e.distractor_object} <= set(OBJECTS_HELDOUT),
        "MultiPlate": lambda e: {e.receptacle, e.distractor_receptacle} <= set(RECEPTACLES_HELDOUT),
        "Position": lambda e: (
            e.object_yaw in layout.YAWS_HELDOUT
            and all(
                any(np.allclose(c, r) for r in layout.CELLS["ring"])
                for c in (e.object_cell, e.receptacle_cell)
            )
        ),
        "Tex03": lambda e: e.overlay.mode == "tex" and e.overlay.alpha == 0.3,
        "Whole05": lambda e: e.overlay.mode == "whole" and e.overlay.alpha == 0.5,
        "EEPose": lambda e: all(o in opts for o, opts in zip(e.arm_offsets, ARM_OFFSETS)),
        "PosChangeTo": lambda e: e.move_at_step == MOVE_STEP and e.move_to_cell is not None,
    }
    for name, ok in checks.items():
        eps = _draws(BY_NAME[name].ood, 40)
        assert all(ok(e) for e in eps), name
    # Each held-out set is used in full.
    assert {e.object for e in _draws(BY_NAME["Carrot"].ood, 300)} == set(OBJECTS_HELDOUT)
    assert {e.receptacle for e in _draws(BY_NAME["Plate"].ood, 400)} == set(RECEPTACLES_HELDOUT)


def test_multicarrot_distractor_is_never_the_target():
    for cfg in (BY_NAME["MultiCarrot"].ood, BY_NAME["MultiCarrot"].train):
        for ep in _draws(cfg, 200):
            assert ep.distractor_object is not None and ep.distractor_object != ep.object
            d = np.linalg.norm(np.subtract(ep.object_cell, ep.distractor_object_cell))
            assert d >= layout.MIN_OBJECT_DISTANCE - 1e-9
    for ep in _draws(BY_NAME["MultiPlate"].ood, 100):
        assert ep.distractor_receptacle not in (None, ep.receptacle)


@pytest.mark.parametrize(
    "name", ["Train", "Plate", "Position", "MultiCarrot", "MultiPlate", "PosChangeTo"]
)
def test_layout_keeps_things_apart(name):
    """The original's rules: strictly farther apart than layout.RULES, on the split's cells."""
    cfg = BY_NAME[name].ood
    for ep in _draws(cfg, 60):
        cells = {
            "object": ep.object_cell,
            "receptacle": ep.receptacle_cell,
            "distractor_object": ep.distractor_object_cell,
            "distractor_receptacle": ep.distractor_receptacle_cell,
            "move": ep.move_to_cell,
        }
        cells = {role: c for role, c in cells.items() if c is not None}
        assert set(cells) == set(cfg.roles())
        for c in cells.values():
            assert any(np.allclose(c, g) for g in layout.CELLS[cfg.cells])
        for (a, b), need in layout.RULES.items():
            if a in cells and b in cells:
                assert np.linalg.norm(np.subtract(cells[a], cells[b])) > need - 1e-9, (a, b)


def test_whole_window_follows_the_foreground_and_stays_inside():
    corners = []
    for x in range(0, 640 - 50, 30):  # a 50 x 40 px "arm" sweeping the frame
        mask = torch.zeros(480, 640, dtype=torch.bool)
        mask[300:340, x : x + 50] = True
        corners.append(window_corner(mask))
    assert all(a[0] < b[0] and a[1] == b[1] == 320 for a, b in zip(corners, corners[1:]))
    w, h = WHOLE_TEXTURE_WH
    assert all(0 <= x <= w - 640 and 0 <= y <= h - 480 for x, y in corners)
    assert window_corner(torch.zeros(480, 640, dtype=torch.bool)) == (320, 240)


# ---- environments ----------------------------------------------------------------------------------
@pytest.mark.parametrize("env_id_", IDS)
def test_make_reset_step_and_things_are_in_view(env_id_):
    env = make(env_id_)
    base = env.unwrapped
    obs, info = env.reset(seed=0)
    t = base.task_info()[0]
    assert t["split"] == "ood" and t["variant"] == env_id_.split("-")[2]
    s = seg(obs)
    for actor_list, idx in ((base.objects, base.obj_idx), (base.receptacles, base.rec_idx)):
        sid = int(actor_list[int(idx[0])].per_scene_id[0])
        assert (s == sid).sum() > 300, (
            f"{t['object']} / {t['receptacle']} visible in the camera image"
        )
    assert rgb(obs).shape == (480, 640, 3) and not bool(info["success"][0])
    obs, _, _, _, info = env.step(torch.zeros(7))
    assert int(info["placed_on"][0]) == PLACED_ON.index("none")
    priv = base.privileged_state()
    for key in (
        "object_pose",
        "target_pose",
        "board_poses",
        "object_grasp_point",
        "object_grasp_yaw",
        "object_half_height",
        "goal_half_height",
        "replan",
        "tcp_pose",
        "robot_base_pose",
    ):
        assert priv[key].shape[0] == base.num_envs, key
    # Objects rest on the table after settling.
    z = float(priv["object_pose"][0, 2]) - float(priv["object_half_height"][0])
    assert abs(z - TABLE_TOP_Z) < 0.01


def test_split_option_gives_the_training_distribution_on_the_same_env():
    env = make("VLThink-OOD-Carrot-v0")
    _, info = env.reset(seed=3, options={"split": "train"})
    t = env.unwrapped.task_info()[0]
    assert t["split"] == "train" and t["object"] in OBJECTS_TRAIN
    assert not info["reconfigure"]
    env.reset(seed=3)
    assert env.unwrapped.task_info()[0]["object"] in OBJECTS_HELDOUT
    with pytest.raises(ValueError, match="split"):
        env.reset(seed=3, options={"split": "test"})


def test_same_seed_same_scene_and_first_frame():
    env = make("VLThink-OOD-Train-v0")
    a, _ = env.reset(seed=11)
    first, task = rgb(a).copy(), env.unwrapped.task_info()[0]
    env.step(torch.tensor([0.02, 0.0, -0.02, 0, 0, 0.2, -1.0]))
    env.reset(seed=5)
    b, info = env.reset(seed=11)
    assert env.unwrapped.task_info()[0] == task
    assert np.array_equal(first, rgb(b))
    assert not info["reconfigure"], (
        "a new episode moves actors and swaps textures, it does not rebuild"
    )
    c, _ = env.reset(seed=12)
    assert not np.array_equal(first, rgb(c))


def test_objects_rest_in_their_build_pose_and_stay_still():
    """Rounded things (potato, avocado, corn cob) used to roll or rock for over a second and stop
    somewhere that depended on history; their flat collision base keeps them where they land."""
    env = make("VLThink-OOD-MultiCarrot-v0")  # holds every training and held-out object
    base = env.unwrapped
    env.reset(seed=0)
    assert set(base._rest) == set(base.object_names) == set(OBJECTS_TRAIN) | set(OBJECTS_HELDOUT)
    for name, (height, tilt) in base._rest.items():
        angle = np.degrees(2 * np.arccos(min(1.0, abs(tilt[0]))))
        assert angle < 10, f"{name} leans {angle:.1f} degrees at rest"
        assert abs(height - object_spec(name).half_height) < 0.003, name
    for seed in range(4):  # the things on the table do not move while the arm holds still
        env.reset(seed=seed)
        before = {
            n: a.pose.raw_pose[0].clone()
            for a, n in base._named_actors()
            if n in base._spots(base.episodes[0])
        }
        for _ in range(5):
            env.step(torch.tensor([0, 0, 0, 0, 0, 0, 1.0]))
        for a, n in base._named_actors():
            if n in before:
                assert torch.abs(a.pose.raw_pose[0, :3] - before[n][:3]).max() < 5e-4, n


def _raw_frame(base) -> np.ndarray:
    """The camera's last capture without the overlay (the same render the observation used),
    the table look pasted where it shows neither robot nor thing (as a composited capture is)."""
    cam = base.scene.sensors[CAMERA_UID]
    frame = cam.get_obs(rgb=True, depth=False, position=False, segmentation=False)["rgb"][0]
    frame = frame.numpy()
    base.backdrop.composite(frame, ~base.camera_foreground()[0].numpy())
    return frame


@pytest.mark.parametrize("name", ["Tex05", "Whole05"])
def test_overlays(name):
    """Tex: only foreground pixels (robot, object, receptacle) change; Whole: nearly every pixel
    changes; both are a function of the seed and what the frame shows."""
    env = make(env_id(name))
    base = env.unwrapped
    for seed in (0, 1):
        obs, _ = env.reset(seed=seed)
        over, raw = rgb(obs), _raw_frame(base)
        ov = base.episodes[0].overlay
        assert ov == draw_episode(BY_NAME[name].ood, np.random.RandomState(seed)).overlay
        changed = np.any(raw != over, axis=-1)
        if name == "Tex05":
            mask = base.backdrop.foreground(obs["sensor_data"][CAMERA_UID]["segmentation"])
            mask = mask[0].numpy()
            rec = int(base.receptacles[int(base.rec_idx[0])].per_scene_id[0])
            assert mask[seg(obs) == rec].all(), "the receptacle is foreground"
            assert changed.sum() > 1000, "overlay visible"
            assert not (changed & ~mask).any(), "Tex touches robot and actor pixels only"
            assert changed[mask].mean() > 0.5
        else:
            assert changed.mean() > 0.9
    env.reset(seed=0)
    first = base.episodes[0].overlay
    env.reset(seed=1)
    env.reset(seed=0)
    assert base.episodes[0].overlay == first, "the overlay and its window are drawn from the seed"
    obs = env.step(torch.tensor([0.02, 0.02, 0, 0, 0, 0, 1.0]))[0]
    fg = base.backdrop.foreground(obs["sensor_data"][CAMERA_UID]["segmentation"])[0]
    again = blend_(torch.from_numpy(_raw_frame(base)), first, fg).numpy()
    assert np.array_equal(rgb(obs), again), "the overlay is a function of the frame"


def test_overlay_without_segmentation_in_the_obs_mode_reads_the_same_ids():
    """In obs mode "rgb" no segmentation is read for the frame: the pasted backdrop and the Tex
    overlay find the empty pixels from the colour's alpha, the same pixels as segmentation id 0,
    so the same overlaid frame; ``camera_segmentation`` reads one channel of the picture when
    asked: the same ids as ManiSkill's camera gives."""
    env_rgb = make(env_id("Tex05"), obs_mode="rgb")
    env_seg = make(env_id("Tex05"))  # rgb+segmentation: ManiSkill's own segmentation
    for seed in (0, 3):
        obs_rgb, _ = env_rgb.reset(seed=seed)
        obs_seg, _ = env_seg.reset(seed=seed)
        assert "segmentation" not in obs_rgb["sensor_data"][CAMERA_UID]
        assert np.array_equal(rgb(obs_rgb), rgb(obs_seg))
        base = env_rgb.unwrapped
        ours = base.camera_segmentation()
        theirs = obs_seg["sensor_data"][CAMERA_UID]["segmentation"]
        assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)
        assert len(torch.unique(ours)) > 3  # robot links, backdrop, things on the table
        # ManiSkill's own read of the same capture: the same ids wherever the capture shows
        # something (where it shows nothing, the backdrop was pasted in: its id in ours)
        raw = base.scene.sensors[CAMERA_UID].get_obs(
            rgb=False, depth=False, position=False, segmentation=True
        )["segmentation"]
        shown = raw != 0
        assert np.array_equal(base._composited[1], ~shown[0, ..., 0].numpy()), "alpha 0 = id 0"
        assert torch.equal(ours[shown], raw[shown])
        assert (ours[~shown] == int(base.backdrop.seg_ids[0])).all()


def test_eepose_starts_from_valid_perturbed_joints():
    env = make("VLThink-OOD-EEPose-v0", obs_mode="state")
    base = env.unwrapped
    starts = set()
    for seed in range(4):
        env.reset(seed=seed)
        offsets = base.task_info()[0]["arm_offsets"]
        assert all(o in opts for o, opts in zip(offsets, ARM_OFFSETS)) and any(offsets)
        assert abs(offsets[1] + offsets[2]) <= 0.25 + 1e-9  # the original's table
        qpos = base.agent.robot.get_qpos()[0, :6].numpy()
        assert np.allclose(qpos, np.add(ROBOT_INIT_QPOS[:6], offsets), atol=1e-5), "applied once"
        starts.add(offsets)
    assert len(starts) > 1
    env.reset(seed=0, options={"split": "train"})
    assert base.task_info()[0]["arm_offsets"] is None


def _oracle_episode(env_id_: str, seed: int, options=None, watch=None):
    env = make(env_id_, obs_mode="state")
    base = env.unwrapped
    policy = OraclePolicy()
    env.reset(seed=seed, options=options or {})
    policy.reset([EpisodeSpec(env_id_, seed, seed)])
    info = {}
    for step in range(MAX_EPISODE_STEPS):
        priv = {k: v[0] for k, v in base.privileged_state().items()}
        if watch is not None:
            watch(step, priv, policy)
        action = policy.act([Observation(image=None, instruction="", step=step, privileged=priv)])
        _, _, _, truncated, info = env.step(torch.from_numpy(action))
    assert bool(truncated[0])
    return bool(info["success"][0]), PLACED_ON[int(info["placed_on"][0])]


@pytest.mark.parametrize(
    "env_id_, seed",
    [
        ("VLThink-OOD-Train-v0", 0),
        ("VLThink-OOD-Train-v0", 1),
        ("VLThink-OOD-Whole05-v0", 2),
        ("VLThink-OOD-Carrot-v0", 0),
        ("VLThink-OOD-EEPose-v0", 1),
    ],
)
def test_oracle_succeeds(env_id_, seed):
    assert _oracle_episode(env_id_, seed) == (True, "target")


def test_poschangeto_moves_the_object_before_the_grasp_and_the_oracle_follows():
    seen = {}

    def watch(step, priv, policy):
        seen[step] = (
            priv["object_pose"][:2].copy(),
            bool(priv["replan"]),
            policy.plans[0].phase if policy.plans[0].waypoints else 0,
        )

    ok, placed = _oracle_episode("VLThink-OOD-PosChangeTo-v0", 0, watch=watch)
    assert [s for s, v in seen.items() if v[1]] == [MOVE_STEP + 1], (
        "replan is set once the moved object has landed, a step after the move"
    )
    assert (
        np.linalg.norm(seen[MOVE_STEP][0] - seen[MOVE_STEP - 1][0])
        >= layout.MIN_MOVE_DISTANCE - 0.005
    )
    assert seen[MOVE_STEP][2] <= 1, "the oracle was still approaching, the gripper open"
    assert (ok, placed) == (True, "target")


def test_oracle_aims_the_drop_from_where_the_object_sits_in_the_fingers():
    """Once the object is lifted, the drop is aimed from the object's measured place in the
    fingers (it may turn or slide as they close): here the object reads 2 cm off from the lift on,
    and the TCP's drop point moves by those 2 cm."""
    shift = np.array([0.02, 0.0])
    seen = {}

    def watch(step, priv, policy):
        plan = policy.plans[0]
        if not plan.waypoints:
            return
        if plan.phase <= 1:
            seen["planned"] = plan.waypoints[-1][0][:2].copy()
        if plan.phase >= plan.lifted_phase:
            priv["object_pose"][:2] += shift
        if plan.phase == plan.lifted_phase + 1 and "aimed" not in seen:
            held = priv["tcp_pose"][:2] - priv["object_pose"][:2]
            seen["aimed"] = (plan.waypoints[-1][0][:2].copy(), priv["target_pose"][:2] + held)

    _oracle_episode("VLThink-OOD-Train-v0", 0, watch=watch)
    drop, expected = seen["aimed"]
    np.testing.assert_allclose(drop, expected, atol=0.004)
    np.testing.assert_allclose(seen["planned"] - drop, shift, atol=0.006)


def test_depenetration_is_capped_for_the_episode():
    """Objects 1 m/s and receptacles 0.3 m/s after every reset (the settle's own cap undone)."""
    from vlthink.assets.actors import dynamic_body
    from vlthink.assets.objects import OBJECT_MAX_DEPENETRATION_VELOCITY
    from vlthink.assets.receptacles import RECEPTACLE_MAX_DEPENETRATION_VELOCITY

    assert (OBJECT_MAX_DEPENETRATION_VELOCITY, RECEPTACLE_MAX_DEPENETRATION_VELOCITY) == (1.0, 0.3)
    env = make("VLThink-OOD-Train-v0", obs_mode="state")
    env.reset(seed=3)
    base = env.unwrapped
    for cap, actors in (
        (OBJECT_MAX_DEPENETRATION_VELOCITY, base.objects),
        (RECEPTACLE_MAX_DEPENETRATION_VELOCITY, base.receptacles),
    ):
        for actor in actors:
            body = dynamic_body(actor._objs[0])
            assert body.max_depenetration_velocity == pytest.approx(cap), actor.name


@pytest.mark.slow
@pytest.mark.parametrize("env_id_", IDS)
def test_oracle_sweep_64_seeds(env_id_):
    results = [_oracle_episode(env_id_, seed) for seed in range(64)]
    rate = np.mean([ok for ok, _ in results])
    assert rate >= 0.9, (env_id_, rate)


def test_overlay_resizes_are_kept_and_identical_to_fresh_ones():
    from vlthink.assets.overlay_textures import OVERLAY_TEXTURES
    from vlthink.envs.ood import overlays

    cpu = torch.device("cpu")
    kept = overlays._resized(OVERLAY_TEXTURES[0], (121, 87), 0.5, cpu)
    assert overlays._resized(OVERLAY_TEXTURES[0], (121, 87), 0.5, cpu) is kept
    assert torch.equal(kept, overlays._resize(OVERLAY_TEXTURES[0], (121, 87), cpu) * 0.5)
    assert kept.shape == (87, 121, 3)


def test_the_blend_is_the_weighted_mean_rounded():
    from vlthink.envs.ood import overlays

    g = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, 256, (48, 64, 3), dtype=torch.uint8, generator=g)
    over = torch.rand(48, 64, 3, generator=g) * 255
    for alpha in (0.3, 0.5):
        expected = (rgb.float() * (1 - alpha) + over * alpha).round().clamp(0, 255).byte()
        assert torch.equal(overlays._mix(rgb, over * alpha, alpha), expected)
    assert torch.equal(overlays._mix(rgb, over * 0.0, 0.0), rgb)
