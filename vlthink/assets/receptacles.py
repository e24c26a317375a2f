"""The OOD suite's receptacles: "plate" for training and 16 held-out things to put objects on.

Each is low (at most 0.03 m) and 0.12–0.18 m across, with a flat or dished top. Dishes are
lathes around z whose collision is a floor disc plus a ring of convex wedges (a plate is concave
as a whole); flat things are one rounded box; trays get a floor and four wall boxes.

Frame of every receptacle: metres, origin at the centre of its bounding box, z up, long side
along x. ``support_z`` is the height (in that frame) of the surface an object rests on, and
``support_half_extents`` the (x, y) half-size of that surface around ``support_center``: an
object whose centre lies inside it, resting at ``support_z``, is "on" the receptacle.
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
    bounds,
    box,
    centred,
    collision_pieces,
    lathe_z,
    moved,
    resting_geometry,
    rounded_box,
    wedge_hulls,
    write_asset,
)

RECEPTACLE_FRICTION = 0.8
RECEPTACLE_DENSITY = 600.0  # kg/m³ over the (solid) convex pieces
TEXTURE_PX = 256  # side of the small top-down textures (wood, cloth, covers)


@dataclass(frozen=True)
class ReceptacleSpec(CatalogueGeometry):
    name: str
    split: str  # "train" or "ood"
    shape: Callable[..., tuple[list[Part], tuple[float, float]]]  # -> parts, support half (x, y)
    params: dict = field(default_factory=dict)
    density: float = RECEPTACLE_DENSITY
    friction: float = RECEPTACLE_FRICTION

    def geometry(self) -> dict:
        return _geometry(self.name)

    @property
    def support_z(self) -> float:
        """z (receptacle frame) of the surface objects rest on, at the centre."""
        return _geometry(self.name)["support_z"]

    @property
    def support_center(self) -> tuple[float, float]:
        """(x, y) centre of the support region (off the origin when a handle sticks out)."""
        return _geometry(self.name)["support_center"]

    @property
    def support_half_extents(self) -> tuple[float, float]:
        return _geometry(self.name)["support_half"]


# ---------------------------------------------------------------------------------------------
# Small procedural top textures (uint8 RGB), deterministic
# ---------------------------------------------------------------------------------------------


def _grid(n=TEXTURE_PX):
    y, x = np.mgrid[0:n, 0:n] / n
    return x, y


def _tex(rgb_float: np.ndarray) -> np.ndarray:
    return np.clip(rgb_float, 0, 255).astype(np.uint8)


def _mix(a, b, t):
    t = np.asarray(t)[..., None]
    return np.asarray(a, float) * (1 - t) + np.asarray(b, float) * t


def wood_texture(light=(205, 160, 105), dark=(150, 100, 55), seed=3):
    rng = np.random.default_rng(seed)
    x, y = _grid()
    grain = np.sin(70 * y + 4 * np.sin(5 * x + rng.uniform(0, 6)) + 2 * np.sin(13 * y)) * 0.5 + 0.5
    return _tex(_mix(light, dark, grain**4) * (1 + rng.normal(0, 0.03, x.shape))[..., None])


def stripes_texture(base, stripe, period=0.2, width=0.06, axis=0, border=None):
    x, y = _grid()
    u = (x, y)[axis]
    t = (np.mod(u, period) < width).astype(float)
    img = _mix(base, stripe, t)
    if border is not None:
        edge = np.minimum.reduce([x, y, 1 - x, 1 - y]) < 0.06
        img[edge] = border
    return _tex(img)


def gingham_texture(base, check, period=0.125):
    x, y = _grid()
    a = (np.mod(x, period) < period / 2).astype(float)
    b = (np.mod(y, period) < period / 2).astype(float)
    return _tex(_mix(base, check, 0.5 * a + 0.5 * b))


def cork_texture(seed=5):
    rng = np.random.default_rng(seed)
    n = TEXTURE_PX
    speckle = rng.uniform(0, 1, (n // 4, n // 4)).repeat(4, 0).repeat(4, 1)
    fine = rng.uniform(0, 1, (n, n))
    t = 0.6 * speckle + 0.4 * fine
    return _tex(_mix((205, 160, 110), (140, 95, 55), t))


def cover_texture(base, band, label=None):
    """A book or notebook cover: plain colour, a band near the top, an optional label box."""
    x, y = _grid()
    img = _mix(base, band, ((y > 0.14) & (y < 0.2)).astype(float))
    if label is not None:
        img[(x > 0.25) & (x < 0.75) & (y > 0.38) & (y < 0.62)] = label
    return _tex(img)


def azulejo_texture(blue=(30, 70, 160), white=(240, 240, 235)):
    x, y = _grid()
    u, v = np.abs(x - 0.5) * 2, np.abs(y - 0.5) * 2
    r = np.hypot(u, v)
    petals = np.cos(8 * np.arctan2(v, u)) * 0.15 + 0.55
    t = (
        ((r < petals) & (r > 0.25))
        | (r < 0.12)
        | (np.maximum(u, v) > 0.92)
        | (np.abs(u - v) < 0.03)
    )
    return _tex(_mix(white, blue, t.astype(float)))


def pizza_box_texture():
    x, y = _grid()
    img = _mix((205, 165, 115), (195, 155, 105), (np.sin(200 * y) > 0.6).astype(float))
    r = np.hypot(x - 0.5, y - 0.5)
    img[(r > 0.2) & (r < 0.3)] = (190, 30, 25)  # a printed red ring logo
    img[r < 0.13] = (30, 120, 50)
    return _tex(img)


def mousepad_texture():
    x, y = _grid()
    t = np.clip(0.5 + 0.5 * np.sin(10 * x + 6 * y), 0, 1)
    img = _mix((25, 45, 110), (40, 120, 190), t)
    img[np.hypot(x - 0.72, y - 0.3) < 0.1] = (240, 200, 40)
    return _tex(img)


def napkin_texture():
    x, y = _grid()
    fold = np.exp(-(((x - 0.5) / 0.01) ** 2)) + np.exp(-(((y - 0.5) / 0.01) ** 2))
    return _tex(_mix((250, 248, 240), (205, 200, 190), np.clip(fold, 0, 1)))


# ---------------------------------------------------------------------------------------------
# Shape functions -> (parts, support half-extents (x, y))
# ---------------------------------------------------------------------------------------------


def dish(
    radius,
    height,
    floor_radius,
    floor=0.004,
    wall=0.004,
    color=(240, 240, 235),
    roughness=0.25,
    metallic=0.0,
    rim_color=None,
    wedges=20,
):
    """A plate-like lathe: flat floor, a curved wall out to ``radius`` and up to ``height``."""
    s = np.linspace(0, 1, 8)
    # Outer surface from the foot up to the rim, then the inner surface back to the centre.
    out_r = floor_radius + (radius - floor_radius) * s
    out_z = height * s**1.6
    in_r = out_r[::-1] - wall * (1 - s[::-1] * 0.3)
    in_z = np.maximum(out_z[::-1] + wall * 0.2, floor)
    rs = [0, *out_r, *in_r, 0]
    zs = [0, *out_z, *in_z, floor]
    body = lathe_z(rs, zs, 64)
    floor_piece = trimesh.creation.cylinder(radius=floor_radius + 0.002, height=floor, sections=32)
    floor_piece.apply_translation([0, 0, floor / 2])
    part = Part(
        body,
        color,
        roughness=roughness,
        metallic=metallic,
        hull_pieces=[floor_piece, *wedge_hulls(body, wedges, r_min=floor_radius)],
    )
    parts = [part]
    if rim_color is not None:
        ring = trimesh.creation.annulus(radius - 0.006, radius + 0.0005, 0.002, sections=64)
        ring.apply_translation([0, 0, height - 0.0002])
        parts.append(Part(ring, rim_color, collide=False, roughness=0.3, metallic=0.6))
    half = floor_radius / np.sqrt(2) + 0.01
    return parts, (half, half)


def plate():
    return dish(0.08, 0.018, 0.055)


def bowl():
    return dish(0.075, 0.028, 0.04, color=(70, 125, 195), floor=0.005)


def saucer():
    return dish(0.068, 0.012, 0.045, color=(248, 240, 220), rim_color=(200, 160, 50))


def pie_dish():
    parts, half = dish(0.076, 0.028, 0.058, color=(205, 110, 55), roughness=0.4, wall=0.006)
    return parts, half


def frying_pan():
    parts, half = dish(
        0.075, 0.025, 0.06, color=(50, 50, 55), roughness=0.45, metallic=0.5, wall=0.003
    )
    handle = Part(
        moved(rounded_box([0.07, 0.022, 0.012], 0.005), (0.105, 0, 0.017), (0, -0.08, 0)),
        (25, 22, 20),
        roughness=0.7,
    )
    return [*parts, handle], half


def slab(extents, radius=0.004, *, color=(255, 255, 255), texture=None, roughness=0.8, margin=0.02):
    """A flat rounded box; objects rest on its top anywhere but near the edge."""
    part = Part(rounded_box(extents, radius), color, texture=texture, roughness=roughness)
    part.mesh.apply_translation([0, 0, extents[2] / 2])
    return [part], (extents[0] / 2 - margin, extents[1] / 2 - margin)


def cutting_board():
    return slab((0.18, 0.12, 0.016), 0.006, texture=wood_texture())


def napkin():
    return slab((0.13, 0.13, 0.004), 0.0015, texture=napkin_texture(), roughness=1.0)


def placemat():
    return slab(
        (0.18, 0.13, 0.003),
        0.001,
        roughness=1.0,
        texture=stripes_texture((120, 165, 90), (220, 210, 160), 0.05, 0.012),
    )


def coaster():
    part = Part(
        lathe_z([0, 0.06, 0.06, 0], [0, 0, 0.007, 0.007], 48),
        (0, 0, 0),
        texture=cork_texture(),
        roughness=1.0,
    )
    return [part], (0.035, 0.035)


def dish_towel():
    return slab(
        (0.18, 0.12, 0.005),
        0.002,
        roughness=1.0,
        texture=stripes_texture((245, 245, 240), (200, 35, 40), 0.33, 0.05, axis=0),
    )


def ceramic_tile():
    return slab((0.15, 0.15, 0.009), 0.0015, texture=azulejo_texture(), roughness=0.2)


def mouse_pad():
    return slab((0.18, 0.15, 0.004), 0.002, texture=mousepad_texture(), roughness=0.9)


def pizza_box():
    return slab((0.18, 0.18, 0.03), 0.002, texture=pizza_box_texture(), roughness=0.9)


def book(extents=(0.17, 0.12, 0.028), cover=(140, 30, 35), board=0.003):
    lx, ly, lz = extents
    pages = Part(
        box([lx - 0.006, ly - 0.004, lz - 2 * board], (0.003, 0, lz / 2)),
        (245, 240, 225),
        roughness=0.9,
    )
    top = Part(
        box([lx, ly, board], (0, 0, lz - board / 2)),
        (0, 0, 0),
        roughness=0.6,
        texture=cover_texture(cover, (220, 180, 60)),
    )
    bottom = Part(box([lx, ly, board], (0, 0, board / 2)), cover, roughness=0.6)
    spine = Part(box([board, ly, lz], (-lx / 2 + board / 2, 0, lz / 2)), cover, roughness=0.6)
    whole = trimesh.convex.convex_hull(np.vstack([p.mesh.vertices for p in (pages, top, bottom)]))
    top.hull_pieces = [whole]  # one solid block for physics
    for p in (pages, bottom, spine):
        p.collide = False
    return [pages, top, bottom, spine], (lx / 2 - 0.02, ly / 2 - 0.02)


def notebook():
    lx, ly, lz = 0.17, 0.12, 0.012
    parts, half = book((lx, ly, lz), cover=(40, 120, 80), board=0.0015)
    parts[1].texture = cover_texture((40, 120, 80), (40, 120, 80), label=(245, 245, 240))
    rings = [
        Part(
            moved(
                trimesh.creation.annulus(0.0045, 0.0058, 0.003, sections=16),
                (-lx / 2 + 0.002, y, lz / 2),
                (np.pi / 2, 0, 0),
            ),
            (170, 170, 175),
            collide=False,
            metallic=0.9,
            roughness=0.3,
        )
        for y in np.linspace(-ly / 2 + 0.01, ly / 2 - 0.01, 11)
    ]
    parts[3].color = (40, 120, 80)
    return [*parts, *rings], half


def rimmed_tray(
    extents, rim, wall=0.006, floor=0.004, color=(40, 140, 140), metallic=0.0, roughness=0.5
):
    """A rectangular tray: floor plus four walls, each its own convex piece."""
    lx, ly = extents
    pieces = [box([lx, ly, floor], (0, 0, floor / 2))]
    for sx in (-1, 1):
        pieces.append(box([wall, ly, rim], (sx * (lx - wall) / 2, 0, rim / 2)))
    for sy in (-1, 1):
        pieces.append(box([lx, wall, rim], (0, sy * (ly - wall) / 2, rim / 2)))
    parts = [Part(p, color, roughness=roughness, metallic=metallic) for p in pieces]
    return parts, (lx / 2 - wall - 0.02, ly / 2 - wall - 0.02)


def tray():
    return rimmed_tray((0.18, 0.13), 0.02, color=(35, 135, 135))


def baking_sheet():
    return rimmed_tray(
        (0.18, 0.13),
        0.01,
        wall=0.003,
        floor=0.0025,
        color=(185, 185, 190),
        metallic=0.85,
        roughness=0.35,
    )


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------

RECEPTACLES: dict[str, ReceptacleSpec] = {
    s.name: s
    for s in [
        ReceptacleSpec("plate", "train", plate),
        ReceptacleSpec("bowl", "ood", bowl),
        ReceptacleSpec("saucer", "ood", saucer),
        ReceptacleSpec("pie dish", "ood", pie_dish),
        ReceptacleSpec("frying pan", "ood", frying_pan, density=900.0),
        ReceptacleSpec("cutting board", "ood", cutting_board),
        ReceptacleSpec("napkin", "ood", napkin, friction=1.0),
        ReceptacleSpec("placemat", "ood", placemat, friction=1.0),
        ReceptacleSpec("coaster", "ood", coaster),
        ReceptacleSpec("dish towel", "ood", dish_towel, friction=1.0),
        ReceptacleSpec("ceramic tile", "ood", ceramic_tile),
        ReceptacleSpec("mouse pad", "ood", mouse_pad, friction=1.0),
        ReceptacleSpec("pizza box", "ood", pizza_box, density=150.0),
        ReceptacleSpec("book", "ood", book),
        ReceptacleSpec("notebook", "ood", notebook),
        ReceptacleSpec("tray", "ood", tray),
        ReceptacleSpec("baking sheet", "ood", baking_sheet),
    ]
}
RECEPTACLES_TRAIN: tuple[str, ...] = ("plate",)
RECEPTACLES_HELDOUT: tuple[str, ...] = tuple(n for n, s in RECEPTACLES.items() if s.split == "ood")


def receptacle_spec(name: str) -> ReceptacleSpec:
    try:
        return RECEPTACLES[name]
    except KeyError:
        raise KeyError(f"unknown receptacle {name!r}; known: {', '.join(RECEPTACLES)}") from None


@cache
def _built(name: str) -> tuple[tuple[Part, ...], tuple[float, float]]:
    spec = receptacle_spec(name)
    parts, support_half = spec.shape(**spec.params)
    return tuple(centred(parts)), tuple(float(v) for v in support_half)


@cache
def _shift(name: str) -> np.ndarray:
    """How far centring moved the parts: the support region moves with them."""
    spec = receptacle_spec(name)
    lo, hi = bounds(spec.shape(**spec.params)[0])
    return -(lo + hi) / 2


def receptacle_parts(name: str) -> tuple[Part, ...]:
    return _built(name)[0]


@cache
def _geometry(name: str) -> dict:
    parts, support_half = _built(name)
    # The resting surface: top of the collision pieces that span the centre (x, y) = (0, 0);
    # rim wedges and tray walls never do.
    pieces = collision_pieces(list(parts))
    under = [h for h in pieces if (h.bounds[0, :2] < 0).all() and (h.bounds[1, :2] > 0).all()]
    support_z = max(float(h.bounds[1, 2]) for h in under)
    return {
        **resting_geometry(list(parts)),
        "support_z": support_z,
        # Shape functions draw the support region around their own origin.
        "support_center": tuple(float(v) for v in _shift(name)[:2]),
        "support_half": support_half,
    }


def receptacle_files(name: str):
    """Paths (visual GLB, collision OBJ) of the receptacle in the cache, written if missing."""
    return write_asset(list(receptacle_parts(name)), asset_dir("receptacles"), name)


def build_receptacle(
    scene, name: str, *, kinematic: bool = False, initial_pose=None, actor_name: str | None = None
):
    """Build the named receptacle as a ManiSkill actor (dynamic unless ``kinematic``).

    Rest it on a table top at ``z_table`` with ``z = z_table + spec.half_height``; an object then
    rests on it at ``z = z_table + spec.half_height + spec.support_z + object.half_height``.
    """
    spec = receptacle_spec(name)
    visual, collision = receptacle_files(name)
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
