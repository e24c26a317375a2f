"""Procedural mesh parts for the OOD suite's objects and receptacles, and their files on disk.

An asset is a list of :class:`Part`: a trimesh in metres with one colour (or a small top-down
texture) and a flag saying whether it takes part in collisions. ``write_asset`` turns the parts
into a visual GLB (one PBR material per part: SAPIEN's renderer ignores vertex colours but reads
glTF base colours and textures) and a collision OBJ with one object per convex piece, which
``PhysxCollisionShapeConvexMesh.load_multiple`` reads as separate convex shapes.

Frame convention for every asset: metres, z up, origin at the centre of the bounding box of the
visual mesh, long axis along x.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

from vlthink.paths import atomic_write, cache_dir

RGB = tuple[int, int, int]
TAU = 2 * np.pi
FORMAT_VERSION = 1  # bump when the files written here change for the same parameters


@dataclass
class Part:
    mesh: trimesh.Trimesh
    color: RGB
    collide: bool = True  # False for thin decorations (leaves, stems) the gripper should ignore
    roughness: float = 0.7
    metallic: float = 0.0
    texture: np.ndarray | None = None  # (H, W, 3) uint8 projected from above onto the part's xy box
    hull_pieces: list[trimesh.Trimesh] = field(default_factory=list)  # explicit collision pieces


# ---------------------------------------------------------------------------------------------
# Primitive shapes (all in metres)
# ---------------------------------------------------------------------------------------------


def lathe(
    xs: Sequence[float],
    rs: Sequence[float],
    sections: int = 32,
    *,
    y_scale: float = 1.0,
    z_scale: float = 1.0,
    bump: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> trimesh.Trimesh:
    """A surface of revolution around the x axis through the profile r(x).

    The ends are closed by a point (r = 0) or a flat cap. ``y_scale``/``z_scale`` squash the round
    cross-section into an ellipse; ``bump(x, theta)`` multiplies the radius (ridges, kernels).
    """
    xs, rs = np.asarray(xs, float), np.asarray(rs, float)
    theta = np.linspace(0, TAU, sections, endpoint=False)
    X, T = np.meshgrid(xs, theta, indexing="ij")  # (n_profile, sections)
    R = np.repeat(rs[:, None], sections, axis=1)
    if bump is not None:
        R = R * bump(X, T)
    verts = np.stack([X, R * np.cos(T) * y_scale, R * np.sin(T) * z_scale], -1).reshape(-1, 3)
    n, s = len(xs), sections
    faces = []
    for i in range(n - 1):
        for j in range(s):
            a, b = i * s + j, i * s + (j + 1) % s
            c, d = a + s, b + s
            faces += [(a, c, b), (b, c, d)]
    # End caps: a fan around a centre vertex on the axis.
    for ring, sign in ((0, -1), (n - 1, 1)):
        if rs[ring] == 0:
            continue  # the profile already closes on the axis here
        centre = len(verts)
        verts = np.vstack([verts, [[xs[ring], 0, 0]]])
        for j in range(s):
            a, b = ring * s + j, ring * s + (j + 1) % s
            faces.append((centre, a, b) if sign < 0 else (centre, b, a))
    mesh = trimesh.Trimesh(verts, np.array(faces), process=True)
    mesh.merge_vertices()
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.fix_normals()
    if mesh.volume < 0:  # outward normals whichever way the profile was drawn
        mesh.invert()
    return mesh


def lathe_z(rs: Sequence[float], zs: Sequence[float], sections: int = 48) -> trimesh.Trimesh:
    """A surface of revolution around the z axis through the closed outline (r, z) (dishes)."""
    mesh = lathe(zs, rs, sections)
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [0, 1, 0]))
    return mesh


def rounded_box(extents: Sequence[float], radius: float) -> trimesh.Trimesh:
    """A box with rounded edges and corners: the hull of 8 corner spheres."""
    half = np.asarray(extents, float) / 2 - radius
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=radius)
    signs = np.array(list(np.ndindex(2, 2, 2))) * 2 - 1
    pts = np.vstack([sphere.vertices + half * s for s in signs])
    return trimesh.convex.convex_hull(pts)


def box(extents: Sequence[float], centre: Sequence[float] = (0, 0, 0)) -> trimesh.Trimesh:
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation(centre)
    return mesh


def cylinder_z(radius: float, height: float, sections: int = 32) -> trimesh.Trimesh:
    return trimesh.creation.cylinder(radius=radius, height=height, sections=sections)


def ellipsoid(radii: Sequence[float], subdivisions: int = 3) -> trimesh.Trimesh:
    mesh = trimesh.creation.icosphere(subdivisions=subdivisions)
    mesh.apply_scale(radii)
    return mesh


def bend_xy(mesh: trimesh.Trimesh, radius: float) -> trimesh.Trimesh:
    """Bend a mesh lying along x into an arc in the table plane (centre of the arc at +y)."""
    v = mesh.vertices.copy()
    phi = v[:, 0] / radius
    r = radius - v[:, 1]
    v[:, 0] = r * np.sin(phi)
    v[:, 1] = radius - r * np.cos(phi)
    out = mesh.copy()
    out.vertices = v
    return out


def moved(mesh: trimesh.Trimesh, xyz=(0, 0, 0), rpy=(0, 0, 0)) -> trimesh.Trimesh:
    """A copy rotated by roll-pitch-yaw (radians, about fixed x, y, z) and then translated."""
    out = mesh.copy()
    m = trimesh.transformations.euler_matrix(*rpy, axes="sxyz")
    m[:3, 3] = xyz
    out.apply_transform(m)
    return out


# ---------------------------------------------------------------------------------------------
# Assembly and files
# ---------------------------------------------------------------------------------------------


def centred(parts: list[Part]) -> list[Part]:
    """Translate all parts so the bounding box of their union is centred on the origin."""
    lo = np.min([p.mesh.bounds[0] for p in parts], axis=0)
    hi = np.max([p.mesh.bounds[1] for p in parts], axis=0)
    shift = -(lo + hi) / 2
    out = []
    for p in parts:
        q = Part(
            p.mesh.copy(),
            p.color,
            p.collide,
            p.roughness,
            p.metallic,
            p.texture,
            [h.copy() for h in p.hull_pieces],
        )
        q.mesh.apply_translation(shift)
        for h in q.hull_pieces:
            h.apply_translation(shift)
        out.append(q)
    return out


def bounds(parts: list[Part]) -> np.ndarray:
    """(2, 3) min/max corner over all visual parts."""
    lo = np.min([p.mesh.bounds[0] for p in parts], axis=0)
    hi = np.max([p.mesh.bounds[1] for p in parts], axis=0)
    return np.stack([lo, hi])


def flat_base(parts: list[Part], depth: float) -> list[Part]:
    """Cut every collision piece flat ``depth`` metres above the lowest collision point.

    A rounded body (potato, avocado, corn cob) whose convex pieces touch the table in one point
    rolls or rocks while it settles, and where it stops depends on earlier contacts, so the same
    seed would not give the same scene. Real produce squashes a little against a table; a flat
    patch a few millimetres across gives the collision shape that footing and keeps the build
    pose a stable resting pose. The visual mesh is unchanged (it sinks ``depth`` into the table,
    which the camera cannot see at this scale)."""
    pieces = collision_pieces(parts)
    if not pieces:
        return parts
    cut = min(float(h.bounds[0, 2]) for h in pieces) + depth
    out = []
    for p in parts:
        if not p.collide:
            out.append(p)
            continue
        kept = []
        for h in p.hull_pieces or [p.mesh.convex_hull]:
            if h.bounds[0, 2] >= cut:
                kept.append(h)
                continue
            v = h.vertices
            above = v[v[:, 2] >= cut]
            # Where the hull crosses the plane: its edges' intersection points.
            a, b = v[h.edges_unique[:, 0]], v[h.edges_unique[:, 1]]
            crosses = (a[:, 2] - cut) * (b[:, 2] - cut) < 0
            t = (cut - a[crosses, 2]) / (b[crosses, 2] - a[crosses, 2])
            ring = a[crosses] + t[:, None] * (b[crosses] - a[crosses])
            pts = np.vstack([above, ring])
            if len(pts) >= 4 and np.ptp(pts[:, 2]) > 1e-6:
                kept.append(trimesh.convex.convex_hull(pts))
        out.append(Part(p.mesh, p.color, p.collide, p.roughness, p.metallic, p.texture, kept))
    return out


def resting_geometry(parts: list[Part]) -> dict:
    """Geometry every catalogue entry reports, in its own frame (metres).

    ``half_size``: half-extents of the visual bounding box; ``rest_height``: height of the origin
    above the table when the asset rests in its build pose (on its lowest *collision* point, so
    decorations that hang lower, like a carrot's leaves, do not count); ``footprint_radius``: the
    largest horizontal distance of any visual vertex from the origin (a keep-out circle)."""
    lo, hi = bounds(parts)
    verts = np.vstack([p.mesh.vertices for p in parts])
    pieces = collision_pieces(parts)
    return {
        "half_size": tuple(float(v) for v in (hi - lo) / 2),
        "rest_height": -min(float(h.bounds[0, 2]) for h in pieces),
        "footprint_radius": float(np.max(np.hypot(verts[:, 0], verts[:, 1]))),
    }


def slab_points(pieces: list[trimesh.Trimesh], axis: int, lo: float, hi: float) -> np.ndarray:
    """(N, 3) points of the convex pieces inside the slab lo <= coordinate ``axis`` <= hi.

    The pieces' vertices in the slab plus where their edges cross its two planes, so a piece
    that passes through the slab counts even with no vertex inside it (a long rounded box)."""
    out = []
    for h in pieces:
        v = h.vertices
        c = v[:, axis]
        out.append(v[(c >= lo) & (c <= hi)])
        a, b = h.edges_unique[:, 0], h.edges_unique[:, 1]
        for plane in (lo, hi):
            crosses = (c[a] - plane) * (c[b] - plane) < 0
            t = (plane - c[a][crosses]) / (c[b][crosses] - c[a][crosses])
            out.append(v[a][crosses] + t[:, None] * (v[b][crosses] - v[a][crosses]))
    return np.vstack(out)


def collision_pieces(parts: list[Part]) -> list[trimesh.Trimesh]:
    """The convex pieces used for physics: explicit pieces where given, else each part's hull."""
    pieces = []
    for p in parts:
        if not p.collide:
            continue
        pieces += p.hull_pieces or [p.mesh.convex_hull]
    return pieces


def _visual_mesh(p: Part) -> trimesh.Trimesh:
    mesh = p.mesh.copy()
    mat = PBRMaterial(
        baseColorFactor=[*p.color, 255] if p.texture is None else [255, 255, 255, 255],
        metallicFactor=p.metallic,
        roughnessFactor=p.roughness,
    )
    if p.texture is not None:
        from PIL import Image

        lo, hi = mesh.bounds[0, :2], mesh.bounds[1, :2]
        uv = (mesh.vertices[:, :2] - lo) / np.maximum(hi - lo, 1e-9)
        mat.baseColorTexture = Image.fromarray(np.asarray(p.texture, np.uint8))
        mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=mat)
    else:
        mesh.visual = trimesh.visual.TextureVisuals(material=mat)
    return mesh


def write_asset(parts: list[Part], folder: Path, name: str) -> tuple[Path, Path]:
    """Write ``<name>.glb`` (visual) and ``<name>.collision.obj`` (convex pieces) into folder.

    Files are rewritten only when missing or when the parts changed (a digest of the geometry and
    colours is kept next to them), so a warm cache costs nothing and stale files cannot survive a
    change of parameters.
    """
    slug = name.replace(" ", "_")
    glb, col, stamp = (folder / f"{slug}{ext}" for ext in (".glb", ".collision.obj", ".digest"))
    digest = _digest(parts)
    if glb.exists() and col.exists() and stamp.exists() and stamp.read_text() == digest:
        return glb, col
    scene = trimesh.Scene()
    for i, p in enumerate(parts):
        scene.add_geometry(_visual_mesh(p), node_name=f"part{i}", geom_name=f"part{i}")
    atomic_write(glb, scene.export(file_type="glb"))
    pieces = collision_pieces(parts)
    obj = trimesh.Scene({f"piece{i}": h for i, h in enumerate(pieces)}).export(file_type="obj")
    atomic_write(col, obj)
    atomic_write(stamp, digest)
    return glb, col


def _digest(parts: list[Part]) -> str:
    h = hashlib.sha256(json.dumps({"v": FORMAT_VERSION}).encode())
    for p in parts:
        h.update(np.round(p.mesh.vertices, 6).tobytes())
        h.update(p.mesh.faces.astype(np.int64).tobytes())
        h.update(json.dumps([p.color, p.collide, p.roughness, p.metallic]).encode())
        if p.texture is not None:
            h.update(np.asarray(p.texture, np.uint8).tobytes())
        for c in p.hull_pieces:
            h.update(np.round(c.vertices, 6).tobytes())
    return h.hexdigest()


def asset_dir(kind: str) -> Path:
    """Cache folder for generated files: ``<cache>/ood/<kind>/``."""
    return cache_dir() / "ood" / kind


__all__ = [
    "Part",
    "lathe",
    "lathe_z",
    "rounded_box",
    "box",
    "cylinder_z",
    "ellipsoid",
    "bend_xy",
    "moved",
    "centred",
    "bounds",
    "collision_pieces",
    "slab_points",
    "flat_base",
    "resting_geometry",
    "write_asset",
    "asset_dir",
]
