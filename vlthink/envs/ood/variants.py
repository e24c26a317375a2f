"""The 14 environments of the OOD suite: one row per variant, each a change to the training config.

Every variant has two splits: ``"ood"`` (the default; what the id measures) and ``"train"`` (the
in-distribution control on identical code: ``gym.make(id, split="train")`` or
``env.reset(options={"split": "train"})``). The train split is the original's ``obj_set="train"``:
the training task, keeping a variant's structure where the original does (MultiCarrot: two
distinct training objects; MultiPlate: the plate plus a held-out distractor receptacle, on any of
the 21 table looks).

The rows of :data:`VARIANTS` (``rst_table()`` writes this table; a test checks it is current):

========= =========== ======================================================================
axis      variant     held-out split
========= =========== ======================================================================
Train     Train       the training distribution itself
Vision    VisionImg   the 5 held-out table looks
Vision    Tex03       a texture blended at 0.3 over robot and objects, following them
Vision    Tex05       a texture blended at 0.5 over robot and objects, following them
Vision    Whole03     a texture blended at 0.3 over the frame, its window following the arm
Vision    Whole05     a texture blended at 0.5 over the frame, its window following the arm
Semantic  Carrot      the 9 held-out objects
Semantic  Plate       the 16 held-out receptacles
Semantic  Instruct    the original's templates #1-#16 (#17-#20, unused, kept for users)
Semantic  MultiCarrot a distractor object > 15 cm away, same yaw; both held out, distinct
Semantic  MultiPlate  a distractor receptacle > 15 cm away; both held out; all 21 looks
Execution Position    object and receptacle on the ring around the grid; yaws -pi/8..-7pi/8
Execution EEPose      the arm starts from perturbed joints: +-0.08/0.15, wrist +-0.3/0.6 rad
Execution PosChangeTo after control step 5 the object moves to a cell > 15 cm away
========= =========== ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from vlthink.assets.table_looks import TABLE_LOOKS_HELDOUT, TABLE_LOOKS_TRAIN
from vlthink.envs.ids import ood_env_id as env_id  # noqa: F401  (re-exported)
from vlthink.envs.ood.episode import HELDOUT, MOVE_STEP, TRAIN, Config
from vlthink.envs.ood.task import OODPickPlaceEnv

ALL_LOOKS = TABLE_LOOKS_TRAIN + TABLE_LOOKS_HELDOUT  # MultiPlate's tables, as the original's


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
        "a texture blended at 0.3 over robot and objects, following them",
        TRAIN.but(overlay="tex", overlay_alpha=0.3),
    ),
    Variant(
        "Tex05",
        "Vision",
        "a texture blended at 0.5 over robot and objects, following them",
        TRAIN.but(overlay="tex", overlay_alpha=0.5),
    ),
    Variant(
        "Whole03",
        "Vision",
        "a texture blended at 0.3 over the frame, its window following the arm",
        TRAIN.but(overlay="whole", overlay_alpha=0.3),
    ),
    Variant(
        "Whole05",
        "Vision",
        "a texture blended at 0.5 over the frame, its window following the arm",
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
        "the original's templates #1-#16 (#17-#20, unused, kept for users)",
        TRAIN.but(templates=HELDOUT["templates"]),
    ),
    Variant(
        "MultiCarrot",
        "Semantic",
        "a distractor object > 15 cm away, same yaw; both held out, distinct",
        TRAIN.but(objects=HELDOUT["objects"], distractor_object=True),
        train=TRAIN.but(distractor_object=True),
    ),
    Variant(
        "MultiPlate",
        "Semantic",
        "a distractor receptacle > 15 cm away; both held out; all 21 looks",
        TRAIN.but(
            receptacles=HELDOUT["receptacles"], distractor_receptacle=True, table_looks=ALL_LOOKS
        ),
        train=TRAIN.but(
            distractor_receptacle=True,
            distractor_receptacles=HELDOUT["receptacles"],
            table_looks=ALL_LOOKS,
        ),
    ),
    Variant(
        "Position",
        "Execution",
        "object and receptacle on the ring around the grid; yaws -pi/8..-7pi/8",
        TRAIN.but(cells="ring", yaws=HELDOUT["yaws"]),
    ),
    Variant(
        "EEPose",
        "Execution",
        "the arm starts from perturbed joints: +-0.08/0.15, wrist +-0.3/0.6 rad",
        TRAIN.but(perturb_arm=True),
    ),
    Variant(
        "PosChangeTo",
        "Execution",
        "after control step 5 the object moves to a cell > 15 cm away",
        TRAIN.but(move_at_step=MOVE_STEP),
    ),
)
# fmt: on


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
globals().update({c.__name__: c for c in VARIANT_ENVS.values()})  # named by entry points
