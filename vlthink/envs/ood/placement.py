"""Where the OOD suite's things stand, and how a reset puts them there the same way every time.

A helper the task holds (``env.placement``), like ManiSkill's scene builders: the task says
*where* things go (cells, yaws: :mod:`vlthink.envs.ood.episode`), this module says *how*.

- Every candidate object and receptacle of a variant is built once, when the scene is loaded;
  those not in use wait on a shelf 1 m below the table (out of sight and out of reach).
- Once per scene, every object is dropped on the shelf and settles: how it rests (the height of
  its origin, its tilt) is measured and reused (:meth:`Placement.calibrate_rest`).
- A reset parks everything, steps the physics once (that ends the previous episode's contacts),
  places the episode's things just above their resting pose, lets them settle, and puts them
  back in their exact resting pose (:meth:`Placement.place`, :meth:`Placement.snap_to_rest`).
  So the first frame of a seed is pixel-identical whatever ran before.

A *spot* is ``(x, y, yaw)`` in m and rad on the table; ``spots`` maps catalogue name -> spot for
one sub-env; ``things`` is the list of ``(actor, catalogue name)`` of every candidate.
"""

from __future__ import annotations

import sapien
import torch
from mani_skill.utils.structs.pose import Pose

from vlthink import geometry
from vlthink.assets.receptacles import receptacle_spec
from vlthink.scene.widowx import SIM_FREQ, TABLE_FRICTION, TABLE_TOP_Z

# --- Placement (m) ------------------------------------------------------------------------------
DROP_GAP = 0.002  # things are placed this far above their resting height, then settled
SHELF_TOP_Z = -1.0  # where unused candidates wait, below the table
SHELF_HALF_SIZE = (1.2, 1.2, 0.05)
SHELF_SPACING = 0.3  # between parked things
SHELF_ROW = 7  # parked things per row
REST_CALIBRATION_SECONDS = 1.0  # physics run once per scene to find how each object rests


class Placement:
    """The shelf, the parking spots and the measured resting poses of one loaded scene."""

    def __init__(self, env):
        self.env = env  # a WidowXTableEnv
        self.parking: dict[str, tuple[float, float, float]] = {}
        self.rest: dict[str, tuple[float, list[float]]] = {}  # name -> (height, tilt)

    def build_shelf(self):
        """A static slab under the table, with the table's material (the rest calibration
        below stands in for the table top)."""
        builder = self.env.scene.create_actor_builder()
        material = sapien.physx.PhysxMaterial(TABLE_FRICTION, TABLE_FRICTION, 0.0)
        builder.add_box_collision(half_size=SHELF_HALF_SIZE, material=material)
        builder.initial_pose = sapien.Pose(p=[0.0, 0.0, SHELF_TOP_Z - SHELF_HALF_SIZE[2]])
        return builder.build_static(name="shelf")

    def park(self, name: str, half_height: float) -> sapien.Pose:
        """The next free parking spot on the shelf, taken by ``name``."""
        k = len(self.parking)
        x = (k % SHELF_ROW - (SHELF_ROW - 1) / 2) * SHELF_SPACING
        y = (k // SHELF_ROW - 3) * SHELF_SPACING
        self.parking[name] = (x, y, SHELF_TOP_Z + half_height + DROP_GAP)
        return sapien.Pose(p=self.parking[name])

    def calibrate_rest(self, objects: list[tuple]):
        """How every object rests on the table: its tilt and the height of its origin.

        Run once per scene (the first reset after loading): every object is dropped on the shelf,
        which has the table's material, from its build pose, and settles. Objects are built to
        rest in their build pose (``flat_base``), but a cone like the carrot still leans a few
        degrees onto its tip. Episodes then place each object in this measured resting pose, turned
        to the episode's yaw, and put it back there after the settle, so the first frame is the
        same for the same seed whatever ran before, and nothing is still moving at step 0."""
        env = self.env
        for actor, name in objects:
            self.set_rows(actor, [[*self.parking[name], 1.0, 0.0, 0.0, 0.0]] * env.num_envs)
        if not env.gpu_sim_enabled:
            for actor, _ in objects:
                for entity in actor._objs:
                    body = entity.find_component_by_type(sapien.physx.PhysxRigidDynamicComponent)
                    body.wake_up()
        env._settle(REST_CALIBRATION_SECONDS)
        for actor, name in objects:
            pose = actor.pose.raw_pose[0].cpu().numpy()
            self.rest[name] = (float(pose[2] - SHELF_TOP_Z), geometry.without_heading(pose[3:]))

    def rest_pose(
        self, name: str, x: float, y: float, yaw: float, surface_z: float = TABLE_TOP_Z
    ) -> list[float]:
        """(x, y, z, qw, qx, qy, qz) of a thing resting at (x, y) on a surface at height
        surface_z, turned by yaw (receptacles stand flat in their build pose)."""
        if name in self.rest:
            height, tilt = self.rest[name]
            return [x, y, surface_z + height, *geometry.quat_multiply(geometry.yaw_quat(yaw), tilt)]
        return [x, y, surface_z + receptacle_spec(name).half_height, *geometry.yaw_quat(yaw)]

    def parked_pose(self, name: str) -> list[float]:
        x, y, _ = self.parking[name]
        return self.rest_pose(name, x, y, 0.0, surface_z=SHELF_TOP_Z)

    def place(self, idx: list[int], spots: list[dict], things: list[tuple]):
        """Every candidate to its spot on the table or on the shelf, at rest.

        Everything is first parked, asleep, and the physics stepped once: that ends every contact
        of the previous episode, whose cached state would otherwise steer how a thing settles
        where a thing stood before (the same seed would then give a different scene, by up to a
        millimetre for shapes that roll while settling)."""
        for actor, name in things:
            self.set_rows(actor, [self.parked_pose(name)] * len(idx))
        self.same_sleep_state(idx, [{}] * len(idx), things)
        self.env._settle(1.0 / SIM_FREQ)
        for actor, name in things:
            rows = []
            for s in spots:
                if name in s:
                    pose = self.rest_pose(name, *s[name])
                    pose[2] += DROP_GAP
                    rows.append(pose)
                else:
                    rows.append(self.parked_pose(name))
            self.set_rows(actor, rows)
        self.same_sleep_state(idx, spots, things)

    def same_sleep_state(self, idx: list[int], spots: list[dict], things: list[tuple]):
        """Wake what stands on the table, put the parked things to sleep (CPU physics keeps sleep
        state across a teleport, and a thing that starts asleep settles differently)."""
        if self.env.gpu_sim_enabled:
            return  # the GPU pipeline keeps no per-body sleep state to align
        for actor, name in things:
            for i, s in zip(idx, spots):
                body = actor._objs[i].find_component_by_type(
                    sapien.physx.PhysxRigidDynamicComponent
                )
                if name in s:
                    body.wake_up()
                else:
                    body.put_to_sleep()

    def snap_to_rest(self, idx: list[int], spots: list[dict], things: list[tuple]):
        """Everything on the table back to its exact resting pose after the settle.

        The settle lets things find their footing; where exactly they end depends, by a few
        microns (receptacles, with many contact pieces) up to a tenth of a millimetre, on the
        history of the physics scene, which would make two resets with the same seed differ by a
        pixel here and there. Every thing's resting pose is known (receptacles stand flat, objects
        as calibrated), so they are put there."""
        for actor, name in things:
            mine = [s.get(name) for s in spots]
            if not any(mine):
                continue
            now = actor.pose.raw_pose
            rows = [
                now[i if now.shape[0] > 1 else row].tolist()
                if spot is None
                else self.rest_pose(name, *spot)
                for row, (i, spot) in enumerate(zip(idx, mine))
            ]
            self.set_rows(actor, rows)

    def set_rows(self, actor, rows: list[list[float]]):
        """Teleport ``actor`` to one (x, y, z, qw, qx, qy, qz) pose per row, at rest."""
        device = self.env.device
        pose = torch.tensor(rows, dtype=torch.float32, device=device)
        actor.set_pose(Pose.create_from_pq(p=pose[:, :3], q=pose[:, 3:]))
        actor.set_linear_velocity(torch.zeros((len(rows), 3), device=device))
        actor.set_angular_velocity(torch.zeros((len(rows), 3), device=device))
