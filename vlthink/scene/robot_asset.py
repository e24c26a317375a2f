"""Finding the WidowX robot description, which the mani_skill wheel does not carry.

Order: ``MS_ASSET_DIR`` when set (ManiSkill reads it at import; CI points it at an offline copy),
else ManiSkill's default asset folder, downloading there with ManiSkill's own downloader,
non-interactively. Offline, the error says exactly what to do.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from vlthink.errors import VLThinkError

ROBOT_ASSET_ID = "widowx250s"  # ManiSkill's data-source id for the WidowX description


class RobotAssetError(VLThinkError, RuntimeError):
    pass


def asset_dir() -> Path:
    """ManiSkill's data folder. Found by ManiSkill's own rule (``$MS_ASSET_DIR/data``, else
    ``~/.maniskill/data``) rather than by importing ``mani_skill``, whose import loads its envs,
    torch and SAPIEN: seconds that the harness's parent, which only checks the file, never needs.
    Once ``mani_skill`` is loaded its value wins (it read the variable at its import)."""
    loaded = sys.modules.get("mani_skill")
    if loaded is not None and hasattr(loaded, "ASSET_DIR"):
        return Path(loaded.ASSET_DIR)
    root = os.getenv("MS_ASSET_DIR", os.path.join(os.path.expanduser("~"), ".maniskill"))
    return Path(root) / "data"


def urdf_path() -> Path:
    return asset_dir() / "robots" / "widowx" / "wx250s.urdf"


def ensure_robot_asset(download: bool = True) -> Path:
    """The WidowX URDF path, downloading it once if missing and allowed."""
    path = urdf_path()
    if path.exists():
        return path
    where = (
        f"MS_ASSET_DIR={os.environ['MS_ASSET_DIR']}"
        if os.environ.get("MS_ASSET_DIR")
        else "ManiSkill's default asset folder"
    )
    fix = (
        "Fix: point MS_ASSET_DIR at a folder holding data/robots/widowx (an offline copy), or, "
        "with internet access, run "
        f"`python -m mani_skill.utils.download_asset {ROBOT_ASSET_ID} -y`."
    )
    if not download:
        raise RobotAssetError(f"WidowX robot description not found at {path} ({where}). {fix}")
    from mani_skill.utils import assets, download_asset

    try:
        download_asset.download(
            assets.DATA_SOURCES[ROBOT_ASSET_ID], verbose=False, non_interactive=True
        )
    except Exception as exc:  # network errors come in many types (URLError, HTTPError, OSError)
        raise RobotAssetError(
            f"WidowX robot description not found at {path} ({where}) and downloading it failed "
            f"({type(exc).__name__}: {exc}). {fix}"
        ) from None
    if not path.exists():
        raise RobotAssetError(f"ManiSkill's downloader finished but {path} is still missing. {fix}")
    return path
