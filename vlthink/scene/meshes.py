"""Small procedural meshes the scenes need, written once to the cache as OBJ files.

SAPIEN's box visual maps a texture onto each face separately, so only part of an image would show on
a board's top face. A *textured slab* is a box whose top face carries the whole image (UV 0..1),
while its sides and bottom sample a thin strip at the image border.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vlthink.paths import atomic_write, cache_dir

MESH_FORMAT_VERSION = 2  # bump when the OBJ layout changes, so cached files are rewritten


def textured_slab_obj(half_size: tuple[float, float, float], name: str) -> Path:
    """OBJ of an axis-aligned box (half-sizes in metres) with the whole texture on its +z face.

    Orientation of the image on the top face: the image's top edge lies along -x (away from a
    camera that sits on the +x side looking towards -x) and its right edge along +y, which is how
    the WidowX's Bridge camera sees the table: an upright image reads upright in the frame.
    """
    hx, hy, hz = half_size
    path = cache_dir() / "meshes" / f"{name}_v{MESH_FORMAT_VERSION}_{hx:.4f}_{hy:.4f}_{hz:.4f}.obj"
    if path.exists():
        return path
    lines = [f"# vlthink textured slab {half_size}"]
    # Top face: corners (x, y) with image coordinates (u right, v up in OBJ convention).
    # Image top (v = 1) at x = -hx; image right (u = 1) at y = +hy.
    top = [(-hx, -hy, 0.0, 1.0), (-hx, hy, 1.0, 1.0), (hx, hy, 1.0, 0.0), (hx, -hy, 0.0, 0.0)]
    verts, uvs, normals, faces = [], [], [], []

    def quad(corners, normal, uv_list):
        base = len(verts)
        for c, uv in zip(corners, uv_list):
            verts.append(c)
            uvs.append(uv)
        normals.append(normal)
        n = len(normals)
        # The corners are listed clockwise seen from outside; faces are written reversed so that
        # they wind counter-clockwise, which is the front face the renderer keeps.
        faces.append([(base + i + 1, base + i + 1, n) for i in reversed(range(4))])

    quad([(x, y, hz) for x, y, _, _ in top], (0, 0, 1), [(u, v) for _, _, u, v in top])
    edge_uv = [(0.002, 0.002)] * 4  # sides and bottom take the border colour
    quad([(x, y, -hz) for x, y, _, _ in reversed(top)], (0, 0, -1), edge_uv)
    for (x0, y0), (x1, y1), n in [
        ((-hx, -hy), (-hx, hy), (-1, 0, 0)),
        ((-hx, hy), (hx, hy), (0, 1, 0)),
        ((hx, hy), (hx, -hy), (1, 0, 0)),
        ((hx, -hy), (-hx, -hy), (0, -1, 0)),
    ]:
        quad([(x0, y0, -hz), (x1, y1, -hz), (x1, y1, hz), (x0, y0, hz)], n, edge_uv)

    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in verts]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in uvs]
    lines += [f"vn {x} {y} {z}" for x, y, z in normals]
    for face in faces:
        lines.append("f " + " ".join(f"{v}/{t}/{n}" for v, t, n in face))
    return atomic_write(path, "\n".join(lines) + "\n")


CARROT_MESH_VERSION = 5  # bump when the carrot's files change


def _carrot_parts_and_centre():
    """The OOD catalogue's carrot (one drawing for both suites) and the VL-Think actor's origin:
    the centre of its collision pieces' bounding box across y and z, their centre of mass along x.

    The oracle grasps the actor's origin; a tapered root grasped at its box centre, 1.6 cm from
    its centre of mass, swings in the fingers and slips out while it is carried."""
    import trimesh

    from vlthink.assets.objects import object_parts
    from vlthink.assets.parts import collision_pieces

    parts = list(object_parts("carrot"))
    pieces = collision_pieces(parts)
    lo = np.min([h.bounds[0] for h in pieces], axis=0)
    hi = np.max([h.bounds[1] for h in pieces], axis=0)
    origin = (lo + hi) / 2
    origin[0] = trimesh.util.concatenate(pieces).center_mass[0]
    return parts, pieces, origin


def carrot_obj() -> Path:
    """The carrot's visual mesh, an OBJ with one MTL material per part (body, leaves).

    It lies along +x: the tip at -x, the leafy top at +x rising from the shoulder; 11.8 x 3.2 x
    4.1 cm overall like the paper's carrot. The origin lies on the body's axis at its centre of
    mass (see ``_carrot_parts_and_centre``), mid-height of the collision pieces.
    """
    path = cache_dir() / "meshes" / f"carrot_v{CARROT_MESH_VERSION}.obj"
    if path.exists():
        return path
    parts, _, centre = _carrot_parts_and_centre()
    mtl = path.with_suffix(".mtl")
    atomic_write(
        mtl,
        "".join(
            f"newmtl part{i}\nKd {' '.join(f'{c / 255:.3f}' for c in p.color)}\n"
            "Ks 0.05 0.05 0.05\nNs 10\n"
            for i, p in enumerate(parts)
        ),
    )
    lines = [f"mtllib {mtl.name}"]
    offset = 0
    for i, p in enumerate(parts):
        v = p.mesh.vertices - centre
        lines.append(f"o part{i}\nusemtl part{i}")
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
        lines += [
            f"f {a + 1 + offset} {b + 1 + offset} {c + 1 + offset}" for a, b, c in p.mesh.faces
        ]
        offset += len(v)
    return atomic_write(path, "\n".join(lines) + "\n")


def carrot_collision_obj() -> Path:
    """The carrot's collision: its body's convex pieces, cut flat underneath so it cannot roll,
    in the frame of :func:`carrot_obj` (one OBJ object per convex piece)."""
    import trimesh

    path = cache_dir() / "meshes" / f"carrot_v{CARROT_MESH_VERSION}.collision.obj"
    if path.exists():
        return path
    _, pieces, centre = _carrot_parts_and_centre()
    moved = {f"piece{i}": h.copy().apply_translation(-centre) for i, h in enumerate(pieces)}
    return atomic_write(path, trimesh.Scene(moved).export(file_type="obj"))
