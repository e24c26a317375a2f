"""The 14 environments of the OOD suite: one row per variant, each a change to the training config.

Every variant has two splits: ``"ood"`` (the default; what the id measures) and ``"train"`` (the
in-distribution control on identical code: ``gym.make(id, split="train")`` or
``env.reset(options={"split": "train"})``). The train split keeps a variant's structure where
training assets can fill it (MultiCarrot: two distinct training objects) and otherwise falls back
to the training task (MultiPlate: the training set has one receptacle, so no distractor).

The rows of :data:`VARIANTS` (``rst_table()`` writes this table; a test checks it is current):

========= =========== ======================================================================
axis      variant     held-out split
========= =========== ======================================================================
Train     Train       the training distribution itself
Vision    VisionImg   the 5 held-out table looks
Vision    Tex03       an overlay texture blended at 0.3 over robot and object pixels
Vision    Tex05       an overlay texture blended at 0.5 over robot and object pixels
Vision    Whole03     an overlay texture blended at 0.3 over the frame, moving window
Vision    Whole05     an overlay texture blended at 0.5 over the frame, moving window
Semantic  Carrot      the 9 held-out objects
Semantic  Plate       the 16 held-out receptacles
Semantic  Instruct    the 16 held-out instruction templates (4 more kept for users)
Semantic  MultiCarrot a distractor object; both objects held out, always two different ones
Semantic  MultiPlate  a distractor receptacle; both receptacles held out, distinct
Execution Position    object and receptacle on the ring of cells around the grid; 4 held-out yaws
Execution EEPose      the arm starts from perturbed joints (+-0.08/0.15 rad; wrist +-0.3/0.6)
Execution PosChangeTo the object moves to another free cell after control step 5
========= =========== ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from vlthink.envs.ood.episode import HELDOUT, MOVE_STEP, TRAIN, Config
from vlthink.envs.ood.task import OODPickPlaceEnv


@dataclass(frozen=True)
class Variant:
    name: str
    axis: str
    summary: str  # what the held-out split changes, one line
    ood: Config
    train: Config = TRAIN


# fmt: off  (one row per variant, a table)
VARIANTS: tuple[Variant, ...] = (
    Variant("Train", "Train", "the training distribution itself", TRAIN),
    Variant(
        "VisionImg",
        "Vision",
        "the 5 held-out table looks",
        TRAIN.but(table_looks=HELDOUT["table_looks"]),
    ),
    Variant(
        "Tex03",
        "Vision",
        "an overlay texture blended at 0.3 over robot and object pixels",
        TRAIN.but(overlay="tex", overlay_alpha=0.3),
    ),
    Variant(
        "Tex05",
        "Vision",
        "an overlay texture blended at 0.5 over robot and object pixels",
        TRAIN.but(overlay="tex", overlay_alpha=0.5),
    ),
    Variant(
        "Whole03",
        "Vision",
        "an overlay texture blended at 0.3 over the frame, moving window",
        TRAIN.but(overlay="whole", overlay_alpha=0.3),
    ),
    Variant(
        "Whole05",
        "Vision",
        "an overlay texture blended at 0.5 over the frame, moving window",
        TRAIN.but(overlay="whole", overlay_alpha=0.5),
    ),
    Variant("Carrot", "Semantic", "the 9 held-out objects", TRAIN.but(objects=HELDOUT["objects"])),
    Variant(
        "Plate",
        "Semantic",
        "the 16 held-out receptacles",
        TRAIN.but(receptacles=HELDOUT["receptacles"]),
    ),
    Variant(
        "Instruct",
        "Semantic",
        "the 16 held-out instruction templates (4 more kept for users)",
        TRAIN.but(templates=HELDOUT["templates"]),
    ),
    Variant(
        "MultiCarrot",
        "Semantic",
        "a distractor object; both objects held out, always two different ones",
        TRAIN.but(objects=HELDOUT["objects"], distractor_object=True),
        train=TRAIN.but(distractor_object=True),
    ),
    Variant(
        "MultiPlate",
        "Semantic",
        "a distractor receptacle; both receptacles held out, distinct",
        TRAIN.but(receptacles=HELDOUT["receptacles"], distractor_receptacle=True),
    ),
    Variant(
        "Position",
        "Execution",
        "object and receptacle on the ring of cells around the grid; 4 held-out yaws",
        TRAIN.but(cells="ring", yaws=HELDOUT["yaws"]),
    ),
    Variant(
        "EEPose",
        "Execution",
        "the arm starts from perturbed joints (+-0.08/0.15 rad; wrist +-0.3/0.6)",
        TRAIN.but(perturb_arm=True),
    ),
    Variant(
        "PosChangeTo",
        "Execution",
        "the object moves to another free cell after control step 5",
        TRAIN.but(move_at_step=MOVE_STEP),
    ),
)
# fmt: on


def env_id(variant: str) -> str:
    return f"VLThink-OOD-{variant}-v0"


def rst_table() -> str:
    """The module docstring's table of the variants, made from :data:`VARIANTS`."""
    width = max(len(v.name) for v in VARIANTS)
    rule = f"{'=' * 9} {'=' * width} {'=' * 70}"
    lines = [rule, f"{'axis':<9} {'variant':<{width}} held-out split", rule]
    lines += [f"{v.axis:<9} {v.name:<{width}} {v.summary}" for v in VARIANTS]
    return "\n".join([*lines, rule])


def markdown_table() -> str:
    """The README's table of the variants, made from :data:`VARIANTS`."""
    lines = ["| axis | variant | held-out split |", "| --- | --- | --- |"]
    lines += [f"| {v.axis} | `{v.name}` | {v.summary} |" for v in VARIANTS]
    return "\n".join(lines)


def _env_class(v: Variant) -> type[OODPickPlaceEnv]:
    """A thin subclass per variant (the registry needs one class per id)."""
    attrs = {
        "VARIANT": v.name,
        "AXIS": v.axis,
        "OOD": v.ood,
        "TRAIN_SPLIT": v.train,
        "__doc__": f"OOD suite, {v.axis} axis, variant {v.name}.",
    }
    return type(f"OOD{v.name}Env", (OODPickPlaceEnv,), attrs)


VARIANT_ENVS: dict[str, type[OODPickPlaceEnv]] = {v.name: _env_class(v) for v in VARIANTS}
