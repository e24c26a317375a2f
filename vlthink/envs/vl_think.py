"""VL-Think: put the carrot on the board whose printed concept the instruction names.

Task
    A carrot lies in front of the WidowX; three flat boards (two for Parity) lie further out, at
    the left, centre and right of the camera image. Each board shows one concept of the task's
    domain (a traffic sign, a laundry care symbol, a numeral ...). The instruction names one of
    them, e.g. ``put carrot on no entry sign``.

Randomisation (per episode, from the episode seed alone)
    - which concepts are shown: three distinct concepts of the domain (Shape: three distinct
      shapes, colours free; Color: three distinct colours, shapes free; Parity: one odd and one
      even numeral);
    - which board is the target: uniform over the positions (Parity: the target parity is
      uniform, and so is the side its numeral lies on);
    - nothing else: the carrot, the boards and the robot start where the paper put them.

Success
    The carrot rests on the target board: its centre lies within the board's half-size + 1 cm of
    the board's centre along both table axes, it is above the board by no more than 5 cm beyond
    the two half-heights, and the two touch (contact force > 0.03 N). ``info["placed_on"]`` says
    where the carrot rests: 0 nowhere, 1 on the target, 2 on a distractor (names in
    ``vlthink.envs.PLACED_ON``), so a wrong-board rate can be computed.

The paper's released Parity environment rewards the wrong parity (a perfect policy scores 0%);
here the instruction's parity is the board that counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sapien
import torch
from mani_skill.utils.structs.pose import Pose

from vlthink.boards import catalogue
from vlthink.scene.meshes import carrot_obj, textured_slab_obj
from vlthink.scene.widowx import TABLE_TOP_Z, WidowXTableEnv

# --- Layout (m, world frame; the paper's released set-up) ----------------------------------------
CARROT_DROP_P = (-0.10, 0.0, 1.0)  # dropped from here and settled before step 0
BOARD_HALF_SIZE = (0.055, 0.055, 0.003)  # an 11 x 11 x 0.6 cm board
BOARD_X = -0.25
POSITION_Y = {"left": -0.155, "center": 0.0, "right": 0.155}  # as seen in the camera image
POSITIONS_3 = ("left", "center", "right")
POSITIONS_2 = ("left", "right")  # Parity

# --- Carrot (see vlthink.scene.meshes.carrot_obj) --------------------------------------------------
CARROT_COLLISION_HALF_SIZE = (0.05, 0.012, 0.012)  # m: a box, so the carrot cannot roll away
CARROT_DENSITY = 600.0  # kg/m^3
OBJECT_FRICTION = 1.0

# --- Success --------------------------------------------------------------------------------------
XY_MARGIN = 0.01  # m beyond the board's half-size
MAX_Z_GAP = 0.05  # m between the two half-heights
MIN_CONTACT_FORCE = 0.03  # N

PLACED_ON = ("none", "target", "distractor")


@dataclass(frozen=True)
class EpisodeLayout:
    """What one episode shows: the board at each position and which one is the target."""

    boards: tuple[str, ...]  # board keys, in position order
    positions: tuple[str, ...]  # position words, same order
    target_slot: int
    target: str  # concept phrase as the instruction says it ("no entry sign", "even number")
    instruction: str
    absent: str  # a concept phrase of the domain shown on no board (for the VLM probe)


def _pick(rng: np.random.RandomState, seq, k: int):
    idx = rng.choice(len(seq), size=k, replace=False)
    return [seq[i] for i in idx]


def _layout_single(domain: str, rng) -> EpisodeLayout:
    """Three distinct concepts, one board each; target slot uniform."""
    d = catalogue.domain(domain)
    chosen = _pick(rng, d.concepts, len(POSITIONS_3) + 1)
    shown, absent = chosen[:3], chosen[3]
    slot = int(rng.randint(len(POSITIONS_3)))
    phrase = lambda c: d.phrase.format(name=c.name)  # noqa: E731
    return EpisodeLayout(
        boards=tuple(catalogue.board_key(d.name, c.key) for c in shown),
        positions=POSITIONS_3,
        target_slot=slot,
        target=phrase(shown[slot]),
        instruction=d.instruction(shown[slot].key),
        absent=phrase(absent),
    )


def _layout_shape_color(named: str, free: str, rng) -> EpisodeLayout:
    """Shape: three distinct shapes in free colours; Color: three distinct colours, free shapes."""
    d_named, d_free = catalogue.domain(named), catalogue.domain(free)
    chosen = _pick(rng, d_named.concepts, len(POSITIONS_3) + 1)
    shown, absent = chosen[:3], chosen[3]
    others = [d_free.concepts[i] for i in rng.randint(len(d_free.concepts), size=3)]
    slot = int(rng.randint(len(POSITIONS_3)))
    return EpisodeLayout(
        boards=tuple(catalogue.board_key(named, c.key, o.key) for c, o in zip(shown, others)),
        positions=POSITIONS_3,
        target_slot=slot,
        target=shown[slot].name,
        instruction=d_named.instruction(shown[slot].key),
        absent=absent.name,
    )


def _layout_parity(domain: str, rng) -> EpisodeLayout:
    """One odd and one even numeral; the asked parity and its side are uniform."""
    odd = sorted(catalogue.PARITY_CLASSES["odd"])
    even = sorted(catalogue.PARITY_CLASSES["even"])
    numerals = {"odd": odd[rng.randint(len(odd))], "even": even[rng.randint(len(even))]}
    parity = ("odd", "even")[rng.randint(2)]
    other = "even" if parity == "odd" else "odd"
    slot = int(rng.randint(len(POSITIONS_2)))
    order = [numerals[other]] * len(POSITIONS_2)
    order[slot] = numerals[parity]
    unseen = [n for n in catalogue.NUMERALS if n not in numerals.values()]
    return EpisodeLayout(
        boards=tuple(catalogue.board_key("Parity", n) for n in order),
        positions=POSITIONS_2,
        target_slot=slot,
        target=f"{parity} number",
        instruction=catalogue.parity_instruction(parity),
        absent=f"number {unseen[rng.randint(len(unseen))]}",
    )


# One row per domain: how an episode's layout is drawn.
LAYOUTS = {
    "Shape": lambda rng: _layout_shape_color("Shape", "Color", rng),
    "Color": lambda rng: _layout_shape_color("Color", "Shape", rng),
    "Traffic": lambda rng: _layout_single("Traffic", rng),
    "Laundry": lambda rng: _layout_single("Laundry", rng),
    "Weather": lambda rng: _layout_single("Weather", rng),
    "Arrow": lambda rng: _layout_single("Arrow", rng),
    "PublicInfo": lambda rng: _layout_single("PublicInfo", rng),
    "Parity": lambda rng: _layout_parity("Parity", rng),
}


class VLThinkEnv(WidowXTableEnv):
    """Base class of the eight VL-Think tasks; subclasses set DOMAIN."""

    DOMAIN: str = ""

    def __init__(self, *args, **kwargs):
        if self.DOMAIN not in LAYOUTS:
            raise ValueError(f"VLThinkEnv needs a DOMAIN among {sorted(LAYOUTS)}")
        self.num_boards = 2 if self.DOMAIN == "Parity" else 3
        self.layouts: list[EpisodeLayout] = []
        super().__init__(*args, **kwargs)

    # ---- scene -------------------------------------------------------------------------------------
    def _load_scene(self, options: dict):
        self._load_table()
        board_mesh = str(textured_slab_obj(BOARD_HALF_SIZE, "board"))
        material = sapien.physx.PhysxMaterial(OBJECT_FRICTION, OBJECT_FRICTION, 0.0)
        self.boards = []
        for i in range(self.num_boards):
            builder = self.scene.create_actor_builder()
            builder.add_box_collision(half_size=BOARD_HALF_SIZE, material=material)
            builder.add_visual_from_file(board_mesh)
            builder.initial_pose = sapien.Pose(p=[BOARD_X, 0.3 * i, TABLE_TOP_Z + BOARD_HALF_SIZE[2]])
            self.boards.append(builder.build(name=f"board_{i}"))
        builder = self.scene.create_actor_builder()
        builder.add_box_collision(
            half_size=CARROT_COLLISION_HALF_SIZE, material=material, density=CARROT_DENSITY
        )
        builder.add_visual_from_file(str(carrot_obj()))
        builder.initial_pose = sapien.Pose(p=CARROT_DROP_P)
        self.carrot = builder.build(name="carrot")
        self.target_slot = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)

    # ---- episode -----------------------------------------------------------------------------------
    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        idx = [int(i) for i in env_idx]
        if len(self.layouts) != self.num_envs:
            self.layouts = [None] * self.num_envs
        positions = POSITIONS_2 if self.num_boards == 2 else POSITIONS_3
        for i in idx:
            layout = LAYOUTS[self.DOMAIN](self._batched_episode_rng[i])
            self.layouts[i] = layout
            self.target_slot[i] = layout.target_slot
            for board, key in zip(self.boards, layout.boards):
                self.set_actor_texture(board, key, path=catalogue.board_path(key), env_idx=[i])
        n = len(idx)
        for board, pos in zip(self.boards, positions):
            p = torch.tensor([BOARD_X, POSITION_Y[pos], TABLE_TOP_Z + BOARD_HALF_SIZE[2]])
            board.set_pose(Pose.create_from_pq(p=p.expand(n, 3), q=torch.tensor([1.0, 0, 0, 0]).expand(n, 4)))
            board.set_linear_velocity(torch.zeros(n, 3))
            board.set_angular_velocity(torch.zeros(n, 3))
        self.carrot.set_pose(Pose.create_from_pq(p=torch.tensor(CARROT_DROP_P).expand(n, 3)))
        self.carrot.set_linear_velocity(torch.zeros(n, 3))
        self.carrot.set_angular_velocity(torch.zeros(n, 3))
        self._settle()
        self._reset_robot(env_idx)

    # ---- success -----------------------------------------------------------------------------------
    def _resting_on(self, board) -> torch.Tensor:
        offset = self.carrot.pose.p - board.pose.p
        half = BOARD_HALF_SIZE[0] + XY_MARGIN
        xy = (offset[:, 0].abs() <= half) & (offset[:, 1].abs() <= half)
        gap = offset[:, 2] - BOARD_HALF_SIZE[2] - CARROT_COLLISION_HALF_SIZE[2]
        z = (offset[:, 2] > 0) & (gap <= MAX_Z_GAP)
        above = xy & z
        if not bool(above.any()):
            return above  # most steps: skip the contact query, which walks every contact
        force = torch.linalg.norm(self.scene.get_pairwise_contact_forces(self.carrot, board), dim=1)
        return above & (force > MIN_CONTACT_FORCE)

    def evaluate(self):
        on = torch.stack([self._resting_on(b) for b in self.boards], dim=1)  # (N, boards)
        rows = torch.arange(self.num_envs, device=self.device)
        on_target = on[rows, self.target_slot]
        on_other = on.any(dim=1) & ~on_target
        placed_on = torch.where(on_target, 1, torch.where(on_other, 2, 0))
        return {"success": on_target, "placed_on": placed_on}

    # ---- what policies and the harness see --------------------------------------------------------
    def task_info(self) -> list[dict]:
        """Per sub-env: the instruction, the target concept and its position, an absent concept."""
        out = []
        for layout in self.layouts:
            out.append(
                {
                    "domain": self.DOMAIN,
                    "instruction": layout.instruction,
                    "target": layout.target,
                    "target_position": layout.positions[layout.target_slot],
                    "target_board": layout.boards[layout.target_slot],
                    "boards": dict(zip(layout.positions, layout.boards)),
                    "absent": layout.absent,
                }
            )
        return out

    def privileged_state(self) -> dict[str, np.ndarray]:
        rows = torch.arange(self.num_envs, device=self.device)
        board_p = torch.stack([b.pose.raw_pose for b in self.boards], dim=1)  # (N, B, 7)
        return {
            "tcp_pose": self.tcp_pose.raw_pose,
            "object_pose": self.carrot.pose.raw_pose,
            "target_pose": board_p[rows, self.target_slot],
            "board_poses": board_p,
            "robot_base_pose": self.agent.robot.pose.raw_pose,
            "gripper_qpos": self.agent.robot.get_qpos()[:, -2:],
        }


def _domain_env(domain: str) -> type[VLThinkEnv]:
    """A thin subclass per domain (the registry needs one class per id)."""
    return type(f"VLThink{domain}Env", (VLThinkEnv,), {"DOMAIN": domain, "__doc__": f"VL-Think {domain}: {__doc__}"})


DOMAIN_ENVS: dict[str, type[VLThinkEnv]] = {d: _domain_env(d) for d in LAYOUTS}
