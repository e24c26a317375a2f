"""Where things stand on the table in the OOD suite: grid cells, footprints, a seeded sampler.

Pure numpy (no simulator), so the sampling rules can be tested over thousands of seeds.

Cells (world frame, metres)
    ``grid``  6 x 6 cells, 3 cm apart, centred at (-0.16, 0): the training layout.
    ``ring``  the 28 cells of the 8 x 8 grid (same spacing and centre) not in ``grid``: Position.
    ``wide``  6 x 12 cells, same spacing and centre: where distractors go, so that a second
              object or receptacle fits beside the first two without lying on them.

Rules, for every pair of things in a scene
    - centres at least ``MIN_CENTRE_DISTANCE`` apart (the two objects of MultiCarrot at least
      ``MIN_OBJECT_DISTANCE``);
    - footprints (convex hull of the mesh seen from above, at the thing's yaw) separated by at
      least ``CLEARANCE``: a 16 cm plate and a 15 cm banana on a 15 cm grid would otherwise start
      on top of each other, and the episode would begin with the object resting on the rim. An
      object's footprint includes the open gripper's fingers around its grasp point
      (``FINGER_BOX``), so that grasping it never means pressing a finger on a plate's rim.

Sampling: things are placed one after the other (receptacles first, they are the largest), each
on a cell drawn uniformly among those that keep every rule with the things already placed. If a
thing has no such cell the whole draw restarts. A few combinations (two large receptacles and a
long object in MultiPlate) fit in only a handful of ways, which restarts may never hit; after
``MAX_DRAWS`` restarts a backtracking search in a seeded random order finds one of them. All draws
come from the episode RNG, so the layout is a function of the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.spatial import ConvexHull

from vlthink.assets.objects import object_parts, object_spec
from vlthink.assets.receptacles import receptacle_parts

# --- Cells (m, world frame) -----------------------------------------------------------------------
GRID_CENTER = (-0.16, 0.0)
CELL_SPACING = 0.03
GRID_SHAPE = (6, 6)  # cells along (x, y)
RING_SHAPE = (8, 8)  # the ring is this grid minus GRID_SHAPE
WIDE_SHAPE = (6, 12)

# --- Rules ----------------------------------------------------------------------------------------
MIN_CENTRE_DISTANCE = 0.07  # m between the centres of any two things
MIN_OBJECT_DISTANCE = 0.15  # m between target and distractor object (MultiCarrot)
CLEARANCE = 0.01  # m between any two footprints
FINGER_BOX = (0.02, 0.05)  # m, half-extents (along the object's x, y) of the open fingers' reach
MAX_DRAWS = 200  # restarts before the backtracking search

# --- Yaws (rad) -----------------------------------------------------------------------------------
YAWS_TRAIN = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)
YAWS_HELDOUT = (np.pi / 8, 3 * np.pi / 8, 5 * np.pi / 8, 7 * np.pi / 8)  # halfway between


def _cells(shape: tuple[int, int]) -> np.ndarray:
    nx, ny = shape
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    x = GRID_CENTER[0] + (ix.ravel() - (nx - 1) / 2) * CELL_SPACING
    y = GRID_CENTER[1] + (iy.ravel() - (ny - 1) / 2) * CELL_SPACING
    return np.round(np.stack([x, y], axis=1), 6)


def _ring() -> np.ndarray:
    outer, inner = _cells(RING_SHAPE), _cells(GRID_SHAPE)
    keep = [not np.any(np.all(np.isclose(c, inner), axis=1)) for c in outer]
    return outer[np.asarray(keep)]


CELLS: dict[str, np.ndarray] = {
    "grid": _cells(GRID_SHAPE),
    "ring": _ring(),
    "wide": _cells(WIDE_SHAPE),
}


# --- Footprints -----------------------------------------------------------------------------------
def _hull_xy(xy: np.ndarray) -> np.ndarray:
    return xy[ConvexHull(xy).vertices]


@cache
def footprint(kind: str, name: str) -> np.ndarray:
    """(K, 2) convex footprint of an object or receptacle in its own frame (counter-clockwise)."""
    parts = object_parts(name) if kind == "object" else receptacle_parts(name)
    points = np.vstack([p.mesh.vertices for p in parts])[:, :2]
    if kind == "object":
        gx, gy = object_spec(name).grasp_point
        fx, fy = FINGER_BOX
        points = np.vstack(
            [points, [[gx + sx * fx, gy + sy * fy] for sx in (-1, 1) for sy in (-1, 1)]]
        )
    hull = _hull_xy(points)
    hull.setflags(write=False)
    return hull


def placed(poly: np.ndarray, xy, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return poly @ np.array([[c, s], [-s, c]]) + np.asarray(xy)


def separation(a: np.ndarray, b: np.ndarray) -> float:
    """A lower bound on the distance between two convex polygons (< 0 when they overlap).

    The largest gap between their projections on any edge normal of either (separating axis
    theorem); every projection gap is at most the true distance, so ``separation >= d`` is a
    safe test for "at least d apart"."""
    best = -np.inf
    for poly in (a, b):
        edges = np.roll(poly, -1, axis=0) - poly
        normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)
        normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
        pa, pb = a @ normals.T, b @ normals.T  # (Ka, E), (Kb, E)
        gap = np.maximum(pb.min(0) - pa.max(0), pa.min(0) - pb.max(0))
        best = max(best, float(gap.max()))
    return best


# --- Sampling -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Thing:
    """One thing to place: its kind ("object"/"receptacle"), name, yaw and allowed cells."""

    kind: str
    name: str
    yaw: float
    cells: str


def sample_cells(rng: np.random.RandomState, things: list[Thing]) -> list[np.ndarray]:
    """One cell (x, y) per thing, drawn in order; see the module docstring for the rules."""
    polys = [footprint(t.kind, t.name) for t in things]
    for _ in range(MAX_DRAWS):
        chosen: list[np.ndarray] = []
        for i, thing in enumerate(things):
            ok = [c for c in CELLS[thing.cells] if _fits(i, c, things, polys, chosen)]
            if not ok:
                break
            chosen.append(ok[rng.randint(len(ok))])
        else:
            return chosen
    found = _search(rng, things, polys, [])
    if found is None:  # no cell combination keeps the rules: a catalogue or rule bug
        raise RuntimeError(f"no layout exists for {things}")
    return found


def _search(rng, things, polys, chosen) -> list[np.ndarray] | None:
    """Depth-first search for a layout, trying each thing's cells in a seeded random order."""
    i = len(chosen)
    if i == len(things):
        return chosen
    cells = CELLS[things[i].cells]
    for k in rng.permutation(len(cells)):
        if _fits(i, cells[k], things, polys, chosen):
            found = _search(rng, things, polys, [*chosen, cells[k]])
            if found is not None:
                return found
    return None


def _fits(i, cell, things, polys, chosen) -> bool:
    mine = placed(polys[i], cell, things[i].yaw)
    for j, other in enumerate(chosen):
        both_objects = things[i].kind == things[j].kind == "object"
        need = MIN_OBJECT_DISTANCE if both_objects else MIN_CENTRE_DISTANCE
        if np.linalg.norm(cell - other) < need:
            return False
        if separation(mine, placed(polys[j], other, things[j].yaw)) < CLEARANCE:
            return False
    return True


def move_cell(
    rng, thing: Thing, current, others: list[tuple[Thing, np.ndarray]]
) -> np.ndarray | None:
    """A new cell for ``thing`` (PosChangeTo): at least MIN_CENTRE_DISTANCE from where it stood,
    clear of every other thing by the same rules as at reset."""
    fixed = [t for t, _ in others]
    things = [thing, *fixed]
    polys = [footprint(t.kind, t.name) for t in things]
    cells_fixed = [np.asarray(c) for _, c in others]
    ok = []
    for c in CELLS[thing.cells]:
        if np.linalg.norm(c - np.asarray(current)) < MIN_CENTRE_DISTANCE:
            continue
        mine = placed(polys[0], c, thing.yaw)
        clear = all(
            np.linalg.norm(c - oc)
            >= (MIN_OBJECT_DISTANCE if t.kind == "object" else MIN_CENTRE_DISTANCE)
            and separation(mine, placed(polys[k + 1], oc, t.yaw)) >= CLEARANCE
            for k, (t, oc) in enumerate(zip(fixed, cells_fixed))
        )
        if clear:
            ok.append(c)
    if not ok:
        return None
    return ok[rng.randint(len(ok))]
