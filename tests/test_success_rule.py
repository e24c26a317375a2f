"""The success rule (vlthink.scene.success): the paper's disk and height rule, number for number."""

import math

import pytest
import torch

from vlthink import geometry
from vlthink.scene import success

BOARD = (0.055, 0.055, 0.003)  # the VL-Think board's half-size, m
CARROT_HALF_HEIGHT = 0.0205


def _touching(n):
    return lambda: torch.full((n,), 1.0)


def _rest(offsets, half=BOARD, half_heights=(BOARD[2], CARROT_HALF_HEIGHT), force=1.0):
    """The rule for a support lying flat (identity orientation): its disk's radius is the larger
    of its x and y half-extents + 1 cm (6.5 cm for the board)."""
    offsets = torch.tensor(offsets, dtype=torch.float32)
    return success.resting_on(
        offsets,
        torch.tensor(half),
        torch.tensor([[1.0, 0.0, 0.0, 0.0]]).expand(len(offsets), 4),
        half_heights=half_heights,
        contact_force=lambda: torch.full((len(offsets),), force),
    ).tolist()


def test_disk_radius_is_largest_half_extent_plus_one_cm():
    q = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    assert success.disk_radius(torch.tensor(BOARD), q).item() == pytest.approx(0.065)
    # A 12.6 x 11 cm cutting board: the long side counts.
    r = success.disk_radius(torch.tensor([0.063, 0.055, 0.0015]), q).item()
    assert r == pytest.approx(0.073)


def test_disk_radius_follows_the_rotated_bounding_box():
    half = torch.tensor([0.05, 0.05, 0.003])
    q = torch.tensor([geometry.yaw_quat(math.pi / 4)], dtype=torch.float32)
    # A square turned by 45 degrees: its world bounding box is sqrt(2) larger.
    expected = 0.05 * math.sqrt(2) + success.XY_MARGIN
    assert success.disk_radius(half, q).item() == pytest.approx(expected, abs=1e-6)


def test_disk_radius_boxes_each_rotated_axis_of_any_orientation():
    """Against the definition, one axis at a time: the world box of the support's three
    half-axes, each turned by the quaternion."""
    q = torch.nn.functional.normalize(
        torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    )
    half = torch.tensor([0.063, 0.055, 0.0015])
    axes = [geometry.rotate(q, (torch.eye(3)[k] * half[k]).expand(64, 3)) for k in range(3)]
    world_half = sum(a.abs() for a in axes)
    expected = world_half.max(dim=1).values + success.XY_MARGIN
    assert torch.allclose(success.disk_radius(half, q), expected, atol=1e-6)


@pytest.mark.parametrize("angle", [0.0, 0.7, math.pi / 2, 2.5, 4.0])
def test_a_point_just_inside_the_disk_counts_and_just_outside_does_not(angle):
    r = 0.065
    z = BOARD[2] + CARROT_HALF_HEIGHT  # lying on the board
    inside = [(r - 0.001) * math.cos(angle), (r - 0.001) * math.sin(angle), z]
    outside = [(r + 0.001) * math.cos(angle), (r + 0.001) * math.sin(angle), z]
    assert _rest([inside, outside]) == [True, False]


def test_the_disk_is_round_not_square():
    # The corner of the old square region (+-6.5 cm per axis) lies outside the disk.
    z = BOARD[2] + CARROT_HALF_HEIGHT
    corner = [0.06, 0.06, z]  # 8.5 cm from the centre
    assert _rest([corner]) == [False]


def test_height_rule_above_the_centre_by_at_most_half_heights_plus_5_cm():
    limit = BOARD[2] + CARROT_HALF_HEIGHT + success.MAX_Z_GAP
    rows = [[0, 0, -0.001], [0, 0, 0.0005], [0, 0, limit - 0.001], [0, 0, limit + 0.001]]
    assert _rest(rows) == [False, True, True, False]


def test_contact_is_required():
    z = BOARD[2] + CARROT_HALF_HEIGHT
    assert _rest([[0, 0, z]], force=0.02) == [False]
    assert _rest([[0, 0, z]], force=0.04) == [True]


def test_contact_query_is_skipped_when_nothing_is_above_a_support():
    called = []

    def force():
        called.append(1)
        return torch.ones(1)

    flat = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    success.resting_on(torch.tensor([[0.2, 0.0, 0.02]]), torch.tensor(BOARD), flat, (0.003,), force)
    assert called == []


def _random_orientations(n: int, seed: int) -> torch.Tensor:
    return torch.nn.functional.normalize(
        torch.randn(n, 4, generator=torch.Generator().manual_seed(seed))
    )


def test_max_disk_radius_bounds_the_disk_of_every_orientation():
    q = _random_orientations(4096, 1)
    for half in ([0.055, 0.055, 0.003], [0.063, 0.055, 0.0015], [0.12, 0.02, 0.09]):
        bound = success.max_disk_radius(half)
        radius = success.disk_radius(torch.tensor(half), q)
        assert bool((radius <= bound).all())
        # and it is tight: some orientation comes within 1 mm of it
        assert float(bound - radius.max()) < 0.001


def test_the_rule_skips_the_disk_only_where_it_cannot_matter(monkeypatch):
    """Against the rule written out in full (height, disk, contact) on random offsets and
    orientations: the same answers, and the disk's rotation worked out only for the sub-envs
    within reach of it."""
    n = 2048
    g = torch.Generator().manual_seed(2)
    half = torch.tensor([0.063, 0.055, 0.0015])
    q = _random_orientations(n, 3)
    offset = torch.rand(n, 3, generator=g) * torch.tensor([0.2, 0.2, 0.08])
    offset -= torch.tensor([0.1, 0.1, 0.01])
    force = torch.rand(n, generator=g) * 0.06
    heights = (float(half[2]), CARROT_HALF_HEIGHT)
    limit = success.MAX_Z_GAP + heights[0] + heights[1]
    expected = (
        (torch.linalg.norm(offset[:, :2], dim=1) <= success.disk_radius(half, q))
        & (offset[:, 2] > 0)
        & (offset[:, 2] <= limit)
        & (force > success.MIN_CONTACT_FORCE)
    )
    rotated = []
    disk_radius = success.disk_radius
    monkeypatch.setattr(
        success, "disk_radius", lambda h, quat: rotated.append(len(quat)) or disk_radius(h, quat)
    )
    got = success.resting_on(offset, half, q, heights, contact_force=lambda: force)
    assert torch.equal(got, expected)
    assert 0 < int(expected.sum()) < n
    far = success.resting_on(
        offset + torch.tensor([0.3, 0.0, 0.0]), half, q, heights, lambda: force
    )
    assert not bool(far.any())
    assert rotated == [n], "the far call worked out no disk"
