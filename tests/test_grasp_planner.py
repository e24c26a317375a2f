"""Grasps planned from an object's resting collision shape (:mod:`vlthink.assets.grasp`): pure
geometry on boxes, then an OOD env on a synthetic pack whose objects tip over as they rest."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from vlthink.assets import grasp


def _box(lo, hi, turn=None) -> tuple[np.ndarray, np.ndarray]:
    """(vertices, faces) of the box between corners ``lo`` and ``hi`` (m), turned by ``turn``."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    mesh = trimesh.creation.box(extents=hi - lo)
    v = mesh.vertices + (lo + hi) / 2
    return (v if turn is None else v @ turn.T), np.asarray(mesh.faces)


def _yaw(degrees: float) -> np.ndarray:
    return Rotation.from_euler("z", degrees, degrees=True).as_matrix()


def _axis_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two lines (a parallel gripper closes the same along +a and -a)."""
    cos = abs(float(a @ b)) / np.linalg.norm(a) / np.linalg.norm(b)
    return float(np.degrees(np.arccos(min(1.0, cos))))


# ---- pure geometry -----------------------------------------------------------------------------
def test_a_box_lying_turned_closes_across_its_narrow_side_at_its_centre():
    box = _box((-0.04, -0.015, -0.01), (0.04, 0.015, 0.01), turn=_yaw(37.0))
    g = grasp.plan_grasp([box], np.eye(3), height=0.01)
    narrow_side = _yaw(37.0) @ np.array([0.0, 1.0, 0.0])
    assert _axis_angle_deg(g.closing, narrow_side) < 0.5
    assert g.width == pytest.approx(0.03, abs=1e-3)
    assert g.point[:2] == pytest.approx([0.0, 0.0], abs=1e-4)
    assert g.closing[2] == 0.0 and g.top == pytest.approx(0.02)


def test_a_tall_shape_tipped_on_its_back_closes_across_a_horizontal_axis():
    # 3 cm wide (x), 4 cm deep (y), 7 cm tall (z): built upright it closes across y
    tall = _box((-0.015, -0.02, -0.035), (0.015, 0.02, 0.035))
    on_its_back = Rotation.from_euler("x", 90, degrees=True).as_matrix()
    g = grasp.plan_grasp([tall], on_its_back, height=0.02)
    assert (on_its_back @ [0.0, 1.0, 0.0])[2] == pytest.approx(1.0)  # its own y now points up
    assert _axis_angle_deg(g.closing, np.array([1.0, 0.0, 0.0])) < 0.5
    assert g.width == pytest.approx(0.03, abs=1e-3)
    assert g.top == pytest.approx(0.04)
    # the slab the fingers close on: from GRIP_FROM of the centre's height to the top
    assert g.point[2] == pytest.approx((-0.02 + grasp.GRIP_FROM * 0.02 + 0.02) / 2)
    point, closing = grasp.in_object_frame(g, on_its_back)
    assert on_its_back @ point == pytest.approx(g.point)
    assert _axis_angle_deg(closing, np.array([1.0, 0.0, 0.0])) < 0.5  # its own x, horizontal


def test_a_shovel_is_grasped_across_its_handle_under_its_centre_of_mass():
    handle = _box((-0.08, -0.0075, -0.0075), (0.02, 0.0075, 0.0075))
    blade = _box((0.02, -0.025, -0.0075), (0.06, 0.025, -0.0025))
    g = grasp.plan_grasp([handle, blade], np.eye(3), height=0.0075)
    com = grasp.centre_of_mass([handle, blade])
    assert com[0] == pytest.approx((2.25e-5 * -0.03 + 1e-5 * 0.04) / 3.25e-5, abs=1e-5)
    assert g.point[:2] == pytest.approx([com[0], 0.0], abs=1e-4)
    assert _axis_angle_deg(g.closing, np.array([0.0, 1.0, 0.0])) < 0.5
    assert g.width == pytest.approx(0.015, abs=1e-3)  # the handle, not the 5 cm blade


def test_a_curved_shape_is_grasped_on_its_body_not_at_the_middle_of_its_bend():
    # a "banana" of three boxes bent into a V: its centre of mass lies off the body
    arms = [
        _box((-0.03, -0.006, -0.006), (0.03, 0.006, 0.006), turn=_yaw(a)) for a in (-30.0, 30.0)
    ]
    left = (arms[0][0] + [-0.026, 0.015, 0.0], arms[0][1])
    right = (arms[1][0] + [0.026, 0.015, 0.0], arms[1][1])
    g = grasp.plan_grasp([left, right], np.eye(3), height=0.006)
    assert grasp.centre_of_mass([left, right])[1] == pytest.approx(0.015, abs=1e-4)
    assert g.width < 0.03  # across an arm, not across the whole bend
    inside = [
        abs((g.point[:2] - c) @ _yaw(a)[:2, 1]) < 0.006
        for c, a in (
            (np.array([-0.026, 0.015]), -30.0),
            (np.array([0.026, 0.015]), 30.0),
        )
    ]
    assert any(inside)


def test_the_2d_hull_is_counter_clockwise_and_drops_inner_points():
    pts = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5], [0.5, 0.0]])
    hull = grasp.convex_hull_2d(pts)
    assert len(hull) == 4 and grasp.polygon_area(hull) == pytest.approx(1.0)


# ---- an env on a synthetic pack whose objects tip over ------------------------------------------
def _boxes_obj(boxes) -> str:
    """An OBJ with one object per box ((lo, hi) corners): the collision pieces' format."""
    lines, base = [], 1
    for k, (lo, hi) in enumerate(boxes):
        v, f = _box(lo, hi)
        lines.append(f"o piece{k}")
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
        lines += [f"f {a + base} {b + base} {c + base}" for a, b, c in f]
        base += len(v)
    return "\n".join(lines) + "\n"


# A 5 cm wide (x), 1.2 cm thin pole, 8 cm tall, with a heavy arm out along +y at its top: its
# centre of mass lies beyond its foot, so it falls over about x and its own y ends up vertical.
TIPPING = [
    ((-0.025, -0.006, -0.04), (0.025, 0.006, 0.04)),
    ((-0.025, 0.006, 0.01), (0.025, 0.04, 0.04)),
]


@pytest.fixture
def tipping_pack(tmp_path, monkeypatch):
    from test_original_pack import make_pack

    from vlthink.assets.original import pack

    root = tmp_path / "pack"
    make_pack(root)
    db_path = root / "more_carrot" / "model_db.json"
    db = json.loads(db_path.read_text())
    corners = np.array([c for box in TIPPING for c in box])
    for key, row in db.items():
        row["bbox"] = {"min": corners.min(0).tolist(), "max": corners.max(0).tolist()}
        for name in ("collision.obj", "textured.obj"):
            (root / "more_carrot" / key / name).write_text(_boxes_obj(TIPPING))
    db_path.write_text(json.dumps(db))
    tsv = pack.write_expected(pack.files_of(root), tmp_path / "pack.tsv")
    monkeypatch.setenv(pack.EXPECTED_VAR, str(tsv))
    monkeypatch.setenv(pack.ENV_VAR, str(root))
    return root


def test_an_env_on_a_pack_exposes_a_grasp_across_the_narrow_side_of_the_tipped_shape(
    tipping_pack,
):
    import gymnasium as gym

    import vlthink.envs  # noqa: F401
    from vlthink.geometry import wxyz_to_matrix
    from vlthink.scene.widowx import TABLE_TOP_Z

    env = gym.make("VLThink-OOD-Train-v0", assets="original", obs_mode="state")
    try:
        env.reset(seed=0)
        base = env.unwrapped
        priv = {k: np.asarray(v[0]) for k, v in base.privileged_state().items()}
        k = int(base.obj_idx[0])
        pieces = base.assets.object_pieces(base.object_names[k])
    finally:
        env.close()
    turn = wxyz_to_matrix(priv["object_pose"][3:])
    assert abs((turn @ [0.0, 1.0, 0.0])[2]) > 0.7  # it tipped: its own y points mostly up
    yaw = float(priv["object_grasp_yaw"])
    closing = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    assert _axis_angle_deg(closing, turn @ [1.0, 0.0, 0.0]) < 5.0  # across its 5 cm width
    world = np.vstack([p.vertices for p in pieces]) @ turn.T + priv["object_pose"][:3]
    assert world[:, 2].min() == pytest.approx(TABLE_TOP_Z, abs=2e-3)
    assert priv["object_pose"][2] - priv["object_half_height"] == pytest.approx(
        TABLE_TOP_Z, abs=2e-3
    )
    lo, hi = world[:, :2].min(0), world[:, :2].max(0)
    assert np.all(priv["object_grasp_point"][:2] > lo) and np.all(
        priv["object_grasp_point"][:2] < hi
    )
