"""Asset sets: what each category of a scene looks like, and its collision shape.

An env is made with ``assets=`` one of :data:`ASSET_SETS` (``gym.make(id, assets="original")``);
everything else (ids, rules, layouts, seeds, success) is the same on every set. An asset set
answers, by vlthink's catalogue names:

- ``object_spec`` / ``receptacle_spec``: geometry (``half_size``, ``half_height``,
  ``footprint_radius``, ``grasp_point``; ``support_z``, ``support_center``,
  ``support_half_extents``) and ``density``, ``friction``;
- ``build_object`` / ``build_receptacle``: the actor; ``object_pieces`` / ``receptacle_pieces``:
  its convex collision pieces in the actor frame (footprints, overlap tests);
- ``table_picture(look)``: the camera-size background picture, or None where the scene warps its
  own table texture into the camera; ``overlay_texture(name)`` and ``overlay_mix(name)``;
- ``board_texture(key)``: ``{"path": ...}`` or ``{"image": ...}`` for a VL-Think board;
- ``carrot``: None (the scene's own carrot) or the pack's carrot as an object spec.
"""

from __future__ import annotations

DEFAULT_ASSETS = "vlthink"
ASSET_SETS = ("vlthink", "original")


class VLThinkAssets:
    """vlthink's own procedural art (the default)."""

    name = "vlthink"
    carrot = None  # VL-Think's carrot: vlthink.scene.meshes
    table_picture = None  # the backdrop warps the drawn table texture into the camera

    def object_spec(self, name: str):
        from vlthink.assets.objects import object_spec

        return object_spec(name)

    def receptacle_spec(self, name: str):
        from vlthink.assets.receptacles import receptacle_spec

        return receptacle_spec(name)

    def build_object(self, scene, name: str, **kwargs):
        from vlthink.assets.objects import build_object

        return build_object(scene, name, **kwargs)

    def build_receptacle(self, scene, name: str, **kwargs):
        from vlthink.assets.receptacles import build_receptacle

        return build_receptacle(scene, name, **kwargs)

    def object_pieces(self, name: str) -> list:
        from vlthink.assets.objects import object_parts
        from vlthink.assets.parts import collision_pieces

        return collision_pieces(list(object_parts(name)))

    def receptacle_pieces(self, name: str) -> list:
        from vlthink.assets.parts import collision_pieces
        from vlthink.assets.receptacles import receptacle_parts

        return collision_pieces(list(receptacle_parts(name)))

    def overlay_texture(self, name: str):
        from vlthink.assets.overlay_textures import overlay_texture

        return overlay_texture(name)

    def overlay_mix(self, name: str) -> float:
        return 1.0

    def board_texture(self, key: str) -> dict:
        from vlthink.boards import catalogue

        return {"path": catalogue.board_path(key)}


_VLTHINK = VLThinkAssets()


def asset_set(name: str = DEFAULT_ASSETS, root=None):
    """The asset set called ``name``. ``"original"`` opens and verifies the pack at ``root``
    (default: ``$VLTHINK_ORIGINAL_ASSETS``, else the cache) once per process and folder, and
    raises PackError (one line naming what is missing and the fix) when it is not whole."""
    if name == "vlthink":
        return _VLTHINK
    if name == "original":
        from vlthink.assets.original.assets import original_assets

        return original_assets(root)
    raise ValueError(f"assets must be one of {ASSET_SETS}, got {name!r}")
