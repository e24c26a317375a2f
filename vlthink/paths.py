"""Where vlthink finds its data files, in a checkout and in an installed wheel.

In a checkout the board art lives in ``assets/boards/`` and the named policy files in ``policies/``
at the top of the repository; a wheel carries both inside the package as ``vlthink/_data/``.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


def boards_dir() -> Path:
    """Folder of the board PNGs and their manifest."""
    return _first_existing(PACKAGE_DIR / "_data" / "boards", REPO_DIR / "assets" / "boards")


def policies_dir() -> Path:
    """Folder of the named policy files (``openvla-align.toml`` …)."""
    return _first_existing(PACKAGE_DIR / "_data" / "policies", REPO_DIR / "policies")


def cache_dir() -> Path:
    """Writable cache for generated textures (procedural table looks, overlays)."""
    root = os.environ.get("VLTHINK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "vlthink"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path
