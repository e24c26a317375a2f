"""The OOD objects are the original suite's objects: its display names per split, its bounding-box
sizes (within 10 %), its densities, and every one sized for the WidowX's fingers.

The facts are RL4VLA's ``model_db.json`` (sizes in cm as x × y × z, densities in kg/m³); its
"zuchinni" is spelt "zucchini" here. Our convention puts an object's long horizontal axis along
x, so the two horizontal extents are compared as a sorted pair.
"""

from __future__ import annotations

import numpy as np
import pytest

from vlthink.assets import objects as obj

ORIGINAL = {  # name: (x, y, z) cm, density kg/m³
    "carrot": ((11.8, 3.2, 4.1), 1044),
    "kitchen shovel": ((5.7, 14.9, 2.1), 557),
    "bread": ((4.4, 4.5, 2.9), 526),
    "plastic bottle": ((3.6, 12.2, 3.9), 1916),
    "7up can": ((3.3, 6.1, 3.3), 790),
    "zucchini": ((11.0, 3.1, 2.6), 715),
    "ketchup bottle": ((2.1, 8.1, 2.1), 500),
    "watering can": ((11.2, 4.1, 4.9), 1591),
    "pipe": ((3.5, 7.4, 3.5), 1116),
    "toy bear": ((4.3, 3.9, 5.6), 667),
    "fast food cup": ((2.5, 2.5, 5.4), 500),
    "plant": ((4.1, 4.3, 7.3), 1051),
    "banana": ((10.8, 4.0, 1.8), 500),
    "hamburger": ((4.9, 5.1, 4.1), 863),
    "golf ball": ((3.1, 3.1, 3.1), 500),
    "BBQ sauce": ((5.3, 3.2, 7.7), 1057),
    "travel cup": ((5.2, 8.6, 3.4), 1018),
    "pepper": ((4.4, 4.5, 4.6), 835),
    "nonstop can": ((3.5, 3.5, 8.5), 1248),
    "potato": ((4.9, 7.4, 4.5), 1355),
    "baguette": ((3.8, 13.9, 2.6), 1367),
    "champagne glass": ((2.8, 2.8, 8.5), 500),
    "kitchen spoon": ((5.0, 12.6, 1.7), 500),
    "onion": ((5.1, 6.2, 5.1), 1137),
    "cup": ((5.9, 4.4, 3.7), 1018),
}
TRAIN = list(ORIGINAL)[:16]
HELDOUT = list(ORIGINAL)[16:]
SIZE_TOLERANCE = 0.10
GRIPPER_OPEN_GAP = 0.052  # m between the WidowX finger pads fully open
GRASP_MARGIN = 0.007  # m of opening left over, for a grasp point off by a few mm
GRIPPER_CLOSED_GAP = 0.008  # m between the pads fully closed


def test_names_and_splits_are_the_originals():
    assert obj.OBJECTS_TRAIN == tuple(TRAIN)
    assert obj.OBJECTS_HELDOUT == tuple(HELDOUT)
    assert set(obj.OBJECTS) == set(ORIGINAL) and "zuchinni" not in obj.OBJECTS


@pytest.mark.parametrize("name", list(ORIGINAL))
def test_size_within_ten_percent_of_the_original(name):
    (x, y, z), _ = ORIGINAL[name]
    hx, hy, hz = obj.object_spec(name).half_size
    ours = np.array([2 * hx, 2 * hy, 2 * hz]) * 100
    theirs = np.array([max(x, y), min(x, y), z])
    assert np.all(np.abs(ours / theirs - 1) <= SIZE_TOLERANCE), (ours.round(2), theirs)


@pytest.mark.parametrize("name", list(ORIGINAL))
def test_density_is_the_originals(name):
    assert obj.object_spec(name).density == ORIGINAL[name][1]


@pytest.mark.parametrize("name", list(ORIGINAL))
def test_fits_the_gripper_and_rests_flat(name):
    spec = obj.object_spec(name)
    assert 2 * GRIPPER_CLOSED_GAP <= spec.grasp_width <= GRIPPER_OPEN_GAP - GRASP_MARGIN
    hx, hy, _ = spec.half_size
    gx, gy = spec.grasp_point
    assert abs(gx) <= hx and abs(gy) <= hy
    # A flat patch under every object (a golf ball included): its lowest collision points span
    # a footprint, not one point, so it cannot roll away from where it was put.
    from vlthink.assets.parts import collision_pieces, slab_points

    pieces = collision_pieces(list(obj.object_parts(name)))
    bottom = min(float(h.bounds[0, 2]) for h in pieces)
    sole = slab_points(pieces, 2, bottom - 1e-6, bottom + 1e-4)
    assert np.ptp(sole[:, 0]) >= 0.008 and np.ptp(sole[:, 1]) >= 0.008, name


def test_vl_think_carrot_is_the_catalogue_carrot():
    import trimesh

    from vlthink.envs.vl_think import CARROT_COLLISION_HALF_SIZE, CARROT_DENSITY
    from vlthink.scene.meshes import carrot_collision_obj, carrot_obj

    assert CARROT_DENSITY == ORIGINAL["carrot"][1]
    pieces = trimesh.load(carrot_collision_obj(), force="scene").dump()
    lo = np.min([p.bounds[0] for p in pieces], axis=0)
    hi = np.max([p.bounds[1] for p in pieces], axis=0)
    assert np.allclose((hi - lo) / 2, CARROT_COLLISION_HALF_SIZE, atol=5e-4)
    assert abs(lo[2] + hi[2]) < 1e-6, "the origin is at mid-height of the collision"
    visual = trimesh.load(carrot_obj(), force="mesh")
    size = np.ptp(visual.vertices, axis=0) * 100
    theirs = np.array(ORIGINAL["carrot"][0])
    assert np.all(np.abs(size / theirs - 1) <= SIZE_TOLERANCE), size
