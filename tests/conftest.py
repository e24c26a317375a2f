"""Test set-up: find the WidowX robot description before ManiSkill is imported."""

import os
from pathlib import Path

_offline = Path(__file__).resolve().parents[1].parent / "shared" / "maniskill"
if not os.environ.get("MS_ASSET_DIR") and _offline.is_dir():
    os.environ["MS_ASSET_DIR"] = str(_offline)
os.environ.setdefault("MS_SKIP_ASSET_DOWNLOAD_PROMPT", "1")
