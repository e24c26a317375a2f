"""The success rule of every vlthink task: the object rests on the target.

Written once, used by VL-Think (carrot on a board) and the OOD suite (object on a receptacle), and
the same rule as the paper's released environments (BlindVLA / RL4VLA ``evaluate``). It is part of
the scene protocol: change a number here and bump ``vlthink.envs.registry.PROTOCOL_VERSION``.

An object *rests on* a support when
    - its centre lies in a disk around the support's centre (both bounding-box centres, seen from
      above) whose radius is the largest half-extent of the support's bounding box, rotated to the
      support's current orientation, plus ``XY_MARGIN``;
    - it is above the support's centre (0 < dz) by at most the two half-heights (support and
      object bounding boxes) plus ``MAX_Z_GAP``;
    - the two touch: contact force > ``MIN_CONTACT_FORCE``.

``info["placed_on"]`` says where the object rests: 0 nowhere, 1 on the target, 2 on a distractor
(names in :data:`PLACED_ON`), so a wrong-board rate can be computed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from vlthink import geometry
from vlthink.scene.placed import PLACED_ON  # noqa: F401  (re-exported)

XY_MARGIN = 0.01  # m beyond the support's largest bounding-box half-extent
MAX_Z_GAP = 0.05  # m above the support, beyond the two half-heights
MIN_CONTACT_FORCE = 0.03  # N
# relative: max_disk_radius's margin over the exact bound, far above float32 rounding (1e-7)
RADIUS_BOUND_SLACK = 1e-3


def disk_radius(half_extents: torch.Tensor, quat: torch.Tensor) -> torch.Tensor:
    """(N,) radius of the success disk: the largest half-extent of the support's bounding box
    (``half_extents`` (N, 3) or (3,), in its own frame) once turned by ``quat`` (N, 4, wxyz) and
    boxed again along the world axes, plus XY_MARGIN."""
    half = torch.as_tensor(half_extents, dtype=quat.dtype, device=quat.device)
    half = half.expand(quat.shape[0], 3)
    # Column k of the rotation matrix is the support's k-th axis in the world frame.
    columns = geometry.rotation_matrix(quat)
    world_half = (columns.abs() * half[:, None, :]).sum(dim=2)  # (N, 3)
    return world_half.max(dim=1).values + XY_MARGIN


def max_disk_radius(half_extents) -> torch.Tensor:
    """An upper bound of :func:`disk_radius` over every orientation of the support: each world
    half-extent of the turned box is a unit vector (a row of the rotation matrix, taken in
    absolute value) times ``half_extents``, so at most its length; with a little slack for float
    rounding."""
    half = torch.as_tensor(half_extents, dtype=torch.float32)
    return torch.linalg.norm(half, dim=-1) * (1.0 + RADIUS_BOUND_SLACK) + XY_MARGIN


def resting_on(
    offset: torch.Tensor,
    support_half: torch.Tensor,
    support_quat: torch.Tensor,
    half_heights: tuple,
    contact_force: Callable[[], torch.Tensor],
    valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """(N,) bool: does each sub-env's object rest on its support?

    Args:
        offset: (N, 3) object centre minus support centre (bounding-box centres), world frame, m.
        support_half: the support's bounding-box half-extents in its own frame ((N, 3) or (3,),
            m) and ``support_quat`` its orientation ((N, 4), wxyz): they make the success disk
            (:func:`disk_radius`).
        half_heights: the support's and the object's bounding-box half-heights (floats or (N,)
            tensors, m); the object may be this much plus MAX_Z_GAP above the support's centre.
        contact_force: returns the (N,) contact force (N) between object and support; only
            called when some object is on its disk (the query walks every contact).
        valid: (N,) bool, sub-envs that have such a support at all (default: all).

    Most evaluations find every object far from its support's disk: the disk's radius (a
    rotation of the support's box) is only worked out where an object lies within the largest
    radius any orientation could give (:func:`max_disk_radius`), and the contact query only
    where one lies on its disk. The answer is the rule's in every case.
    """
    distance = torch.linalg.norm(offset[:, :2], dim=1)
    dz = offset[:, 2]
    limit = MAX_Z_GAP
    for half_height in half_heights:
        limit = limit + half_height
    near = (dz > 0) & (dz <= limit) & (distance <= max_disk_radius(support_half))
    if valid is not None:
        near = valid & near
    if not bool(near.any()):
        return near  # most steps: no rotation, no contact query
    on_disk = near & (distance <= disk_radius(support_half, support_quat))
    if not bool(on_disk.any()):
        return on_disk
    return on_disk & (contact_force() > MIN_CONTACT_FORCE)


def placed_on(on_target: torch.Tensor, on_distractor: torch.Tensor) -> torch.Tensor:
    """(N,) index into :data:`PLACED_ON`: 1 on the target, else 2 on a distractor, else 0."""
    on_other = on_distractor & ~on_target
    return torch.where(on_target, 1, torch.where(on_other, 2, 0))


def evaluation(
    on_target: torch.Tensor, on_distractor: torch.Tensor, grasp: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """What a task's ``evaluate`` returns: success, where the object rests, and the grasp keys of
    ManiSkill's Bridge envs (``is_src_obj_grasped``, ``consecutive_grasp``, ``src_on_target``),
    so that SimplerEnv-style evaluation loops read our envs unchanged."""
    return {
        "success": on_target,
        "placed_on": placed_on(on_target, on_distractor),
        "src_on_target": on_target,
        **grasp,
    }
