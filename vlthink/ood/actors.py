"""Turn a generated asset (GLB + convex-piece OBJ) into a ManiSkill actor.

Shared by objects and receptacles so both get the same physics conventions: collision from the
convex pieces only (never the visual mesh), restitution 0 so nothing bounces on placement, and
mass from a density (kg/m³) over the convex pieces.
"""

from __future__ import annotations

from pathlib import Path

import sapien


def physx_material(friction: float) -> sapien.physx.PhysxMaterial:
    """Static friction ``friction``, dynamic 10 % lower, no bounce."""
    return sapien.physx.PhysxMaterial(
        static_friction=friction, dynamic_friction=0.9 * friction, restitution=0.0
    )


def build_actor(
    scene,
    name: str,
    visual: Path,
    collision: Path,
    *,
    friction: float,
    density: float,
    kinematic: bool = False,
    initial_pose: sapien.Pose | None = None,
):
    """Build one actor in a ManiSkill scene (``ManiSkillScene``) from the two asset files."""
    builder = scene.create_actor_builder()
    builder.add_visual_from_file(str(visual))
    builder.add_multiple_convex_collisions_from_file(
        str(collision), material=physx_material(friction), density=density
    )
    # ManiSkill wants an initial pose so GPU-sim actors do not all start at the origin.
    builder.initial_pose = initial_pose if initial_pose is not None else sapien.Pose()
    return builder.build_kinematic(name=name) if kinematic else builder.build(name=name)
