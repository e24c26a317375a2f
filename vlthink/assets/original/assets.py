"""The asset set of the original pack (:func:`vlthink.assets.sets.asset_set` ``("original")``).

A pack is opened once per process and folder (:func:`open_pack`): every file is checked against
the expected list (the shipped ``files.tsv``), and a pack that is not whole is refused with one line
naming what is missing, extra or corrupt. ``VLTHINK_ORIGINAL_UNVERIFIED=1`` opens such a pack
anyway (development against an incomplete copy; its contents hash then differs from the shipped
list's, so its runs are never taken for the real pack's).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import sapien

from vlthink.assets.original import loader
from vlthink.assets.original.pack import (
    ENV_VAR,
    FETCH_HINT,
    PackError,
    check,
    default_root,
    expected_files,
    files_of,
    list_hash,
)

UNVERIFIED_VAR = "VLTHINK_ORIGINAL_UNVERIFIED"


@dataclass(frozen=True)
class OpenedPack:
    root: Path
    contents_hash: str  # list_hash of the files as found (== the expected list's when whole)
    verified: bool


def open_pack(root=None, expected=None) -> OpenedPack:
    """The pack at ``root`` (default: ``$VLTHINK_ORIGINAL_ASSETS`` or the cache), verified."""
    root = Path(root) if root is not None else default_root()
    return _open(root.absolute(), tuple(expected or expected_files()))


@cache
def _open(root: Path, expected: tuple) -> OpenedPack:
    if not root.is_dir():
        raise PackError(
            f"no original asset pack at {root}; fix: `{FETCH_HINT}` (or set {ENV_VAR} to a pack)"
        )
    problems = check(root, expected)
    if not problems:
        return OpenedPack(root, list_hash(expected), True)
    if os.environ.get(UNVERIFIED_VAR) != "1":
        raise PackError(problems.line(root, f"`{FETCH_HINT}` to fetch it whole"))
    return OpenedPack(root, list_hash(files_of(root)), False)


def original_assets(root=None) -> OriginalAssets:
    """The asset set of the verified pack at ``root`` (one object per pack and expected list)."""
    return _assets_of(open_pack(root))


@cache
def _assets_of(opened: OpenedPack) -> OriginalAssets:
    return OriginalAssets(opened)


# Physics of the pack's bodies: vlthink's own caps, so the two sets differ in shape and mass only.
def _object_physics() -> dict:
    from vlthink.assets import objects

    return {
        "angular_damping": objects.OBJECT_ANGULAR_DAMPING,
        "solver_iterations": objects.OBJECT_SOLVER_ITERATIONS,
        "max_depenetration_velocity": objects.OBJECT_MAX_DEPENETRATION_VELOCITY,
    }


def _receptacle_physics() -> dict:
    from vlthink.assets import receptacles

    return {"max_depenetration_velocity": receptacles.RECEPTACLE_MAX_DEPENETRATION_VELOCITY}


def build_mesh_actor(scene, asset: loader.MeshAsset, *, actor_name=None, **kwargs):
    """A ManiSkill actor from one of the pack's meshes, in the actor frame of ``asset``."""
    from vlthink.assets.actors import build_actor

    return build_actor(
        scene,
        actor_name or asset.name,
        asset.visual,
        asset.collision,
        friction=asset.friction,
        density=asset.density,
        file_pose=sapien.Pose(asset.frame.astype(np.float32)),
        scale=asset.scale,
        **kwargs,
    )


class OriginalAssets:
    """The original pack's objects, receptacles, table pictures, overlays, boards and carrot."""

    name = "original"

    def __init__(self, opened: OpenedPack):
        self.pack = opened
        self.root = opened.root

    @cached_property
    def objects(self) -> dict[str, loader.MeshAsset]:
        from vlthink.assets.objects import OBJECTS

        return loader.mesh_assets(self.root, loader.OBJECTS_DIR, OBJECTS)

    @cached_property
    def receptacles(self) -> dict[str, loader.MeshAsset]:
        from vlthink.assets.receptacles import RECEPTACLES

        return loader.mesh_assets(self.root, loader.RECEPTACLES_DIR, RECEPTACLES)

    @cached_property
    def tables(self) -> dict[str, dict]:
        """Table look name -> its db row, with the picture's file name as ``"picture"``."""
        from vlthink.assets.table_looks import TABLE_LOOKS

        db = loader.read_db(self.root / loader.TABLES_DIR / "model_db.json")
        if len(db) != len(TABLE_LOOKS):
            raise loader.PackLayoutError(f"{loader.TABLES_DIR}/model_db.json: {len(db)} tables")
        return {look: {**db[k], "picture": k} for look, k in zip(TABLE_LOOKS, db)}

    @property
    def carrot(self) -> loader.MeshAsset:
        return self.objects["carrot"]

    def object_spec(self, name: str) -> loader.MeshAsset:
        return self.objects[name]

    def receptacle_spec(self, name: str) -> loader.MeshAsset:
        return self.receptacles[name]

    def build_object(self, scene, name: str, **kwargs):
        return build_mesh_actor(scene, self.objects[name], **_object_physics(), **kwargs)

    def build_receptacle(self, scene, name: str, **kwargs):
        return build_mesh_actor(scene, self.receptacles[name], **_receptacle_physics(), **kwargs)

    def object_pieces(self, name: str) -> list:
        return self.objects[name].pieces

    def receptacle_pieces(self, name: str) -> list:
        return self.receptacles[name].pieces

    def table_picture(self, look: str) -> np.ndarray:
        """The 640x480 picture shown wherever the camera sees background."""
        path = self.root / loader.TABLES_DIR / "imgs" / self.tables[look]["picture"]
        return _picture(path, loader.PICTURE_WH)

    def overlay_texture(self, name: str) -> np.ndarray:
        return _picture(self.root / loader.TABLES_DIR / "textures" / self.tables[name]["texture"])

    def overlay_mix(self, name: str) -> float:
        return float(self.tables[name]["mix"])

    @cached_property
    def _boards(self) -> dict[str, Path]:
        from vlthink.boards.catalogue import BOARDS

        return loader.board_keys(self.root, BOARDS)

    def board_texture(self, key: str) -> dict:
        return {"image": _board_image(self._boards[key])}


@cache
def _picture(path: Path, wh: tuple[int, int] | None = None) -> np.ndarray:
    """A pack picture, resized to ``wh`` where given; read-only."""
    img = loader.read_picture(path, wh)
    img.setflags(write=False)
    return img


@cache
def _board_image(folder: Path) -> np.ndarray:
    img = loader.board_texture(folder)
    img.setflags(write=False)
    return img
