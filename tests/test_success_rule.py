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


def _rest(offsets, radius, half_heights=(BOARD[2], CARROT_HALF_HEIGHT), force=1.0):
    offsets = torch.tensor(offsets, dtype=torch.float32)
    return success.resting_on(
        offsets,
        radius,
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
    assert _rest([inside, outside], r) == [True, False]


def test_the_disk_is_round_not_square():
    # The corner of the old square region (+-6.5 cm per axis) lies outside the disk.
    z = BOARD[2] + CARROT_HALF_HEIGHT
    corner = [0.06, 0.06, z]  # 8.5 cm from the centre
    assert _rest([corner], 0.065) == [False]


def test_height_rule_above_the_centre_by_at_most_half_heights_plus_5_cm():
    limit = BOARD[2] + CARROT_HALF_HEIGHT + success.MAX_Z_GAP
    rows = [[0, 0, -0.001], [0, 0, 0.0005], [0, 0, limit - 0.001], [0, 0, limit + 0.001]]
    assert _rest(rows, 0.065) == [False, True, True, False]


def test_contact_is_required():
    z = BOARD[2] + CARROT_HALF_HEIGHT
    assert _rest([[0, 0, z]], 0.065, force=0.02) == [False]
    assert _rest([[0, 0, z]], 0.065, force=0.04) == [True]


def test_contact_query_is_skipped_when_nothing_is_above_a_support():
    called = []

    def force():
        called.append(1)
        return torch.ones(1)

    success.resting_on(torch.tensor([[0.2, 0.0, 0.02]]), 0.065, (0.003,), force)
    assert called == []
