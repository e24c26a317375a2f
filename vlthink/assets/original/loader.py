"""What each category looks like, read from the original asset pack.

The pack's layout (as the paper's code reads it):

- ``more_carrot/`` (objects) and ``more_plate/`` (receptacles): ``model_db.json`` maps a key to
  its ``name``, ``bbox`` (min/max, m), ``scales`` and ``density``; the folder ``<key>/`` holds
  ``collision.obj`` (one convex piece per OBJ object) and a visual, the first found of
  ``textured.obj``, ``textured.dae``, ``textured.glb``.
- ``more_table/``: ``model_db.json`` maps a picture's file name under ``imgs/`` to its overlay
  ``texture`` (under ``textures/``) and that texture's ``mix``.
- boards: ``more_<family>/model_db.json`` and ``more_<family>/shapes/<key>/`` (collision.obj,
  textured.glb).

vlthink's catalogues keep their names and order (the pack's keys are numbered in the same order:
the n-th object of :data:`vlthink.assets.objects.OBJECTS` is the pack's n-th). A mesh is placed in
its actor so that the actor's origin is the centre of its bounding box and its longer horizontal
side lies along x, the convention of vlthink's own meshes: the oracle's grasp (across y) and the
rest calibration then work unchanged. The grasp point is the collision pieces' centre of mass
along x, mid-way across y (derived from the mesh, never from a table of names). That is the grasp
of the build pose; a mesh that rests otherwise (a tall one tips over) gets its grasp planned again
from its resting shape once the OOD env has measured how it rests (:mod:`vlthink.assets.grasp`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import trimesh

from vlthink.assets.original.pack import PackError

VISUAL_ORDER = ("textured.obj", "textured.dae", "textured.glb")  # the first found is the visual
OBJECTS_DIR, RECEPTACLES_DIR, TABLES_DIR = "more_carrot", "more_plate", "more_table"
PICTURE_WH = (640, 480)  # px: table pictures are shown at the camera's size
TOP_FACE_COS = 0.9  # a board face whose normal is within ~26 deg of +z shows its picture
CARROT_KEY = "001_carrot_simpler"
# vlthink board family -> the pack's folder
BOARD_DIRS = {
    "shape": "more_shape",
    "traffic": "more_traffic",
    "laundry": "more_laundry",
    "public": "more_public_info",
    "weather": "more_weather",
    "parity": "more_numbers",
    "arrow": "more_arrows",
}


class PackLayoutError(PackError):
    """The pack's files do not say what this loader needs (one line naming the file)."""


def read_db(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PackLayoutError(f"cannot read {path}: {exc}") from None


def collision_pieces(path: Path, scale: float = 1.0) -> list[trimesh.Trimesh]:
    """The convex pieces of a ``collision.obj``: one per OBJ object, each its convex hull (as
    the physics loads it)."""
    scene = trimesh.load(
        str(path), split_object=True, group_material=False, process=False, force="scene"
    )
    pieces = [g.convex_hull for g in scene.geometry.values() if len(g.vertices) >= 4]
    if not pieces:
        raise PackLayoutError(f"{path}: no collision piece in it")
    return [p.apply_scale(scale) for p in pieces]


def visual_file(folder: Path) -> Path:
    """The visual of an asset folder: the first found of VISUAL_ORDER."""
    for name in VISUAL_ORDER:
        if (folder / name).is_file():
            return folder / name
    raise PackLayoutError(
        f"{folder}: no visual ({' / '.join(VISUAL_ORDER)}); fix: fetch the pack again "
        "(vlthink assets fetch original)"
    )


@dataclass(frozen=True)
class MeshAsset:
    """One object or receptacle of the pack, placed in its actor frame (see the module doc)."""

    name: str  # vlthink's catalogue name
    key: str  # the pack's key (its folder)
    folder: Path
    density: float  # kg/m³, the db's
    scale: float  # the db's first scale
    bbox: tuple[tuple[float, ...], tuple[float, ...]]  # the db's (min, max), at scale 1
    split: str = "train"
    friction: float = 1.0

    @cached_property
    def quarter_turn(self) -> bool:
        lo, hi = np.asarray(self.bbox[0]), np.asarray(self.bbox[1])
        return bool(hi[1] - lo[1] > hi[0] - lo[0])

    @cached_property
    def frame(self) -> np.ndarray:
        """4x4: the pack's mesh frame (scaled) -> the actor frame."""
        lo, hi = np.asarray(self.bbox, float) * self.scale
        m = trimesh.transformations.translation_matrix(-(lo + hi) / 2)
        if self.quarter_turn:
            m = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 0, 1]) @ m
        return m

    @property
    def collision(self) -> Path:
        return self.folder / "collision.obj"

    @property
    def visual(self) -> Path:
        return visual_file(self.folder)

    @cached_property
    def pieces(self) -> list[trimesh.Trimesh]:
        """Convex collision pieces in the actor frame."""
        return [p.apply_transform(self.frame) for p in collision_pieces(self.collision, self.scale)]

    @cached_property
    def geometry(self) -> dict:
        lo, hi = np.asarray(self.bbox, float) * self.scale
        half = (hi - lo) / 2
        if self.quarter_turn:
            half = half[[1, 0, 2]]
        verts = np.vstack([p.vertices for p in self.pieces])
        return {
            "half_size": tuple(float(v) for v in half),
            "rest_height": -float(verts[:, 2].min()),
            "footprint_radius": float(np.max(np.hypot(verts[:, 0], verts[:, 1]))),
        }

    # ---- the catalogue spec interface (vlthink.assets.actors.CatalogueGeometry) --------------
    @property
    def half_size(self) -> tuple[float, float, float]:
        return self.geometry["half_size"]

    @property
    def half_height(self) -> float:
        return self.geometry["rest_height"]

    @property
    def footprint_radius(self) -> float:
        return self.geometry["footprint_radius"]

    def _grasp_slab(self) -> tuple[float, np.ndarray]:
        """The grasp's x (the pieces' centre of mass) and the y of the pieces within ±5 mm of it
        (the finger pads' width)."""
        from vlthink.assets.parts import slab_points

        x = float(trimesh.util.concatenate(self.pieces).center_mass[0])
        return x, slab_points(self.pieces, 0, x - 0.005, x + 0.005)[:, 1]

    @cached_property
    def grasp_point(self) -> tuple[float, float]:
        """(x, y): the pieces' centre of mass along x, the middle of their span across y there."""
        x, ys = self._grasp_slab()
        return (round(x, 5), round(float((ys.min() + ys.max()) / 2), 5))

    @property
    def grasp_width(self) -> float:
        return float(np.ptp(self._grasp_slab()[1]))

    @cached_property
    def support_z(self) -> float:
        """Top of the pieces spanning the centre (of all pieces where none does)."""
        under = [
            p for p in self.pieces if (p.bounds[0, :2] < 0).all() and (p.bounds[1, :2] > 0).all()
        ]
        return max(float(p.bounds[1, 2]) for p in (under or self.pieces))

    support_center = (0.0, 0.0)

    @property
    def support_half_extents(self) -> tuple[float, float]:
        return self.half_size[:2]


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(s).lower()).strip("_")


def match_catalogue(db: dict, names: list[str], db_path: Path) -> dict[str, str]:
    """Catalogue name -> the pack's key, by position (both are in the original's order); the
    names must agree, or at least begin alike (the pack spells "zuchinni")."""
    keys = list(db)
    if len(keys) != len(names):
        raise PackLayoutError(f"{db_path}: {len(keys)} entries, expected {len(names)}")
    out = {}
    for name, key in zip(names, keys):
        theirs = _slug(db[key].get("name", ""))
        if theirs != _slug(name) and theirs[:3] != _slug(name)[:3]:
            raise PackLayoutError(f"{db_path}: entry {key!r} is {theirs!r}, expected {name!r}")
        out[name] = key
    return out


def mesh_assets(root: Path, folder: str, catalogue: dict) -> dict[str, MeshAsset]:
    """Our catalogue (name -> spec with split, friction) over the pack's ``folder``."""
    db_path = root / folder / "model_db.json"
    db = read_db(db_path)
    keys = match_catalogue(db, list(catalogue), db_path)
    out = {}
    for name, key in keys.items():
        row, spec = db[key], catalogue[name]
        out[name] = MeshAsset(
            name,
            key,
            root / folder / key,
            density=float(row["density"]),
            scale=float((row.get("scales") or [1.0])[0]),
            bbox=(tuple(row["bbox"]["min"]), tuple(row["bbox"]["max"])),
            split=spec.split,
            friction=spec.friction,
        )
    return out


def board_keys(root: Path, boards: dict) -> dict[str, Path]:
    """vlthink board key -> the pack's board folder (``shapes/<key>``), matched by concept: the
    shape and colour fields for Shape×Color boards, the number for Parity, else the sign name."""
    out, unmatched = {}, []
    for family, folder in BOARD_DIRS.items():
        db = read_db(root / folder / "model_db.json")
        index = {}
        for key, row in db.items():
            if family == "shape":
                index[(_slug(row["shape"]), _slug(row["color"]))] = key
            elif family == "parity":
                index[str(row["number"])] = key
            else:
                sign = _slug(row.get("sign", row["name"]))
                index[sign.removesuffix("_icon").removeprefix("arrow_")] = key
        for b in (b for b in boards.values() if b.family == family):
            want = (b.concept, b.color) if family == "shape" else b.concept
            key = index.get(want)
            if key is None:
                unmatched.append(b.key)
            else:
                out[b.key] = root / folder / "shapes" / key
    if unmatched:
        raise PackLayoutError(f"boards not in the pack: {', '.join(unmatched[:5])}")
    return out


def board_texture(folder: Path) -> np.ndarray:
    """(N, N, 3) uint8: a board's picture as its ``textured.glb`` shows it on the top face, in the
    image convention of vlthink's board slab (:func:`vlthink.scene.meshes.textured_slab_obj`).

    The pack's textures are not stored upright: each board maps its texture through its own UVs
    (on the arrow boards, "arrow right" is a picture of a downward arrow that the UVs turn). So the
    picture is sampled through the top face's UVs, not pasted as stored."""
    scene = trimesh.load(str(folder / "textured.glb"), force="scene")
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        g = scene.geometry[name]
        tex = getattr(getattr(g.visual, "material", None), "baseColorTexture", None)
        if tex is not None and getattr(g.visual, "uv", None) is not None:
            verts = trimesh.transform_points(g.vertices, transform)
            return top_face_image(
                verts, g.faces, np.asarray(g.visual.uv), np.asarray(tex.convert("RGB"))
            )
    raise PackLayoutError(f"{folder / 'textured.glb'}: no base-colour texture")


def top_face_image(verts, faces, uv, texture: np.ndarray) -> np.ndarray:
    """What the faces pointing up (+z) show, resampled on a grid over their extent: row ``i`` at
    ``x`` from the -x edge to the +x edge, column ``j`` at ``y`` from -y to +y (the slab's
    convention: its picture's top edge lies along -x, its right edge along +y). ``uv`` are
    trimesh's (origin bottom-left); the texture is read with the image's top row first."""
    tri = verts[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    up = normal[:, 2] > TOP_FACE_COS * np.linalg.norm(normal, axis=1)
    corners = np.unique(faces[up])
    if len(corners) < 3:
        raise PackLayoutError("a board's visual has no upward face to read its picture from")
    xy, st = verts[corners, :2], uv[corners]
    affine, *_ = np.linalg.lstsq(np.c_[xy, np.ones(len(xy))], st, rcond=None)  # (x, y, 1) -> uv
    n = max(texture.shape[:2])
    (x0, y0), (x1, y1) = xy.min(0), xy.max(0)
    x = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    y = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(x, y, indexing="ij")
    s, t = (np.stack([gx, gy, np.ones_like(gx)], -1) @ affine).transpose(2, 0, 1)
    h, w = texture.shape[:2]
    col = np.clip((s * w).astype(int), 0, w - 1)
    row = np.clip(((1.0 - t) * h).astype(int), 0, h - 1)
    return np.ascontiguousarray(texture[row, col])


def read_picture(path: Path, wh: tuple[int, int] | None = None) -> np.ndarray:
    """(H, W, 3) uint8 picture, resized to ``wh`` (bilinear) when given."""
    from PIL import Image

    try:
        img = Image.open(path).convert("RGB")
    except OSError as exc:
        raise PackLayoutError(f"cannot read {path}: {exc}") from None
    if wh is not None and img.size != tuple(wh):
        img = img.resize(tuple(wh), Image.BILINEAR)
    return np.asarray(img)
