"""The OOD suite's sampling rules, fact for fact with the original's (pure numpy, no simulator).

The facts (pair counts and distances, yaws, the EEPose table, the 21 templates, MultiPlate's
tables and train split) are the original's, as the fidelity audit (section 2) records them.
"""

from __future__ import annotations

import numpy as np
import pytest

from vlthink.assets.objects import OBJECTS_HELDOUT, OBJECTS_TRAIN
from vlthink.assets.receptacles import RECEPTACLES_HELDOUT
from vlthink.assets.table_looks import TABLE_LOOKS_HELDOUT, TABLE_LOOKS_TRAIN
from vlthink.envs.ood import layout
from vlthink.envs.ood.episode import (
    ARM_OFFSETS,
    TEMPLATE_TRAIN,
    TEMPLATES,
    TEMPLATES_HELDOUT,
    TEMPLATES_SPARE,
    arm_offset_table,
    draw_episode,
)
from vlthink.envs.ood.variants import VARIANTS

BY_NAME = {v.name: v for v in VARIANTS}
SEEDS = range(400)
PAIR = ("object", "receptacle")


def _draws(cfg, seeds=SEEDS):
    return [draw_episode(cfg, np.random.RandomState(s)) for s in seeds]


def _dist(a, b) -> float:
    return float(np.linalg.norm(np.subtract(a, b)))


def _on(cells: str, xy) -> bool:
    return bool(np.any(np.all(np.isclose(layout.CELLS[cells], xy), axis=1)))


# ---- layouts ---------------------------------------------------------------------------------------
def test_pairs_are_the_originals_784():
    pairs = layout.valid_tuples(PAIR)
    xy = layout.CELLS["grid"]
    d = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1)
    assert len(pairs) == 784 and len({tuple(p) for p in pairs}) == 784
    assert d.min() > 0.07 and d.min() == pytest.approx(0.0849, abs=1e-4)
    assert d.mean() == pytest.approx(0.1217, abs=1e-4)
    assert (d < 0.12).mean() == pytest.approx(0.449, abs=0.001)
    # Every pair of distinct cells more than 7 cm apart is there: nothing else is ruled out.
    all_d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    assert (all_d > 0.07).sum() == 784


def test_drawn_pairs_follow_the_enumeration_uniformly():
    eps = _draws(BY_NAME["Train"].ood)
    d = np.array([_dist(e.object_cell, e.receptacle_cell) for e in eps])
    assert d.min() > 0.07 and d.min() < 0.09, "close layouts occur (no footprint rule)"
    assert d.mean() == pytest.approx(0.1217, abs=0.004)
    assert 0.38 < (d < 0.12).mean() < 0.52
    assert all(_on("grid", e.object_cell) and _on("grid", e.receptacle_cell) for e in eps)
    # The same seed gives the same layout.
    assert _draws(BY_NAME["Train"].ood, [7]) == _draws(BY_NAME["Train"].ood, [7])


def test_exactly_15_cm_is_decided_as_the_originals_arithmetic_decides_it():
    """Cells 5 apart (15.000 cm) pass ``> 0.15`` or not by floating-point rounding; computing the
    cells as the original does gives its MultiCarrot distance mean, 16.7 cm (exact: 16.9)."""
    tri = layout.valid_tuples((*PAIR, "distractor_object"))
    xy = layout.CELLS["grid"]
    d = np.linalg.norm(xy[tri[:, 0]] - xy[tri[:, 2]], axis=1)
    assert d.mean() == pytest.approx(0.1671, abs=2e-4) and d.min() == pytest.approx(0.15)


@pytest.mark.parametrize("split", ["ood", "train"])
def test_multicarrot_distractor_rules(split):
    v = BY_NAME["MultiCarrot"]
    objects = OBJECTS_HELDOUT if split == "ood" else OBJECTS_TRAIN
    for e in _draws(getattr(v, split)):
        assert {e.object, e.distractor_object} <= set(objects) and e.object != e.distractor_object
        assert e.distractor_object_yaw == e.object_yaw, "the original: the target's yaw"
        assert _on("grid", e.distractor_object_cell)
        assert _dist(e.distractor_object_cell, e.receptacle_cell) > 0.07
        assert _dist(e.distractor_object_cell, e.object_cell) > 0.15 - 1e-12
        assert _dist(e.object_cell, e.receptacle_cell) > 0.07


def test_multiplate_distractor_rules():
    for e in _draws(BY_NAME["MultiPlate"].ood):
        assert {e.receptacle, e.distractor_receptacle} <= set(RECEPTACLES_HELDOUT)
        assert e.receptacle != e.distractor_receptacle
        assert _on("grid", e.distractor_receptacle_cell)
        assert _dist(e.distractor_receptacle_cell, e.receptacle_cell) > 0.15 - 1e-12
        assert _dist(e.distractor_receptacle_cell, e.object_cell) > 0.07
        assert _dist(e.object_cell, e.receptacle_cell) > 0.07


def test_poschangeto_moves_more_than_15_cm_to_a_cell_clear_of_the_receptacle():
    eps = _draws(BY_NAME["PosChangeTo"].ood)
    moves = np.array([_dist(e.move_to_cell, e.object_cell) for e in eps])
    assert all(_on("grid", e.move_to_cell) for e in eps)
    assert all(_dist(e.move_to_cell, e.receptacle_cell) > 0.07 for e in eps)
    assert moves.min() > 0.15 - 1e-12 and moves.mean() == pytest.approx(0.167, abs=0.004)
    assert all(e.move_to_cell is None for e in _draws(BY_NAME["PosChangeTo"].train, range(50)))


def test_position_on_the_ring_with_negative_yaws():
    eps = _draws(BY_NAME["Position"].ood)
    assert {e.object_yaw for e in eps} == set(layout.YAWS_HELDOUT)
    assert all(-np.pi < e.object_yaw < 0 for e in eps)
    for e in eps:
        assert _on("ring", e.object_cell) and _on("ring", e.receptacle_cell)
        assert not _on("grid", e.object_cell) and not _on("grid", e.receptacle_cell)
        assert _dist(e.object_cell, e.receptacle_cell) > 0.07
    ring = layout.CELLS["ring"]
    assert len(ring) == 28
    assert np.allclose(ring.min(0), (-0.265, -0.105)) and np.allclose(ring.max(0), (-0.055, 0.105))


# ---- EEPose ----------------------------------------------------------------------------------------
def test_eepose_table_is_the_originals():
    rows = arm_offset_table()
    assert rows.shape == (5**4 * 23, 6), "25 shoulder/elbow pairs less (+-0.15, +-0.15)"
    assert not rows[0].any()
    assert np.all(np.abs(rows[:, 1] + rows[:, 2]) <= 0.25)
    for j, options in enumerate(ARM_OFFSETS):
        assert set(rows[:, j]) == set(options)
    assert set(ARM_OFFSETS[0]) == {0.0, 0.08, -0.08, 0.15, -0.15}
    assert set(ARM_OFFSETS[5]) == {0.0, 0.3, -0.3, 0.6, -0.6}


def test_eepose_draws_never_break_the_rule_nor_give_the_zero_row():
    table = {tuple(r) for r in arm_offset_table()}
    eps = _draws(BY_NAME["EEPose"].ood, range(600))
    offsets = [e.arm_offsets for e in eps]
    assert all(len(o) == 6 and o in table for o in offsets)
    assert all(abs(o[1] + o[2]) <= 0.25 for o in offsets)
    assert all(any(o) for o in offsets), "the all-zero row is not in the held-out split"
    assert len(set(offsets)) > 500, "uniform over 14 374 rows"
    assert {o[1] for o in offsets} == set(ARM_OFFSETS[1])
    assert all(e.arm_offsets is None for e in _draws(BY_NAME["EEPose"].train, range(50)))


# ---- Instruct --------------------------------------------------------------------------------------
ORIGINAL_TEMPLATES = (  # the original's notation: $C$ the object, $P$ the receptacle
    "put $C$ on $P$",
    "Place the $C$ on the $P$",
    "set $C$ on $P$",
    "move the $C$ to the $P$",
    "Take the $C$ and put it on the $P$",
    "pick up $C$ and set it down on $P$",
    "please put the $C$ on the $P$",
    "Put $C$ onto $P$.",
    "place the $C$ onto the $P$ surface",
    "Make sure $C$ is on $P$.",
    "on the $P$, put the $C$",
    "put the $C$ where the $P$ is",
    "Move the $C$ from the table to the $P$",
    "Move $C$ so it\u2019s on $P$.",
    "Can you put $C$ on $P$?",
    "$C$ on the $P$, please.",
    "the $C$ should be placed on the $P$.",
    "Lay the $C$ down on the $P$.",
    "could you place $C$ over $P$",
    "position the $C$ atop the $P$",
    "Arrange for the $C$ to be resting on $P$.",
)


def test_instruct_templates_are_the_originals_21():
    assert TEMPLATES == tuple(
        t.replace("$C$", "{object}").replace("$P$", "{receptacle}") for t in ORIGINAL_TEMPLATES
    )
    assert TEMPLATE_TRAIN == TEMPLATES[0] and TEMPLATES_HELDOUT == TEMPLATES[1:17]
    assert TEMPLATES_SPARE == TEMPLATES[17:] and len(TEMPLATES_SPARE) == 4
    assert TEMPLATES[13].format(object="carrot", receptacle="plate") == (
        "Move carrot so it\u2019s on plate."
    )


def test_instruct_draws_templates_1_to_16():
    eps = _draws(BY_NAME["Instruct"].ood)
    assert {e.template for e in eps} == set(TEMPLATES_HELDOUT)
    for e in eps:
        assert e.instruction == e.template.format(object=e.object, receptacle=e.receptacle)
        assert "{" not in e.instruction and e.object in e.instruction
    assert {e.template for e in _draws(BY_NAME["Instruct"].train, range(50))} == {TEMPLATES[0]}


# ---- MultiPlate --------------------------------------------------------------------------------------
@pytest.mark.parametrize("split", ["ood", "train"])
def test_multiplate_draws_all_21_table_looks(split):
    looks = {e.table_look for e in _draws(getattr(BY_NAME["MultiPlate"], split))}
    assert looks == set(TABLE_LOOKS_TRAIN) | set(TABLE_LOOKS_HELDOUT)


def test_multiplate_train_split_is_plate_plus_heldout_distractor():
    eps = _draws(BY_NAME["MultiPlate"].train)
    assert all(e.receptacle == "plate" and e.object in OBJECTS_TRAIN for e in eps)
    assert {e.distractor_receptacle for e in eps} == set(RECEPTACLES_HELDOUT)
    assert all(e.instruction == f"put {e.object} on plate" for e in eps)
    for e in eps:
        assert _dist(e.distractor_receptacle_cell, e.receptacle_cell) > 0.15 - 1e-12
        assert _dist(e.distractor_receptacle_cell, e.object_cell) > 0.07


def test_the_scene_builds_every_receptacle_a_split_can_draw():
    """task.py builds the receptacles of both splits' ``receptacles``: a distractor set must be
    among them."""
    for v in VARIANTS:
        built = set(v.ood.receptacles) | set(v.train.receptacles)
        for cfg in (v.ood, v.train):
            assert set(cfg.distractor_receptacles) <= built, v.name
