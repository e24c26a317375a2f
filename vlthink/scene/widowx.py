"""The shared WidowX table scene: the Simpler/Bridge set-up every vlthink task stands on.

A WidowX-250S ("widowx250s_bridgedataset_flat_table", ManiSkill's real-to-sim tuned arm) sits on a
flat table; the Bridge dataset's 3rd_view_camera (640x480, Logitech C920 intrinsics) looks over it.
Physics runs at 500 Hz, the policy acts at 5 Hz, and an episode lasts 80 control steps. As in the
paper's set-up, the camera sees a picture of the table behind the robot and the actors (the
original's green screen; here an unlit backdrop, :mod:`vlthink.scene.backdrop`), rendered with
ManiSkill's "default" shader pack.

Tasks subclass ``WidowXTableEnv`` and add their objects in ``_load_scene`` (after calling
``self._load_table()``), place them in ``_initialize_episode`` (then call ``self._settle()`` and
``self._reset_robot()``), and judge success in ``evaluate`` with the one rule of
:mod:`vlthink.scene.success`. They give their episode facts in ``_task_info`` and their state
(tensors, starting from ``self._robot_state()``) in ``_privileged_state``; this class offers them
as :class:`vlthink.envs.contract.EnvContract` says: ``task_info()`` computed once per reset,
``privileged_state()`` as NumPy arrays.
"""

from __future__ import annotations

import numpy as np
import sapien
import torch
from gymnasium.utils import seeding
from mani_skill.envs.sapien_env import BaseEnv

# Importing this module registers ManiSkill's real-to-sim tuned Bridge WidowX agent.
from mani_skill.envs.tasks.digital_twins.bridge_dataset_eval.base_env import (  # noqa: F401
    WidowX250SBridgeDatasetFlatTable,
)
from mani_skill.sensors.camera import CameraConfig
from mani_skill.utils.structs.actor import Actor
from mani_skill.utils.structs.pose import Pose
from mani_skill.utils.structs.types import SimConfig

from vlthink.assets import table_looks
from vlthink.assets.sets import DEFAULT_ASSETS, asset_set
from vlthink.scene.backdrop import Backdrop, camera_world_pose
from vlthink.scene.robot_asset import ensure_robot_asset
from vlthink.scene.timing import CONTROL_FREQ, MAX_EPISODE_STEPS, SIM_FREQ  # noqa: F401

# --- Grasp reporting (read-only: contact queries never change the physics) --------------------
GRASP_NEAR = 0.08  # m between object centre and TCP before the finger contacts are queried
CONSECUTIVE_GRASP_STEPS = 5  # SimplerEnv's "consecutive_grasp": held for this many steps

# --- Robot (the paper's released set-up; facts, keep as they are) ------------------------------
ROBOT_UID = "widowx250s_bridgedataset_flat_table"
ROBOT_BASE_P = (0.147, 0.028, 0.870)  # m, world frame
ROBOT_BASE_Q = (0.0, 0.0, 0.0, 1.0)  # wxyz: yawed 180 deg, the arm faces -x
ROBOT_INIT_QPOS = (
    -0.01840777,
    0.0398835,
    0.22242722,
    -0.00460194,
    1.36524296,
    0.00153398,
    0.037,
    0.037,
)  # rad (6 arm joints), m (2 fingers, open)
CONTROL_MODE = "arm_pd_ee_target_delta_pose_align2_gripper_pd_joint_pos"

# --- Camera: the Bridge "3rd_view_camera", defined on the robot's base_link by the agent --------
CAMERA_UID = "3rd_view_camera"
CAMERA_WIDTH, CAMERA_HEIGHT = 640, 480  # px
CAMERA_INTRINSIC = ((623.588, 0.0, 319.501), (0.0, 623.588, 239.545), (0.0, 0.0, 1.0))  # px
CAMERA_POSE_ON_BASE_P = (0.0, -0.16, 0.36)  # m, in base_link
CAMERA_POSE_ON_BASE_Q = (0.8992917, -0.09263245, 0.35892478, 0.23209205)  # wxyz

# --- Table ----------------------------------------------------------------------------------------
TABLE_TOP_Z = 0.870  # m: the robot base stands on the table top
TABLE_HALF_SIZE = (0.70, 0.90, 0.02)  # m; the top spans x in [-1.1, 0.3], y in [-0.9, 0.9]
TABLE_CENTER_XY = (-0.40, 0.0)  # m
TABLE_FRICTION = 0.3  # static and dynamic: the default material of ManiSkill's scenes

# --- Rendering (the paper's eval set-up) ---------------------------------------------------------
SHADER_PACK = "default"  # ManiSkill shader pack of every camera (ManiSkill's default: "minimal")
ROBOT_SPECULAR, ROBOT_ROUGHNESS = 0.9, 0.3  # render material of every robot link
AMBIENT_LIGHT = 0.3  # grey level
DIRECTIONAL_LIGHTS = (  # (direction, grey strength); no shadows
    ([0, 0, -1], 2.2),
    ([-1, -0.5, -1], 0.7),
    ([1, 1, -1], 0.7),
)

SETTLE_SECONDS = 0.5  # s of physics run after placing objects, before step 0
ROBOT_PARKED_P = (0.0, 0.0, -5.0)  # m: where the arm waits while objects settle


def _clone(tree, fresh=("sensor_data",)):
    """Copy the tensors of an observation tree, except under keys whose tensors are new each call
    (camera images are rendered into new tensors; copying them would cost ~1 MB a step)."""
    if isinstance(tree, dict):
        return {k: v if k in fresh else _clone(v, fresh) for k, v in tree.items()}
    return tree.clone() if isinstance(tree, torch.Tensor) else tree


def _to_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


class WidowXTableEnv(BaseEnv):
    """Base scene: WidowX on a textured table, Bridge camera, 500/5 Hz, 80 steps."""

    SUPPORTED_ROBOTS = [ROBOT_UID]
    SUPPORTED_OBS_MODES = ["rgb+segmentation", "rgb", "state", "none", "state_dict"]
    SUPPORTED_REWARD_MODES = ["none", "sparse"]
    # False: every capture draws the backdrop (the reference the composite is tested against)
    composite_backdrop = True
    # (actor ids or None where none were read, empty) of the last capture where it pasted the
    # backdrop in; None where it was drawn (or nothing was captured)
    _composited: tuple[np.ndarray | None, np.ndarray] | None = None

    def __init__(
        self,
        *args,
        robot_uids=ROBOT_UID,
        table_look: str = table_looks.DEFAULT_LOOK,
        assets: str = DEFAULT_ASSETS,
        **kwargs,
    ):
        table_looks.table_texture(table_look)  # fail early, with the list of known looks
        # What each category looks like (vlthink.assets.sets); a pack that is not whole fails
        # here, with one line naming what is missing
        self.assets = asset_set(assets)
        ensure_robot_asset()
        self.table_look = table_look
        kwargs.setdefault("control_mode", CONTROL_MODE)
        kwargs.setdefault("obs_mode", "rgb+segmentation")
        # The paper's eval renders with the "default" shader pack (ManiSkill's own default is
        # "minimal"); ManiSkill applies a top-level "shader_pack" to every camera, the agent's
        # 3rd_view_camera included, and a caller's keys (global or per camera) win.
        for key in ("sensor_configs", "human_render_camera_configs"):
            kwargs[key] = {"shader_pack": SHADER_PACK, **(kwargs.get(key) or {})}
        super().__init__(*args, robot_uids=robot_uids, **kwargs)

    # ---- configuration ---------------------------------------------------------------------------
    @property
    def _default_sim_config(self):
        return SimConfig(sim_freq=SIM_FREQ, control_freq=CONTROL_FREQ, spacing=20)

    @property
    def _default_sensor_configs(self):
        return []  # the agent carries the 3rd_view_camera

    @property
    def _default_human_render_camera_configs(self):
        return CameraConfig(
            "render_camera",
            pose=sapien.Pose(CAMERA_POSE_ON_BASE_P, CAMERA_POSE_ON_BASE_Q),
            width=CAMERA_WIDTH,
            height=CAMERA_HEIGHT,
            intrinsic=np.array(CAMERA_INTRINSIC),
            near=0.01,
            far=10,
            mount=self.agent.robot.links_map["base_link"],
        )

    def _load_agent(self, options: dict):
        super()._load_agent(options, sapien.Pose(p=ROBOT_BASE_P, q=ROBOT_BASE_Q))
        # The paper's set_articulation_render_material(specular=0.9, roughness=0.3), on every
        # render shape of every link in every sub-scene.
        for link in self.agent.robot.links:
            for entity in link._objs:
                body = entity.entity.find_component_by_type(sapien.render.RenderBodyComponent)
                for shape in body.render_shapes if body is not None else ():
                    for part in shape.parts:
                        part.material.set_specular(ROBOT_SPECULAR)
                        part.material.set_roughness(ROBOT_ROUGHNESS)

    def _load_lighting(self, options: dict):
        self.scene.set_ambient_light([AMBIENT_LIGHT] * 3)
        for direction, strength in DIRECTIONAL_LIGHTS:
            self.scene.add_directional_light(direction, [strength] * 3, shadow=False)

    def reset(self, seed=None, options=None):
        self._grasp_steps = None  # the episode's consecutive-grasp count starts again
        self._task_facts = None  # the new draw's facts, computed at their first use
        if seed is not None:
            # ManiSkill draws from its own episode RNGs; Gymnasium's `np_random` is set from the
            # same seed so gymnasium's env_checker and wrappers see a seeded env.
            first = int(np.asarray(seed).reshape(-1)[0])
            self._np_random, self._np_random_seed = seeding.np_random(first)
        return super().reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        # ManiSkill ends an episode at its first success. The benchmark's protocol runs all 80
        # steps, so that "success at the end" (the object stayed put) can differ from "success
        # at any step"; episodes end by truncation only.
        return obs, reward, torch.zeros_like(terminated), truncated, info

    # ---- building blocks for tasks ---------------------------------------------------------------
    def _load_table(self) -> Actor:
        """A static table with collision only, and the backdrop that shows its look.

        The table top is seen through :mod:`vlthink.scene.backdrop`: an unlit camera-filling
        plane behind everything that shows the look as the camera sees it (the paper's green
        screen over a table photo), drawn in the same render pass or, on a CPU render, pasted
        into the frame with the same pixels."""
        hx, hy, hz = TABLE_HALF_SIZE
        builder = self.scene.create_actor_builder()
        material = sapien.physx.PhysxMaterial(TABLE_FRICTION, TABLE_FRICTION, 0.0)
        builder.add_box_collision(half_size=TABLE_HALF_SIZE, material=material)
        builder.initial_pose = sapien.Pose(p=[*TABLE_CENTER_XY, TABLE_TOP_Z - hz])
        self.table = builder.build_static(name="table")
        self._textures: dict[str, sapien.render.RenderTexture2D] = {}
        cx, cy = TABLE_CENTER_XY
        camera = camera_world_pose(
            ROBOT_BASE_P, ROBOT_BASE_Q, CAMERA_POSE_ON_BASE_P, CAMERA_POSE_ON_BASE_Q
        )  # the base never moves, so neither does the camera
        self.backdrop = Backdrop(
            self.scene,
            camera,
            CAMERA_INTRINSIC,
            (CAMERA_WIDTH, CAMERA_HEIGHT),
            (cx - hx, cy - hy),
            (cx + hx, cy + hy),
            TABLE_TOP_Z,
            pictures=self.assets.table_picture,
        )
        self.set_table_look(self.table_look)
        return self.table

    def texture(self, key: str, image: np.ndarray | None = None, path: str | None = None):
        """A render texture, created once per key and reused across episodes."""
        tex = self._textures.get(key)
        if tex is None:
            if path is not None:
                tex = sapien.render.RenderTexture2D(str(path), srgb=True)
            else:
                rgba = np.concatenate(
                    [image, np.full(image.shape[:2] + (1,), 255, np.uint8)], axis=-1
                )
                tex = sapien.render.RenderTexture2D(
                    np.ascontiguousarray(rgba), "R8G8B8A8Unorm", srgb=True
                )
            self._textures[key] = tex
        return tex

    def set_actor_texture(self, actor: Actor, key: str, image=None, path=None, env_idx=None):
        """Swap the base-colour texture of an actor built from a textured slab, without rebuilding.

        Changes only the render material, so a reset that changes boards or table looks costs no
        reconfiguration."""
        tex = self.texture(key, image=image, path=path)
        objs = actor._objs if env_idx is None else [actor._objs[i] for i in env_idx]
        for entity in objs:
            body = entity.find_component_by_type(sapien.render.RenderBodyComponent)
            for shape in body.render_shapes:
                for part in shape.parts:
                    part.material.set_base_color_texture(tex)
                    part.material.set_base_color([1.0, 1.0, 1.0, 1.0])

    def set_table_look(self, look: str, env_idx: list[int] | None = None):
        """Show table look ``look`` (a name of :data:`vlthink.assets.table_looks.TABLE_LOOKS`) in
        the sub-envs ``env_idx`` (all when None); the one entry point tasks use per episode."""
        self.backdrop.show(look, env_idx)

    def _settle(self, seconds: float = SETTLE_SECONDS):
        """Let dropped objects come to rest before the first observation.

        The arm is parked out of the scene meanwhile: the carrot's drop point (z = 1.0 m) lies
        within reach of the gripper's initial pose, so an arm in the scene would nudge the falling
        object differently after every episode and break "same seed, same scene"."""
        self.agent.robot.set_pose(Pose.create_from_pq(p=torch.tensor(ROBOT_PARKED_P)))
        if self.gpu_sim_enabled:
            self.scene._gpu_apply_all()
        for _ in range(int(SIM_FREQ * seconds)):
            self.scene.step()
        if self.gpu_sim_enabled:
            self.scene._gpu_fetch_all()

    def _reset_robot(self, env_idx: torch.Tensor):
        qpos = torch.tensor(ROBOT_INIT_QPOS, dtype=torch.float32, device=self.device)
        self.agent.robot.set_pose(
            Pose.create_from_pq(p=torch.tensor(ROBOT_BASE_P), q=torch.tensor(ROBOT_BASE_Q))
        )
        self.agent.reset(init_qpos=qpos.expand(len(env_idx), -1) if self.num_envs > 1 else qpos)

    # ---- observations for policies ---------------------------------------------------------------
    def get_obs(self, *args, **kwargs):
        # ManiSkill hands out some tensors it later edits in place (the controller's target pose)
        # or reuses (camera parameters); copy, so a returned observation never changes after the
        # fact (Gymnasium's env_checker insists, and so do users who keep trajectories).
        return _clone(super().get_obs(*args, **kwargs))

    def _get_obs_extra(self, info: dict):
        # Proprioception a learned policy may use; scene state stays out (see privileged_state).
        return {"tcp_pose": self.tcp_pose.raw_pose}

    # ---- the env contract (vlthink.envs.contract): what the harness and integrations see ------
    _task_facts: list[dict] | None = None

    def task_info(self) -> list[dict]:
        """Per sub-env: the facts of its episode's draw (computed once per reset; each call gets
        its own dicts, so a caller that edits one cannot change the next caller's)."""
        if self._task_facts is None:
            self._task_facts = self._task_info()
        return [dict(t) for t in self._task_facts]

    def _task_info(self) -> list[dict]:
        raise NotImplementedError

    def privileged_state(self) -> dict[str, np.ndarray]:
        """Per key an (N, ...) NumPy array of the scene's state (scripted policies plan from it)."""
        return {k: _to_numpy(v) for k, v in self._privileged_state().items()}

    def _privileged_state(self) -> dict[str, torch.Tensor]:
        return self._robot_state()

    # ---- the SimplerEnv / ManiSkill Bridge interface (eval loops written for those run here) ---
    def get_language_instruction(self) -> list[str]:
        """One instruction per sub-env."""
        return [t["instruction"] for t in self.task_info()]

    def is_final_subtask(self) -> bool:
        return True  # every vlthink task is a single pick-and-place

    def _object_grasped(self) -> torch.Tensor:
        """(N,) bool: the gripper holds the task's object (tasks that have one override this)."""
        return torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)

    def _grasp_near(self, object_p: torch.Tensor) -> torch.Tensor:
        """(N,) bool: the object is close enough to the gripper for a grasp to be possible; the
        contact query behind ``is_grasping`` walks every contact, so it runs only then."""
        return torch.linalg.norm(object_p - self.tcp_pose.p, dim=1) < GRASP_NEAR

    def grasp_info(self) -> dict[str, torch.Tensor]:
        """``is_src_obj_grasped`` and ``consecutive_grasp`` (held for CONSECUTIVE_GRASP_STEPS
        evaluations in a row), the keys of ManiSkill's Bridge envs; for a task's ``evaluate``."""
        grasped = self._object_grasped()
        steps = getattr(self, "_grasp_steps", None)
        if steps is None or steps.shape != grasped.shape:
            steps = torch.zeros(grasped.shape, dtype=torch.int32, device=grasped.device)
        self._grasp_steps = torch.where(grasped, steps + 1, torch.zeros_like(steps))
        return {
            "is_src_obj_grasped": grasped,
            "consecutive_grasp": self._grasp_steps >= CONSECUTIVE_GRASP_STEPS,
        }

    def _robot_state(self) -> dict[str, torch.Tensor]:
        """The robot's part of a task's ``privileged_state`` (the same in every task)."""
        return {
            "tcp_pose": self.tcp_pose.raw_pose,
            "robot_base_pose": self.agent.robot.pose.raw_pose,
            "gripper_qpos": self.agent.robot.get_qpos()[:, -2:],
        }

    @property
    def tcp_pose(self) -> Pose:
        return self.agent.robot.links_map["ee_gripper_link"].pose

    def camera_images(self, obs: dict) -> np.ndarray:
        """(N, H, W, 3) uint8 frames of the Bridge camera from an observation dict."""
        rgb = obs["sensor_data"][CAMERA_UID]["rgb"]
        return rgb.cpu().numpy() if isinstance(rgb, torch.Tensor) else np.asarray(rgb)

    # ---- the Bridge camera's capture -------------------------------------------------------------
    def _composites_backdrop(self, apply_texture_transforms: bool) -> bool:
        """Whether this capture pastes the backdrop in rather than drawing it (one sub-env on a
        CPU render, only the Bridge camera, only rgb and segmentation read: see
        :mod:`vlthink.scene.backdrop`)."""
        v = self.obs_mode_struct.visual
        return (
            self.composite_backdrop
            and apply_texture_transforms
            and v.rgb
            and not (v.depth or v.position or v.normal or v.albedo)
            and self.num_envs == 1
            and not self.scene.gpu_sim_enabled
            and self.scene.backend.render_backend != "sapien_cuda"
            and list(self.scene.sensors) == [CAMERA_UID]
        )

    def capture_sensor_data(self):
        self._composited = None
        super().capture_sensor_data()

    def _get_obs_sensor_data(self, apply_texture_transforms: bool = True) -> dict:
        hidden = None
        if self._composites_backdrop(apply_texture_transforms):
            hidden = self.backdrop.hide_for_composite()
        if hidden is None:
            return super()._get_obs_sensor_data(apply_texture_transforms)
        try:  # the raw pictures: the colour's alpha says where the capture shows nothing
            pictures = super()._get_obs_sensor_data(apply_texture_transforms=False)[CAMERA_UID]
        finally:
            self.backdrop.show_again(hidden)
        cam = self._camera_transforms(pictures)
        self._paste_backdrop(cam, empty=(pictures["Color"][0, ..., 3] == 0).numpy())
        return {CAMERA_UID: cam}

    def _camera_transforms(self, pictures: dict) -> dict:
        """The Bridge camera's observation from its raw pictures: the transforms ManiSkill's
        ``Camera.get_obs`` applies (colour to uint8 rgb, the segmentation's actor-id channel)."""
        transforms = self.scene.sensors[CAMERA_UID].config.shader_config.texture_transforms
        cam = {}
        for name, picture in pictures.items():
            cam |= transforms[name](picture)
        return cam

    def _paste_backdrop(self, cam: dict, empty: np.ndarray) -> None:
        """Paste the backdrop, in place, into the observation of a capture that hid it, where the
        (H, W) bool ``empty`` says nothing was drawn, and give those pixels its segmentation id.

        Nothing drawn is the colour's alpha 0: every material is opaque and writes alpha 1, the
        clear colour is 0, so these are the pixels of segmentation id 0 (tested frame by frame)
        and an rgb observation reads no segmentation picture (``camera_segmentation`` reads it
        when asked)."""
        self.backdrop.composite(cam["rgb"][0].numpy(), empty)
        seg = cam.get("segmentation")
        ids = None
        if seg is not None:
            ids = seg[0, ..., 0].numpy()
            seg[0, ..., 0][torch.from_numpy(empty)] = int(self.backdrop.seg_ids[0])
        self._composited = (ids, empty)

    def _picture_ids(self) -> np.ndarray:
        """(H, W) uint32 actor/link ids of the last CPU capture (channel 1 of the picture, as
        ManiSkill's "default" shader pack transform reads it)."""
        camera = self.scene.sensors[CAMERA_UID].camera._render_cameras[0]
        return np.ascontiguousarray(camera.get_picture("Segmentation")[..., 1])

    def camera_segmentation(self) -> torch.Tensor:
        """(N, H, W, 1) int64 actor-level segmentation of the Bridge camera's last capture, as
        ManiSkill's ``Camera.get_obs(segmentation=True)`` gives it with the backdrop drawn. On a
        CPU render that call converts all four uint32 channels of the picture to int64 and keeps
        one; here only that channel is converted: same ids, same dtype."""
        if self._composited is not None:
            ids, empty = self._composited
            out = (self._picture_ids() if ids is None else ids).astype(np.int64)
            out[empty] = int(self.backdrop.seg_ids[0])
            return torch.from_numpy(out)[None, ..., None]
        sensor = self.scene.sensors[CAMERA_UID]
        if self.scene.gpu_sim_enabled or self.scene.backend.render_backend == "sapien_cuda":
            return sensor.get_obs(rgb=False, depth=False, position=False, segmentation=True)[
                "segmentation"
            ]
        return torch.from_numpy(self._picture_ids().astype(np.int64))[None, ..., None]

    def camera_foreground(self, camera_obs: dict | None = None) -> torch.Tensor:
        """(N, H, W) bool: the pixels of the last capture that show the robot or a thing (not the
        backdrop, not nothing); ``camera_obs``: the capture's observation, whose segmentation is
        used when it has one."""
        if self._composited is not None:
            return torch.from_numpy(~self._composited[1])[None]
        seg = (camera_obs or {}).get("segmentation")
        return self.backdrop.foreground(self.camera_segmentation() if seg is None else seg)
