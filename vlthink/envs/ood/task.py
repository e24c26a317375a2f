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
    - the object's yaw, uniform over the split's yaws; receptacles keep yaw 0, a distractor
      object takes the target's yaw;
    - the cells of everything, one tuple drawn uniformly among those that keep the original's
      rules (:mod:`vlthink.envs.ood.layout`: 6 x 6 grid, 3 cm apart, centred at (-0.16, 0);
      object and receptacle > 7 cm apart; a distractor object > 15 cm from the object, a
      distractor receptacle > 15 cm from the receptacle, PosChangeTo's new cell > 15 cm from
      the first; no footprint rule, so things may start overlapping, as in the original);
    - per variant: an overlay and its moving window, a distractor, a row of the original's
      EEPose table of joint offsets (applied once, no redraw), the cell the object is moved to.

    Every candidate object and receptacle of the variant (both splits) is built once when the
    scene is loaded; a reset moves actors (:mod:`vlthink.envs.ood.placement`: a shelf below the
    table for those not in use, measured resting poses, the same first frame for the same seed)
    and swaps the table texture. It never rebuilds the scene, so
    ``reset(options={"split": "train"})`` gives the in-distribution control on the same scene.

Success (the rule of :mod:`vlthink.scene.success`, shared with VL-Think; the paper's rule)
    The object rests on the target receptacle: its centre lies within a disk around the
    receptacle's centre of radius = the receptacle's largest bounding-box half-extent + 1 cm, it
    is above the receptacle's centre by no more than the two half-heights + 5 cm, and the two
    touch (contact force > 0.03 N). ``info["placed_on"]``: 0 nowhere, 1 the target, 2 the
    distractor receptacle (MultiPlate).
"""

from __future__ import annotations

import numpy as np
import torch
from mani_skill.utils.structs.pose import Pose

from vlthink import geometry
from vlthink.assets import SPLITS, grasp
from vlthink.envs.ood import overlays
from vlthink.envs.ood.episode import TRAIN, Config, EpisodeLayout, draw_episode
from vlthink.envs.ood.placement import Placement
from vlthink.scene import success
from vlthink.scene.widowx import (
    CAMERA_UID,
    ROBOT_BASE_P,
    ROBOT_BASE_Q,
    ROBOT_INIT_QPOS,
    WidowXTableEnv,
)


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
        self.episodes: list[EpisodeLayout | None] = []
        self.splits: list[str] = []
        self.arm_offsets: list[tuple | None] = []
        super().__init__(*args, **kwargs)

    def config(self, split: str) -> Config:
        return self.OOD if split == "ood" else self.TRAIN_SPLIT

    # ---- scene -----------------------------------------------------------------------------------
    def _load_scene(self, options: dict):
        self._load_table()
        self.placement = Placement(self)
        self.shelf = self.placement.build_shelf()

        cfgs = (self.OOD, self.TRAIN_SPLIT)
        self.object_names = list(dict.fromkeys(n for c in cfgs for n in c.objects))
        self.receptacle_names = list(
            dict.fromkeys(n for c in cfgs for n in (*c.receptacles, *c.distractor_receptacles))
        )
        specs = [self.assets.object_spec(n) for n in self.object_names]
        rspecs = [self.assets.receptacle_spec(n) for n in self.receptacle_names]
        self.objects = self._build_parked(
            self.assets.build_object, "object", self.object_names, specs
        )
        self.receptacles = self._build_parked(
            self.assets.build_receptacle, "receptacle", self.receptacle_names, rspecs
        )

        dev, n = self.device, self.num_envs

        def floats(rows):
            return torch.tensor(rows, dtype=torch.float32, device=dev)

        def long():
            return torch.full((n,), -1, dtype=torch.long, device=dev)

        self._obj_half_height = floats([s.half_height for s in specs])  # (K,)
        self._obj_grasp_point = floats(
            [[*s.grasp_point, 0.0] for s in specs]
        )  # (K, 3), object frame
        self._obj_closing = floats([[0.0, 1.0, 0.0]] * len(specs))  # (K, 3), the fingers' axis
        self._rec_support_z = floats([s.support_z for s in rspecs])  # (R,)
        self._rec_support_center = floats([[*s.support_center, 0.0] for s in rspecs])  # (R, 3)
        self._rec_half_size = floats([s.half_size for s in rspecs])  # (R, 3), bounding box
        self._obj_half_size = floats([s.half_size for s in specs])  # (K, 3), bounding box
        self.obj_idx, self.rec_idx = long(), long()  # index into objects / receptacles
        self.distractor_obj_idx, self.distractor_rec_idx = long(), long()  # -1: none
        self.move_step = long()  # control step after which the object moves (-1: never)
        self.move_pose = torch.zeros((n, 7), device=dev)
        self.moved = torch.zeros(n, dtype=torch.bool, device=dev)

    def _build_parked(self, build, kind: str, names: list[str], specs: list) -> list:
        """One actor per catalogue name, built in its parking spot on the shelf."""
        return [
            build(
                self.scene,
                name,
                initial_pose=self.placement.park(name, spec.half_height),
                actor_name=f"{kind}_" + name.replace(" ", "_"),
            )
            for name, spec in zip(names, specs)
        ]

    # ---- episode ---------------------------------------------------------------------------------
    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        split = (options or {}).get("split", self.split)
        if split not in SPLITS:
            raise ValueError(f"options['split'] must be one of {SPLITS}, got {split!r}")
        cfg = self.config(split)
        idx = [int(i) for i in env_idx]
        if not self.placement.rest:
            self.placement.calibrate_rest(list(zip(self.objects, self.object_names)))
            if self.assets.name != "vlthink":
                self._plan_resting_grasps()
        if len(self.episodes) != self.num_envs:
            self.episodes = [None] * self.num_envs
            self.splits = [split] * self.num_envs
            self.arm_offsets = [None] * self.num_envs
        for i in idx:
            ep = draw_episode(cfg, self._batched_episode_rng[i])
            self.episodes[i], self.splits[i] = ep, split
            self.set_table_look(ep.table_look, env_idx=[i])
            self.obj_idx[i] = self.object_names.index(ep.object)
            self.rec_idx[i] = self.receptacle_names.index(ep.receptacle)
            self.distractor_obj_idx[i] = (
                self.object_names.index(ep.distractor_object) if ep.distractor_object else -1
            )
            self.distractor_rec_idx[i] = (
                self.receptacle_names.index(ep.distractor_receptacle)
                if ep.distractor_receptacle
                else -1
            )
            self.move_step[i] = ep.move_at_step if ep.move_to_cell is not None else -1
            if ep.move_to_cell is not None:  # its resting pose there (released higher up)
                rest = self.placement.rest_pose(ep.object, *ep.move_to_cell, ep.object_yaw)
                self.move_pose[i] = torch.tensor(rest)
            self.moved[i] = False
        spots, things = [self._spots(self.episodes[i]) for i in idx], self._named_actors()
        self.placement.start(idx, spots, things)
        self._reset_arm(env_idx, cfg)

    def _plan_resting_grasps(self):
        """A pack's mesh may not rest in its build pose (a tall one tips over during the rest
        calibration): its privileged half-height is the measured height of its resting centre,
        and its grasp is planned from its resting collision shape (:mod:`vlthink.assets.grasp`),
        kept in the object's frame. vlthink's own meshes rest as built and keep their grasps."""
        heights, points, closings = [], [], []
        for name in self.object_names:
            height, tilt = self.placement.rest[name]
            turn = geometry.wxyz_to_matrix(tilt)
            pieces = [(p.vertices, p.faces) for p in self.assets.object_pieces(name)]
            point, closing = grasp.in_object_frame(grasp.plan_grasp(pieces, turn, height), turn)
            heights.append(height)
            points.append(point)
            closings.append(closing)

        def floats(rows):
            return torch.tensor(np.array(rows), dtype=torch.float32, device=self.device)

        self._obj_half_height = floats(heights)
        self._obj_grasp_point, self._obj_closing = floats(points), floats(closings)

    @property
    def _rest(self) -> dict[str, tuple[float, list[float]]]:
        """How each object rests (see :meth:`Placement.calibrate_rest`)."""
        return self.placement.rest

    def _spots(self, ep: EpisodeLayout) -> dict[str, tuple]:
        """name -> (x, y, yaw) of everything on the table in this episode."""
        spots = {
            ep.object: (*ep.object_cell, ep.object_yaw),
            ep.receptacle: (*ep.receptacle_cell, 0.0),
        }
        if ep.distractor_object:
            spots[ep.distractor_object] = (*ep.distractor_object_cell, ep.distractor_object_yaw)
        if ep.distractor_receptacle:
            spots[ep.distractor_receptacle] = (*ep.distractor_receptacle_cell, 0.0)
        return spots

    def _named_actors(self) -> list[tuple]:
        """(actor, catalogue name) of every candidate object and receptacle."""
        return [
            *zip(self.objects, self.object_names),
            *zip(self.receptacles, self.receptacle_names),
        ]

    def _reset_arm(self, env_idx: torch.Tensor, cfg: Config):
        """Initial joint configuration; EEPose adds the episode's row of joint offsets."""
        idx = [int(i) for i in env_idx]
        if not cfg.perturb_arm:
            for i in idx:
                self.arm_offsets[i] = None
            self._reset_robot(env_idx)
            return
        qpos = torch.tensor(
            [list(ROBOT_INIT_QPOS)] * len(idx), dtype=torch.float32, device=self.device
        )
        qpos[:, :6] += torch.tensor(
            [self.episodes[i].arm_offsets for i in idx], dtype=torch.float32, device=self.device
        )
        self.agent.robot.set_pose(
            Pose.create_from_pq(p=torch.tensor(ROBOT_BASE_P), q=torch.tensor(ROBOT_BASE_Q))
        )
        self.agent.reset(init_qpos=qpos)
        if self.gpu_sim_enabled:
            self.scene._gpu_apply_all()
            self.scene.px.gpu_update_articulation_kinematics()
            self.scene._gpu_fetch_all()
        for i in idx:
            self.arm_offsets[i] = self.episodes[i].arm_offsets

    # ---- mid-episode move (PosChangeTo) ----------------------------------------------------------
    def _step_action(self, action):
        # After the move-step-th action, before that step's evaluate and observation: the
        # original's evaluate at elapsed_steps == 5, at the same point of the same step.
        out = super()._step_action(action)
        due = (self.move_step >= 0) & (self.elapsed_steps + 1 == self.move_step) & ~self.moved
        if bool(due.any()):
            self._move_object(due)
        return out

    def _move_object(self, due: torch.Tensor):
        """Release the object of the sub-envs in ``due`` over its move cell, its centre at
        z = 1.0 m (13 cm above the table), and let the scene run 0.1 s with the arm still driven
        (:meth:`Placement.release_above`): the next observation shows it falling."""
        self.placement.release_above(self.objects, self.obj_idx, due, self.move_pose)
        self.moved |= due

    # ---- success ---------------------------------------------------------------------------------
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

    def _resting_on(self, obj: torch.Tensor, rec_index: torch.Tensor) -> torch.Tensor:
        """(N,) bool: the object (pose ``obj``, (N, 7)) rests on receptacle ``rec_index[i]``."""
        valid = rec_index >= 0
        if not bool(valid.any()):
            return valid  # no such receptacle in any sub-env (a distractor outside MultiPlate)
        r = rec_index.clamp(min=0)
        rec = self._gather(self.receptacles, rec_index)
        return success.resting_on(
            obj[:, :3] - rec[:, :3],
            self._rec_half_size[r],
            rec[:, 3:],
            half_heights=(
                self._rec_half_size[r, 2],
                self._obj_half_size[self.obj_idx.clamp(min=0), 2],
            ),
            contact_force=lambda: self._contact(self.obj_idx, rec_index),
            valid=valid,
        )

    def evaluate(self):
        obj = self._gather(self.objects, self.obj_idx)
        return success.evaluation(
            self._resting_on(obj, self.rec_idx),
            self._resting_on(obj, self.distractor_rec_idx),
            self.grasp_info(),
        )

    def _object_grasped(self) -> torch.Tensor:
        near = self._grasp_near(self._gather(self.objects, self.obj_idx)[:, :3])
        held = torch.zeros_like(near)
        for k in torch.unique(self.obj_idx[near]).tolist():  # each object actor once
            rows = near & (self.obj_idx == k)
            held[rows] = self.agent.is_grasping(self.objects[k])[rows]
        return held

    # ---- observations: overlays (vision axis) ----------------------------------------------------
    def _get_obs_sensor_data(self, apply_texture_transforms: bool = True) -> dict:
        data = super()._get_obs_sensor_data(apply_texture_transforms)
        active = [
            i for i, ep in enumerate(self.episodes) if ep is not None and ep.overlay is not None
        ]
        cam = data.get(CAMERA_UID, {})
        if not active or "rgb" not in cam:
            return data
        # Both modes follow the foreground: robot and every thing on the table.
        foreground = self.camera_foreground(cam)
        rgb = cam["rgb"]  # rendered into a new tensor each capture: blended in place
        for i in active:
            overlays.blend_(rgb[i], self.episodes[i].overlay, foreground[i], self.assets.name)
        return data

    # ---- what policies and the harness see -------------------------------------------------------
    def _task_info(self) -> list[dict]:
        """Per sub-env: the instruction and every fact of the episode's draw."""
        out = []
        for i, ep in enumerate(self.episodes):
            out.append(
                {
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
                }
            )
        return out

    def _privileged_state(self) -> dict[str, torch.Tensor]:
        obj = self._gather(self.objects, self.obj_idx)
        oi, ri = self.obj_idx.clamp(min=0), self.rec_idx.clamp(min=0)

        def at_support(rec_pose, r):
            p = rec_pose[:, :3] + geometry.rotate(rec_pose[:, 3:], self._rec_support_center[r])
            return torch.cat([p, rec_pose[:, 3:]], dim=1)

        target = at_support(self._gather(self.receptacles, self.rec_idx), ri)
        boards = [target]
        if bool((self.distractor_rec_idx >= 0).any()):
            di = self.distractor_rec_idx
            other = at_support(self._gather(self.receptacles, di), di.clamp(min=0))
            boards.append(torch.where((di >= 0)[:, None], other, target))
        grasp = obj[:, :3] + geometry.rotate(obj[:, 3:], self._obj_grasp_point[oi])
        closing = geometry.rotate(obj[:, 3:], self._obj_closing[oi])
        return {
            **self._robot_state(),
            "object_pose": obj,
            "target_pose": target,
            "board_poses": torch.stack(boards, dim=1),
            "object_half_height": self._obj_half_height[oi],
            "goal_half_height": self._rec_support_z[ri],
            "object_grasp_point": grasp,
            "object_grasp_yaw": torch.atan2(closing[:, 1], closing[:, 0]),
            # one step after the move: the object was released 13 cm up and has landed by then
            "replan": self.moved & (self.elapsed_steps == self.move_step + 1),
        }
