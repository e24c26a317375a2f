"""The paper's physics facts on real SAPIEN scenes: table friction, board mass, VL-Think's table
looks, PosChangeTo's falling object, and objects that start over a receptacle's edge."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import sapien
import torch

from vlthink.assets.table_looks import TABLE_LOOKS
from vlthink.envs.ood.episode import MOVE_STEP, draw_episode
from vlthink.envs.ood.placement import MOVE_RELEASE_Z
from vlthink.envs.vl_think import LAYOUTS, draw_table_look
from vlthink.scene.widowx import TABLE_TOP_Z

_ENVS: dict[str, gym.Env] = {}
HOLD = torch.tensor([0, 0, 0, 0, 0, 0, 1.0])  # arm still, gripper open


def make(env_id: str) -> gym.Env:
    """One env per id for the whole module (state observations: no physics fact needs pixels)."""
    if env_id not in _ENVS:
        _ENVS[env_id] = gym.make(env_id, obs_mode="state_dict")
    return _ENVS[env_id]


def _body(actor, kind=sapien.physx.PhysxRigidDynamicComponent):
    return actor._objs[0].find_component_by_type(kind)


def test_table_has_maniskills_default_friction():
    base = make("VLThink-Traffic-v0").unwrapped
    shapes = _body(base.table, sapien.physx.PhysxRigidStaticComponent).collision_shapes
    assert shapes
    for shape in shapes:
        material = shape.physical_material
        assert material.static_friction == pytest.approx(0.3)
        assert material.dynamic_friction == pytest.approx(0.3)


def test_vl_think_boards_weigh_what_the_papers_do():
    base = make("VLThink-Traffic-v0").unwrapped
    for board in base.boards:
        assert _body(board).mass == pytest.approx(0.46, abs=0.005)  # 11 x 11 x 0.6 cm, 6368 kg/m3


def test_vl_think_table_look_is_drawn_from_all_looks_after_the_layout():
    looks = set()
    for s in range(400):
        rng = np.random.RandomState(s)
        layout = LAYOUTS["Traffic"](rng)
        looks.add(draw_table_look(rng))
        assert layout == LAYOUTS["Traffic"](np.random.RandomState(s)), "the layout draw is first"
    assert looks == set(TABLE_LOOKS) and len(looks) == 21

    env = make("VLThink-Traffic-v0")
    for seed in (3, 4):
        env.reset(seed=seed)
        info = env.unwrapped.task_info()[0]
        rng = np.random.RandomState(seed)
        layout = LAYOUTS["Traffic"](rng)
        assert info["boards"] == dict(zip(layout.positions, layout.boards))
        assert info["table_look"] == draw_table_look(rng)


def test_poschangeto_object_is_falling_in_the_observation_after_the_move():
    env = make("VLThink-OOD-PosChangeTo-v0")
    base = env.unwrapped
    env.reset(seed=0)
    info = base.task_info()[0]
    first, new = np.array(info["object_cell"]), np.array(info["move_to_cell"])
    assert np.linalg.norm(new - first) >= 0.15
    actor = base.objects[int(base.obj_idx[0])]
    rest_z = TABLE_TOP_Z + base.placement.rest[info["object"]][0]
    for _ in range(MOVE_STEP - 1):
        env.step(HOLD)
    assert np.allclose(actor.pose.p[0, :2].numpy(), first, atol=1e-3), "not moved before"
    env.step(HOLD)  # the 5th action: the object is released over its new cell
    p, v = actor.pose.p[0].numpy(), actor.linear_velocity[0].numpy()
    assert np.allclose(p[:2], new, atol=1e-3)
    assert rest_z + 0.03 < p[2] < MOVE_RELEASE_Z, "airborne, below the release point"
    assert v[2] < -0.5, "falling"
    for _ in range(2):
        env.step(HOLD)
    assert abs(float(actor.pose.p[0, 2]) - rest_z) < 0.01, "it lands on the table"


def test_objects_overlapping_their_receptacle_start_on_top_not_inside():
    """Layouts let an object's end reach over the receptacle; it starts on the receptacle's
    edge. Inside it, the first physics step would throw it out."""
    env = make("VLThink-OOD-PosChangeTo-v0")
    base = env.unwrapped
    env.reset(seed=0)
    cfg = base.config("ood")
    seeds = [
        s
        for s in range(120)
        if base.placement.overlapped(
            (ep := draw_episode(cfg, np.random.RandomState(s))).object, base._spots(ep)
        )
    ][:4]
    assert len(seeds) == 4
    on_top = 0
    for seed in seeds:
        env.reset(seed=seed)
        name = base.task_info()[0]["object"]
        assert base.placement.on_edge[0] == {name}
        obj = base.objects[int(base.obj_idx[0])]
        rec = base.receptacles[int(base.rec_idx[0])]
        before = obj.pose.p[0].clone()
        env.step(HOLD)
        assert float(torch.abs(obj.pose.p[0] - before).max()) < 5e-4, f"{name} was inside"
        rest_z = TABLE_TOP_Z + base.placement.rest[name][0]
        touching = float(torch.linalg.norm(base.scene.get_pairwise_contact_forces(obj, rec))) > 0
        on_top += touching or float(obj.pose.p[0, 2]) > rest_z + 0.001
    # (an object whose thin end only just reaches over the rim may end beside it, untouched)
    assert on_top >= 3, "objects lie on or against the receptacle's edge, not inside it"
