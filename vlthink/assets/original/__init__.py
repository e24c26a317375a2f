"""The paper's original asset pack, as a second asset set: ``gym.make(id, assets="original")``.

vlthink draws every scene with its own art by default (``assets="vlthink"``). The original pack
(CognitiveAISystems/BlindVLA, MIT, at :data:`.pack.COMMIT`, folder :data:`.pack.PACK_SUBDIR`) is
fetched by the user (``vlthink assets fetch original``; nothing of it ships with vlthink but the
list of its files and their hashes, ``files.tsv``), verified file by file, and then gives the
objects, receptacles, table pictures, overlay textures, boards and the carrot their looks and
collision shapes; env ids, rules, layouts, seeds and the success rule stay the same.

- :mod:`.pack` — the expected files, verification, where a pack lives, atomic installs
- :mod:`.fetch` — from the repository's archive (resumable download) or a local copy
- :mod:`.loader` — the pack's layout read into meshes, pictures and boards
- :mod:`.assets` — :class:`OriginalAssets`, the asset set the envs use
"""

from __future__ import annotations

from vlthink.assets.original.pack import PACK_NAME, PackError, check, default_root, list_hash

__all__ = ["PACK_NAME", "PackError", "asset_set_id", "check", "default_root", "list_hash"]


def asset_set_id(name: str, root=None) -> dict:
    """What a manifest or leaderboard row records about an asset set: its name and, for the
    original pack, the hash of its verified contents (:func:`.pack.list_hash` of its files: the
    shipped list's hash for a whole pack; ``unverified-<hash of the files found>`` for a pack
    opened with ``VLTHINK_ORIGINAL_UNVERIFIED=1``). Raises PackError (one line) for a pack that
    does not verify: such a run has no asset set to record."""
    from vlthink.assets.sets import ASSET_SETS

    if name not in ASSET_SETS:
        raise PackError(f"unknown asset set {name!r}; fix: use one of {', '.join(ASSET_SETS)}")
    if name != PACK_NAME:
        from vlthink.assets import ASSET_VERSION

        return {"assets": name, "assets_hash": f"vlthink-{ASSET_VERSION}"}
    from vlthink.assets.original.assets import open_pack

    opened = open_pack(root)
    prefix = "" if opened.verified else "unverified-"  # VLTHINK_ORIGINAL_UNVERIFIED=1 runs
    return {"assets": name, "assets_hash": prefix + opened.contents_hash}
