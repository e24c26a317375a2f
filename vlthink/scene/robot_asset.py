"""Finding the WidowX robot description, which the mani_skill wheel does not carry.

Order: ``MS_ASSET_DIR`` when set (ManiSkill reads it at import; CI points it at an offline copy),
else ManiSkill's default asset folder, downloading there with ManiSkill's own downloader,
non-interactively. Offline, the error says exactly what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

ROBOT_ASSET_ID = "widowx250s"  # ManiSkill's data-source id for the WidowX description


class RobotAssetError(RuntimeError):
    pass


def urdf_path() -> Path:
    from mani_skill import ASSET_DIR

    return Path(ASSET_DIR) / "robots" / "widowx" / "wx250s.urdf"


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
