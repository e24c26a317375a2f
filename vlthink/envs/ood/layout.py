"""Where things stand on the table in the OOD suite: grid cells and the paper's layout rules.

Pure numpy (no simulator), so the sampling rules can be tested over thousands of seeds.

Cells (world frame, metres)
    ``grid``  6 x 6 cells, 3 cm apart, centred at (-0.16, 0): x in [-0.235, -0.085],
              y in [-0.075, 0.075]. Every role of every variant but Position uses it, distractors
              and PosChangeTo's new cell included.
    ``ring``  the 28 cells of the 8 x 8 grid (same spacing and centre) not in ``grid``: Position.

Rules, as the original's (strict inequalities between cell centres, nothing else)
    - object and receptacle more than 7 cm apart (on the 6 x 6 grid: 784 ordered pairs, mean
      12.2 cm, min 8.5 cm);
    - MultiCarrot's distractor object: > 7 cm from the receptacle, > 15 cm from the object;
    - MultiPlate's distractor receptacle: > 15 cm from the target receptacle, > 7 cm from the
      object;
    - PosChangeTo's new cell: > 7 cm from the receptacle, > 15 cm from the object's first cell.
    Footprints are not checked: a large receptacle may start under a near object, as in the
    original. Cell coordinates are computed as the original computes them (unit grid -> metres),
    so the floating-point rounding that decides the pairs exactly 15 cm apart decides them the
    same way here (20 of the 72 such pairs pass ``> 0.15``).

Sampling: every tuple of cells that keeps the rules of a layout is enumerated once (cached, an
integer array) and one is drawn uniformly from the episode RNG, as the original draws one of its
enumerated configurations. No restarts, no search: the layout is a function of the seed.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

# --- Cells (m, world frame) -----------------------------------------------------------------------
GRID_CENTER = (-0.16, 0.0)
CELL_SPACING = 0.03
GRID_HALF_EDGE = 0.075  # m, centre to outermost cell of the 6 x 6 grid
GRID_SIDE = 6  # cells per side of the training grid
RING_SIDE = 8  # the ring is this square minus the training grid

# --- Rules (m, between cell centres; a pair must be strictly farther apart) ------------------------
MIN_CENTRE_DISTANCE = 0.07  # object and receptacle, and every pair without a rule of its own
MIN_OBJECT_DISTANCE = 0.15  # MultiCarrot: target and distractor object
MIN_RECEPTACLE_DISTANCE = 0.15  # MultiPlate: target and distractor receptacle
MIN_MOVE_DISTANCE = 0.15  # PosChangeTo: the object's first and new cell

# Roles of a layout, in tuple order: the first two are in every layout.
BASE_ROLES = ("object", "receptacle")
RULES: dict[tuple[str, str], float] = {  # (role, role) -> minimum distance
    ("object", "receptacle"): MIN_CENTRE_DISTANCE,
    ("distractor_object", "receptacle"): MIN_CENTRE_DISTANCE,
    ("distractor_object", "object"): MIN_OBJECT_DISTANCE,
    ("distractor_receptacle", "receptacle"): MIN_RECEPTACLE_DISTANCE,
    ("distractor_receptacle", "object"): MIN_CENTRE_DISTANCE,
    ("move", "receptacle"): MIN_CENTRE_DISTANCE,
    ("move", "object"): MIN_MOVE_DISTANCE,
}

# --- Yaws (rad) -----------------------------------------------------------------------------------
YAWS_TRAIN = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)
# Position: halfway between the training yaws, in the opposite half-circle (an asymmetric object
# points the other way), as the original's.
YAWS_HELDOUT = (-np.pi / 8, -3 * np.pi / 8, -5 * np.pi / 8, -7 * np.pi / 8)


def _square(side: int) -> np.ndarray:
    """(side**2, 2) cells of a square grid, x-major, in the original's arithmetic: unit
    coordinates k / 5 (the training grid spans 0..1), then ``(u * 2 - 1) * half + centre``."""
    first = -(side - GRID_SIDE) // 2
    units = [k / (GRID_SIDE - 1) for k in range(first, first + side)]
    u = np.array(list(itertools.product(units, units)))
    return (u * 2 - 1) * np.array([GRID_HALF_EDGE] * 2) + np.array(GRID_CENTER)


def _ring() -> np.ndarray:
    outer, inner = _square(RING_SIDE), _square(GRID_SIDE)
    keep = [not np.any(np.all(np.isclose(c, inner), axis=1)) for c in outer]
    return outer[np.asarray(keep)]


CELLS: dict[str, np.ndarray] = {"grid": _square(GRID_SIDE), "ring": _ring()}
for _cells in CELLS.values():
    _cells.setflags(write=False)


def _rule(a: str, b: str) -> float | None:
    return RULES.get((a, b), RULES.get((b, a)))


@cache
def valid_tuples(roles: tuple[str, ...], cells: str = "grid") -> np.ndarray:
    """(T, len(roles)) indices into ``CELLS[cells]`` of every tuple that keeps the rules."""
    if roles[:2] != BASE_ROLES or len(set(roles)) != len(roles):
        raise ValueError(f"roles must start with {BASE_ROLES} and not repeat, got {roles}")
    xy = CELLS[cells]
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=-1)  # (n, n)
    n, k = len(xy), len(roles)
    ok = np.ones((n,) * k, dtype=bool)
    for (i, a), (j, b) in itertools.combinations(enumerate(roles), 2):
        need = _rule(a, b)
        if need is None:
            continue
        shape = [1] * k
        shape[i], shape[j] = n, n
        ok &= (dist > need).reshape(shape)
    tuples = np.argwhere(ok)
    tuples.setflags(write=False)
    return tuples


def draw_cells(
    rng: np.random.RandomState, roles: tuple[str, ...], cells: str = "grid"
) -> dict[str, tuple[float, float]]:
    """role -> cell (x, y), one tuple drawn uniformly among ``valid_tuples(roles, cells)``."""
    tuples = valid_tuples(roles, cells)
    pick = tuples[rng.randint(len(tuples))]
    xy = CELLS[cells]
    return {role: (float(xy[c, 0]), float(xy[c, 1])) for role, c in zip(roles, pick)}
