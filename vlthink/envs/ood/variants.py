"""The 14 environments of the OOD suite: one row per variant, each a change to the training config.

Every variant has two splits: ``"ood"`` (the default; what the id measures) and ``"train"`` (the
in-distribution control on identical code: ``gym.make(id, split="train")`` or
``env.reset(options={"split": "train"})``). The train split keeps a variant's structure where
training assets can fill it (MultiCarrot: two distinct training objects) and otherwise falls back
to the training task (MultiPlate: the training set has one receptacle, so no distractor).

=========== ========== =====================================================================
axis        variant    held-out split
=========== ========== =====================================================================
Train       Train      the training distribution itself
Vision      VisionImg  the 5 held-out table looks
Vision      Tex03/05   an overlay texture blended at 0.3/0.5 over robot and object pixels
Vision      Whole03/05 an overlay texture blended at 0.3/0.5 over the frame, moving window
Semantic    Carrot     the 9 held-out objects
Semantic    Plate      the 16 held-out receptacles
Semantic    Instruct   the 16 held-out instruction templates
Semantic    MultiCarrot a distractor object; both objects held out, always two different ones
Semantic    MultiPlate a distractor receptacle; both receptacles held out, distinct
Execution   Position   object and receptacle on the ring of cells around the grid; 4 held-out yaws
Execution   EEPose     the arm starts from perturbed joints (+-0.08/0.15 rad; wrist +-0.3/0.6)
Execution   PosChangeTo the object moves to another free cell after control step 5
=========== ========== =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from vlthink.envs.ood.base import OODPickPlaceEnv
from vlthink.envs.ood.episode import HELDOUT, MOVE_STEP, TRAIN, Config


@dataclass(frozen=True)
class Variant:
    name: str
    axis: str
    ood: Config
    train: Config = TRAIN


VARIANTS: tuple[Variant, ...] = (
    Variant("Train", "Train", TRAIN),
    Variant("VisionImg", "Vision", TRAIN.but(table_looks=HELDOUT["table_looks"])),
    Variant("Tex03", "Vision", TRAIN.but(overlay="tex", overlay_alpha=0.3)),
    Variant("Tex05", "Vision", TRAIN.but(overlay="tex", overlay_alpha=0.5)),
    Variant("Whole03", "Vision", TRAIN.but(overlay="whole", overlay_alpha=0.3)),
    Variant("Whole05", "Vision", TRAIN.but(overlay="whole", overlay_alpha=0.5)),
    Variant("Carrot", "Semantic", TRAIN.but(objects=HELDOUT["objects"])),
    Variant("Plate", "Semantic", TRAIN.but(receptacles=HELDOUT["receptacles"])),
    Variant("Instruct", "Semantic", TRAIN.but(templates=HELDOUT["templates"])),
    Variant("MultiCarrot", "Semantic", TRAIN.but(objects=HELDOUT["objects"], distractor_object=True),
            train=TRAIN.but(distractor_object=True)),
    Variant("MultiPlate", "Semantic",
            TRAIN.but(receptacles=HELDOUT["receptacles"], distractor_receptacle=True)),
    Variant("Position", "Execution", TRAIN.but(cells="ring", yaws=HELDOUT["yaws"])),
    Variant("EEPose", "Execution", TRAIN.but(perturb_arm=True)),
    Variant("PosChangeTo", "Execution", TRAIN.but(move_at_step=MOVE_STEP)),
)


def env_id(variant: str) -> str:
    return f"VLThink-OOD-{variant}-v0"


def _env_class(v: Variant) -> type[OODPickPlaceEnv]:
    """A thin subclass per variant (the registry needs one class per id)."""
    attrs = {"VARIANT": v.name, "AXIS": v.axis, "OOD": v.ood, "TRAIN_SPLIT": v.train,
             "__doc__": f"OOD suite, {v.axis} axis, variant {v.name}."}
    return type(f"OOD{v.name}Env", (OODPickPlaceEnv,), attrs)


VARIANT_ENVS: dict[str, type[OODPickPlaceEnv]] = {v.name: _env_class(v) for v in VARIANTS}
