"""Top-down grasps planned from an object's resting collision shape (numpy only).

A mesh of the original pack need not rest in the pose it is built in: a tall one (the toy bear,
the plant) tips over during the rest calibration and lies on its side or back, and its own y
axis, across which a build-frame grasp closes, then points far from horizontal. The grasp is
planned here from the shape as it rests, from the mesh alone (no table of names):

1. every convex collision piece is turned by the measured resting tilt: the *resting frame* has
   the object's origin, z up, yaw 0, and the table at ``z = -height``;
2. the *grip slab* is the part of the shape the fingers close on: from ``GRIP_FROM`` of the
   origin's height above the table (where the oracle's fingertips stop, its
   ``FINGERTIP_FRACTION``) up to the top. Seen from above, each piece's part in the slab is a
   convex outline: its vertices above the slab's floor and its edges' crossings of the floor;
3. the fingers close through the shape's centre of mass (uniform density: so it lifts without
   turning), along the horizontal axis across which the outlines under the finger pads (a strip
   ``FINGER_PAD`` wide through the centre of mass) are narrowest, tried every ``YAW_STEP``:
   across a lying bottle, across a shovel's handle, across the narrow side of a bear lying on
   its back. The grasp point is mid-way across that span, at the slab's mid-height.

:func:`plan_grasp` gives the grasp in the resting frame; :func:`in_object_frame` turns it into
the object's own frame, where an env rotates it with the object's live pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRIP_FROM = 0.45  # fraction of the origin's resting height above the table: the slab's floor
FINGER_PAD = 0.010  # m along the long axis: the span across is measured under this width
MIN_AREA = 1e-8  # m²: a piece's outline smaller than this is an edge seen from above, skipped
YAW_STEP = np.radians(0.5)  # rad between the closing axes tried


@dataclass(frozen=True)
class Grasp:
    """A top-down grasp: where the fingers close and along which horizontal axis."""

    point: np.ndarray  # (3,) m, the grasp point
    closing: np.ndarray  # (3,) unit, the fingers' closing axis (horizontal in the resting frame)
    width: float  # m, the slab's extent along the closing axis under the finger pads
    top: float  # m above the table: the top of the resting shape


def edges_of(faces: np.ndarray) -> np.ndarray:
    """(E, 2) vertex index pairs of the unique edges of a triangle mesh's ``faces`` (F, 3)."""
    pairs = np.asarray(faces)[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    return np.unique(np.sort(pairs, axis=1), axis=0)


def convex_hull_2d(points: np.ndarray) -> np.ndarray:
    """(m, 2) corners of the convex hull of 2-D ``points``, counter-clockwise (monotone chain);
    fewer than 3 rows where the points are collinear."""
    pts = np.unique(np.round(np.asarray(points, float), 9), axis=0)  # sorted by x, then y
    if len(pts) < 3:
        return pts

    def half(seq):
        out: list = []
        for p in seq:
            while len(out) >= 2 and _turn(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out[:-1]

    return np.array(half(pts) + half(pts[::-1]))


def _turn(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """> 0 where o -> a -> b turns counter-clockwise."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def slab_outline(vertices: np.ndarray, edges: np.ndarray, floor: float) -> np.ndarray:
    """Seen from above, the outline (convex hull, (m, 2)) of the part of a convex piece above
    ``floor``: its vertices there and where its edges cross the floor."""
    v = np.asarray(vertices, float)
    a, b = v[edges[:, 0]], v[edges[:, 1]]
    cross = (a[:, 2] - floor) * (b[:, 2] - floor) < 0
    t = (floor - a[cross, 2]) / (b[cross, 2] - a[cross, 2])
    cut = a[cross] + t[:, None] * (b[cross] - a[cross])
    return convex_hull_2d(np.vstack([v[v[:, 2] >= floor], cut])[:, :2])


def polygon_area(polygon: np.ndarray) -> float:
    """Area (m²) of a counter-clockwise polygon (the shoelace formula)."""
    p, q = polygon, np.roll(polygon, -1, axis=0)
    return float((p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]).sum() / 2)


def centre_of_mass(pieces: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(3,) centre of mass of convex pieces ((vertices, faces) each) of uniform density: each
    piece cut into tetrahedra from its vertices' mean, which lies inside it."""
    volumes, centres = [], []
    for v, f in pieces:
        inner = v.mean(0)
        a, b, c = v[f[:, 0]] - inner, v[f[:, 1]] - inner, v[f[:, 2]] - inner
        vol = np.abs(np.einsum("ij,ij->i", a, np.cross(b, c))) / 6
        volumes.append(vol.sum())
        centres.append(inner + (vol[:, None] * (a + b + c) / 4).sum(0) / max(vol.sum(), 1e-18))
    return np.average(np.array(centres), axis=0, weights=np.maximum(volumes, 1e-18))


def spans_under_fingers(outlines: list[np.ndarray], centre: np.ndarray, closing: np.ndarray):
    """(lo, hi), each (D,): for each unit closing axis (D, 2), the extent along it of the
    outlines under the finger pads (a strip FINGER_PAD wide through ``centre`` along that axis);
    the outlines' whole extent along an axis whose strip misses them all."""
    along = np.stack([-closing[:, 1], closing[:, 0]], 1)  # (D, 2): the strip's normal
    lo = np.full(len(closing), np.inf)
    hi = -lo
    for poly in outlines:
        a = poly - centre
        b = np.roll(a, -1, axis=0)
        sa, sb = a @ along.T, b @ along.T  # (m, D): across the strip
        ua, ub = a @ closing.T, b @ closing.T  # (m, D): along the closing axis
        for c in (-FINGER_PAD / 2, 0.0, FINGER_PAD / 2):
            cross = (sa - c) * (sb - c) <= 0
            t = np.clip((c - sa) / np.where(sb == sa, 1.0, sb - sa), 0.0, 1.0)
            u = ua + t * (ub - ua)
            lo = np.minimum(lo, np.where(cross, u, np.inf).min(0))
            hi = np.maximum(hi, np.where(cross, u, -np.inf).max(0))
        inside = np.abs(sa) <= FINGER_PAD / 2
        lo = np.minimum(lo, np.where(inside, ua, np.inf).min(0))
        hi = np.maximum(hi, np.where(inside, ua, -np.inf).max(0))
    whole = np.vstack(outlines) @ closing.T - centre @ closing.T
    missed = ~np.isfinite(lo)
    lo[missed], hi[missed] = whole.min(0)[missed], whole.max(0)[missed]
    return lo, hi


def plan_grasp(pieces: list[tuple[np.ndarray, np.ndarray]], tilt: np.ndarray, height: float):
    """The grasp of an object resting with rotation ``tilt`` (3x3, yaw 0) and its origin
    ``height`` m above the table; ``pieces``: each convex collision piece's (vertices (n, 3) in
    the object's frame, triangle faces (F, 3)). Returns a :class:`Grasp` in the resting frame."""
    turned = [(np.asarray(v, float) @ np.asarray(tilt).T, np.asarray(f)) for v, f in pieces]
    top = max(float(v[:, 2].max()) for v, _ in turned)
    floor = -height + GRIP_FROM * height
    outlines = [slab_outline(v, edges_of(f), floor) for v, f in turned if v[:, 2].max() > floor]
    outlines = [o for o in outlines if len(o) >= 3 and polygon_area(o) > MIN_AREA]
    if not outlines:  # nothing wider than an edge above the floor: the whole shape from above
        outlines = [convex_hull_2d(np.vstack([v for v, _ in turned])[:, :2])]
    centre = centre_of_mass(turned)[:2]
    yaws = np.arange(0.0, np.pi, YAW_STEP)
    closing = np.stack([np.cos(yaws), np.sin(yaws)], 1)
    lo, hi = spans_under_fingers(outlines, centre, closing)
    k = int(np.argmin(hi - lo))
    xy = centre + (lo[k] + hi[k]) / 2 * closing[k]
    return Grasp(
        point=np.array([xy[0], xy[1], (floor + top) / 2]),
        closing=np.array([closing[k, 0], closing[k, 1], 0.0]),
        width=float(hi[k] - lo[k]),
        top=top + height,
    )


def in_object_frame(grasp: Grasp, tilt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grasp point, closing axis) of a resting-frame grasp, in the object's own frame."""
    turn_back = np.asarray(tilt).T
    return turn_back @ grasp.point, turn_back @ grasp.closing
