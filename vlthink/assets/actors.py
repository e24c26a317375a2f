"""Turn a generated asset (GLB + convex-piece OBJ) into a ManiSkill actor.

Shared by objects and receptacles so both get the same physics conventions: collision from the
convex pieces only (never the visual mesh), restitution 0 so nothing bounces on placement, and
mass from a density (kg/m³) over the convex pieces.
"""

from __future__ import annotations

from pathlib import Path

import sapien


class CatalogueGeometry:
    """Geometry properties shared by object and receptacle specs (metres, the asset's frame).

    Subclasses return :func:`vlthink.assets.parts.resting_geometry` (plus their own keys) from
    ``geometry()``."""

    def geometry(self) -> dict:
        raise NotImplementedError

    @property
    def half_size(self) -> tuple[float, float, float]:
        """Half-extents (x, y, z) of the visual bounding box."""
        return self.geometry()["half_size"]

    @property
    def half_height(self) -> float:
        """Height of the origin above the table when the asset rests in its build pose."""
        return self.geometry()["rest_height"]

    @property
    def footprint_radius(self) -> float:
        """Largest horizontal distance of any vertex from the origin (a keep-out circle)."""
        return self.geometry()["footprint_radius"]


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
    angular_damping: float | None = None,
    solver_iterations: int | None = None,
    max_depenetration_velocity: float | None = None,
    file_pose: sapien.Pose | None = None,
    scale: float = 1.0,
):
    """Build one actor in a ManiSkill scene (``ManiSkillScene``) from the two asset files.

    ``angular_damping`` (1/s), ``solver_iterations`` (position iterations) and
    ``max_depenetration_velocity`` (m/s: how fast PhysX may push the body out of an overlap), when
    given, are set on every sub-scene's body of a dynamic actor. ``file_pose`` and ``scale``
    place both files in the actor frame (files made in another frame: the original pack's)."""
    builder = scene.create_actor_builder()
    frame = {"pose": file_pose or sapien.Pose(), "scale": [scale] * 3}
    builder.add_visual_from_file(str(visual), **frame)
    builder.add_multiple_convex_collisions_from_file(
        str(collision), material=physx_material(friction), density=density, **frame
    )
    # ManiSkill wants an initial pose so GPU-sim actors do not all start at the origin.
    builder.initial_pose = initial_pose if initial_pose is not None else sapien.Pose()
    if kinematic:
        return builder.build_kinematic(name=name)
    actor = builder.build(name=name)
    for entity in actor._objs:
        body = dynamic_body(entity)
        if angular_damping is not None:
            body.angular_damping = angular_damping
        if solver_iterations is not None:
            body.solver_position_iterations = solver_iterations
        if max_depenetration_velocity is not None:
            body.max_depenetration_velocity = max_depenetration_velocity
    return actor


def dynamic_body(entity) -> sapien.physx.PhysxRigidDynamicComponent:
    """The PhysX body of one sub-scene's entity of a dynamic actor (``actor._objs[i]``)."""
    return entity.find_component_by_type(sapien.physx.PhysxRigidDynamicComponent)
