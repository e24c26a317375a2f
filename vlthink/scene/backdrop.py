"""The scene's background: the table look as the Bridge camera sees it, on an unlit backdrop.

The paper's environments green-screen the camera frame: every pixel that is neither robot nor
object is replaced by a 640x480 photograph of a table. vlthink gets the same picture in the same
render pass: the table keeps its collision but has no visual, and a plane perpendicular to the
camera's optical axis, exactly filling the camera's view at ``BACKDROP_DEPTH``, shows a 640x480
*camera-view image* of the table look. Its material only emits (black base colour, no specular,
roughness 0: the lights and the ambient term add exactly 0 in ManiSkill's "default" shader pack),
so a background pixel is the image's pixel.

The camera-view image is the look's top-down texture warped into the camera with the camera's
intrinsics and pose (a homography of the table-top plane, pure numpy), what lies beyond the table
a plain wall colour. The camera rides on the robot's base, which never moves, so the backdrop
stands at a fixed pose.

Segmentation: the backdrop is an actor of its own (``Backdrop.seg_ids``); pixels that are not
backdrop (and not 0, nothing) are the robot and the things on the table. Depth: a background
pixel reads the backdrop's depth (``BACKDROP_DEPTH``), not the table's.

Compositing (a CPU render of one sub-env, rgb and segmentation only: ``Backdrop.hide_for_composite``
and ``Backdrop.composite``): drawing the camera-filling quad is a full frame of fragments for the
CPU rasteriser, so there the backdrop is hidden for the capture, together with every body wholly
behind its plane (what the drawn backdrop would hide), and its image is pasted where the capture
shows nothing. Every material is opaque, no shadows are cast, and nothing is drawn beyond the
plane, so each pixel and segmentation id is the one the drawn backdrop gives (tested frame by
frame). A capture in which a body in view crosses the plane draws the backdrop as above; so do
GPU renders and captures that read depth. A depth read of a composited capture sees no backdrop.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import sapien
import torch
from mani_skill.utils.structs.actor import Actor

from vlthink.assets import table_looks
from vlthink.paths import atomic_write, cache_dir, cached_array, code_digest

BACKDROP_DEPTH = 1.5  # m along the optical axis: behind the table top in view, before the shelf
WALL_RGB = (196, 194, 188)  # what the camera sees past the table's edges (none at this pose)
GAMMA = 2.2  # the "default" shader pack writes pow(linear colour, 1 / GAMMA)
BACKDROP_FORMAT_VERSION = 1  # bump when the backdrop mesh layout changes
# m: a body whose bounding box comes this close to the backdrop's plane counts as crossing it
# (the depth buffer's precision at 1.5 m is far finer)
PLANE_MARGIN = 0.01


def camera_world_pose(base_p, base_q, cam_p, cam_q) -> sapien.Pose:
    """World pose of a camera mounted at (cam_p, cam_q) on a base at (base_p, base_q)."""
    return sapien.Pose(base_p, base_q) * sapien.Pose(cam_p, cam_q)


def pixel_rays(intrinsic, width: int, height: int) -> np.ndarray:
    """(H, W, 3) rays through the pixel centres in OpenCV camera axes (x right, y down, z
    forward), scaled to depth 1. The renderer samples pixel (u, v) at image point (u+.5, v+.5)."""
    k = np.asarray(intrinsic, np.float64)
    u, v = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    return np.stack([(u - k[0, 2]) / k[0, 0], (v - k[1, 2]) / k[1, 1], np.ones_like(u)], -1)


def _cv_to_world(pose: sapien.Pose) -> np.ndarray:
    """3x3 rotation from OpenCV camera axes to world axes (SAPIEN cameras: x fwd, y left, z up)."""
    r = pose.to_transformation_matrix()[:3, :3]
    return np.stack([-r[:, 1], -r[:, 2], r[:, 0]], axis=1)


def paste_(dst: torch.Tensor, src: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``dst[mask] = src[mask]`` in place for (H, W, 3) uint8 frames and an (H, W) bool mask, as
    a bitwise select with a full-size byte mask (a masked copy or ``torch.where`` with the mask
    broadcast over the colour axis is many times slower on the CPU)."""
    byte = mask.to(torch.uint8).mul_(255)
    full = torch.stack([byte] * dst.shape[-1], dim=-1)
    return dst.bitwise_and_(~full).bitwise_or_(src & full)


def view_planes(intrinsic, size_wh) -> np.ndarray:
    """(4, 3) inward normals of the view's left, right, top and bottom planes in OpenCV camera
    axes: a point p (camera frame) is in view only if n . p >= 0 for all four."""
    k = np.asarray(intrinsic, np.float64)
    (fx, fy, cx, cy), (w, h) = (k[0, 0], k[1, 1], k[0, 2], k[1, 2]), size_wh
    return np.array([[fx, 0.0, cx], [-fx, 0.0, w - cx], [0.0, fy, cy], [0.0, -fy, h - cy]])


def depth_sort(boxes: np.ndarray, pose: sapien.Pose, planes: np.ndarray, depth: float):
    """Where (n, 2, 3) world AABBs (min, max corners) lie against the plane at ``depth`` in front
    of a camera at ``pose``: ((n,) bool wholly behind it, (n,) bool crossing it in view).
    A box that is wholly outside one side plane (or behind the camera) is never in view."""
    corners = np.stack(
        [boxes[:, [i, j, k], [0, 1, 2]] for i in (0, 1) for j in (0, 1) for k in (0, 1)], axis=1
    )  # (n, 8, 3)
    cam = (corners - np.asarray(pose.p)) @ _cv_to_world(pose)  # (n, 8, 3) in OpenCV axes
    z = cam[..., 2]
    behind = z.min(1) > depth + PLANE_MARGIN
    out_of_view = (z.max(1) <= 0) | ((cam @ planes.T) < 0).all(1).any(1)
    crossing = ~behind & (z.max(1) >= depth - PLANE_MARGIN) & ~out_of_view
    return behind, crossing


def _bilinear(img: np.ndarray, col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """img sampled at continuous (col, row), texel centres at +0.5, edges clamped (like the GPU)."""
    h, w = img.shape[:2]
    x, y = np.clip(col - 0.5, 0, w - 1), np.clip(row - 0.5, 0, h - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    f = img.astype(np.float32)
    top = f[y0, x0] * (1 - fx) + f[y0, x1] * fx
    bottom = f[y1, x0] * (1 - fx) + f[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def warp_table_image(
    texture: np.ndarray, pose: sapien.Pose, intrinsic, size_wh, table_xy_min, table_xy_max, top_z
) -> np.ndarray:
    """(H, W, 3) uint8: the top-down ``texture`` of a table top spanning [xy_min, xy_max] at
    height ``top_z`` as the camera at ``pose`` sees it. The texture's top row lies at x = x_min
    (the far edge) and its right column at y = y_max, as on the table slab (scene/meshes.py)."""
    w, h = size_wh
    rays = pixel_rays(intrinsic, w, h) @ _cv_to_world(pose).T  # (H, W, 3) world directions
    origin = np.asarray(pose.p, np.float64)
    t = (top_z - origin[2]) / np.where(rays[..., 2] < 0, rays[..., 2], -1e-12)
    hit = origin + t[..., None] * rays
    (x0, y0), (x1, y1) = table_xy_min, table_xy_max
    on_table = (t > 0) & (hit[..., 0] >= x0) & (hit[..., 0] <= x1)
    on_table &= (hit[..., 1] >= y0) & (hit[..., 1] <= y1)
    th, tw = texture.shape[:2]
    col = (hit[..., 1] - y0) / (y1 - y0) * tw
    row = (hit[..., 0] - x0) / (x1 - x0) * th
    out = np.empty((h, w, 3), np.float32)
    out[:] = WALL_RGB
    out[on_table] = _bilinear(texture, col[on_table], row[on_table])
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def emission_of(image: np.ndarray) -> np.ndarray:
    """(H, W, 4) float16 linear emission that the "default" shader pack turns back into ``image``:
    ManiSkill reads its colour as floor(255 * pow(e, 1 / GAMMA)), so aim at each level's middle."""
    out = np.ones(image.shape[:2] + (4,), np.float16)
    out[..., :3] = _EMISSION_LEVELS[image]  # a table of the 256 levels, not a power per pixel
    return out


_EMISSION_LEVELS = (((np.arange(256) + 0.5) / 255.0) ** GAMMA).astype(np.float16)


def quad_obj(intrinsic, size_wh, depth: float) -> Path:
    """OBJ of the camera-filling quad in the camera's local frame (SAPIEN axes: x forward,
    y left, z up), UVs so that image pixel (u, v) lands on camera pixel (u, v)."""
    k = np.asarray(intrinsic, np.float64)
    w, h = size_wh
    key = f"{k[0, 0]:.3f}_{k[1, 1]:.3f}_{k[0, 2]:.3f}_{k[1, 2]:.3f}_{w}x{h}_{depth:.3f}"
    path = cache_dir() / "meshes" / f"backdrop_v{BACKDROP_FORMAT_VERSION}_{key}.obj"
    if path.exists():
        return path
    lines = ["# vlthink backdrop quad"]
    corners = [(0, 0), (w, 0), (w, h), (0, h)]  # image corners, clockwise on screen
    for u, v in corners:
        x_cv, y_cv = (u - k[0, 2]) / k[0, 0] * depth, (v - k[1, 2]) / k[1, 1] * depth
        lines.append(f"v {depth:.6f} {-x_cv:.6f} {-y_cv:.6f}")
    lines += [f"vt {u / w:.6f} {1 - v / h:.6f}" for u, v in corners]  # OBJ's v points up
    lines.append("vn -1 0 0")  # towards the camera
    lines.append("f 1/1/1 4/4/1 3/3/1 2/2/1")  # counter-clockwise seen from the camera
    return atomic_write(path, "\n".join(lines) + "\n")


def unlit_material() -> sapien.render.RenderMaterial:
    """Emission only: black base colour (opaque), no specular or metal, roughness 0 (a GGX lobe
    of width 0 contributes exactly nothing), emission scaled by the texture."""
    return sapien.render.RenderMaterial(
        emission=[1.0, 1.0, 1.0, 1.0],
        base_color=[0.0, 0.0, 0.0, 1.0],
        specular=0.0,
        roughness=0.0,
        metallic=0.0,
    )


class Backdrop:
    """One emissive camera-filling quad per sub-scene, each with its own material, so that each
    sub-env shows its own table look (``show``)."""

    def __init__(
        self,
        scene,
        pose: sapien.Pose,
        intrinsic,
        size_wh,
        table_xy_min,
        table_xy_max,
        top_z,
        name: str = "backdrop",
        pictures=None,
    ):
        """``pictures``: look -> its camera-size picture, shown as it is (an asset set's table
        photos); None: the look's drawn texture warped into the camera."""
        self.scene, self.pose, self.intrinsic, self.size_wh = scene, pose, intrinsic, size_wh
        self.pictures = pictures
        self.table = (tuple(table_xy_min), tuple(table_xy_max), float(top_z))
        mesh = str(quad_obj(intrinsic, size_wh, BACKDROP_DEPTH))
        parts = []
        for i in range(scene.num_envs):
            builder = scene.create_actor_builder()
            builder.add_visual_from_file(mesh, material=unlit_material())
            builder.initial_pose = pose
            builder.set_scene_idxs([i])
            parts.append(builder.build_static(name=f"{name}_{i}"))
        self.actor = Actor.merge(parts, name=name)
        self._textures: dict[str, sapien.render.RenderTexture2D] = {}
        self.looks: list[str | None] = [None] * scene.num_envs
        self._planes = view_planes(intrinsic, size_wh)
        self._bodies: list | None = None  # every other render body of sub-scene 0, found once
        self._pasted: dict[str, torch.Tensor] = {}  # look -> its camera-view image, for paste_

    def hide_for_composite(self) -> list | None:
        """Before a capture of sub-scene 0 that composites the backdrop: hide the backdrop and
        every body wholly behind its plane. Returns [(body, visibility)] for ``show_again``, or
        None (nothing hidden) when a body in view crosses the plane: then draw the backdrop."""
        if self._bodies is None:
            own = self.actor._objs[0]
            self._bodies = [
                body
                for entity in self.scene.sub_scenes[0].entities
                if entity is not own
                and (body := entity.find_component_by_type(sapien.render.RenderBodyComponent))
            ]
        shown = [b for b in self._bodies if b.visibility > 0]
        boxes = np.array([b.get_global_aabb_fast() for b in shown], np.float64).reshape(-1, 2, 3)
        behind, crossing = depth_sort(boxes, self.pose, self._planes, BACKDROP_DEPTH)
        if crossing.any():
            return None
        hidden = [(b, b.visibility) for b, hide in zip(shown, behind) if hide]
        hidden.append((self._body(0), self._body(0).visibility))
        for body, _ in hidden:
            body.visibility = 0.0
        return hidden

    @staticmethod
    def show_again(hidden: list) -> None:
        for body, visibility in hidden:
            body.visibility = visibility

    def composite(self, rgb: np.ndarray, empty: np.ndarray, env_index: int = 0) -> None:
        """Paste sub-env ``env_index``'s look into an (H, W, 3) uint8 frame, in place, where the
        (H, W) bool ``empty`` says the capture shows nothing."""
        look = self.looks[env_index]
        image = self._pasted.get(look)
        if image is None:  # a copy: the cached picture is read-only, and torch warns on those
            image = self._pasted[look] = torch.from_numpy(self.image(look).copy())
        paste_(torch.from_numpy(rgb), image, torch.from_numpy(empty))

    def _body(self, i: int) -> sapien.render.RenderBodyComponent:
        return self.actor._objs[i].find_component_by_type(sapien.render.RenderBodyComponent)

    @property
    def seg_ids(self) -> torch.Tensor:
        """(N,) segmentation id of the backdrop in each sub-env."""
        return self.actor.per_scene_id

    def foreground(self, seg: torch.Tensor) -> torch.Tensor:
        """(N, H, W) bool from an (N, H, W, 1) segmentation: pixels that are neither backdrop
        nor empty (the robot and every actor in view)."""
        seg = seg[..., 0]
        ids = self.seg_ids.to(device=seg.device, dtype=seg.dtype)[:, None, None]
        return (seg != 0) & (seg != ids)

    def image(self, look: str) -> np.ndarray:
        """The 640x480 camera-view image of ``look`` (cached per look and camera)."""
        if self.pictures is not None:
            return self.pictures(look)
        return _camera_view(
            look, _pose_key(self.pose), _key(self.intrinsic), self.size_wh, self.table
        )

    def texture(self, look: str) -> sapien.render.RenderTexture2D:
        tex = self._textures.get(look)
        if tex is None:
            tex = sapien.render.RenderTexture2D(
                np.ascontiguousarray(emission_of(self.image(look))),
                "R16G16B16A16Sfloat",
                filter_mode="nearest",  # texel (u, v) is pixel (u, v): no filtering wanted
                address_mode="edge",
            )
            self._textures[look] = tex
        return tex

    def show(self, look: str, env_idx=None):
        """Show table look ``look`` behind sub-envs ``env_idx`` (all when None)."""
        tex = self.texture(look)
        idx = range(self.scene.num_envs) if env_idx is None else [int(i) for i in env_idx]
        for i in idx:
            for shape in self._body(i).render_shapes:
                for part in shape.parts:
                    part.material.set_emission_texture(tex)
            self.looks[i] = look


def _key(intrinsic) -> tuple:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(intrinsic))


def _pose_key(pose: sapien.Pose) -> tuple:
    return (*map(float, pose.p), *map(float, pose.q))


@lru_cache(maxsize=32)
def _camera_view(look: str, pose_key, intrinsic, size_wh, table) -> np.ndarray:
    """Drawn and warped once per machine, cached under a key of everything the picture depends
    on (the look, the camera, the table, and the code that draws and warps it)."""

    def warp() -> np.ndarray:
        pose = sapien.Pose(pose_key[:3], pose_key[3:])
        return warp_table_image(table_looks.table_texture(look), pose, intrinsic, size_wh, *table)

    digest = code_digest([Path(__file__)], table_looks.drawing_code_digest())
    return cached_array(
        "backdrops", repr((look, pose_key, intrinsic, size_wh, table, digest)), warp
    )
