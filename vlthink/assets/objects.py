"""The OOD suite's graspable objects: a catalogue of procedural meshes, 16 for training, 9 held out.

Each entry is an :class:`ObjectSpec`: the name the instruction uses ("put {name} on …"), its
split, the shape function that draws it and the physics numbers. Shapes are built from lathes
(revolved profiles), rounded boxes and ellipsoids, coloured per part.

Sizing rule (WidowX 250 S gripper): measured from the URDF, the finger pads stand 0.052 m apart
fully open and 0.008 m closed, so every object is at most ~0.045 m across its grasp axis (its
local y), at least 0.018 m high so the finger tips fit under its middle, and at most 0.14 m long.

Frame of every object: metres, origin at the centre of its bounding box, long axis along x, z
up, resting pose = the pose it is built in (lowest collision point at z = -half_height: the
collision pieces are cut flat there so rounded things do not roll, see ``flat_base``). The fingers
close along the object's local y axis, at ``grasp_offset`` along x from the origin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import trimesh

from vlthink.assets.actors import CatalogueGeometry, build_actor
from vlthink.assets.parts import (
    Part,
    asset_dir,
    bend_xy,
    bounds,
    centred,
    collision_pieces,
    ellipsoid,
    flat_base,
    lathe,
    lathe_z,
    moved,
    resting_geometry,
    rounded_box,
    write_asset,
)

TAU = 2 * np.pi
OBJECT_FRICTION = 1.0  # static friction: the gripper's rubber pads on household things
OBJECT_DENSITY = 500.0  # kg/m³, light like produce and plastic toys (convex pieces are solid)
REST_FLAT_DEPTH = 0.002  # m: collision pieces are cut flat this far above their lowest point


@dataclass(frozen=True)
class ObjectSpec(CatalogueGeometry):
    name: str
    split: str  # "train" or "ood"
    shape: Callable[..., list[Part]]
    params: dict = field(default_factory=dict)
    density: float = OBJECT_DENSITY  # kg/m³
    friction: float = OBJECT_FRICTION
    grasp_at: float = 0.5  # where to grasp along the long axis, 0 = the -x end, 1 = the +x end

    def geometry(self) -> dict:
        return _geometry(self.name)

    @property
    def grasp_point(self) -> tuple[float, float]:
        """(x, y) in the object frame where the fingers should close (z = 0 is mid-height).

        Off the origin for tools grasped by the handle and for curved things (banana, croissant)
        whose bounding-box centre lies beside the body.
        """
        return _geometry(self.name)["grasp_point"]

    @property
    def grasp_width(self) -> float:
        """Width of the collision shape along y at the grasp point: what the fingers must span."""
        return _geometry(self.name)["grasp_width"]

    grasp_yaw = 0.0  # the fingers close along local y; rotate the gripper by the object's yaw


# ---------------------------------------------------------------------------------------------
# Shape functions: each returns the parts of one object in any frame; the catalogue centres them.
# ---------------------------------------------------------------------------------------------


def _bent(parts: list[Part], radius: float, pieces: int = 6) -> list[Part]:
    """Bend straight parts (laid along x from 0) into an arc; split colliders into hull pieces."""
    # Centre the straight parts on x = 0 first so the arc is symmetric (its chord along x).
    x_mid = (min(p.mesh.bounds[0, 0] for p in parts) + max(p.mesh.bounds[1, 0] for p in parts)) / 2
    parts = [
        Part(moved(p.mesh, (-x_mid, 0, 0)), p.color, p.collide, p.roughness, p.metallic)
        for p in parts
    ]
    out = []
    for p in parts:
        hulls = []
        if p.collide:
            v = p.mesh.vertices
            edges = np.linspace(v[:, 0].min(), v[:, 0].max(), pieces + 1)
            for lo, hi in zip(edges[:-1], edges[1:]):
                pad = 0.15 * (hi - lo)  # overlap so the pieces leave no gaps after bending
                sel = (v[:, 0] >= lo - pad) & (v[:, 0] <= hi + pad)
                piece = trimesh.convex.convex_hull(v[sel])
                hulls.append(bend_xy(piece, radius).convex_hull)
        out.append(
            Part(
                bend_xy(p.mesh, radius),
                p.color,
                p.collide,
                p.roughness,
                p.metallic,
                hull_pieces=hulls,
            )
        )
    return out


def carrot(length=0.10, radius=0.017, leaf_length=0.035):
    xs = np.linspace(0, length, 24)
    t = xs / length
    rs = (
        radius
        * np.clip(0.08 + 0.92 * t**0.8, 0, 1)
        * np.where(t > 0.93, np.sqrt(np.clip((1 - t) / 0.07, 0.25, 1)), 1)
    )

    def rings(x, th):  # the shallow rings of a root
        return 1 + 0.03 * np.sin(x * 420)

    parts = [Part(lathe(xs, rs, 24, bump=rings), (236, 112, 20), roughness=0.8)]
    leaf = lathe(np.linspace(0, leaf_length, 8), 0.0035 * np.sin(np.linspace(0.3, np.pi, 8)), 8)
    for yaw in (-0.45, -0.15, 0.15, 0.45):
        parts.append(
            Part(
                moved(leaf, (length - 0.004, 0, 0.002), (0, -0.15, yaw)),
                (60, 150, 40),
                collide=False,
            )
        )
    return parts


def banana(length=0.15, radius=0.018, bend_radius=0.12):
    xs = np.linspace(0, length, 30)
    t = xs / length
    rs = radius * np.interp(
        t, [0, 0.08, 0.12, 0.35, 0.75, 0.94, 1], [0.25, 0.28, 0.6, 1, 1, 0.5, 0.2]
    )

    def ridges(x, th):  # the banana's five faces
        return 1 + 0.07 * np.cos(5 * th)

    body = Part(lathe(xs, rs, 30, bump=ridges, z_scale=0.9), (240, 205, 40), roughness=0.6)
    stem = Part(lathe([-0.002, 0.015], [0.0045, 0.0045], 10), (120, 110, 40), collide=False)
    tip = Part(ellipsoid([0.004, 0.0035, 0.0035], 2), (60, 45, 25), collide=False)
    tip.mesh.apply_translation([length, 0, 0])
    return _bent([body, stem, tip], bend_radius)


def eggplant(length=0.105, radius=0.021):
    xs = np.linspace(0, length, 24)
    rs = radius * np.interp(
        xs / length, [0, 0.05, 0.25, 0.55, 0.85, 1], [0.2, 0.8, 1, 0.92, 0.66, 0.5]
    )
    body = Part(lathe(xs, rs, 28), (62, 24, 78), roughness=0.25)

    def star(x, th):  # the five-lobed calyx
        return 1 + 0.35 * np.cos(5 * th) ** 2

    calyx = Part(
        lathe(
            np.linspace(length - 0.012, length + 0.008, 6),
            [0.0165, 0.016, 0.0135, 0.011, 0.008, 0.006],
            30,
            bump=star,
        ),
        (70, 120, 45),
        collide=False,
    )
    stem = Part(
        lathe([length + 0.006, length + 0.025], [0.0045, 0.0035], 10), (85, 110, 50), collide=False
    )
    return [body, calyx, stem]


def cucumber(length=0.14, radius=0.0175):
    xs = np.linspace(0, length, 28)
    t = xs / length
    rs = radius * np.sqrt(np.clip(1 - ((t - 0.5) / 0.52) ** 8, 0.05, 1))

    def warts(x, th):
        return 1 + 0.03 * np.cos(9 * th) * np.cos(x * 300)

    body = Part(lathe(xs, rs, 28, bump=warts), (40, 90, 35), roughness=0.5)
    end = Part(ellipsoid([0.003, 0.005, 0.005], 2), (150, 160, 80), collide=False)
    end.mesh.apply_translation([length - 0.001, 0, 0])
    return [body, end]


def lemon(length=0.075, radius=0.021):
    xs = np.linspace(0, length, 26)
    t = 2 * xs / length - 1
    # Fuller than an ellipse in the middle, drawn out to a small point at both ends.
    rs = radius * np.clip(1 - np.abs(t) ** 2.5, 0, 1) ** 0.75
    rs = np.maximum(rs, 0.004 * (np.abs(t) < 0.999))
    return [Part(lathe(xs, rs, 28), (248, 215, 35), roughness=0.45)]


def sausage(length=0.12, radius=0.0135, bend_radius=0.25):
    xs = np.linspace(0, length, 24)
    t = 2 * xs / length - 1
    rs = radius * np.sqrt(np.clip(1 - np.abs(t) ** 10, 0.02, 1))
    body = Part(lathe(xs, rs, 24), (160, 70, 45), roughness=0.35)
    knots = [
        Part(lathe([x0, x0 + 0.006], [0.003, 0.002], 8), (120, 55, 35), collide=False)
        for x0 in (-0.004, length - 0.002)
    ]
    return _bent([body, *knots], bend_radius, pieces=4)


def marker(length=0.125, radius=0.011, cap_length=0.04, cap_color=(30, 80, 210)):
    # Octagonal barrel: it reads as a marker and does not roll away from the gripper.
    barrel = Part(
        lathe([0, 0.004, length - cap_length], [0.006, radius, radius], 8),
        (238, 238, 232),
        roughness=0.4,
    )
    cap = Part(
        lathe(
            [length - cap_length, length - 0.004, length],
            [radius * 1.08, radius * 1.08, radius * 0.8],
            8,
        ),
        cap_color,
        roughness=0.4,
    )
    band = Part(lathe([0.03, 0.06], [radius * 1.01, radius * 1.01], 8), cap_color, collide=False)
    # Turn by half a facet so the octagon rests on a flat face, not on an edge.
    for p in (barrel, cap, band):
        p.mesh.apply_transform(trimesh.transformations.rotation_matrix(TAU / 16, [1, 0, 0]))
    return [barrel, cap, band]


def toy_block(size=0.04):
    return [Part(rounded_box([size] * 3, 0.003), (215, 40, 40), roughness=0.5)]


def sponge(extents=(0.095, 0.042, 0.032), scourer=0.008):
    lx, ly, lz = extents
    foam = Part(rounded_box([lx, ly, lz - scourer], 0.004), (245, 205, 55), roughness=1.0)
    pad = Part(rounded_box([lx, ly, scourer], 0.002), (35, 125, 60), roughness=1.0)
    pad.mesh.apply_translation([0, 0, (lz - scourer) / 2 + scourer / 2 - 0.0005])
    return [foam, pad]


def soda_can(radius=0.021, height=0.072):
    # Upright can: round but standing on its flat base, so it does not roll.
    h = height
    rs = [0, radius * 0.82, radius, radius, radius * 0.85, 0]
    zs = [0.001, 0, 0.007, h - 0.008, h, h]
    body = Part(lathe_z(rs, zs, 36), (200, 20, 30), roughness=0.3, metallic=0.3)
    band = Part(
        lathe_z([radius * 1.01, radius * 1.01], [0.03, 0.042], 36), (245, 245, 245), collide=False
    )
    lid = Part(
        lathe_z(
            [0, radius * 0.84, radius * 0.84, 0], [h - 0.0005, h - 0.0005, h + 0.001, h + 0.001], 36
        ),
        (200, 200, 205),
        metallic=0.9,
        roughness=0.3,
        collide=False,
    )
    return [body, band, lid]


def screwdriver(handle=0.068, handle_radius=0.013, shaft=0.06, shaft_radius=0.0032):
    # Hexagonal handle (sections=6): flat faces keep it from rolling on the table.
    h = Part(
        lathe([0, 0.004, handle - 0.01, handle], [0.009, handle_radius, handle_radius, 0.008], 6),
        (220, 40, 30),
        roughness=0.35,
    )
    grip = Part(
        lathe([0.012, handle - 0.016], [handle_radius * 1.02] * 2, 6),
        (30, 30, 30),
        roughness=0.9,
        collide=False,
    )
    s = Part(
        lathe(
            [handle - 0.002, handle + shaft - 0.008, handle + shaft],
            [shaft_radius, shaft_radius, 0.001],
            12,
            y_scale=1.0,
            z_scale=0.6,
        ),
        (190, 190, 200),
        metallic=0.9,
        roughness=0.25,
    )
    return [h, grip, s]  # the thin shaft stays clear of the table, held up by the handle


def chili_pepper(length=0.10, radius=0.012, bend_radius=0.14):
    xs = np.linspace(0, length, 24)
    rs = radius * np.interp(xs / length, [0, 0.15, 0.6, 0.88, 1], [0.05, 0.45, 0.95, 1, 0.75])
    body = Part(lathe(xs, rs, 24), (205, 25, 20), roughness=0.25)
    calyx = Part(
        lathe([length - 0.002, length + 0.006], [radius * 0.85, 0.005], 16),
        (60, 120, 40),
        collide=False,
    )
    stem = Part(
        lathe([length + 0.004, length + 0.02], [0.0022, 0.0018], 8), (70, 120, 45), collide=False
    )
    return _bent([body, calyx, stem], bend_radius, pieces=4)


def _lumpy(radii, seed_phase: float, amount=0.07):
    mesh = ellipsoid(radii, 3)
    d = mesh.vertices / np.asarray(radii)
    lumps = 1 + amount * (
        np.sin(3.1 * d[:, 0] + seed_phase) * np.cos(2.3 * d[:, 1] + 1.7 * seed_phase)
        + 0.5 * np.sin(5.3 * d[:, 2] + 2.1 * d[:, 0] + seed_phase)
    )
    mesh.vertices = mesh.vertices * lumps[:, None]
    return mesh


def potato(radii=(0.042, 0.021, 0.019)):
    body = Part(_lumpy(radii, 0.7), (178, 132, 80), roughness=0.95)
    eyes = [
        Part(ellipsoid([0.003, 0.002, 0.001], 1), (110, 80, 45), collide=False) for _ in range(3)
    ]
    for e, (x, y) in zip(eyes, [(-0.02, 0.005), (0.008, -0.006), (0.026, 0.004)]):
        e.mesh.apply_translation([x, y, radii[2] * 0.97])
    return [body, *eyes]


def soap_bar(extents=(0.082, 0.042, 0.026)):
    return [Part(rounded_box(extents, 0.011), (240, 160, 195), roughness=0.3)]


def pear(length=0.09, radius=0.019):
    xs = np.linspace(0, length, 28)
    rs = radius * np.interp(
        xs / length,
        [0, 0.04, 0.15, 0.35, 0.55, 0.75, 0.92, 1],
        [0.25, 0.7, 0.95, 1, 0.8, 0.6, 0.5, 0.3],
    )
    body = Part(lathe(xs, rs, 28), (185, 200, 70), roughness=0.5)
    stem = Part(
        lathe([length - 0.002, length + 0.015], [0.002, 0.0016], 8), (100, 70, 35), collide=False
    )
    return [body, stem]


def tomato(radius=0.021, height=0.034):
    def ribs(x, th):
        return 1 + 0.035 * np.cos(6 * th)

    zs = np.linspace(-height / 2, height / 2, 16)
    rs = radius * np.sqrt(np.clip(1 - (2 * zs / height) ** 2, 0.0, 1)) ** 0.8
    body = lathe(zs, rs, 30, bump=ribs)
    body.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [0, 1, 0]))

    def star(x, th):  # five sepals
        return 0.3 + 0.7 * np.abs(np.cos(2.5 * th)) ** 3

    calyx = lathe([0, 0.002], [0.011, 0.011], 40, bump=star)
    calyx.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [0, 1, 0]))
    calyx.apply_translation([0, 0, height / 2 - 0.0015])
    stem = lathe([height / 2, height / 2 + 0.006], [0.0018, 0.0015], 8)
    stem.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [0, 1, 0]))
    return [
        Part(body, (215, 35, 25), roughness=0.2),
        Part(calyx, (50, 120, 40), collide=False),
        Part(stem, (60, 110, 40), collide=False),
    ]


def corn_cob(length=0.12, radius=0.019):
    xs = np.linspace(0, length, 60)
    rs = radius * np.interp(
        xs / length, [0, 0.04, 0.15, 0.8, 0.95, 1], [0.6, 0.9, 1, 0.95, 0.7, 0.3]
    )

    # Kernels: rows around the cob (14) times rings along it (one every 6 mm).
    def kernels(x, th):
        return 1 + 0.07 * np.abs(np.sin(7 * th)) ** 0.5 * np.abs(np.sin(np.pi * x / 0.006)) ** 0.5

    cob = Part(lathe(xs, rs, 56, bump=kernels), (242, 196, 45), roughness=0.45)
    husk = []
    for side in (-1, 1):
        leaf = ellipsoid([0.035, 0.013, 0.003], 2)
        husk.append(
            Part(
                moved(leaf, (0.018, side * radius * 0.7, -0.004), (side * 0.9, 0, side * 0.12)),
                (140, 175, 70),
                collide=False,
            )
        )
    stalk = Part(lathe([-0.012, 0.002], [0.008, 0.011], 16), (150, 160, 90))
    return [cob, *husk, stalk]


def rubber_duck(radius=0.018):
    body = Part(ellipsoid([0.032, radius, 0.019], 3), (250, 212, 30), roughness=0.4)
    body.mesh.apply_translation([0, 0, 0.019])
    # A flat bottom, like a bath toy's: a round one would rock over under the closing fingers.
    body.mesh.vertices[:, 2] = np.maximum(body.mesh.vertices[:, 2], 0.006)
    tail = Part(
        moved(ellipsoid([0.012, 0.012, 0.009], 2), (-0.027, 0, 0.029), (0, -0.6, 0)),
        (250, 212, 30),
        roughness=0.4,
    )
    head = Part(ellipsoid([0.0155, 0.0155, 0.015], 3), (250, 212, 30), roughness=0.4)
    head.mesh.apply_translation([0.018, 0, 0.046])
    beak = Part(ellipsoid([0.011, 0.0075, 0.0035], 2), (245, 110, 20), collide=False)
    beak.mesh.apply_translation([0.035, 0, 0.043])
    eyes = [Part(ellipsoid([0.0025] * 3, 1), (20, 20, 20), collide=False) for _ in range(2)]
    for e, side in zip(eyes, (-1, 1)):
        e.mesh.apply_translation([0.028, side * 0.0085, 0.051])
    return [body, tail, head, beak, *eyes]


def toy_car(length=0.09, width=0.038, color=(30, 95, 215)):
    body = Part(rounded_box([length, width, 0.02], 0.005), color, roughness=0.3)
    body.mesh.apply_translation([0, 0, 0.017])
    cabin = Part(rounded_box([0.045, width * 0.85, 0.018], 0.005), color, roughness=0.3)
    cabin.mesh.apply_translation([-0.006, 0, 0.032])
    windows = Part(
        rounded_box([0.04, width * 0.87, 0.011], 0.004), (35, 45, 60), roughness=0.1, collide=False
    )
    windows.mesh.apply_translation([-0.006, 0, 0.034])
    wheel = lathe([-0.0035, 0.0035], [0.0105, 0.0105], 20)
    wheels = []
    for x in (-0.028, 0.028):
        for side in (-1, 1):
            w = moved(wheel, (x, side * (width / 2 - 0.0015), 0.0105), (0, 0, np.pi / 2))
            wheels.append(Part(w, (25, 25, 25), roughness=0.9, collide=False))
    # One hull over body and wheels: a toy car on wheel colliders would roll away when nudged.
    body.hull_pieces = [
        trimesh.convex.convex_hull(
            np.vstack([body.mesh.vertices, cabin.mesh.vertices, *[w.mesh.vertices for w in wheels]])
        )
    ]
    cabin.collide = False
    return [body, cabin, windows, *wheels]


def avocado(length=0.088, radius=0.021):
    xs = np.linspace(0, length, 28)
    rs = radius * np.interp(
        xs / length, [0, 0.05, 0.3, 0.6, 0.85, 1], [0.3, 0.75, 1, 0.85, 0.62, 0.3]
    )

    def pebbly(x, th):
        return 1 + 0.025 * np.sin(9 * th + x * 500) * np.cos(x * 700)

    body = Part(lathe(xs, rs, 28, bump=pebbly), (48, 72, 30), roughness=0.9)
    stem = Part(
        lathe([length - 0.002, length + 0.004], [0.003, 0.0025], 8), (90, 70, 40), collide=False
    )
    return [body, stem]


def remote_control(extents=(0.14, 0.04, 0.019)):
    lx, ly, lz = extents
    body = Part(rounded_box(extents, 0.006), (32, 32, 36), roughness=0.5)
    top = lz / 2
    buttons = [
        Part(
            moved(lathe_z([0.005, 0.005], [0, 0.002], 16), (lx / 2 - 0.015, 0, top - 0.0005)),
            (210, 30, 30),
            collide=False,
        )
    ]
    for x in np.linspace(-0.045, 0.01, 5):
        for y in (-0.009, 0, 0.009):
            b = moved(rounded_box([0.006, 0.006, 0.002], 0.0009), (x, y, top + 0.0005))
            buttons.append(Part(b, (150, 150, 155), collide=False))
    pad = [
        (0.035, 0.009, (40, 170, 60)),
        (0.035, -0.009, (240, 200, 30)),
        (0.044, 0, (40, 90, 220)),
        (0.026, 0, (220, 120, 30)),
    ]
    for x, y, c in pad:
        buttons.append(
            Part(
                moved(lathe_z([0.0033, 0.0033], [0, 0.0018], 12), (x, y, top - 0.0003)),
                c,
                collide=False,
            )
        )
    return [body, *buttons]


def croissant(length=0.12, radius=0.019, bend_radius=0.055):
    xs = np.linspace(0, length, 40)
    rs = radius * np.interp(xs / length, [0, 0.1, 0.5, 0.9, 1], [0.15, 0.45, 1, 0.45, 0.15])

    def layers(x, th):
        return 1 + 0.09 * np.abs(np.sin(np.pi * x / 0.016)) ** 0.6

    body = Part(lathe(xs, rs, 28, bump=layers, z_scale=0.8), (212, 145, 60), roughness=0.7)
    return _bent([body], bend_radius, pieces=6)


def hot_dog(length=0.12, width=0.042):
    bun = []
    for side in (-1, 1):
        half = ellipsoid([length / 2 - 0.006, width / 4, 0.013], 3)
        half.apply_translation([0, side * width / 4, 0.013])
        bun.append(Part(half, (222, 168, 95), roughness=0.8))
    sausage_ = lathe(
        np.linspace(-length / 2, length / 2, 20),
        0.0105 * np.sqrt(np.clip(1 - np.linspace(-1, 1, 20) ** 8, 0.05, 1)),
        20,
    )
    sausage_.apply_translation([0, 0, 0.024])
    mustard = lathe(np.linspace(-0.045, 0.045, 40), np.full(40, 0.0018), 8, bump=None)
    v = mustard.vertices
    v[:, 1] += 0.006 * np.sin(v[:, 0] * 180)  # a zigzag squiggle
    mustard.vertices = v
    mustard.apply_translation([0, 0, 0.034])
    return [
        *bun,
        Part(sausage_, (170, 75, 45), roughness=0.3),
        Part(mustard, (245, 200, 20), collide=False, roughness=0.4),
    ]


def dice(size=0.035):
    body = Part(rounded_box([size] * 3, 0.004), (245, 245, 240), roughness=0.3)
    pips = []
    h, o = size / 2, size / 4
    grid = {
        1: [(0, 0)],
        2: [(-o, -o), (o, o)],
        3: [(-o, -o), (0, 0), (o, o)],
        4: [(-o, -o), (-o, o), (o, -o), (o, o)],
        5: [(-o, -o), (-o, o), (0, 0), (o, -o), (o, o)],
        6: [(-o, -o), (-o, 0), (-o, o), (o, -o), (o, 0), (o, o)],
    }
    # Opposite faces sum to 7; axis a, sign s -> number.
    faces = {(2, 1): 5, (2, -1): 2, (0, 1): 3, (0, -1): 4, (1, 1): 1, (1, -1): 6}
    for (axis, sign), n in faces.items():
        for u, v in grid[n]:
            p = np.zeros(3)
            p[axis] = sign * h
            others = [a for a in range(3) if a != axis]
            p[others[0]], p[others[1]] = u, v
            r = np.full(3, 0.0032)
            r[axis] = 0.0007
            pips.append(Part(moved(ellipsoid(r, 2), p), (20, 20, 20), collide=False))
    return [body, *pips]


def salt_shaker(radius=0.018, height=0.052, cap=0.016):
    rs = [0, radius * 0.9, radius, radius * 0.92, radius * 0.92, 0]
    zs = [0, 0, 0.004, height - 0.004, height, height]
    body = Part(lathe_z(rs, zs, 36), (236, 238, 240), roughness=0.15)
    crs = [0, radius * 0.95, radius * 0.95, radius * 0.8, 0]
    czs = [height - 0.002, height - 0.002, height + cap * 0.5, height + cap, height + cap]
    top = Part(lathe_z(crs, czs, 36), (185, 188, 195), metallic=0.9, roughness=0.25)
    holes = []
    for k in range(5):
        a = TAU * k / 5
        p = (0.005 * np.cos(a), 0.005 * np.sin(a), height + cap - 0.0003)
        holes.append(
            Part(moved(ellipsoid([0.0012, 0.0012, 0.0005], 1), p), (40, 40, 40), collide=False)
        )
    return [body, top, *holes]


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------

OBJECTS: dict[str, ObjectSpec] = {
    s.name: s
    for s in [
        ObjectSpec("carrot", "train", carrot, grasp_at=0.55),
        ObjectSpec("banana", "train", banana),
        ObjectSpec("eggplant", "train", eggplant, grasp_at=0.6),
        ObjectSpec("cucumber", "train", cucumber),
        ObjectSpec("lemon", "train", lemon),
        ObjectSpec("sausage", "train", sausage),
        ObjectSpec("marker", "train", marker),
        ObjectSpec("toy block", "train", toy_block),
        ObjectSpec("sponge", "train", sponge, density=150.0),
        ObjectSpec("soda can", "train", soda_can, density=300.0),
        ObjectSpec("screwdriver", "train", screwdriver, grasp_at=0.3),
        ObjectSpec("chili pepper", "train", chili_pepper),
        ObjectSpec("potato", "train", potato),
        ObjectSpec("soap bar", "train", soap_bar),
        ObjectSpec("pear", "train", pear, grasp_at=0.35),
        ObjectSpec("tomato", "train", tomato),
        ObjectSpec("corn cob", "ood", corn_cob),
        ObjectSpec("rubber duck", "ood", rubber_duck, density=300.0),
        ObjectSpec("toy car", "ood", toy_car),
        ObjectSpec("avocado", "ood", avocado, grasp_at=0.3),
        ObjectSpec("remote control", "ood", remote_control),
        ObjectSpec("croissant", "ood", croissant, density=300.0),
        ObjectSpec("hot dog", "ood", hot_dog),
        ObjectSpec("dice", "ood", dice),
        ObjectSpec("salt shaker", "ood", salt_shaker),
    ]
}
OBJECTS_TRAIN: tuple[str, ...] = tuple(n for n, s in OBJECTS.items() if s.split == "train")
OBJECTS_HELDOUT: tuple[str, ...] = tuple(n for n, s in OBJECTS.items() if s.split == "ood")


def object_spec(name: str) -> ObjectSpec:
    try:
        return OBJECTS[name]
    except KeyError:
        raise KeyError(f"unknown object {name!r}; known: {', '.join(OBJECTS)}") from None


@cache
def object_parts(name: str) -> tuple[Part, ...]:
    """The object's parts, centred on its bounding box (in memory; deterministic)."""
    spec = object_spec(name)
    parts = centred(spec.shape(**spec.params))
    lo, hi = bounds(parts)
    if hi[1] - lo[1] > hi[0] - lo[0]:  # keep the convention: the long horizontal axis is x
        quarter = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 0, 1])
        for p in parts:
            p.mesh.apply_transform(quarter)
            for h in p.hull_pieces:
                h.apply_transform(quarter)
    return tuple(flat_base(parts, REST_FLAT_DEPTH))


@cache
def _geometry(name: str) -> dict:
    parts = list(object_parts(name))
    lo, hi = bounds(parts)
    spec = OBJECTS[name]
    grasp_x = lo[0] + spec.grasp_at * (hi[0] - lo[0])
    # Width across y of the collision pieces within ±5 mm of the grasp point (finger pad width).
    cv = np.vstack([h.vertices for h in collision_pieces(parts)])
    near = np.abs(cv[:, 0] - grasp_x) <= 0.005
    ys = cv[near, 1] if near.sum() >= 2 else cv[:, 1]
    # For a curved body only the nearest stretch of it counts (the slice may cut it twice).
    width = float(np.ptp(ys))
    return {
        **resting_geometry(parts),
        "grasp_point": (round(float(grasp_x), 5), round(float((ys.min() + ys.max()) / 2), 5)),
        "grasp_width": width,
    }


def object_files(name: str):
    """Paths (visual GLB, collision OBJ) of the object in the cache, written if missing."""
    return write_asset(list(object_parts(name)), asset_dir("objects"), name)


def build_object(
    scene, name: str, *, kinematic: bool = False, initial_pose=None, actor_name: str | None = None
):
    """Build the named object as a ManiSkill actor (dynamic unless ``kinematic``).

    ``initial_pose`` (sapien.Pose) places the object's bounding-box centre; to rest it on a table
    top at height ``z_table``, use ``z = z_table + spec.half_height`` with an upright orientation
    (any yaw). ``actor_name`` defaults to the object's name (ManiSkill needs unique names).
    """
    spec = object_spec(name)
    visual, collision = object_files(name)
    return build_actor(
        scene,
        actor_name or name,
        visual,
        collision,
        friction=spec.friction,
        density=spec.density,
        kinematic=kinematic,
        initial_pose=initial_pose,
    )
