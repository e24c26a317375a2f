"""What an OOD-suite episode shows, drawn from its seed: the config of a split and the draw.

A :class:`Config` says which assets, cells, yaws and perturbations a split uses; the variants
(:mod:`vlthink.envs.ood.variants`) are rows that change a few fields of the training config.
:func:`draw_episode` turns a config and the episode RNG into an :class:`EpisodeLayout`, with no
simulator involved, so the sampling rules are testable over thousands of seeds.

The original's protocol facts, kept here
    - Instructions: 21 templates; training uses #0 (``put {object} on {receptacle}``), Instruct's
      held-out split #1-#16; #17-#20 are unused (``TEMPLATES_SPARE``, for users).
    - EEPose: a table of offsets added to the initial joints, every combination of
      {0, +-0.08, +-0.15} rad on the five joints waist..wrist_angle and {0, +-0.3, +-0.6} rad on
      wrist_rotate, except those with |shoulder + elbow| > 0.25 rad; the held-out split draws
      uniformly among every row but the all-zero one; the gripper is not perturbed.
    - Layouts: one tuple of cells drawn uniformly among the valid ones (:mod:`.layout`); a
      distractor object takes the target object's yaw.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from vlthink.assets.objects import OBJECTS_HELDOUT, OBJECTS_TRAIN
from vlthink.assets.overlay_textures import OVERLAY_TEXTURES
from vlthink.assets.receptacles import RECEPTACLES_HELDOUT, RECEPTACLES_TRAIN
from vlthink.assets.table_looks import TABLE_LOOKS_HELDOUT, TABLE_LOOKS_TRAIN
from vlthink.envs.ood import layout
from vlthink.envs.ood.overlays import Overlay, draw_overlay

# --- Instructions (the original's 21 templates, in its order) ------------------------------------
TEMPLATES = (
    "put {object} on {receptacle}",
    "Place the {object} on the {receptacle}",
    "set {object} on {receptacle}",
    "move the {object} to the {receptacle}",
    "Take the {object} and put it on the {receptacle}",
    "pick up {object} and set it down on {receptacle}",
    "please put the {object} on the {receptacle}",
    "Put {object} onto {receptacle}.",
    "place the {object} onto the {receptacle} surface",
    "Make sure {object} is on {receptacle}.",
    "on the {receptacle}, put the {object}",
    "put the {object} where the {receptacle} is",
    "Move the {object} from the table to the {receptacle}",
    "Move {object} so it\u2019s on {receptacle}.",  # typographic apostrophe, as the original
    "Can you put {object} on {receptacle}?",
    "{object} on the {receptacle}, please.",
    "the {object} should be placed on the {receptacle}.",
    "Lay the {object} down on the {receptacle}.",
    "could you place {object} over {receptacle}",
    "position the {object} atop the {receptacle}",
    "Arrange for the {object} to be resting on {receptacle}.",
)
TEMPLATE_TRAIN = TEMPLATES[0]
TEMPLATES_HELDOUT = TEMPLATES[1:17]  # Instruct's held-out split
TEMPLATES_SPARE = TEMPLATES[17:]  # unused by the suite, as in the original; for users

# --- Arm start (EEPose) ---------------------------------------------------------------------------
JOINT_OFFSETS = (0.0, 0.08, -0.08, 0.15, -0.15)  # rad, waist .. wrist_angle (joints 0-4)
WRIST_ROTATE_OFFSETS = (0.0, 0.3, -0.3, 0.6, -0.6)  # rad, wrist_rotate (joint 5)
ARM_OFFSETS = (JOINT_OFFSETS,) * 5 + (WRIST_ROTATE_OFFSETS,)  # options per joint
MAX_SHOULDER_ELBOW = 0.25  # rad, |shoulder + elbow offset| of the rows kept
SHOULDER, ELBOW = 1, 2  # joint indices


@cache
def arm_offset_table() -> np.ndarray:
    """(14375, 6) rows of joint offsets (rad), the all-zero row first."""
    rows = np.array(list(itertools.product(*ARM_OFFSETS)))
    keep = np.abs(rows[:, SHOULDER] + rows[:, ELBOW]) <= MAX_SHOULDER_ELBOW
    rows = rows[keep]
    rows.setflags(write=False)
    return rows


# --- Mid-episode move (PosChangeTo) ---------------------------------------------------------------
MOVE_STEP = 5  # control step after which the object is moved


@dataclass(frozen=True)
class Config:
    """One split of one variant. Defaults: the training distribution."""

    objects: tuple[str, ...] = OBJECTS_TRAIN
    receptacles: tuple[str, ...] = RECEPTACLES_TRAIN
    table_looks: tuple[str, ...] = TABLE_LOOKS_TRAIN
    templates: tuple[str, ...] = (TEMPLATE_TRAIN,)
    cells: str = "grid"  # see layout.CELLS; every thing of the episode stands on these cells
    yaws: tuple[float, ...] = layout.YAWS_TRAIN
    distractor_object: bool = False  # a second object, from ``objects``, never the target
    distractor_receptacle: bool = False  # a second receptacle, never the target ...
    distractor_receptacles: tuple[str, ...] = ()  # ... from these (empty: from ``receptacles``)
    overlay: str | None = None  # "tex" or "whole"
    overlay_alpha: float = 0.0
    perturb_arm: bool = False  # EEPose: a non-zero row of arm_offset_table()
    move_at_step: int | None = None

    def but(self, **changes) -> Config:
        return replace(self, **changes)

    def roles(self) -> tuple[str, ...]:
        """The layout roles this split places (see layout.RULES)."""
        extra = (
            ("distractor_object",) * self.distractor_object
            + ("distractor_receptacle",) * self.distractor_receptacle
            + ("move",) * (self.move_at_step is not None)
        )
        return (*layout.BASE_ROLES, *extra)


TRAIN = Config()
HELDOUT = {  # the held-out sets, for tests and docs
    "objects": OBJECTS_HELDOUT,
    "receptacles": RECEPTACLES_HELDOUT,
    "table_looks": TABLE_LOOKS_HELDOUT,
    "templates": TEMPLATES_HELDOUT,
    "yaws": layout.YAWS_HELDOUT,
    "overlays": OVERLAY_TEXTURES,
}


@dataclass(frozen=True)
class EpisodeLayout:
    """Everything one episode shows, as drawn from its seed."""

    object: str
    receptacle: str
    table_look: str
    template: str
    instruction: str
    object_yaw: float
    object_cell: tuple[float, float]
    receptacle_cell: tuple[float, float]
    distractor_object: str | None = None
    distractor_object_yaw: float = 0.0
    distractor_object_cell: tuple[float, float] | None = None
    distractor_receptacle: str | None = None
    distractor_receptacle_cell: tuple[float, float] | None = None
    overlay: Overlay | None = None
    arm_offsets: tuple[float, ...] | None = None  # rad, added to the initial joints 0-5
    move_to_cell: tuple[float, float] | None = None
    move_at_step: int | None = None


def _choice(rng, seq):
    return seq[rng.randint(len(seq))]


def _other(rng, seq, target):
    """One of ``seq`` that is not ``target``, uniformly."""
    return _choice(rng, [s for s in seq if s != target])


def draw_arm_offsets(rng) -> tuple[float, ...]:
    """One row of the EEPose table, uniform over every row but the all-zero one."""
    rows = arm_offset_table()
    return tuple(float(v) for v in rows[1 + rng.randint(len(rows) - 1)])


def draw_episode(cfg: Config, rng: np.random.RandomState) -> EpisodeLayout:
    """The episode a config and an RNG give (see the module docstring of layout for the cells)."""
    obj = _choice(rng, cfg.objects)
    other_obj = _other(rng, cfg.objects, obj) if cfg.distractor_object else None
    rec = _choice(rng, cfg.receptacles)
    other_rec = None
    if cfg.distractor_receptacle:
        other_rec = _other(rng, cfg.distractor_receptacles or cfg.receptacles, rec)
    yaw = float(_choice(rng, cfg.yaws))
    look = _choice(rng, cfg.table_looks)
    template = _choice(rng, cfg.templates)
    cells = layout.draw_cells(rng, cfg.roles(), cfg.cells)

    overlay = None
    if cfg.overlay is not None:
        overlay = draw_overlay(rng, cfg.overlay, OVERLAY_TEXTURES, cfg.overlay_alpha)
    return EpisodeLayout(
        object=obj,
        receptacle=rec,
        table_look=look,
        template=template,
        instruction=template.format(object=obj, receptacle=rec),
        object_yaw=yaw,
        object_cell=cells["object"],
        receptacle_cell=cells["receptacle"],
        distractor_object=other_obj,
        distractor_object_yaw=yaw if other_obj else 0.0,  # the original: the target's yaw
        distractor_object_cell=cells.get("distractor_object"),
        distractor_receptacle=other_rec,
        distractor_receptacle_cell=cells.get("distractor_receptacle"),
        overlay=overlay,
        arm_offsets=draw_arm_offsets(rng) if cfg.perturb_arm else None,
        move_to_cell=cells.get("move"),
        move_at_step=cfg.move_at_step,
    )
