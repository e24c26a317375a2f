"""The success rule of every vlthink task: the object rests on the target.

Written once, used by VL-Think (carrot on a board) and the OOD suite (object on a receptacle).
It is part of the scene protocol: change a number here and bump
``vlthink.envs.registry.PROTOCOL_VERSION``.

An object *rests on* a support when
    - its centre lies within the support area's half-extents + ``XY_MARGIN`` of the area's centre,
      along both of the support's horizontal axes;
    - it is above the support and no higher than ``MAX_Z_GAP`` beyond the half-heights that
      separate the two when one lies on the other;
    - the two touch: contact force > ``MIN_CONTACT_FORCE``.

``info["placed_on"]`` says where the object rests: 0 nowhere, 1 on the target, 2 on a distractor
(names in :data:`PLACED_ON`), so a wrong-board rate can be computed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

XY_MARGIN = 0.01  # m beyond the support area's half-extents
MAX_Z_GAP = 0.05  # m above the support, beyond the half-heights that separate the two
MIN_CONTACT_FORCE = 0.03  # N

PLACED_ON = ("none", "target", "distractor")


def resting_on(
    offset_xy: torch.Tensor,
    half_extents,
    height: torch.Tensor,
    half_heights: tuple,
    contact_force: Callable[[], torch.Tensor],
    valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """(N,) bool: does each sub-env's object rest on its support?

    Args:
        offset_xy: (N, 2) object centre minus the support area's centre, in the support's frame.
        half_extents: the support area's half-extents (a float, or (N, 2)), m.
        height: (N,) height of the object's centre above the support's reference plane, m.
        half_heights: what separates the two when the object lies on the support (floats or
            (N,) tensors, m), e.g. the board's and the carrot's half-heights.
        contact_force: returns the (N,) contact force (N) between object and support; only
            called when some object is above its support (the query walks every contact).
        valid: (N,) bool, sub-envs that have such a support at all (default: all).
    """
    xy = (offset_xy.abs() <= half_extents + XY_MARGIN).all(dim=1)
    gap = height
    for half_height in half_heights:
        gap = gap - half_height
    above = xy & (height > 0) & (gap <= MAX_Z_GAP)
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
