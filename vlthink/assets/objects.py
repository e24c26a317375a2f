"""The OOD suite's graspable objects: the original suite's 25, 16 for training, 9 held out.

Each entry is an :class:`ObjectSpec`: the display name the instruction uses ("put {name} on …"),
its split and density as in the original's catalogue (RL4VLA's ``model_db.json``), and the shape
function that draws it here, at the original's bounding-box size (within 10 %). The original's
meshes are not used: shapes are lathes (revolved profiles), rounded boxes, ellipsoids and bent
bodies, coloured per part so each reads at the policy's 224×224.

Sizing rule (WidowX 250 S gripper): the finger pads stand 0.052 m apart fully open and 0.008 m
closed, so each object is at most 0.045 m across at its grasp point (its local y). Things too wide
there are grasped where they are narrower (``grasp_at``: an onion near its neck, a potato towards
one end, a mug by its body, ``grasp_part``); tall ones stand and are grasped with the gripper's
palm above their top (the oracle's rule).

Frame of every object: metres, origin at the centre of its bounding box, long axis along x, z
up, resting pose = the pose it is built in (lowest collision point at z = -half_height: the
collision pieces are cut flat there so rounded things, a golf ball too, do not roll, see
``flat_base``). The fingers close along the object's local y axis, at ``grasp_point``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import trimesh

from vlthink.assets.actors import CatalogueGeometry
from vlthink.assets.catalogue import Catalogue, Drawn
from vlthink.assets.parts import (
    Part,
    bend_xy,
    bounds,
    box,
    centred,
    collision_pieces,
    ellipsoid,
    flat_base,
    lathe,
    lathe_z,
    moved,
    rounded_box,
    slab_points,
)

TAU = 2 * np.pi
OBJECT_FRICTION = 1.0  # static friction: the gripper's rubber pads on household things
OBJECT_DENSITY = 500.0  # kg/m³, light like produce and plastic toys (convex pieces are solid)
# PhysX has no rolling resistance: a tall thin thing (champagne glass, a can standing) set down on
# a thin receptacle went on rocking on its rim for the whole episode, its contact flickering.
# Damped rotation and more solver iterations let it come to rest as a real one does.
OBJECT_ANGULAR_DAMPING = 3.0  # 1/s
OBJECT_SOLVER_ITERATIONS = 40  # position iterations per step (SAPIEN default 10)
# PhysX pushes overlapping bodies apart at any speed by default: an object squeezed by the fingers
# flew off when they opened. Lower, a cup set down on the plate went on wobbling.
OBJECT_MAX_DEPENETRATION_VELOCITY = 1.0  # m/s
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
    grasp_part: int | None = None  # grasp at the middle of this part instead (a mug's body)
    flat_depth: float = REST_FLAT_DEPTH  # m; deeper for long round things lying on their side

    def geometry(self) -> dict:
        return CATALOGUE.geometry(self.name)

    @property
    def grasp_point(self) -> tuple[float, float]:
        """(x, y) in the object frame where the fingers should close (z = 0 is mid-height).

        Off the origin for tools grasped by the handle and for curved things (banana, croissant)
        whose bounding-box centre lies beside the body.
        """
        return CATALOGUE.geometry(self.name)["grasp_point"]

    @property
    def grasp_width(self) -> float:
        """Width of the collision shape along y at the grasp point: what the fingers must span."""
        return CATALOGUE.geometry(self.name)["grasp_width"]

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


def _lumpy(radii, seed_phase: float, amount=0.07):
    mesh = ellipsoid(radii, 3)
    d = mesh.vertices / np.asarray(radii)
    lumps = 1 + amount * (
        np.sin(3.1 * d[:, 0] + seed_phase) * np.cos(2.3 * d[:, 1] + 1.7 * seed_phase)
        + 0.5 * np.sin(5.3 * d[:, 2] + 2.1 * d[:, 0] + seed_phase)
    )
    mesh.vertices = mesh.vertices * lumps[:, None]
    return mesh


def _upright(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Stand a lathe drawn along x on its end: its axis becomes z (x = 0 at the bottom)."""
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [0, 1, 0]))
    return mesh


def _ring_x(x0: float, x1: float, r: float, sections: int = 32, **scale) -> trimesh.Trimesh:
    """A short closed cylinder along x: a printed band around a lying bottle or can."""
    return lathe([x0, x1], [r, r], sections, **scale)


def _ring_z(z0: float, z1: float, r: float, sections: int = 36) -> trimesh.Trimesh:
    """A short closed cylinder along z: a label band around a standing cup, can or bottle."""
    return _upright(lathe([z0, z1], [r, r], sections))


def _dots(color, centres, radius, flat=0.0012) -> list[Part]:
    """Small flattened spheres (seeds, pips, eyes) that do not collide."""
    out = []
    for c in centres:
        out.append(Part(moved(ellipsoid([radius, radius, flat], 1), c), color, collide=False))
    return out


# --- Training objects ---------------------------------------------------------------------------


def carrot(length=0.092, radius=0.0172, leaf_length=0.034, leaf_pitch=-0.5):
    """A carrot lying along x, tip at x = 0, its leafy top rising from the +x end."""
    xs = np.linspace(0, length, 24)
    t = xs / length
    rs = (
        radius
        * np.clip(0.08 + 0.92 * t**0.8, 0, 1)
        * np.where(t > 0.93, np.sqrt(np.clip((1 - t) / 0.07, 0.25, 1)), 1)
    )

    def rings(x, th):  # the shallow rings of a root
        return 1 + 0.03 * np.sin(x * 420)

    body = lathe(xs, rs, 24, bump=rings)
    # Lift each ring by its radius: the root's underside runs level along the table, so it lies
    # still on it instead of tipping onto its point.
    body.vertices[:, 2] += np.interp(body.vertices[:, 0], xs, rs)
    parts = [Part(body, (236, 112, 20), roughness=0.8)]
    leaf = lathe(np.linspace(0, leaf_length, 8), 0.0035 * np.sin(np.linspace(0.3, np.pi, 8)), 8)
    for yaw, pitch in ((-0.3, 0.2), (-0.1, -0.15), (0.1, 0.1), (0.3, -0.1)):
        parts.append(
            Part(
                moved(leaf, (length - 0.004, 0, 0.003 + radius), (0, leaf_pitch + pitch, yaw)),
                (60, 150, 40),
                collide=False,
            )
        )
    return parts


def kitchen_shovel(blade=(0.060, 0.057, 0.003), handle=(0.073, 0.019, 0.012), tilt=0.115):
    """A slotted kitchen turner: a flat blade on the table and a handle rising away from it."""
    bx, by, bz = blade
    hx, hy, hz = handle
    plate = Part(rounded_box(blade, 0.0012), (70, 70, 74), roughness=0.35, metallic=0.6)
    plate.mesh.apply_translation([bx / 2, 0, bz / 2])
    slots = [
        Part(
            box([0.036, 0.005, 0.0006], (bx / 2 + 0.003, y, bz + 0.0002)),
            (20, 20, 22),
            collide=False,
        )
        for y in (-0.014, 0, 0.014)
    ]
    neck = Part(
        trimesh.convex.convex_hull(
            np.vstack(
                [
                    box([0.004, 0.016, bz], (bx - 0.002, 0, bz / 2)).vertices,
                    box([0.004, 0.012, 0.006], (bx + 0.018, 0, 0.004)).vertices,
                ]
            )
        ),
        (70, 70, 74),
        roughness=0.35,
        metallic=0.6,
    )
    grip = rounded_box(handle, 0.004)
    grip.apply_translation([hx / 2, 0, hz / 2])
    grip = moved(grip, (bx + 0.016, 0, 0.0005), (0, -tilt, 0))
    hole = moved(lathe_z([0.0035, 0.0035], [0, 0.0006], 16), (bx + 0.016 + 0.9 * hx, 0, 0))
    hole.apply_transform(
        trimesh.transformations.rotation_matrix(-tilt, [0, 1, 0], point=[bx + 0.016, 0, 0.0005])
    )
    hole.apply_translation([0, 0, hz + 0.0002])
    return [
        plate,
        *slots,
        neck,
        Part(grip, (25, 25, 28), roughness=0.6),
        Part(hole, (235, 235, 230), collide=False),
    ]


def bread(extents=(0.044, 0.042, 0.029)):
    """A round bread roll: a low golden dome, darker on top, with a pale cross cut into it."""
    lx, ly, lz = extents
    zs = np.linspace(0, lz, 14)
    t = zs / lz
    rs = (
        lx
        / 2
        * np.clip(np.sqrt(np.clip(1 - t**2.4, 0, 1)), 0.12, 1)
        * np.where(t < 0.08, 0.93 + t, 1)
    )
    crumb = _upright(lathe(zs, rs, 36, y_scale=ly / lx))
    body = Part(crumb, (222, 170, 95), roughness=0.8)
    top = _upright(lathe(zs[5:], rs[5:] * 1.01, 36, y_scale=ly / lx))
    crust = Part(top, (170, 95, 35), roughness=0.7, collide=False)
    cuts = [
        Part(
            moved(box([lx * 0.55, 0.0035, 0.0015]), (0, 0, lz - 0.0003), (0, 0, a)),
            (240, 215, 160),
            collide=False,
        )
        for a in (np.pi / 4, -np.pi / 4)
    ]
    return [body, crust, *cuts]


def plastic_bottle(length=0.122, radius=0.018, z_scale=1.08):
    """A water bottle lying on its side: pale blue ribbed body, a label band, a blue cap at +x."""
    xs = np.array([0, 0.004, 0.012, 0.07, 0.083, 0.095, 0.101, 0.103, 0.122]) * length / 0.122
    rs = radius * np.array([0.8, 0.97, 1, 1, 0.9, 0.5, 0.42, 0.45, 0.45])

    def ribs(x, th):
        return 1 - 0.03 * (np.abs(np.sin(x * 260)) > 0.8) * (x < 0.07)

    body = Part(
        lathe(xs[:7], rs[:7], 32, bump=ribs, z_scale=z_scale), (170, 205, 230), roughness=0.1
    )
    label = Part(
        _ring_x(0.024, 0.058, radius * 1.01, z_scale=z_scale), (30, 110, 200), collide=False
    )
    stripe = Part(
        _ring_x(0.036, 0.046, radius * 1.02, z_scale=z_scale), (245, 245, 250), collide=False
    )
    cap = Part(lathe(xs[6:], rs[6:] * 1.08, 20, z_scale=z_scale), (25, 70, 190), roughness=0.4)
    return [body, label, stripe, cap]


def can(radius=0.0165, height=0.061, body=(40, 150, 60), band=(245, 245, 245), dot=(220, 30, 40)):
    """A drinks can standing on its flat base: coloured body, a printed band and a logo dot."""
    h = height
    rs = [0, radius * 0.82, radius, radius, radius * 0.85, 0]
    zs = [0.001, 0, 0.006, h - 0.007, h, h]
    shell = Part(lathe_z(rs, zs, 36), body, roughness=0.3, metallic=0.3)
    stripe = Part(_ring_z(0.42 * h, 0.58 * h, radius * 1.01), band, collide=False)
    logo = Part(
        moved(ellipsoid([0.0005, 0.006, 0.006], 2), (radius, 0, 0.5 * h)), dot, collide=False
    )
    logo2 = Part(moved(logo.mesh, (-2 * radius, 0, 0)), dot, collide=False)
    lid = Part(
        lathe_z(
            [0, radius * 0.84, radius * 0.84, 0], [h - 0.0005, h - 0.0005, h + 0.001, h + 0.001], 36
        ),
        (200, 200, 205),
        metallic=0.9,
        roughness=0.3,
        collide=False,
    )
    return [shell, stripe, logo, logo2, lid]


def can_lying(**kwargs) -> list[Part]:
    """The same can on its side, its axis along x (it rests on the flat-cut collision base)."""
    parts = can(**kwargs)
    turn = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0])
    for p in parts:
        p.mesh.apply_transform(turn)
    return parts


def zucchini(length=0.110, radius=0.0155, z_scale=0.84):
    xs = np.linspace(0, length, 28)
    t = xs / length
    rs = radius * np.interp(t, [0, 0.03, 0.12, 0.6, 0.92, 1], [0.35, 0.75, 0.86, 1, 0.9, 0.55])

    def stripes(x, th):  # the faint ribs of a courgette
        return 1 + 0.025 * np.cos(10 * th)

    body = Part(lathe(xs, rs, 30, bump=stripes, z_scale=z_scale), (45, 95, 30), roughness=0.45)
    flecks = _dots(
        (150, 175, 90),
        [
            (x, y, radius * z_scale * 0.98)
            for x, y in [(0.02, 0.004), (0.045, -0.006), (0.07, 0.003), (0.09, -0.003)]
        ],
        0.0022,
    )
    stem = Part(
        lathe([length - 0.002, length + 0.0], [0.0065, 0.005], 10), (160, 150, 90), collide=False
    )
    blossom = Part(ellipsoid([0.002, 0.0045, 0.0045], 2), (180, 170, 80), collide=False)
    return [body, *flecks, stem, blossom]


def ketchup_bottle(length=0.081, radius=0.0105):
    """A small ketchup bottle lying on its side: red body, white label, white cap with a nozzle."""
    xs = np.array([0, 0.003, 0.052, 0.060, 0.064])
    rs = radius * np.array([0.85, 1, 1, 0.8, 0.7])
    body = Part(lathe(xs, rs, 28), (200, 25, 20), roughness=0.25)
    label = Part(_ring_x(0.012, 0.042, radius * 1.02, 28), (245, 240, 225), collide=False)
    tomato_dot = Part(
        moved(ellipsoid([0.006, 0.004, 0.001], 2), (0.027, 0, radius * 1.03)),
        (210, 30, 25),
        collide=False,
    )
    cap = Part(
        lathe([0.063, 0.072, 0.075], [radius * 0.75, radius * 0.72, radius * 0.5], 20),
        (240, 240, 235),
    )
    nozzle = Part(lathe([0.075, 0.081], [0.0032, 0.0015], 12), (240, 240, 235), collide=False)
    return [body, label, tomato_dot, cap, nozzle]


def watering_can(radius=0.0205, height=0.036, spout_to=0.091):
    """A small green watering can: a round body, a long spout with a rose, a handle over the top."""
    body = Part(
        lathe_z([0, radius, radius, radius * 0.9, 0], [0, 0, height - 0.004, height, height], 36),
        (40, 140, 80),
        roughness=0.4,
    )
    rim = Part(_ring_z(height - 0.003, height, radius * 1.02), (220, 220, 215), collide=False)
    a, b = np.array([radius * 0.6, 0, 0.008]), np.array([spout_to - 0.006, 0, 0.037])
    d = b - a
    spout_mesh = lathe([0, np.linalg.norm(d)], [0.0045, 0.0028], 14)
    pitch = -np.arctan2(d[2], d[0])
    spout = Part(moved(spout_mesh, a, (0, pitch, 0)), (40, 140, 80), roughness=0.4)
    rose = Part(
        moved(lathe([0, 0.006], [0.003, 0.0065], 16), b, (0, pitch - 0.3, 0)),
        (200, 200, 195),
        collide=False,
    )
    t = np.linspace(0, np.pi, 14)
    loop = np.stack([-radius * 0.75 * np.cos(t), np.zeros_like(t), height + 0.011 * np.sin(t)], 1)
    handle = [
        Part(
            moved(
                lathe([0, np.linalg.norm(q - p)], [0.0025, 0.0025], 8),
                p,
                (0, -np.arctan2(*(q - p)[[2, 0]]), 0),
            ),
            (40, 140, 80),
            collide=False,
        )
        for p, q in zip(loop[:-1], loop[1:])
    ]
    return [body, rim, spout, rose, *handle]


def pipe(length=0.074, radius=0.0155, collar=0.0175):
    """A grey plastic pipe lying on its side, a wider coupling on one end, both ends open."""
    tube = Part(lathe([0, length - 0.018], [radius, radius], 32), (150, 155, 160), roughness=0.4)
    coupling = Part(
        lathe([length - 0.021, length], [collar, collar], 32), (205, 208, 210), roughness=0.4
    )
    bores = [
        Part(lathe([x0, x0 + 0.0008], [r, r], 32), (35, 35, 38), collide=False)
        for x0, r in ((-0.0005, radius * 0.8), (length - 0.0003, collar * 0.8))
    ]
    print_line = Part(
        moved(box([0.03, 0.0015, 0.0006], (0.025, 0, radius + 0.0001))), (30, 30, 30), collide=False
    )
    return [tube, coupling, *bores, print_line]


def toy_bear(fur=(125, 75, 35)):
    """A sitting teddy bear facing +x: body, head, ears, a pale muzzle, arms and legs forward."""
    light, dark = (215, 175, 125), (25, 20, 18)
    body = Part(moved(ellipsoid([0.016, 0.0175, 0.0185], 3), (0, 0, 0.0185)), fur, roughness=0.95)
    head = Part(
        moved(ellipsoid([0.0145, 0.0145, 0.0135], 3), (0.002, 0, 0.0425)), fur, roughness=0.95
    )
    ears = [
        Part(
            moved(ellipsoid([0.004, 0.0055, 0.0055], 2), (0.0, s * 0.011, 0.0545)),
            fur,
            collide=False,
        )
        for s in (-1, 1)
    ]
    muzzle = Part(
        moved(ellipsoid([0.006, 0.007, 0.0055], 2), (0.0145, 0, 0.039)), light, collide=False
    )
    nose = Part(
        moved(ellipsoid([0.002, 0.003, 0.002], 1), (0.0205, 0, 0.0415)), dark, collide=False
    )
    eyes = _dots(dark, [(0.014, s * 0.0055, 0.0475) for s in (-1, 1)], 0.0018, flat=0.0018)
    legs = [
        Part(
            moved(ellipsoid([0.011, 0.0065, 0.0065], 2), (0.011, s * 0.0095, 0.0065)),
            fur,
            roughness=0.95,
        )
        for s in (-1, 1)
    ]
    paws = [
        Part(
            moved(ellipsoid([0.0015, 0.005, 0.005], 1), (0.0215, s * 0.0095, 0.0065)),
            light,
            collide=False,
        )
        for s in (-1, 1)
    ]
    arms = [
        Part(
            moved(
                ellipsoid([0.0055, 0.0045, 0.01], 2), (0.006, s * 0.0155, 0.022), (s * 0.35, 0, 0)
            ),
            fur,
            collide=False,
        )
        for s in (-1, 1)
    ]
    belly = Part(
        moved(ellipsoid([0.004, 0.011, 0.011], 2), (0.0125, 0, 0.019)), light, collide=False
    )
    return [body, head, *ears, muzzle, nose, *eyes, *legs, *paws, *arms, belly]


def fast_food_cup(height=0.038, r_base=0.0102, r_top=0.0125):
    """A paper drinks cup with a domed lid and a striped straw."""
    cup = Part(
        lathe_z([0, r_base, r_top, 0], [0, 0, height, height], 32), (205, 30, 30), roughness=0.6
    )
    band = Part(
        _upright(lathe([0.014, 0.027], [r_base + 0.0012 * 1.5, r_base + 0.0019 * 1.5], 32)),
        (250, 200, 30),
        collide=False,
    )
    lid = Part(
        lathe_z(
            [0, r_top * 1.04, r_top * 1.04, r_top * 0.7, 0],
            [height - 0.001, height - 0.001, height + 0.002, height + 0.0045, height + 0.0045],
            32,
        ),
        (240, 240, 238),
        roughness=0.5,
    )
    straw = Part(
        moved(
            lathe([0, 0.0145], [0.0025, 0.0025], 10),
            (0.002, 0, height + 0.002),
            (0, -np.pi / 2 + 0.15, 0),
        ),
        (240, 240, 240),
        collide=False,
    )
    stripe = Part(
        moved(
            lathe([0.006, 0.0095], [0.0027, 0.0027], 10),
            (0.002, 0, height + 0.002),
            (0, -np.pi / 2 + 0.15, 0),
        ),
        (215, 30, 30),
        collide=False,
    )
    return [cup, band, lid, straw, stripe]


def plant(pot_r=(0.0145, 0.0175), pot_h=0.034, top=0.073, spread=0.0205):
    """A small potted plant: a terracotta pot and a bushy head of leaves (one convex clump)."""
    rb, rt = pot_r
    pot = Part(
        lathe_z(
            [0, rb, rt, rt * 1.08, rt * 1.08, 0],
            [0, 0, pot_h - 0.005, pot_h - 0.005, pot_h, pot_h],
            32,
        ),
        (185, 90, 55),
        roughness=0.9,
    )
    soil = Part(
        lathe_z(
            [0, rt * 0.98, rt * 0.98, 0],
            [pot_h - 0.004, pot_h - 0.004, pot_h - 0.001, pot_h - 0.001],
            24,
        ),
        (70, 45, 30),
        collide=False,
    )
    leaf = ellipsoid([0.012, 0.0055, 0.0012], 2)
    leaves = []
    rng = np.random.default_rng(7)
    for k in range(14):
        yaw = TAU * k / 14 + rng.uniform(-0.2, 0.2)
        rise = rng.uniform(0.45, 1.1)
        base = np.array([0, 0, pot_h + rng.uniform(0.0, 0.02)])
        mesh = moved(leaf, (0.011, 0, 0))
        mesh = moved(mesh, base, (0, -rise, yaw))
        leaves.append(Part(mesh, (50 + 10 * (k % 3), 135 + 12 * (k % 2), 45), collide=False))
    lo, hi = bounds(leaves)
    scale = np.array([spread / max(abs(lo[0]), hi[0]), spread / max(abs(lo[1]), hi[1]), 1.0])
    z_scale = (top - pot_h) / (hi[2] - pot_h)
    for p in leaves:
        v = p.mesh.vertices
        v[:, :2] *= scale[:2]
        v[:, 2] = pot_h + (v[:, 2] - pot_h) * z_scale
        p.mesh.vertices = v
    # The fingers close on the leaves above a short pot: give the bush a convex core.
    core = Part(moved(ellipsoid([0.013, 0.013, 0.017], 2), (0, 0, pot_h + 0.017)), (45, 120, 40))
    return [pot, soil, core, *leaves]


def banana(length=0.112, radius=0.0105, bend_radius=0.062):
    xs = np.linspace(0, length, 30)
    t = xs / length
    rs = radius * np.interp(
        t, [0, 0.08, 0.12, 0.35, 0.75, 0.94, 1], [0.25, 0.28, 0.6, 1, 1, 0.5, 0.2]
    )

    def ridges(x, th):  # the banana's five faces
        return 1 + 0.07 * np.cos(5 * th)

    body = Part(lathe(xs, rs, 30, bump=ridges, z_scale=0.85), (240, 205, 40), roughness=0.6)
    stem = Part(lathe([-0.002, 0.012], [0.003, 0.003], 10), (120, 110, 40), collide=False)
    tip = Part(ellipsoid([0.003, 0.0025, 0.0025], 2), (60, 45, 25), collide=False)
    tip.mesh.apply_translation([length, 0, 0])
    return _bent([body, stem, tip], bend_radius)


def hamburger(rx=0.0225, ry=0.0212, height=0.041):
    """Bun, patty, cheese, lettuce, tomato and a sesame-topped bun, in that order upwards."""
    s = ry / rx

    def disc(z0, z1, r, r_top=None):
        r_top = r if r_top is None else r_top
        m = lathe_z([0, r, r_top, 0], [z0, z0, z1, z1], 36)
        m.vertices[:, 1] *= s
        return m

    bun = (215, 150, 70)
    bottom = Part(disc(0, 0.010, rx * 0.95, rx), bun, roughness=0.7)
    patty = Part(disc(0.010, 0.019, rx * 1.0), (95, 50, 30), roughness=0.9)
    cheese = Part(
        moved(box([rx * 1.55, rx * 1.55, 0.0015]), (0, 0, 0.0195), (0, 0, np.pi / 4)),
        (250, 190, 40),
        collide=False,
    )
    lettuce = Part(disc(0.0205, 0.0235, rx * 1.04), (90, 175, 50), collide=False)
    tomato_ = Part(disc(0.0232, 0.0262, rx * 0.9), (215, 45, 35), collide=False)
    dome = ellipsoid([rx, ry, height - 0.025], 3)
    dome.vertices[:, 2] = np.maximum(dome.vertices[:, 2], 0)
    dome.apply_translation([0, 0, 0.025])
    top = Part(trimesh.convex.convex_hull(dome.vertices), bun, roughness=0.6)
    rng = np.random.default_rng(3)
    seeds = []
    for _ in range(14):
        a, r = rng.uniform(0, TAU), rx * np.sqrt(rng.uniform(0, 0.55))
        x, y = r * np.cos(a), r * np.sin(a) * s
        z = 0.025 + (height - 0.025) * np.sqrt(max(0.0, 1 - (x / rx) ** 2 - (y / ry) ** 2))
        seeds.append(
            Part(
                moved(ellipsoid([0.0016, 0.0009, 0.0007], 1), (x, y, z), (0, 0, a)),
                (250, 240, 210),
                collide=False,
            )
        )
    return [bottom, patty, cheese, lettuce, tomato_, top, *seeds]


def golf_ball(radius=0.0155):
    """A white dimpled ball (its collision is cut flat underneath, so it stays where it is put)."""
    mesh = trimesh.creation.icosphere(subdivisions=4, radius=radius)
    centres = trimesh.creation.icosphere(subdivisions=2).vertices  # 162 dimple centres
    d = mesh.vertices / radius
    nearest = np.max(d @ centres.T, axis=1)  # cosine to the nearest dimple centre
    mesh.vertices = mesh.vertices * (1 - 0.035 * np.clip((nearest - 0.985) / 0.015, 0, 1))[:, None]
    return [Part(mesh, (246, 246, 242), roughness=0.35)]


def bbq_sauce(extents=(0.050, 0.030, 0.058), height=0.077):
    """A squeeze bottle of barbecue sauce: dark body, cream label, a red flip-top cap."""
    lx, ly, lz = extents
    body = Part(moved(rounded_box(extents, 0.008), (0, 0, lz / 2)), (95, 35, 20), roughness=0.2)
    label = Part(
        moved(rounded_box([lx * 0.9, ly * 1.04, lz * 0.45], 0.007), (0, 0, lz * 0.5)),
        (240, 225, 190),
        collide=False,
    )
    flame = [
        Part(
            moved(box([lx * 0.55, 0.0008, lz * 0.18]), (0, s * ly * 0.53, lz * 0.5)),
            (200, 50, 25),
            collide=False,
        )
        for s in (-1, 1)
    ]
    shoulder = Part(
        trimesh.convex.convex_hull(
            np.vstack(
                [
                    rounded_box([lx, ly, 0.004], 0.0019).vertices + [0, 0, lz - 0.002],
                    lathe_z([0.009, 0.009], [0, 0.001], 20).vertices + [0, 0, lz + 0.007],
                ]
            )
        ),
        (95, 35, 20),
        roughness=0.2,
    )
    cap = Part(
        lathe_z(
            [0, 0.0105, 0.0105, 0.008, 0],
            [lz + 0.006, lz + 0.006, height - 0.003, height, height],
            24,
        ),
        (200, 30, 30),
        roughness=0.4,
    )
    return [body, label, *flame, shoulder, cap]


# --- Held-out objects ---------------------------------------------------------------------------


def travel_cup(length=0.086, radius=(0.0148, 0.017), handle_out=0.035):
    """A travel mug lying on its side: a tapered teal body, a black lid at +x, a side handle."""
    r0, r1 = radius
    body = Part(
        lathe([0, 0.002, length - 0.018], [r0 * 0.9, r0, r1], 32),
        (40, 150, 160),
        roughness=0.3,
        metallic=0.4,
    )
    lid = Part(
        lathe([length - 0.019, length - 0.004, length], [r1 * 1.02, r1 * 1.02, r1 * 0.85], 32),
        (30, 30, 32),
        roughness=0.5,
    )
    sip = Part(
        moved(box([0.004, 0.008, 0.003]), (length - 0.001, 0, r1 * 0.55)),
        (15, 15, 15),
        collide=False,
    )
    # The handle: a flat loop on the +y side, at the body's mid-height.
    t = np.linspace(0, np.pi, 12)
    xc, half = 0.042, 0.017
    loop = np.stack(
        [xc - half * np.cos(t), r0 + (handle_out - r0 - 0.003) * np.sin(t) + 0.001, 0 * t], 1
    )
    segs = []
    for p, q in zip(loop[:-1], loop[1:]):
        d = q - p
        segs.append(
            moved(
                lathe([0, np.linalg.norm(d) + 0.002], [0.003, 0.003], 8, z_scale=1.3),
                p,
                (0, 0, np.arctan2(d[1], d[0])),
            )
        )
    handle = Part(trimesh.util.concatenate(segs), (30, 30, 32), roughness=0.5)
    handle.hull_pieces = [s.convex_hull for s in segs[::2]]
    return [body, lid, sip, handle]


def pepper(width=0.043, height=0.043):
    """A red bell pepper standing on its four lobes, green stalk on top."""
    zs = np.linspace(0, height - 0.004, 20)
    t = zs / zs[-1]
    rs = width / 2 * np.interp(t, [0, 0.06, 0.25, 0.7, 0.92, 1], [0.55, 0.85, 0.97, 1, 0.8, 0.35])

    def lobes(z, th):
        return 0.9 + 0.1 * np.abs(np.cos(2 * th)) ** 0.5

    body = Part(
        _upright(lathe(zs, rs, 40, bump=lobes, y_scale=0.975)), (200, 25, 20), roughness=0.15
    )
    calyx = Part(
        _upright(lathe([height - 0.006, height - 0.003], [0.007, 0.005], 12)),
        (50, 120, 40),
        collide=False,
    )
    stalk = Part(
        moved(lathe([0, 0.008], [0.0022, 0.0018], 8), (0, 0, height - 0.004), (0, -1.2, 0)),
        (60, 120, 45),
        collide=False,
    )
    return [body, calyx, stalk]


def potato(radii=(0.036, 0.0222, 0.0215)):
    body = Part(_lumpy(radii, 0.7), (178, 132, 80), roughness=0.95)
    eyes = [
        Part(ellipsoid([0.003, 0.002, 0.001], 1), (110, 80, 45), collide=False) for _ in range(3)
    ]
    for e, (x, y) in zip(eyes, [(-0.018, 0.006), (0.006, -0.007), (0.022, 0.004)]):
        e.mesh.apply_translation([x, y, radii[2] * 0.97])
    return [body, *eyes]


def baguette(length=0.139, radius=0.019, z_scale=0.68):
    """A long French loaf: golden crust with pale diagonal cuts along its top."""
    xs = np.linspace(0, length, 30)
    t = 2 * xs / length - 1
    rs = radius * np.sqrt(np.clip(1 - np.abs(t) ** 6, 0.04, 1))
    body = Part(lathe(xs, rs, 28, z_scale=z_scale), (205, 140, 60), roughness=0.8)
    cuts = [
        Part(
            moved(
                ellipsoid([0.011, 0.003, 0.0012], 2), (x, 0, radius * z_scale - 0.0006), (0, 0, 0.6)
            ),
            (240, 210, 150),
            collide=False,
        )
        for x in np.linspace(0.025, length - 0.025, 5)
    ]
    return [body, *cuts]


def champagne_glass(height=0.085, foot=0.014, bowl=0.0128):
    """A champagne flute: round foot, thin stem, a tall bowl with champagne in it.

    The collision is one convex hull of the whole glass, so the fingers close on a body as
    wide as the bowl and the foot keeps it standing."""
    bz = 0.033  # where the bowl starts
    glass = (215, 225, 230)
    foot_ = Part(
        lathe_z([0, foot, foot * 0.95, 0.003, 0], [0, 0, 0.0025, 0.004, 0.004], 32),
        glass,
        roughness=0.05,
    )
    stem = Part(
        lathe_z([0.0025, 0.0022], [0.003, bz + 0.002], 12), glass, roughness=0.05, collide=False
    )
    zs = np.linspace(bz, height, 14)
    t = (zs - bz) / (height - bz)
    rs = bowl * np.clip(np.sin(np.clip(t * 2.2, 0, np.pi / 2)) ** 0.7, 0.2, 1) * (1 - 0.08 * t)
    bowl_ = Part(_upright(lathe(zs, rs, 32)), glass, roughness=0.05)
    wine = Part(
        _upright(lathe(zs[1:10], rs[1:10] * 1.01, 32)),
        (235, 200, 100),
        roughness=0.1,
        collide=False,
    )
    bowl_.hull_pieces = [
        trimesh.convex.convex_hull(np.vstack([foot_.mesh.vertices, bowl_.mesh.vertices]))
    ]
    foot_.collide = False
    return [foot_, stem, bowl_, wine]


def kitchen_spoon(bowl=(0.058, 0.050, 0.011), handle=(0.068, 0.016, 0.011), tilt=0.07):
    """A wooden kitchen spoon: a shallow oval bowl on the table and a handle rising from it.

    The handle is square-edged and nearly level: a thin, steep, round one (8 mm, 0.15 rad) slipped
    out of the closed fingers in 4 of 40 oracle episodes."""
    rx, ry, rz = np.asarray(bowl) / 2 * [1, 1, 2]
    cup = ellipsoid([rx, ry, rz], 3)
    cup.vertices[:, 2] = np.minimum(cup.vertices[:, 2], 0)
    cup.apply_translation([0, 0, rz])
    wood = (200, 150, 95)
    body = Part(trimesh.convex.convex_hull(cup.vertices), wood, roughness=0.8)
    hollow = Part(
        moved(ellipsoid([rx * 0.82, ry * 0.8, 0.0008], 2), (0, 0, rz + 0.0002)),
        (160, 110, 65),
        collide=False,
    )
    hx, hy, hz = handle
    grip = moved(rounded_box(handle, 0.0025), (hx / 2, 0, hz / 2))
    grip = moved(grip, (rx - 0.004, 0, 0.001), (0, -tilt, 0))
    return [body, hollow, Part(grip, wood, roughness=0.8)]


def onion(length=0.062, radius=0.0235):
    """A red onion on its side: a round purple bulb with paler veins, roots at -x, a neck at +x."""
    xs = np.linspace(0, length - 0.008, 26)
    t = xs / xs[-1]
    rs = radius * np.clip(np.sin(np.pi * np.clip(t, 0, 1) ** 0.85) ** 0.6, 0.12, 1)
    rs = np.where(t > 0.75, rs * (1 - 0.6 * (t - 0.75) / 0.25), rs)
    bulb = Part(lathe(xs, rs, 36), (125, 35, 70), roughness=0.35)
    veins = []
    for k in range(10):  # pale lines running from the roots to the neck
        th = TAU * k / 10 + np.array([-0.06, 0.06])
        r = rs[:, None] * 1.012
        v = np.stack([np.repeat(xs[:, None], 2, 1), r * np.cos(th), r * np.sin(th)], -1)
        n = len(xs)
        f = [(2 * i, 2 * i + 2, 2 * i + 1) for i in range(n - 1)]
        f += [(2 * i + 1, 2 * i + 2, 2 * i + 3) for i in range(n - 1)]
        strip = trimesh.Trimesh(v.reshape(-1, 3), np.array(f))
        veins.append(Part(strip, (205, 140, 170), collide=False))
    neck = Part(
        lathe([xs[-1] - 0.002, length], [0.004, 0.0015], 10), (200, 160, 120), collide=False
    )
    roots = Part(
        moved(ellipsoid([0.0015, 0.005, 0.005], 2), (-0.0003, 0, 0)), (225, 215, 185), collide=False
    )
    return [bulb, *veins, neck, roots]


def cup(radius=0.021, height=0.037, handle_out=0.017):
    """A white mug with a blue band, coffee inside and a handle on +x."""
    body = Part(
        lathe_z([0, radius * 0.92, radius, radius, 0], [0, 0, 0.004, height, height], 40),
        (245, 245, 242),
        roughness=0.2,
    )
    band = Part(
        _ring_z(height * 0.55, height * 0.72, radius * 1.01, 40), (40, 80, 190), collide=False
    )
    coffee = Part(
        lathe_z(
            [0, radius * 0.88, radius * 0.88, 0],
            [height, height, height + 0.0006, height + 0.0006],
            40,
        ),
        (90, 55, 30),
        collide=False,
    )
    t = np.linspace(-np.pi / 2, np.pi / 2, 10)
    zc, half = height * 0.52, height * 0.3
    loop = np.stack(
        [radius - 0.002 + (handle_out + 0.002 - 0.0035) * np.cos(t), 0 * t, zc + half * np.sin(t)],
        1,
    )
    segs = []
    for p, q in zip(loop[:-1], loop[1:]):
        d = q - p
        segs.append(
            moved(
                lathe([0, np.linalg.norm(d) + 0.001], [0.0035, 0.0035], 8),
                p,
                (0, -np.arctan2(d[2], d[0]), 0),
            )
        )
    handle = Part(trimesh.util.concatenate(segs), (245, 245, 242), roughness=0.2)
    handle.hull_pieces = [trimesh.convex.convex_hull(np.vstack([s.vertices for s in segs]))]
    return [body, band, coffee, handle]


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------

# The original's 25 objects (RL4VLA's ``model_db.json``): display names, split and densities
# (kg/m³) as there, shapes drawn here at the original's bounding-box sizes. Its file spells the
# sixth one "zuchinni"; the name here is spelt correctly.
OBJECTS: dict[str, ObjectSpec] = {
    s.name: s
    for s in [
        ObjectSpec("carrot", "train", carrot, density=1044.0, grasp_at=0.53),
        ObjectSpec("kitchen shovel", "train", kitchen_shovel, density=557.0, grasp_at=0.8),
        ObjectSpec("bread", "train", bread, density=526.0),
        ObjectSpec(
            "plastic bottle",
            "train",
            plastic_bottle,
            density=1916.0,
            grasp_at=0.45,
            flat_depth=0.004,
        ),
        ObjectSpec("7up can", "train", can_lying, density=790.0),
        ObjectSpec("zucchini", "train", zucchini, density=715.0),
        ObjectSpec("ketchup bottle", "train", ketchup_bottle, density=500.0, grasp_at=0.4),
        ObjectSpec("watering can", "train", watering_can, density=1591.0, grasp_part=0),
        ObjectSpec("pipe", "train", pipe, density=1116.0),
        ObjectSpec("toy bear", "train", toy_bear, density=667.0, grasp_part=0),
        ObjectSpec("fast food cup", "train", fast_food_cup, density=500.0, grasp_part=0),
        ObjectSpec("plant", "train", plant, density=1051.0, grasp_part=0),
        ObjectSpec("banana", "train", banana, density=500.0),
        ObjectSpec("hamburger", "train", hamburger, density=863.0),
        ObjectSpec("golf ball", "train", golf_ball, density=500.0),
        ObjectSpec("BBQ sauce", "train", bbq_sauce, density=1057.0),
        ObjectSpec("travel cup", "ood", travel_cup, density=1018.0, grasp_at=0.12),
        ObjectSpec("pepper", "ood", pepper, density=835.0),
        ObjectSpec(
            "nonstop can",
            "ood",
            can,
            dict(
                radius=0.0175,
                height=0.084,
                body=(25, 30, 40),
                band=(150, 220, 40),
                dot=(240, 120, 20),
            ),
            density=1248.0,
        ),
        ObjectSpec("potato", "ood", potato, density=1355.0, grasp_at=0.28),
        ObjectSpec("baguette", "ood", baguette, density=1367.0),
        ObjectSpec("champagne glass", "ood", champagne_glass, density=500.0),
        ObjectSpec("kitchen spoon", "ood", kitchen_spoon, density=500.0, grasp_at=0.75),
        ObjectSpec("onion", "ood", onion, density=1137.0, grasp_at=0.62),
        ObjectSpec("cup", "ood", cup, density=1018.0, grasp_part=0),
    ]
}


def _draw(spec: ObjectSpec) -> Drawn:
    parts = centred(spec.shape(**spec.params))
    lo, hi = bounds(parts)
    if hi[1] - lo[1] > hi[0] - lo[0]:  # keep the convention: the long horizontal axis is x
        quarter = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 0, 1])
        for p in parts:
            p.mesh.apply_transform(quarter)
            for h in p.hull_pieces:
                h.apply_transform(quarter)
    return Drawn(tuple(flat_base(parts, spec.flat_depth)))


def _grasp(spec: ObjectSpec, parts: list[Part]) -> dict:
    lo, hi = bounds(parts)
    if spec.grasp_part is None:
        grasp_x = lo[0] + spec.grasp_at * (hi[0] - lo[0])
    else:
        grasp_x = float(parts[spec.grasp_part].mesh.bounds[:, 0].mean())
    # Width across y of the collision pieces within ±5 mm of the grasp point (finger pad width).
    ys = slab_points(collision_pieces(parts), 0, grasp_x - 0.005, grasp_x + 0.005)[:, 1]
    # For a curved body only the nearest stretch of it counts (the slice may cut it twice).
    width = float(np.ptp(ys))
    return {
        "grasp_point": (round(float(grasp_x), 5), round(float((ys.min() + ys.max()) / 2), 5)),
        "grasp_width": width,
    }


CATALOGUE: Catalogue[ObjectSpec] = Catalogue(
    "object",
    "objects",
    OBJECTS,
    draw=_draw,
    describe=_grasp,
    physics={
        "angular_damping": OBJECT_ANGULAR_DAMPING,
        "solver_iterations": OBJECT_SOLVER_ITERATIONS,
        "max_depenetration_velocity": OBJECT_MAX_DEPENETRATION_VELOCITY,
    },
)
OBJECTS_TRAIN: tuple[str, ...] = CATALOGUE.names("train")
OBJECTS_HELDOUT: tuple[str, ...] = CATALOGUE.names("ood")
object_spec = CATALOGUE.spec
object_parts = CATALOGUE.parts
object_files = CATALOGUE.files
build_object = CATALOGUE.build
