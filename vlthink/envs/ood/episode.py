"""What an OOD-suite episode shows, drawn from its seed: the config of a split and the draw.

A :class:`Config` says which assets, cells, yaws and perturbations a split uses; the variants
(:mod:`vlthink.envs.ood.variants`) are rows that change a few fields of the training config.
:func:`draw_episode` turns a config and the episode RNG into an :class:`EpisodeLayout`, with no
simulator involved, so the sampling rules are testable over thousands of seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from vlthink.assets.objects import OBJECTS_HELDOUT, OBJECTS_TRAIN
from vlthink.assets.overlay_textures import OVERLAY_TEXTURES
from vlthink.assets.receptacles import RECEPTACLES_HELDOUT, RECEPTACLES_TRAIN
from vlthink.assets.table_looks import TABLE_LOOKS_HELDOUT, TABLE_LOOKS_TRAIN
from vlthink.envs.ood import layout
from vlthink.envs.ood.overlays import Overlay, draw_overlay

# --- Instructions ---------------------------------------------------------------------------------
TEMPLATE_TRAIN = "put {object} on {receptacle}"
TEMPLATES_HELDOUT = (
    "Take the {object} and put it on the {receptacle}",
    "Place the {object} on the {receptacle}",
    "Move the {object} onto the {receptacle}",
    "Pick up the {object} and set it on the {receptacle}",
    "Could you put the {object} on the {receptacle}?",
    "Grab the {object}, then drop it onto the {receptacle}",
    "Set the {object} down on the {receptacle}",
    "Lift the {object} and lay it on the {receptacle}",
    "Transfer the {object} to the {receptacle}",
    "I need the {object} on the {receptacle}",
    "Get the {object} onto the {receptacle}, please",
    "On the {receptacle}, place the {object}",
    "Relocate the {object} so that it rests on the {receptacle}",
    "Carry the {object} over to the {receptacle} and release it there",
    "Pick the {object} up and leave it on the {receptacle}",
    "The {object} goes on the {receptacle}: put it there",
)
TEMPLATES_SPARE = (  # held out from the suite too, for users who want more paraphrases
    "Please place the {object} on top of the {receptacle}",
    "Move the {object} from the table to the {receptacle}",
    "Can you set the {object} onto the {receptacle}",
    "Bring the {object} to the {receptacle} and let go of it",
)

# --- Arm start (EEPose) ---------------------------------------------------------------------------
ARM_OFFSETS = ((0.0, 0.08, -0.08, 0.15, -0.15),) * 5 + (
    (0.0, 0.3, -0.3, 0.6, -0.6),
)  # rad per joint

# --- Mid-episode move (PosChangeTo) ---------------------------------------------------------------
MOVE_STEP = 5  # control step after which the object is moved


@dataclass(frozen=True)
class Config:
    """One split of one variant. Defaults: the training distribution."""

    objects: tuple[str, ...] = OBJECTS_TRAIN
    receptacles: tuple[str, ...] = RECEPTACLES_TRAIN
    table_looks: tuple[str, ...] = TABLE_LOOKS_TRAIN
    templates: tuple[str, ...] = (TEMPLATE_TRAIN,)
    cells: str = "grid"  # see layout.CELLS
    yaws: tuple[float, ...] = layout.YAWS_TRAIN
    distractor_object: bool = False
    distractor_receptacle: bool = False
    overlay: str | None = None  # "tex" or "whole"
    overlay_alpha: float = 0.0
    perturb_arm: bool = False
    move_at_step: int | None = None

    def but(self, **changes) -> Config:
        return replace(self, **changes)


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
    arm_offsets: tuple[float, ...] | None = None  # first draw; the env redraws while invalid
    move_to_cell: tuple[float, float] | None = None
    move_at_step: int | None = None


def _choice(rng, seq):
    return seq[rng.randint(len(seq))]


def _two(rng, seq):
    i, j = rng.choice(len(seq), size=2, replace=False)
    return seq[i], seq[j]


def draw_arm_offsets(rng) -> tuple[float, ...]:
    return tuple(float(_choice(rng, options)) for options in ARM_OFFSETS)


def draw_episode(cfg: Config, rng: np.random.RandomState, frame_hw=(480, 640)) -> EpisodeLayout:
    """The episode a config and an RNG give (see the module docstring of layout for the cells)."""
    if cfg.distractor_object:
        obj, other_obj = _two(rng, cfg.objects)  # never the target as its own distractor
    else:
        obj, other_obj = _choice(rng, cfg.objects), None
    if cfg.distractor_receptacle:
        rec, other_rec = _two(rng, cfg.receptacles)
    else:
        rec, other_rec = _choice(rng, cfg.receptacles), None
    yaw = float(_choice(rng, cfg.yaws))
    other_yaw = float(_choice(rng, cfg.yaws)) if other_obj else 0.0
    look = _choice(rng, cfg.table_looks)
    template = _choice(rng, cfg.templates)

    things = [layout.Thing("receptacle", rec, 0.0, cfg.cells)]
    if other_rec:
        things.append(layout.Thing("receptacle", other_rec, 0.0, "wide"))
    things.append(layout.Thing("object", obj, yaw, cfg.cells))
    if other_obj:
        things.append(layout.Thing("object", other_obj, other_yaw, "wide"))
    move_to = None
    for _ in range(layout.MAX_DRAWS):
        cells = dict(zip([(t.kind, t.name) for t in things], layout.sample_cells(rng, things)))
        if cfg.move_at_step is None:
            break
        target = next(t for t in things if t.kind == "object" and t.name == obj)
        others = [(t, cells[(t.kind, t.name)]) for t in things if t is not target]
        move_to = layout.move_cell(rng, target, cells[("object", obj)], others)
        if move_to is not None:
            break
    else:
        raise RuntimeError(f"no cell to move {obj} to")

    overlay = None
    if cfg.overlay is not None:
        overlay = draw_overlay(rng, cfg.overlay, OVERLAY_TEXTURES, cfg.overlay_alpha, frame_hw)
    arm = draw_arm_offsets(rng) if cfg.perturb_arm else None

    def xy(key):
        return tuple(float(v) for v in cells[key])

    return EpisodeLayout(
        object=obj,
        receptacle=rec,
        table_look=look,
        template=template,
        instruction=template.format(object=obj, receptacle=rec),
        object_yaw=yaw,
        object_cell=xy(("object", obj)),
        receptacle_cell=xy(("receptacle", rec)),
        distractor_object=other_obj,
        distractor_object_yaw=other_yaw,
        distractor_object_cell=xy(("object", other_obj)) if other_obj else None,
        distractor_receptacle=other_rec,
        distractor_receptacle_cell=xy(("receptacle", other_rec)) if other_rec else None,
        overlay=overlay,
        arm_offsets=arm,
        move_to_cell=tuple(float(v) for v in move_to) if move_to is not None else None,
        move_at_step=cfg.move_at_step,
    )
