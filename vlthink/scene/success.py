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


def resting_on(
    offset: torch.Tensor,
    radius,
    half_heights: tuple,
    contact_force: Callable[[], torch.Tensor],
    valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """(N,) bool: does each sub-env's object rest on its support?

    Args:
        offset: (N, 3) object centre minus support centre (bounding-box centres), world frame, m.
        radius: the success disk's radius (a float, or (N,)), m: see :func:`disk_radius`.
        half_heights: the support's and the object's bounding-box half-heights (floats or (N,)
            tensors, m); the object may be this much plus MAX_Z_GAP above the support's centre.
        contact_force: returns the (N,) contact force (N) between object and support; only
            called when some object is above its support (the query walks every contact).
        valid: (N,) bool, sub-envs that have such a support at all (default: all).
    """
    in_disk = torch.linalg.norm(offset[:, :2], dim=1) <= radius
    dz = offset[:, 2]
    limit = MAX_Z_GAP
    for half_height in half_heights:
        limit = limit + half_height
    above = in_disk & (dz > 0) & (dz <= limit)
    if valid is not None:
        above = valid & above
    if not bool(above.any()):
        return above  # most steps: skip the contact query
    return above & (contact_force() > MIN_CONTACT_FORCE)


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
