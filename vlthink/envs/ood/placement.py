"""Where the OOD suite's things stand, and how a reset puts them there the same way every time.

A helper the task holds (``env.placement``), like ManiSkill's scene builders: the task says
*where* things go (cells, yaws: :mod:`vlthink.envs.ood.episode`), this module says *how*.

- Every candidate object and receptacle of a variant is built once, when the scene is loaded;
  those not in use wait on a shelf 1 m below the table (out of sight and out of reach).
- Once per scene, every object is dropped on the shelf and settles: how it rests (the height of
  its origin, its tilt) is measured and reused (:meth:`Placement.calibrate_rest`).
- A reset parks everything, steps the physics once (that ends the previous episode's contacts),
  then starts the episode's things by one of two rules (:meth:`Placement.start`):

  ``"rest"`` (the default): each thing is placed 2 mm above its resting pose on the table, the
  physics runs ``SETTLE_SECONDS`` (0.5 s) with the arm parked, and everything is put back in its
  exact resting pose (:meth:`Placement.snap_to_rest`), so the first frame of a seed is
  pixel-identical whatever ran before. An object whose footprint overlaps a receptacle (layouts
  allow it, as the original's do) starts 2 mm above that receptacle's top instead, settles onto
  its edge and is left where it settled (no snap): a resting pose on an edge is not known in
  advance.

  ``"drop"`` (the original's rule): receptacles and objects are released with their centres at
  z = 0.95 m (an object that overlaps a receptacle just above that receptacle's top), the
  physics runs 0.1 s, and 1.2 s more if anything still moves; nothing is snapped.
  ``bench/check_rest.py`` measures both: where earlier episodes make a drop land differently,
  ``"rest"`` stays the default.

Physics of the mid-episode move (PosChangeTo, :meth:`Placement.release_above`): the object is
teleported above its new cell, its centre at z = 1.0 m, turned to its yaw in its resting tilt and
at rest, and the whole scene runs 0.1 s (50 substeps) at once, the arm's joint drives holding the
last control step's targets, as the original does inside its ``evaluate``: the next observation
shows the object still falling.

A *spot* is ``(x, y, yaw)`` in m and rad on the table; ``spots`` maps catalogue name -> spot for
one sub-env; ``things`` is the list of ``(actor, catalogue name)`` of every candidate.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache

import numpy as np
import sapien
import torch
from mani_skill.utils.structs.pose import Pose
from scipy.spatial import ConvexHull

from vlthink import geometry
from vlthink.assets.actors import dynamic_body
from vlthink.scene.widowx import SETTLE_SECONDS, SIM_FREQ, TABLE_FRICTION, TABLE_TOP_Z

# --- Placement (m) ------------------------------------------------------------------------------
START_RULES = ("rest", "drop")  # see the module docstring
DROP_GAP = 0.002  # things are placed this far above their resting height, then settled
SHELF_TOP_Z = -1.0  # where unused candidates wait, below the table
SHELF_HALF_SIZE = (1.2, 1.2, 0.05)
SHELF_SPACING = 0.3  # between parked things
SHELF_ROW = 7  # parked things per row
# An object that starts on a receptacle's edge can slide off its rim during the settle and wedge
# against its side; at the episode's cap (OBJECT_MAX_DEPENETRATION_VELOCITY, set at the build) it
# is pushed out hard enough to leave the table, so during the settle the push is capped lower.
SETTLE_MAX_DEPENETRATION_VELOCITY = 0.3  # m/s, objects during the reset's settle
REST_CALIBRATION_SECONDS = 1.0  # physics run once per scene to find how each object rests

# --- The original's drop rule ("drop") ------------------------------------------------------------
DROP_Z = 0.95  # m, world: the centre height things are released from
DROP_SETTLE_SECONDS = 0.1  # s: its first settle (50 substeps)
DROP_MORE_SECONDS = 1.2  # s more, only while anything still moves
STILL_LINEAR = 1e-3  # m/s: summed speed of the things below which nothing moves
STILL_ANGULAR = 1e-2  # rad/s, summed likewise

# --- PosChangeTo's mid-episode move -------------------------------------------------------------
MOVE_RELEASE_Z = 1.0  # m, world: the moved object's centre when it is released
MOVE_FALL_SECONDS = 0.1  # s of physics after the release, in the same control step


class Placement:
    """The shelf, the parking spots and the measured resting poses of one loaded scene."""

    rule: str = "rest"  # how a reset starts things: one of START_RULES

    def __init__(self, env, rule: str | None = None):
        rule = rule or self.rule
        if rule not in START_RULES:
            raise ValueError(f"rule must be one of {START_RULES}, got {rule!r}")
        self.env = env  # a WidowXTableEnv
        self.rule = rule
        self.parking: dict[str, tuple[float, float, float]] = {}
        self.rest: dict[str, tuple[float, list[float]]] = {}  # name -> (height, tilt)
        self._turned: dict[tuple[str, float], list[float]] = {}  # (name, yaw) -> rest quaternion
        self._outlines: dict[tuple, np.ndarray] = {}
        self.on_edge: list[set[str]] = []  # per sub-env of the last start: objects not snapped

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
                    dynamic_body(entity).wake_up()
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
            # ManiSkill's product on tiny tensors, wanted dozens of times a reset: once per yaw
            turned = self._turned.get((name, yaw))
            if turned is None:
                turned = geometry.quat_multiply(geometry.yaw_quat(yaw), tilt)
                self._turned[(name, yaw)] = turned
            return [x, y, surface_z + height, *turned]
        return [
            x,
            y,
            surface_z + self.env.assets.receptacle_spec(name).half_height,
            *geometry.yaw_quat(yaw),
        ]

    def parked_pose(self, name: str) -> list[float]:
        x, y, _ = self.parking[name]
        return self.rest_pose(name, x, y, 0.0, surface_z=SHELF_TOP_Z)

    # ---- a reset -----------------------------------------------------------------------------------
    def start(self, idx: list[int], spots: list[dict], things: list[tuple]):
        """Put the episode's things on the table by ``self.rule`` and let them settle (the arm is
        parked meanwhile: ``env._settle``); the rest go to the shelf."""
        self.on_edge = [
            {n for n in s if n in self.rest and self.overlapped_top(n, s) > 0} for s in spots
        ]
        if self.rule == "drop":
            self.place(idx, spots, things, self._drop_pose)
            self.env._settle(DROP_SETTLE_SECONDS)
            if self.moving(idx, spots, things):
                self.env._settle(DROP_MORE_SECONDS)
            return
        self.place(idx, spots, things, self._rest_start_pose)
        with self.gentle_depenetration(idx, things):
            self.env._settle(SETTLE_SECONDS)
        kept = [{n: v for n, v in s.items() if n not in e} for s, e in zip(spots, self.on_edge)]
        self.snap_to_rest(idx, kept, things)

    @contextmanager
    def gentle_depenetration(self, idx: list[int], things: list[tuple]):
        """Objects of sub-envs ``idx`` resolve overlaps at most SETTLE_MAX_DEPENETRATION_VELOCITY
        fast inside the block, as before it afterwards (CPU physics; GPU bodies are left alone)."""
        bodies = []
        if not self.env.gpu_sim_enabled:
            bodies = [
                dynamic_body(actor._objs[i])
                for actor, name in things
                if name in self.rest
                for i in idx
            ]
        before = [b.max_depenetration_velocity for b in bodies]
        for b in bodies:
            b.max_depenetration_velocity = SETTLE_MAX_DEPENETRATION_VELOCITY
        try:
            yield
        finally:
            for b, v in zip(bodies, before):
                b.max_depenetration_velocity = v

    def _rest_start_pose(self, name: str, spot: tuple, spots: dict) -> list[float]:
        """Just above the resting pose on the table, or on the top of a receptacle it overlaps."""
        pose = self.rest_pose(name, *spot)
        pose[2] += DROP_GAP + (self.overlapped_top(name, spots) if name in self.rest else 0.0)
        return pose

    def _drop_pose(self, name: str, spot: tuple, spots: dict) -> list[float]:
        """Centre at DROP_Z; an object that overlaps a receptacle no lower than just above that
        receptacle's top (both fall alike, so the gap stays while they fall)."""
        pose = self.rest_pose(name, *spot)
        pose[2] = DROP_Z
        if name in self.rest:
            for rec in self.overlapped(name, spots):
                spec = self.env.assets.receptacle_spec(rec)
                top = DROP_Z - spec.half_height + self._receptacle_geometry(rec)[0]
                pose[2] = max(pose[2], top + self.rest[name][0] + DROP_GAP)
        return pose

    def place(self, idx: list[int], spots: list[dict], things: list[tuple], pose=None):
        """Every candidate to its start pose on the table (``pose(name, spot, spots)``, by
        default just above its resting pose) or on the shelf, at rest.

        Everything is first parked, asleep, and the physics stepped once: that ends every contact
        of the previous episode, whose cached state would otherwise steer how a thing settles
        where a thing stood before (the same seed would then give a different scene, by up to a
        millimetre for shapes that roll while settling)."""
        pose = pose or self._rest_start_pose
        for actor, name in things:
            self.set_rows(actor, [self.parked_pose(name)] * len(idx))
        self.same_sleep_state(idx, [{}] * len(idx), things)
        self.env._settle(1.0 / SIM_FREQ)
        for actor, name in things:
            rows = [pose(name, s[name], s) if name in s else self.parked_pose(name) for s in spots]
            self.set_rows(actor, rows)
        self.same_sleep_state(idx, spots, things)

    def moving(self, idx: list[int], spots: list[dict], things: list[tuple]) -> bool:
        """Whether the things on the table of sub-envs ``idx`` still move, by the original's
        test: their speeds summed over everything."""
        linear = angular = 0.0
        for actor, name in things:
            rows = [i for i, s in zip(idx, spots) if name in s]
            if rows:
                linear += float(torch.linalg.norm(actor.linear_velocity[rows], dim=-1).sum())
                angular += float(torch.linalg.norm(actor.angular_velocity[rows], dim=-1).sum())
        return linear > STILL_LINEAR or angular > STILL_ANGULAR

    def same_sleep_state(self, idx: list[int], spots: list[dict], things: list[tuple]):
        """Wake what stands on the table, put the parked things to sleep (CPU physics keeps sleep
        state across a teleport, and a thing that starts asleep settles differently)."""
        if self.env.gpu_sim_enabled:
            return  # the GPU pipeline keeps no per-body sleep state to align
        for actor, name in things:
            for i, s in zip(idx, spots):
                body = dynamic_body(actor._objs[i])
                if name in s:
                    body.wake_up()
                else:
                    body.put_to_sleep()

    def snap_to_rest(self, idx: list[int], spots: list[dict], things: list[tuple]):
        """Everything in ``spots`` back to its exact resting pose on the table after the settle.

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

    # ---- objects over receptacles ------------------------------------------------------------------
    def _receptacle_geometry(self, name: str) -> tuple[float, list[np.ndarray]]:
        return receptacle_geometry(self.env.assets, name)

    def overlapped(self, name: str, spots: dict) -> list[str]:
        """The receptacles of ``spots`` that object ``name``, resting at its spot on the table,
        would reach into (its collision geometry below their top overlaps theirs, seen from
        above)."""
        x, y, yaw = spots[name]
        out = []
        for rec, (rx, ry, ryaw) in spots.items():
            if rec in self.rest:
                continue  # an object
            top, outlines = self._receptacle_geometry(rec)
            low = [_turned(p, yaw) + (x, y) for p in self._low_outline(name, top)]
            pieces = [_turned(p, ryaw) + (rx, ry) for p in outlines]
            if any(_convex_overlap(a, b) for a in low for b in pieces):
                out.append(rec)
        return out

    def overlapped_top(self, name: str, spots: dict) -> float:
        """Height (m above the table) of the highest receptacle top that object ``name`` would
        reach into at its spot; 0 if it overlaps none."""
        return max(
            (self._receptacle_geometry(r)[0] for r in self.overlapped(name, spots)), default=0.0
        )

    def _low_outline(self, name: str, below: float) -> list[np.ndarray]:
        """Per collision piece, (k, 2) xy in the object's frame turned by its resting tilt of the
        piece's part lower than ``below`` above the table when resting (its cross-section at
        ``below`` included)."""
        key = (name, round(below, 6))
        if key not in self._outlines:
            height, tilt = self.rest[name]
            turn = geometry.wxyz_to_matrix(tilt)
            outlines = []
            for piece in self.env.assets.object_pieces(name):
                v = piece.vertices @ turn.T + (0.0, 0.0, height)
                a, b = v[piece.edges_unique[:, 0]], v[piece.edges_unique[:, 1]]
                cross = (a[:, 2] - below) * (b[:, 2] - below) < 0
                t = (below - a[cross, 2]) / (b[cross, 2] - a[cross, 2])
                cut = a[cross] + t[:, None] * (b[cross] - a[cross])
                low = np.vstack([v[v[:, 2] <= below], cut])[:, :2]
                if len(low) >= 3:
                    outlines.append(low)
            self._outlines[key] = outlines
        return self._outlines[key]

    # ---- the mid-episode move (PosChangeTo) -----------------------------------------------------
    def release_above(self, actors: list, index: torch.Tensor, due: torch.Tensor, poses):
        """Teleport object ``index[i]`` of each sub-env i in ``due`` to ``poses[i]`` (its new cell
        and yaw, resting tilt) with its centre at MOVE_RELEASE_Z, at rest, and run
        MOVE_FALL_SECONDS of physics for the whole scene with the arm's drives holding their
        targets (``scene.step`` only: the controller sets no new target). Sub-envs not due run
        those substeps too, as in the original."""
        env = self.env
        start = poses.clone()
        start[:, 2] = MOVE_RELEASE_Z
        for k, actor in enumerate(actors):
            rows = due & (index == k)
            if not bool(rows.any()):
                continue
            pose = torch.where(rows[:, None], start, actor.pose.raw_pose)
            actor.set_pose(Pose.create_from_pq(p=pose[:, :3], q=pose[:, 3:]))
            keep = (~rows)[:, None].float()
            actor.set_linear_velocity(actor.linear_velocity * keep)
            actor.set_angular_velocity(actor.angular_velocity * keep)
            if not env.gpu_sim_enabled:
                for i in torch.nonzero(rows).flatten().tolist():
                    dynamic_body(actor._objs[i]).wake_up()
        if env.gpu_sim_enabled:
            env.scene._gpu_apply_all()
        for _ in range(int(round(SIM_FREQ * MOVE_FALL_SECONDS))):
            env.scene.step()
        if env.gpu_sim_enabled:
            env.scene._gpu_fetch_all()

    def set_rows(self, actor, rows: list[list[float]]):
        """Teleport ``actor`` to one (x, y, z, qw, qx, qy, qz) pose per row, at rest."""
        if not self.env.gpu_sim_enabled:
            # The PhysX calls ManiSkill's CPU setters make, with the same float32 values, without
            # their tensors: a reset teleports every candidate two or three times.
            for row, entity, body in zip(rows, actor._objs, actor._bodies):
                pose = np.asarray(row, np.float32)
                entity.pose = sapien.Pose(pose[:3], pose[3:])
                body.linear_velocity = _AT_REST
                body.angular_velocity = _AT_REST
            return
        device = self.env.device
        pose = torch.tensor(rows, dtype=torch.float32, device=device)
        actor.set_pose(Pose.create_from_pq(p=pose[:, :3], q=pose[:, 3:]))
        actor.set_linear_velocity(torch.zeros((len(rows), 3), device=device))
        actor.set_angular_velocity(torch.zeros((len(rows), 3), device=device))


_AT_REST = np.zeros(3, np.float32)  # m/s, rad/s


# ---- footprints (pure geometry, cached per asset set and receptacle) ----------------------------
@cache
def receptacle_geometry(assets, name: str) -> tuple[float, list[np.ndarray]]:
    """(height of the top above the table, xy outline of each collision piece) of a receptacle
    of an asset set (:mod:`vlthink.assets.sets`) resting in its build pose."""
    pieces = assets.receptacle_pieces(name)
    top = assets.receptacle_spec(name).half_height + max(float(p.bounds[1, 2]) for p in pieces)
    return top, [np.asarray(p.vertices[:, :2]) for p in pieces]


def _turned(points: np.ndarray, yaw: float) -> np.ndarray:
    """2-D points turned by ``yaw`` about the origin."""
    c, s = np.cos(yaw), np.sin(yaw)
    return points @ np.array([[c, s], [-s, c]])


def _convex_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the convex hulls of two 2-D point sets overlap (separating-axis test over the
    edge normals of both hulls)."""
    try:
        hulls = [ConvexHull(a), ConvexHull(b)]
    except Exception:  # a degenerate (flat) outline has no area to overlap
        return False
    for hull in hulls:
        for normal in hull.equations[:, :2]:
            pa, pb = a @ normal, b @ normal
            if pa.max() <= pb.min() + 1e-9 or pb.max() <= pa.min() + 1e-9:
                return False
    return True
