"""VL-Think first frames with ground truth: which pixels show the target, the other boards, the
robot and the carrot, and how much of each board the robot hides.

Only the public env API is used: ``gym.make(env_id, obs_mode="rgb+segmentation")``,
``reset(seed=...)``, ``task_info()``, ``privileged_state()["board_poses"]``, the segmentation
image, the camera parameters in ``obs["sensor_param"]`` and ManiSkill's
``segmentation_id_map``. Boards are the actors ``env.boards`` in position order (left, centre,
right; Parity: left, right), as ``task_info()["boards"]`` lists them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from vlthink.diagnostics.patch_grid import box_corners, hull_mask, project

CAMERA = "3rd_view_camera"


@dataclass
class Scene:
    """One first frame and its region masks (all (H, W) bool)."""

    env_id: str
    domain: str
    seed: int
    image: np.ndarray  # (H, W, 3) uint8, as the VLM probe sees it
    task: dict
    boards: dict[str, np.ndarray]  # position -> visible pixels of that board
    silhouettes: dict[str, np.ndarray]  # position -> every pixel the board covers, hidden or not
    robot: np.ndarray
    carrot: np.ndarray

    @property
    def target_position(self) -> str:
        return self.task["target_position"]

    def region_masks(self) -> dict[str, np.ndarray]:
        """target / distractor / robot / carrot masks (background: the rest)."""
        others = [m for p, m in self.boards.items() if p != self.target_position]
        return {
            "target": self.boards[self.target_position],
            "distractor": np.logical_or.reduce(others) if others else np.zeros_like(self.robot),
            "robot": self.robot,
            "carrot": self.carrot,
        }


@dataclass
class SceneSource:
    """Renders first frames of one VL-Think env (one env kept open, reset per seed)."""

    env_id: str
    _env: object = field(default=None, repr=False)

    def _open(self):
        if self._env is None:
            import gymnasium as gym

            import vlthink  # noqa: F401  (registers the ids)

            os.environ.setdefault("MS_SKIP_ASSET_DOWNLOAD_PROMPT", "1")
            self._env = gym.make(self.env_id, obs_mode="rgb+segmentation")
        return self._env

    def scene(self, seed: int) -> Scene:
        env = self._open()
        obs, _ = env.reset(seed=seed)
        return read_scene(env, obs, self.env_id, seed)

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None


def scenes_to_do(envs: list[str], todo: list[tuple[str, int]]) -> Iterator[tuple[str, int, Scene]]:
    """``(env_id, seed, scene)`` for the ``todo`` pairs, one env at a time (each env is built
    once and closed after its last scene, also when the caller stops early)."""
    for env_id in envs:
        seeds = [seed for e, seed in todo if e == env_id]
        if not seeds:
            continue
        src = SceneSource(env_id)
        try:
            for seed in seeds:
                yield env_id, seed, src.scene(seed)
        finally:
            src.close()


def _ids(env) -> tuple[list[int], set[int], int]:
    """Segmentation ids of the boards (position order), of the robot's links, of the carrot."""
    from mani_skill.utils.structs import Link

    u = env.unwrapped
    boards = [int(b.per_scene_id[0]) for b in u.boards]
    robot_links = {link.name for link in u.agent.robot.get_links()}
    robot = {
        int(i)
        for i, obj in u.segmentation_id_map.items()
        if isinstance(obj, Link) and obj.name in robot_links
    }
    return boards, robot, int(u.carrot.per_scene_id[0])


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def read_scene(env, obs: dict, env_id: str, seed: int) -> Scene:
    """The Scene of sub-env 0 of a reset observation."""
    from vlthink.envs.vl_think import BOARD_HALF_SIZE

    u = env.unwrapped
    image = _numpy(obs["sensor_data"][CAMERA]["rgb"])[0]
    seg = _numpy(obs["sensor_data"][CAMERA]["segmentation"])[0, ..., 0]
    params = {k: _numpy(v)[0] for k, v in obs["sensor_param"][CAMERA].items()}
    task = u.task_info()[0]
    board_ids, robot_ids, carrot_id = _ids(env)
    poses = _numpy(u.privileged_state()["board_poses"])[0]  # (B, 7)
    positions = list(task["boards"])
    boards, sils = {}, {}
    for pos, bid, pose in zip(positions, board_ids, poses):
        boards[pos] = seg == bid
        uv = project(
            box_corners(pose[:3], BOARD_HALF_SIZE), params["intrinsic_cv"], params["extrinsic_cv"]
        )
        sils[pos] = hull_mask(uv, seg.shape)
    return Scene(
        env_id=env_id,
        domain=task["domain"],
        seed=seed,
        image=image,
        task=task,
        boards=boards,
        silhouettes=sils,
        robot=np.isin(seg, list(robot_ids)),
        carrot=seg == carrot_id,
    )


@dataclass(frozen=True)
class Occlusion:
    """How much of one board's silhouette the first frame shows, and what hides the rest."""

    layout: str
    position: str
    silhouette_px: int
    visible_share: float  # of the silhouette, pixels showing this board
    robot_share: float  # of the silhouette, pixels showing the robot in front of it
    other_share: float  # of the silhouette, pixels showing anything else (carrot, edge pixels)
    visible_outside: float  # share of the board's visible pixels outside its silhouette (check)


def occlusion(scene: Scene, layout: str) -> list[Occlusion]:
    """Per board position, the robot's occlusion of the board in this frame."""
    out = []
    for pos, sil in scene.silhouettes.items():
        n = int(sil.sum())
        vis = scene.boards[pos]
        v = float((vis & sil).sum()) / n
        r = float((scene.robot & sil).sum()) / n
        out.append(
            Occlusion(
                layout,
                pos,
                n,
                v,
                r,
                max(0.0, 1.0 - v - r),
                float((vis & ~sil).sum()) / max(int(vis.sum()), 1),
            )
        )
    return out


#: One env per scene layout (the robot starts identically in every episode and every domain,
#: the boards lie at fixed positions, so one first frame per layout gives its occlusion).
LAYOUT_ENVS = {"3 boards": "VLThink-Shape-v0", "2 boards": "VLThink-Parity-v0"}


def layout_occlusion(seed: int = 0) -> tuple[list[Occlusion], list[Scene]]:
    """The robot's occlusion of each board position, once per layout, and the scenes used."""
    rows, scenes = [], []
    for layout, env_id in LAYOUT_ENVS.items():
        src = SceneSource(env_id)
        try:
            scene = src.scene(seed)
        finally:
            src.close()
        rows += occlusion(scene, layout)
        scenes.append(scene)
    return rows, scenes


def occlusion_figure(scenes: list[Scene], rows: list[Occlusion], out) -> None:
    """First frames with each board's full silhouette outlined, its hidden part tinted magenta."""
    from vlthink.diagnostics.figures import _outline, _plt

    plt = _plt()
    fig, axes = plt.subplots(1, len(scenes), figsize=(5.2 * len(scenes), 4.2), squeeze=False)
    for ax, scene in zip(axes[0], scenes):
        img = scene.image.copy()
        for pos, sil in scene.silhouettes.items():
            hidden = sil & ~scene.boards[pos]
            img[hidden] = (0.4 * img[hidden] + 0.6 * np.array([255, 0, 255])).astype(np.uint8)
            img[_outline(sil)] = (0, 255, 255)
        ax.imshow(img)
        layout = f"{len(scene.boards)} boards"
        text = ", ".join(
            f"{r.position} {100 * r.robot_share:.1f}%" for r in rows if r.layout == layout
        )
        ax.set_title(f"{scene.env_id} seed {scene.seed}: robot hides {text}", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
