"""VL-Think: put the carrot on the board whose printed concept the instruction names.

Task
    A carrot lies in front of the WidowX; three flat boards (two for Parity) lie further out, at
    the left, centre and right of the camera image. Each board shows one concept of the task's
    domain (a traffic sign, a laundry care symbol, a numeral ...). The instruction names one of
    them, e.g. ``put carrot on no entry sign``. One row of :data:`TASKS` per domain says how its
    episodes are laid out (kind, positions) and what they show; the README's table is made
    from the rows.

Randomisation (per episode, from the episode seed alone)
    - which concepts are shown: three distinct concepts of the domain (Shape: three distinct
      shapes, colours free; Color: three distinct colours, shapes free; Parity: one odd and one
      even numeral);
    - which board is the target: uniform over the positions (Parity: the target parity is
      uniform, and so is the side its numeral lies on);
    - the table look, uniform over all 21 looks (training and held-out, as in the paper);
    - nothing else: the carrot, the boards and the robot start where the paper put them.

Success (the rule of :mod:`vlthink.scene.success`, shared with the OOD suite; the paper's rule)
    The carrot rests on the target board: its centre lies within 6.5 cm of the board's centre
    seen from above (a disk: the board's half-size + 1 cm), it is above the board by no more than
    the two half-heights + 5 cm, and the two touch (contact force > 0.03 N).
    ``info["placed_on"]`` says where the carrot rests: 0 nowhere, 1 on the target, 2 on a
    distractor (names in ``vlthink.envs.PLACED_ON``), so a wrong-board rate can be computed.

The paper's released Parity environment rewards the wrong parity (a perfect policy scores 0%);
here the instruction's parity is the board that counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import sapien
import torch
from mani_skill.utils.structs.pose import Pose

from vlthink.assets import table_looks
from vlthink.boards import catalogue
from vlthink.envs.ids import vl_think_env_id as env_id
from vlthink.scene import success
from vlthink.scene.meshes import carrot_collision_obj, carrot_obj, textured_slab_obj
from vlthink.scene.widowx import TABLE_TOP_Z, WidowXTableEnv

# --- Layout (m, world frame; the paper's released set-up) ----------------------------------------
CARROT_DROP_P = (-0.10, 0.0, 1.0)  # dropped from here and settled before step 0
BOARD_HALF_SIZE = (0.055, 0.055, 0.003)  # an 11 x 11 x 0.6 cm board
BOARD_DENSITY = 6368.0  # kg/m^3: the paper's boards, 0.46 kg each
BOARD_X = -0.25
POSITION_Y = {"left": -0.155, "center": 0.0, "right": 0.155}  # as seen in the camera image
POSITIONS_3 = ("left", "center", "right")
POSITIONS_2 = ("left", "right")  # Parity

# --- Carrot (see vlthink.scene.meshes.carrot_obj) -------------------------------------------------
# The OOD catalogue's carrot, 11.8 x 3.2 x 4.1 cm like the paper's; its collision is the body's
# convex hull cut flat underneath (so it cannot roll away), the leaves do not collide.
CARROT_COLLISION_HALF_SIZE = (0.046, 0.0159, 0.0151)  # m: half-extents of the collision pieces
CARROT_DENSITY = 1044.0  # kg/m^3, the paper's carrot
OBJECT_FRICTION = 1.0


@dataclass(frozen=True)
class EpisodeLayout:
    """What one episode shows: the board at each position and which one is the target."""

    boards: tuple[str, ...]  # board keys, in position order
    positions: tuple[str, ...]  # position words, same order
    target_slot: int
    target: str  # concept phrase as the instruction says it ("no entry sign", "even number")
    instruction: str
    absent: str  # a concept phrase of the domain shown on no board (for the VLM probe)


@dataclass(frozen=True)
class DomainTask:
    """One row of the VL-Think table: a domain of the board catalogue and how its episodes are
    laid out. The README's task table and ``vlthink envs`` are made from these rows."""

    domain: str  # a domain of vlthink.boards.catalogue (its concepts, phrase, partner, classes)
    layout: str  # how an episode's boards are drawn: a key of LAYOUT_KINDS
    positions: tuple[str, ...]  # one board per position, in this order
    summary: str  # what the boards show, one line


def _pick(rng: np.random.RandomState, seq, k: int):
    idx = rng.choice(len(seq), size=k, replace=False)
    return [seq[i] for i in idx]


def _layout_single(task: DomainTask, rng) -> EpisodeLayout:
    """Distinct concepts, one board each; target slot uniform."""
    d = catalogue.domain(task.domain)
    n = len(task.positions)
    chosen = _pick(rng, d.concepts, n + 1)
    shown, absent = chosen[:n], chosen[n]
    slot = int(rng.randint(n))

    def phrase(concept: catalogue.Concept) -> str:
        return d.phrase.format(name=concept.name)

    return EpisodeLayout(
        boards=tuple(catalogue.board_key(d.name, c.key) for c in shown),
        positions=task.positions,
        target_slot=slot,
        target=phrase(shown[slot]),
        instruction=d.instruction(shown[slot].key),
        absent=phrase(absent),
    )


def _layout_pair(task: DomainTask, rng) -> EpisodeLayout:
    """Shared two-attribute art: distinct concepts of the named domain, the partner domain's
    attribute free (Shape: three distinct shapes in free colours; Color: the other way round)."""
    d_named = catalogue.domain(task.domain)
    d_free = catalogue.domain(d_named.partner)
    n = len(task.positions)
    chosen = _pick(rng, d_named.concepts, n + 1)
    shown, absent = chosen[:n], chosen[n]
    others = [d_free.concepts[i] for i in rng.randint(len(d_free.concepts), size=n)]
    slot = int(rng.randint(n))
    return EpisodeLayout(
        boards=tuple(
            catalogue.board_key(d_named.name, c.key, o.key) for c, o in zip(shown, others)
        ),
        positions=task.positions,
        target_slot=slot,
        target=shown[slot].name,
        instruction=d_named.instruction(shown[slot].key),
        absent=absent.name,
    )


def _layout_classes(task: DomainTask, rng) -> EpisodeLayout:
    """The instruction names a class (Parity: odd, even): one board of each class; the asked
    class and its side are uniform."""
    d = catalogue.domain(task.domain)
    classes = tuple(d.classes)
    members = {cls: sorted(d.classes[cls]) for cls in classes}
    shown = {cls: keys[rng.randint(len(keys))] for cls, keys in members.items()}
    asked = classes[rng.randint(len(classes))]
    other = next(cls for cls in classes if cls != asked)
    slot = int(rng.randint(len(task.positions)))
    order = [shown[other]] * len(task.positions)
    order[slot] = shown[asked]
    unseen = [c.key for c in d.concepts if c.key not in shown.values()]
    return EpisodeLayout(
        boards=tuple(catalogue.board_key(d.name, key) for key in order),
        positions=task.positions,
        target_slot=slot,
        target=d.phrase.format(name=asked),
        instruction=d.class_instruction(asked),
        absent=f"number {unseen[rng.randint(len(unseen))]}",
    )


LAYOUT_KINDS = {"single": _layout_single, "pair": _layout_pair, "classes": _layout_classes}

TASKS: tuple[DomainTask, ...] = (
    DomainTask("Shape", "pair", POSITIONS_3, "3 distinct shapes of 14, any of 8 colours"),
    DomainTask("Color", "pair", POSITIONS_3, "3 distinct colours of 8, any of 14 shapes"),
    DomainTask("Traffic", "single", POSITIONS_3, "3 of 24 road signs"),
    DomainTask("Laundry", "single", POSITIONS_3, "3 of 17 ISO 3758 care symbols"),
    DomainTask("Weather", "single", POSITIONS_3, "3 of 9 weather icons"),
    DomainTask("Arrow", "single", POSITIONS_3, "3 of 4 arrows"),
    DomainTask("PublicInfo", "single", POSITIONS_3, "3 of 14 public-information pictograms"),
    DomainTask("Parity", "classes", POSITIONS_2, "one odd and one even numeral (1–8), two boards"),
)
DOMAIN_TASKS: dict[str, DomainTask] = {t.domain: t for t in TASKS}

# Domain -> how one episode's layout is drawn from the episode RNG.
LAYOUTS = {t.domain: partial(LAYOUT_KINDS[t.layout], t) for t in TASKS}

# Every table look, training and held-out: the paper draws VL-Think's table from all of them.
VL_THINK_TABLE_LOOKS: tuple[str, ...] = tuple(table_looks.TABLE_LOOKS)


def draw_table_look(rng: np.random.RandomState) -> str:
    """The episode's table look, uniform over all looks; drawn after the layout, from the same
    episode RNG, so adding it left every seed's boards as they were."""
    return VL_THINK_TABLE_LOOKS[rng.randint(len(VL_THINK_TABLE_LOOKS))]


def instruction_pattern(task: DomainTask) -> str:
    """The instruction with its concept left open: ``put carrot on {name} sign``."""
    d = catalogue.domain(task.domain)
    if d.classes is not None:
        return " / ".join(d.class_instruction(cls) for cls in d.classes)
    placeholder = d.name.lower() if d.partner is not None else "name"
    return "put carrot on " + d.phrase.format(name="{" + placeholder + "}")


def markdown_table() -> str:
    """The README's table of VL-Think tasks, made from :data:`TASKS`."""
    lines = ["| id | boards | instruction |", "| --- | --- | --- |"]
    for t in TASKS:
        lines.append(f"| `{env_id(t.domain)}` | {t.summary} | `{instruction_pattern(t)}` |")
    return "\n".join(lines)


class VLThinkEnv(WidowXTableEnv):
    """Base class of the eight VL-Think tasks; subclasses set DOMAIN."""

    DOMAIN: str = ""

    def __init__(self, *args, **kwargs):
        if self.DOMAIN not in DOMAIN_TASKS:
            raise ValueError(f"VLThinkEnv needs a DOMAIN among {sorted(DOMAIN_TASKS)}")
        self.domain_task = DOMAIN_TASKS[self.DOMAIN]
        self.num_boards = len(self.domain_task.positions)
        self.layouts: list[EpisodeLayout] = []
        super().__init__(*args, **kwargs)

    # ---- scene -----------------------------------------------------------------------------------
    def _load_scene(self, options: dict):
        self._load_table()
        board_mesh = str(textured_slab_obj(BOARD_HALF_SIZE, "board"))
        material = sapien.physx.PhysxMaterial(OBJECT_FRICTION, OBJECT_FRICTION, 0.0)
        self.boards = []
        for i in range(self.num_boards):
            builder = self.scene.create_actor_builder()
            builder.add_box_collision(
                half_size=BOARD_HALF_SIZE, material=material, density=BOARD_DENSITY
            )
            builder.add_visual_from_file(board_mesh)
            builder.initial_pose = sapien.Pose(
                p=[BOARD_X, 0.3 * i, TABLE_TOP_Z + BOARD_HALF_SIZE[2]]
            )
            self.boards.append(builder.build(name=f"board_{i}"))
        self._carrot_half_z = CARROT_COLLISION_HALF_SIZE[2]
        if self.assets.carrot is not None:  # an asset set's own carrot (the original pack's)
            self.carrot = self.assets.build_object(
                self.scene, "carrot", initial_pose=sapien.Pose(p=CARROT_DROP_P), actor_name="carrot"
            )
            self._carrot_half_z = self.assets.carrot.half_height
        else:
            builder = self.scene.create_actor_builder()
            builder.add_multiple_convex_collisions_from_file(
                str(carrot_collision_obj()), material=material, density=CARROT_DENSITY
            )
            builder.add_visual_from_file(str(carrot_obj()))
            builder.initial_pose = sapien.Pose(p=CARROT_DROP_P)
            self.carrot = builder.build(name="carrot")
        self.target_slot = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self._board_half = torch.tensor(BOARD_HALF_SIZE, device=self.device)

    # ---- episode ---------------------------------------------------------------------------------
    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        idx = [int(i) for i in env_idx]
        if len(self.layouts) != self.num_envs:
            self.layouts = [None] * self.num_envs
            self.episode_table_looks = [None] * self.num_envs
        positions = self.domain_task.positions
        for i in idx:
            layout = LAYOUTS[self.DOMAIN](self._batched_episode_rng[i])
            self.layouts[i] = layout
            self.episode_table_looks[i] = draw_table_look(self._batched_episode_rng[i])
            self.set_table_look(self.episode_table_looks[i], env_idx=[i])
            self.target_slot[i] = layout.target_slot
            for board, key in zip(self.boards, layout.boards):
                self.set_actor_texture(board, key, **self.assets.board_texture(key), env_idx=[i])
        n = len(idx)
        for board, pos in zip(self.boards, positions):
            p = torch.tensor([BOARD_X, POSITION_Y[pos], TABLE_TOP_Z + BOARD_HALF_SIZE[2]])
            board.set_pose(
                Pose.create_from_pq(p=p.expand(n, 3), q=torch.tensor([1.0, 0, 0, 0]).expand(n, 4))
            )
            board.set_linear_velocity(torch.zeros(n, 3))
            board.set_angular_velocity(torch.zeros(n, 3))
        self.carrot.set_pose(Pose.create_from_pq(p=torch.tensor(CARROT_DROP_P).expand(n, 3)))
        self.carrot.set_linear_velocity(torch.zeros(n, 3))
        self.carrot.set_angular_velocity(torch.zeros(n, 3))
        self._settle()
        self._reset_robot(env_idx)

    # ---- success ---------------------------------------------------------------------------------
    def _resting_on(self, carrot_p: torch.Tensor, board) -> torch.Tensor:
        pose = board.pose
        return success.resting_on(
            carrot_p - pose.p,
            self._board_half,
            pose.q,
            half_heights=(BOARD_HALF_SIZE[2], self._carrot_half_z),
            contact_force=lambda: torch.linalg.norm(
                self.scene.get_pairwise_contact_forces(self.carrot, board), dim=1
            ),
        )

    def evaluate(self):
        carrot_p = self.carrot.pose.p
        on = torch.stack([self._resting_on(carrot_p, b) for b in self.boards], dim=1)  # (N, B)
        rows = torch.arange(self.num_envs, device=self.device)
        return success.evaluation(on[rows, self.target_slot], on.any(dim=1), self.grasp_info())

    def _object_grasped(self) -> torch.Tensor:
        near = self._grasp_near(self.carrot.pose.p)
        if not bool(near.any()):
            return near
        return near & self.agent.is_grasping(self.carrot)

    # ---- what policies and the harness see -------------------------------------------------------
    def _task_info(self) -> list[dict]:
        """Per sub-env: the instruction, the target concept and its position, an absent concept."""
        out = []
        for layout, look in zip(self.layouts, self.episode_table_looks):
            out.append(
                {
                    "domain": self.DOMAIN,
                    "instruction": layout.instruction,
                    "target": layout.target,
                    "target_position": layout.positions[layout.target_slot],
                    "target_board": layout.boards[layout.target_slot],
                    "boards": dict(zip(layout.positions, layout.boards)),
                    "absent": layout.absent,
                    "table_look": look,
                }
            )
        return out

    def _privileged_state(self) -> dict[str, torch.Tensor]:
        rows = torch.arange(self.num_envs, device=self.device)
        board_p = torch.stack([b.pose.raw_pose for b in self.boards], dim=1)  # (N, B, 7)
        return {
            **self._robot_state(),
            "object_pose": self.carrot.pose.raw_pose,
            "target_pose": board_p[rows, self.target_slot],
            "board_poses": board_p,
        }


def _domain_env(domain: str) -> type[VLThinkEnv]:
    """A thin subclass per domain (the registry needs one class per id)."""
    return type(
        f"VLThink{domain}Env",
        (VLThinkEnv,),
        {"DOMAIN": domain, "__doc__": f"VL-Think {domain}: {__doc__}"},
    )


DOMAIN_ENVS: dict[str, type[VLThinkEnv]] = {t.domain: _domain_env(t.domain) for t in TASKS}
globals().update({c.__name__: c for c in DOMAIN_ENVS.values()})  # named by entry points
