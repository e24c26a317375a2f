"""The OOD suite's task: pick one object, place it on the named receptacle.

Task
    One object lies on the table in front of the WidowX, beside a receptacle (the training one is
    a plate). The instruction names both, ``put {object} on {receptacle}``. Variants
    (:mod:`vlthink.envs.ood.variants`) change one thing at a time: the table, an overlay on the
    image, the object, the receptacle, the words, a distractor, the positions, the arm's start,
    or the object's place mid-episode.

Randomisation (per episode, from the episode seed alone; see :mod:`vlthink.envs.ood.episode`)
    - the object, the receptacle, the table look and the instruction template, each uniform over
      the split's set;
    - the object's yaw, uniform over the split's yaws; receptacles keep yaw 0;
    - cells for the receptacle and the object (:mod:`vlthink.envs.ood.layout`: 6 x 6 grid, 3 cm
      apart, centred at (-0.16, 0); centres >= 7 cm apart; footprints >= 1 cm apart);
    - per variant: an overlay and its moving window, a distractor, the arm's joint offsets, the
      cell the object is moved to.

    Every candidate object and receptacle of the variant (both splits) is built once when the
    scene is loaded; those not in use wait on a shelf 1 m below the table (out of sight and out of
    reach). A reset moves actors and swaps the table texture; it never rebuilds the scene, so
    ``reset(options={"split": "train"})`` gives the in-distribution control on the same scene.

Success
    The object rests on the target receptacle: its centre lies within the receptacle's support
    area (``support_center`` +- ``support_half_extents`` + 1 cm, in the receptacle's frame), above
    the support surface by no more than 5 cm beyond its half-height, and the two touch (contact
    force > 0.03 N). ``info["placed_on"]``: 0 nowhere, 1 the target, 2 the distractor receptacle
    (MultiPlate), as for VL-Think.
"""

from __future__ import annotations

import numpy as np
import sapien
import torch
from mani_skill.utils.geometry.rotation_conversions import quaternion_apply, quaternion_invert
from mani_skill.utils.structs.pose import Pose

from vlthink.envs.ood import overlays
from vlthink.envs.ood.episode import TRAIN, Config, Episode, draw_arm_offsets, draw_episode
from vlthink.ood.objects import build_object, object_spec
from vlthink.ood.receptacles import build_receptacle, receptacle_spec
from vlthink.scene import tables
from vlthink.scene.widowx import (
    CAMERA_HEIGHT, CAMERA_UID, CAMERA_WIDTH, ROBOT_BASE_P, ROBOT_BASE_Q, ROBOT_INIT_QPOS, SIM_FREQ, TABLE_FRICTION,
    TABLE_TOP_Z, WidowXTableEnv,
)

# --- Placement (m) ------------------------------------------------------------------------------
DROP_GAP = 0.002  # things are placed this far above their resting height, then settled
SHELF_TOP_Z = -1.0  # where unused candidates wait, below the table
SHELF_HALF_SIZE = (1.2, 1.2, 0.05)
SHELF_SPACING = 0.3  # between parked things
SHELF_ROW = 7  # parked things per row
REST_CALIBRATION_SECONDS = 1.0  # physics run once per scene to find how each object rests

# --- Arm start (EEPose) ---------------------------------------------------------------------------
MIN_TCP_HEIGHT = 0.09  # m above the table: the open fingers clear the tallest object (7.5 cm)
MAX_ARM_DRAWS = 50

# --- Success (as VL-Think) -------------------------------------------------------------------------
XY_MARGIN = 0.01  # m beyond the support half-extents
MAX_Z_GAP = 0.05  # m above the support surface, beyond the object's half-height
MIN_CONTACT_FORCE = 0.03  # N

SPLITS = ("ood", "train")


def _yaw_quat(yaw: float) -> list[float]:
    return [float(np.cos(yaw / 2)), 0.0, 0.0, float(np.sin(yaw / 2))]


def _quat_mul(a, b) -> list[float]:
    """Hamilton product of two (w, x, y, z) quaternions."""
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return [w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2]


def _heading_zero(q) -> list[float]:
    """``q`` turned about the world z axis until the body's x axis points along world +x (seen
    from above): a resting orientation with its yaw taken out."""
    w, x, y, z = (float(v) for v in q)
    heading = np.arctan2(2 * (x * y + w * z), 1 - 2 * (y * y + z * z))  # body x, projected
    return _quat_mul(_yaw_quat(-heading), [w, x, y, z])


class OODPickPlaceEnv(WidowXTableEnv):
    """Pick-and-place on the WidowX table; subclasses set the variant's configs (see variants)."""

    VARIANT = "Train"
    AXIS = "Train"
    OOD: Config = TRAIN  # the variant's held-out split
    TRAIN_SPLIT: Config = TRAIN  # its in-distribution control

    def __init__(self, *args, split: str = "ood", **kwargs):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.split = split
        self.episodes: list[Episode | None] = []
        self.splits: list[str] = []
        self.arm_offsets: list[tuple | None] = []
        super().__init__(*args, **kwargs)

    def config(self, split: str) -> Config:
        return self.OOD if split == "ood" else self.TRAIN_SPLIT

    # ---- scene -------------------------------------------------------------------------------------
    def _load_scene(self, options: dict):
        self._load_table()
        builder = self.scene.create_actor_builder()
        # The table's material: the rest calibration below stands in for the table top.
        material = sapien.physx.PhysxMaterial(TABLE_FRICTION, TABLE_FRICTION, 0.0)
        builder.add_box_collision(half_size=SHELF_HALF_SIZE, material=material)
        builder.initial_pose = sapien.Pose(p=[0.0, 0.0, SHELF_TOP_Z - SHELF_HALF_SIZE[2]])
        self.shelf = builder.build_static(name="shelf")

        cfgs = (self.OOD, self.TRAIN_SPLIT)
        self.object_names = list(dict.fromkeys(n for c in cfgs for n in c.objects))
        self.receptacle_names = list(dict.fromkeys(n for c in cfgs for n in c.receptacles))
        specs = [object_spec(n) for n in self.object_names]
        rspecs = [receptacle_spec(n) for n in self.receptacle_names]
        self._parking = {}
        self._rest: dict[str, tuple[float, list[float]]] = {}  # see _calibrate_rest
        self.objects, self.receptacles = [], []
        for name, spec in zip(self.object_names, specs):
            self.objects.append(build_object(self.scene, name, initial_pose=self._park(name, spec.half_height),
                                             actor_name="object_" + name.replace(" ", "_")))
        for name, spec in zip(self.receptacle_names, rspecs):
            self.receptacles.append(build_receptacle(
                self.scene, name, initial_pose=self._park(name, spec.half_height),
                actor_name="receptacle_" + name.replace(" ", "_")))

        dev, n = self.device, self.num_envs
        f = lambda rows: torch.tensor(rows, dtype=torch.float32, device=dev)  # noqa: E731
        self._obj_half_height = f([s.half_height for s in specs])  # (K,)
        self._obj_grasp_point = f([[*s.grasp_point, 0.0] for s in specs])  # (K, 3), object frame
        self._rec_support_z = f([s.support_z for s in rspecs])  # (R,)
        self._rec_support_center = f([[*s.support_center, 0.0] for s in rspecs])  # (R, 3)
        self._rec_support_half = f([s.support_half_extents for s in rspecs])  # (R, 2)
        long = lambda: torch.full((n,), -1, dtype=torch.long, device=dev)  # noqa: E731
        self.obj_idx, self.rec_idx, self.distractor_obj_idx, self.distractor_rec_idx = long(), long(), long(), long()
        self.move_step = long()  # control step after which the object moves (-1: never)
        self.move_pose = torch.zeros((n, 7), device=dev)
        self.moved = torch.zeros(n, dtype=torch.bool, device=dev)
        self._robot_seg_ids = torch.tensor(
            sorted({int(i) for link in self.agent.robot.links for i in link.per_scene_id}), device=dev
        )

    def _park(self, name: str, half_height: float) -> sapien.Pose:
        k = len(self._parking)
        x = (k % SHELF_ROW - (SHELF_ROW - 1) / 2) * SHELF_SPACING
        y = (k // SHELF_ROW - 3) * SHELF_SPACING
        self._parking[name] = (x, y, SHELF_TOP_Z + half_height + DROP_GAP)
        return sapien.Pose(p=self._parking[name])

    # ---- episode -----------------------------------------------------------------------------------
    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        split = (options or {}).get("split", self.split)
        if split not in SPLITS:
            raise ValueError(f"options['split'] must be one of {SPLITS}, got {split!r}")
        cfg = self.config(split)
        idx = [int(i) for i in env_idx]
        if not self._rest:
            self._calibrate_rest()
        if len(self.episodes) != self.num_envs:
            self.episodes = [None] * self.num_envs
            self.splits = [split] * self.num_envs
            self.arm_offsets = [None] * self.num_envs
        for i in idx:
            ep = draw_episode(cfg, self._batched_episode_rng[i], (CAMERA_HEIGHT, CAMERA_WIDTH))
            self.episodes[i], self.splits[i] = ep, split
            self.set_actor_texture(self.table, "table:" + ep.table_look, tables.table_texture(ep.table_look),
                                   env_idx=[i])
            self.obj_idx[i] = self.object_names.index(ep.object)
            self.rec_idx[i] = self.receptacle_names.index(ep.receptacle)
            self.distractor_obj_idx[i] = self.object_names.index(ep.distractor_object) if ep.distractor_object else -1
            self.distractor_rec_idx[i] = (self.receptacle_names.index(ep.distractor_receptacle)
                                          if ep.distractor_receptacle else -1)
            self.move_step[i] = ep.move_at_step if ep.move_to_cell is not None else -1
            if ep.move_to_cell is not None:
                self.move_pose[i] = torch.tensor(self._rest_pose(ep.object, *ep.move_to_cell, ep.object_yaw))
            self.moved[i] = False
        self._place(idx)
        self._settle()
        self._snap_to_rest(idx)
        self._reset_arm(env_idx, cfg)

    def _calibrate_rest(self):
        """How every object rests on the table: its tilt and the height of its origin.

        Run once per scene (the first reset after loading): every object is dropped on the shelf,
        which has the table's material, from its build pose, and settles. Objects are built to
        rest in their build pose (``flat_base``), but a cone like the carrot still leans a few
        degrees onto its tip. Episodes then place each object in this measured resting pose, turned
        to the episode's yaw, and put it back there after the settle, so the first frame is the
        same for the same seed whatever ran before, and nothing is still moving at step 0."""
        for actor, name in zip(self.objects, self.object_names):
            self._set_rows(actor, [[*self._parking[name], 1.0, 0.0, 0.0, 0.0]] * self.num_envs)
        if not self.gpu_sim_enabled:
            for actor in self.objects:
                for entity in actor._objs:
                    entity.find_component_by_type(sapien.physx.PhysxRigidDynamicComponent).wake_up()
        self._settle(REST_CALIBRATION_SECONDS)
        for actor, name in zip(self.objects, self.object_names):
            pose = actor.pose.raw_pose[0].cpu().numpy()
            self._rest[name] = (float(pose[2] - SHELF_TOP_Z), _heading_zero(pose[3:]))

    def _rest_pose(self, name: str, x: float, y: float, yaw: float, surface_z: float = TABLE_TOP_Z) -> list[float]:
        """(x, y, z, qw, qx, qy, qz) of a thing resting at (x, y) on a surface at height surface_z,
        turned by yaw."""
        if name in self._rest:
            height, tilt = self._rest[name]
            return [x, y, surface_z + height, *_quat_mul(_yaw_quat(yaw), tilt)]
        return [x, y, surface_z + receptacle_spec(name).half_height, *_yaw_quat(yaw)]

    def _parked_pose(self, name: str) -> list[float]:
        x, y, _ = self._parking[name]
        return self._rest_pose(name, x, y, 0.0, surface_z=SHELF_TOP_Z)

    def _spots(self, ep: Episode) -> dict[str, tuple]:
        """name -> (x, y, yaw) of everything on the table in this episode."""
        spots = {ep.object: (*ep.object_cell, ep.object_yaw), ep.receptacle: (*ep.receptacle_cell, 0.0)}
        if ep.distractor_object:
            spots[ep.distractor_object] = (*ep.distractor_object_cell, ep.distractor_object_yaw)
        if ep.distractor_receptacle:
            spots[ep.distractor_receptacle] = (*ep.distractor_receptacle_cell, 0.0)
        return spots

    def _named_actors(self) -> list[tuple]:
        """(actor, catalogue name) of every candidate object and receptacle."""
        return [*zip(self.objects, self.object_names), *zip(self.receptacles, self.receptacle_names)]

    def _place(self, idx: list[int]):
        """Every candidate actor to its spot on the table or on the shelf, at rest.

        Everything is first parked, asleep, and the physics stepped once: that ends every contact
        of the previous episode, whose cached state would otherwise steer how a thing settles
        where a thing stood before (the same seed would then give a different scene, by up to a
        millimetre for shapes that roll while settling)."""
        spots = [self._spots(self.episodes[i]) for i in idx]
        things = self._named_actors()
        for actor, name in things:
            self._set_rows(actor, [self._parked_pose(name)] * len(idx))
        self._same_sleep_state(idx, [{}] * len(idx), things)
        self._settle(1.0 / SIM_FREQ)
        for actor, name in things:
            rows = []
            for s in spots:
                if name in s:
                    pose = self._rest_pose(name, *s[name])
                    pose[2] += DROP_GAP
                    rows.append(pose)
                else:
                    rows.append(self._parked_pose(name))
            self._set_rows(actor, rows)
        self._same_sleep_state(idx, spots, things)

    def _same_sleep_state(self, idx, spots, things):
        """Wake what stands on the table, put the parked things to sleep (CPU physics keeps sleep
        state across a teleport, and a thing that starts asleep settles differently)."""
        if self.gpu_sim_enabled:
            return  # the GPU pipeline keeps no per-body sleep state to align
        for actor, name in things:
            for i, s in zip(idx, spots):
                body = actor._objs[i].find_component_by_type(sapien.physx.PhysxRigidDynamicComponent)
                body.wake_up() if name in s else body.put_to_sleep()

    def _snap_to_rest(self, idx: list[int]):
        """Everything on the table back to its exact resting pose after the settle.

        The settle lets things find their footing; where exactly they end depends, by a few
        microns (receptacles, with many contact pieces) up to a tenth of a millimetre, on the
        history of the physics scene, which would make two resets with the same seed differ by a
        pixel here and there. Every thing's resting pose is known (receptacles stand flat, objects
        as calibrated), so they are put there."""
        on_table = [self._spots(self.episodes[i]) for i in idx]
        for actor, name in self._named_actors():
            spots = [s.get(name) for s in on_table]
            if not any(spots):
                continue
            now = actor.pose.raw_pose
            rows = [now[i if now.shape[0] > 1 else row].tolist() if spot is None else self._rest_pose(name, *spot)
                    for row, (i, spot) in enumerate(zip(idx, spots))]
            self._set_rows(actor, rows)

    def _set_rows(self, actor, rows):
        pose = torch.tensor(rows, dtype=torch.float32, device=self.device)
        actor.set_pose(Pose.create_from_pq(p=pose[:, :3], q=pose[:, 3:]))
        actor.set_linear_velocity(torch.zeros((len(rows), 3), device=self.device))
        actor.set_angular_velocity(torch.zeros((len(rows), 3), device=self.device))

    def _reset_arm(self, env_idx: torch.Tensor, cfg: Config):
        """Initial joint configuration; EEPose adds per-joint offsets, redrawn while the TCP would
        start lower than MIN_TCP_HEIGHT above the table."""
        idx = [int(i) for i in env_idx]
        if not cfg.perturb_arm:
            for i in idx:
                self.arm_offsets[i] = None
            self._reset_robot(env_idx)
            return
        offsets = {i: self.episodes[i].arm_offsets for i in idx}
        for _ in range(MAX_ARM_DRAWS):
            qpos = torch.tensor([list(ROBOT_INIT_QPOS)] * len(idx), dtype=torch.float32, device=self.device)
            qpos[:, :6] += torch.tensor([offsets[i] for i in idx], dtype=torch.float32, device=self.device)
            self.agent.robot.set_pose(Pose.create_from_pq(p=torch.tensor(ROBOT_BASE_P), q=torch.tensor(ROBOT_BASE_Q)))
            self.agent.reset(init_qpos=qpos)
            if self.gpu_sim_enabled:
                self.scene._gpu_apply_all()
                self.scene.px.gpu_update_articulation_kinematics()
                self.scene._gpu_fetch_all()
            tcp_z = self.tcp_pose.p[:, 2]
            low = [i for i in idx if float(tcp_z[i]) < TABLE_TOP_Z + MIN_TCP_HEIGHT]
            if not low:
                break
            for i in low:
                offsets[i] = draw_arm_offsets(self._batched_episode_rng[i])
        else:
            raise RuntimeError("no valid perturbed arm start")
        for i in idx:
            self.arm_offsets[i] = offsets[i]

    # ---- mid-episode move (PosChangeTo) ----------------------------------------------------------
    def _step_action(self, action):
        out = super()._step_action(action)
        due = (self.move_step >= 0) & (self.elapsed_steps + 1 == self.move_step) & ~self.moved
        if bool(due.any()):
            self._move_object(due)
        return out

    def _move_object(self, due: torch.Tensor):
        """Teleport the object of the sub-envs in ``due`` to their move cell, at rest."""
        for k, actor in enumerate(self.objects):
            rows = due & (self.obj_idx == k)
            if not bool(rows.any()):
                continue
            pose = torch.where(rows[:, None], self.move_pose, actor.pose.raw_pose)
            actor.set_pose(Pose.create_from_pq(p=pose[:, :3], q=pose[:, 3:]))
            keep = (~rows)[:, None].float()
            actor.set_linear_velocity(actor.linear_velocity * keep)
            actor.set_angular_velocity(actor.angular_velocity * keep)
        self.moved |= due
        if self.gpu_sim_enabled:
            self.scene._gpu_apply_all()
            self.scene._gpu_fetch_all()

    # ---- success -----------------------------------------------------------------------------------
    def _gather(self, actors: list, index: torch.Tensor) -> torch.Tensor:
        """(N, 7) pose of actor ``index[i]`` in sub-env i (zeros where index < 0)."""
        out = torch.zeros((self.num_envs, 7), device=self.device)
        for k in torch.unique(index[index >= 0]).tolist():
            rows = index == k
            out[rows] = actors[k].pose.raw_pose[rows]
        return out

    def _contact(self, obj_index: torch.Tensor, rec_index: torch.Tensor) -> torch.Tensor:
        """(N,) contact force (N) between the given object and receptacle of each sub-env."""
        force = torch.zeros(self.num_envs, device=self.device)
        valid = (obj_index >= 0) & (rec_index >= 0)
        pairs = {(int(o), int(r)) for o, r in zip(obj_index[valid], rec_index[valid])}
        for o, r in sorted(pairs):
            rows = (obj_index == o) & (rec_index == r)
            f = self.scene.get_pairwise_contact_forces(self.objects[o], self.receptacles[r])
            force[rows] = torch.linalg.norm(f, dim=-1).expand(self.num_envs)[rows]
        return force

    def _resting_on(self, rec_index: torch.Tensor) -> torch.Tensor:
        valid = rec_index >= 0
        r = rec_index.clamp(min=0)
        obj = self._gather(self.objects, self.obj_idx)
        rec = self._gather(self.receptacles, rec_index)
        local = quaternion_apply(quaternion_invert(rec[:, 3:]), obj[:, :3] - rec[:, :3])
        off = (local[:, :2] - self._rec_support_center[r, :2]).abs()
        xy = (off <= self._rec_support_half[r] + XY_MARGIN).all(dim=1)
        dz = local[:, 2] - self._rec_support_z[r]
        z = (dz > 0) & (dz - self._obj_half_height[self.obj_idx.clamp(min=0)] <= MAX_Z_GAP)
        above = valid & xy & z
        if not bool(above.any()):
            return above  # most steps: skip the contact query, which walks every contact
        return above & (self._contact(self.obj_idx, rec_index) > MIN_CONTACT_FORCE)

    def evaluate(self):
        on_target = self._resting_on(self.rec_idx)
        on_other = self._resting_on(self.distractor_rec_idx) & ~on_target
        placed_on = torch.where(on_target, 1, torch.where(on_other, 2, 0))
        return {"success": on_target, "placed_on": placed_on}

    # ---- observations: overlays (vision axis) -----------------------------------------------------
    def _get_obs_sensor_data(self, apply_texture_transforms: bool = True) -> dict:
        data = super()._get_obs_sensor_data(apply_texture_transforms)
        active = [i for i, ep in enumerate(self.episodes) if ep is not None and ep.overlay is not None]
        cam = data.get(CAMERA_UID, {})
        if not active or "rgb" not in cam:
            return data
        seg = cam.get("segmentation")
        if seg is None and any(self.episodes[i].overlay.mode == "tex" for i in active):
            seg = self.scene.sensors[CAMERA_UID].get_obs(
                rgb=False, depth=False, position=False, segmentation=True)["segmentation"]
        rgb = cam["rgb"].clone()
        steps = self.elapsed_steps
        for i in active:
            ov = self.episodes[i].overlay
            mask = None
            if ov.mode == "tex":
                ids = torch.cat([self._robot_seg_ids, self._object_seg_id(i)])
                mask = torch.isin(seg[i, ..., 0].to(ids.dtype), ids)
            rgb[i] = overlays.blend(rgb[i], ov, int(steps[i]), mask)
        cam["rgb"] = rgb
        return data

    def _object_seg_id(self, i: int) -> torch.Tensor:
        actor = self.objects[int(self.obj_idx[i])]
        return actor.per_scene_id[i : i + 1].to(self.device)

    # ---- what policies and the harness see --------------------------------------------------------
    def task_info(self) -> list[dict]:
        """Per sub-env: the instruction and every fact of the episode's draw."""
        out = []
        for i, ep in enumerate(self.episodes):
            out.append({
                "suite": "ood",
                "variant": self.VARIANT,
                "axis": self.AXIS,
                "split": self.splits[i],
                "instruction": ep.instruction,
                "template": ep.template,
                "object": ep.object,
                "receptacle": ep.receptacle,
                "target": ep.receptacle,
                "distractor_object": ep.distractor_object,
                "distractor_receptacle": ep.distractor_receptacle,
                "table_look": ep.table_look,
                "overlay": None if ep.overlay is None else ep.overlay.name,
                "overlay_mode": None if ep.overlay is None else ep.overlay.mode,
                "overlay_alpha": 0.0 if ep.overlay is None else ep.overlay.alpha,
                "object_cell": ep.object_cell,
                "object_yaw": ep.object_yaw,
                "receptacle_cell": ep.receptacle_cell,
                "distractor_object_cell": ep.distractor_object_cell,
                "distractor_receptacle_cell": ep.distractor_receptacle_cell,
                "arm_offsets": self.arm_offsets[i],
                "move_at_step": ep.move_at_step if ep.move_to_cell is not None else None,
                "move_to_cell": ep.move_to_cell,
            })
        return out

    def privileged_state(self) -> dict[str, torch.Tensor]:
        obj = self._gather(self.objects, self.obj_idx)
        oi, ri = self.obj_idx.clamp(min=0), self.rec_idx.clamp(min=0)

        def at_support(rec_pose, r):
            p = rec_pose[:, :3] + quaternion_apply(rec_pose[:, 3:], self._rec_support_center[r])
            return torch.cat([p, rec_pose[:, 3:]], dim=1)

        target = at_support(self._gather(self.receptacles, self.rec_idx), ri)
        boards = [target]
        if bool((self.distractor_rec_idx >= 0).any()):
            di = self.distractor_rec_idx
            other = at_support(self._gather(self.receptacles, di), di.clamp(min=0))
            boards.append(torch.where((di >= 0)[:, None], other, target))
        grasp = obj[:, :3] + quaternion_apply(obj[:, 3:], self._obj_grasp_point[oi])
        closing = quaternion_apply(obj[:, 3:], torch.tensor([0.0, 1.0, 0.0], device=self.device).expand(self.num_envs, 3))
        return {
            "tcp_pose": self.tcp_pose.raw_pose,
            "object_pose": obj,
            "target_pose": target,
            "board_poses": torch.stack(boards, dim=1),
            "robot_base_pose": self.agent.robot.pose.raw_pose,
            "gripper_qpos": self.agent.robot.get_qpos()[:, -2:],
            "object_half_height": self._obj_half_height[oi],
            "goal_half_height": self._rec_support_z[ri],
            "object_grasp_point": grasp,
            "object_grasp_yaw": torch.atan2(closing[:, 1], closing[:, 0]),
            "replan": self.moved & (self.elapsed_steps == self.move_step),
        }
