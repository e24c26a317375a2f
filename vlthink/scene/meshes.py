"""Small procedural meshes the scenes need, written once to the cache as OBJ files.

SAPIEN's box visual maps a texture onto each face separately, so only part of an image would show on
a board's top face. A *textured slab* is a box whose top face carries the whole image (UV 0..1),
while its sides and bottom sample a thin strip at the image border.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vlthink.paths import cache_dir

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
    path.parent.mkdir(parents=True, exist_ok=True)
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
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
    return path


def carrot_obj() -> Path:
    """A carrot lying along +x: an orange tapered body (tip at -x) with a green leafy top at +x.

    Length 0.10 m body + 0.03 m leaves, 0.026 m diameter at the shoulder. Two materials (body,
    leaves) are written to an MTL file next to the OBJ.
    """
    import trimesh

    path = cache_dir() / "meshes" / f"carrot_v{MESH_FORMAT_VERSION}.obj"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Body: a surface of revolution about x; profile radius r(x) from tip (x=-0.05) to shoulder.
    xs = np.linspace(-0.05, 0.05, 24)
    t = (xs - xs[0]) / (xs[-1] - xs[0])
    radius = 0.013 * np.sqrt(np.clip(t, 0.0, 1.0)) * (1 - 0.15 * (1 - t))
    radius[0] = 0.0015
    ring = 20
    angles = np.linspace(0, 2 * np.pi, ring, endpoint=False)
    verts = []
    for x, r in zip(xs, radius):
        # Ridges along the body make it read as a carrot rather than a cone.
        rr = r * (1 + 0.04 * np.sin(3 * angles + 40 * x))
        verts += [(x, rr_i * np.cos(a), rr_i * np.sin(a)) for a, rr_i in zip(angles, rr)]
    verts += [(xs[0] - 0.002, 0, 0), (xs[-1], 0, 0)]
    tip, cap = len(verts) - 2, len(verts) - 1
    faces = []
    for i in range(len(xs) - 1):
        for j in range(ring):
            a, b = i * ring + j, i * ring + (j + 1) % ring
            c, d = a + ring, b + ring
            faces += [(a, c, b), (b, c, d)]
    for j in range(ring):
        faces.append((tip, j, (j + 1) % ring))
        last = (len(xs) - 1) * ring
        faces.append((cap, last + (j + 1) % ring, last + j))
    body = trimesh.Trimesh(np.array(verts), np.array(faces), process=False)
    body.fix_normals()
    leaves = []
    for k, (dy, dz) in enumerate([(0.0, 0.006), (0.005, -0.003), (-0.005, -0.003)]):
        stalk = trimesh.creation.cylinder(radius=0.0022, height=0.032, sections=8)
        stalk.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
        tilt = trimesh.transformations.rotation_matrix(0.35 * (k - 1), [0, 0, 1])
        stalk.apply_transform(tilt)
        stalk.apply_translation([0.066, dy, dz])
        leaves.append(stalk)
    leaf = trimesh.util.concatenate(leaves)
    mtl = path.with_suffix(".mtl")
    mtl.write_text(
        "newmtl body\nKd 0.93 0.42 0.05\nKs 0.1 0.1 0.1\nNs 10\n"
        "newmtl leaves\nKd 0.20 0.55 0.12\nKs 0.05 0.05 0.05\nNs 5\n"
    )
    lines = [f"mtllib {mtl.name}"]
    offset = 0
    for group, mesh in (("body", body), ("leaves", leaf)):
        lines.append(f"o {group}\nusemtl {group}")
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices]
        lines += [f"f {a + 1 + offset} {b + 1 + offset} {c + 1 + offset}" for a, b, c in mesh.faces]
        offset += len(mesh.vertices)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
    return path
