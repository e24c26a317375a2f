"""Where vlthink finds its data files, in a checkout and in an installed wheel.

In a checkout the board art lives in ``assets/boards/`` and the named policy files in ``policies/``
at the top of the repository; a wheel carries both inside the package as ``vlthink/_data/``.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from vlthink.store import atomic_write  # noqa: F401  (re-exported: older callers)

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


def code_digest(files: Iterable[Path], *extra: str) -> str:
    """sha256 of some source files and strings (library versions): part of a cache key, so that
    a cached picture is drawn again whenever the code that draws it changes."""
    h = hashlib.sha256()
    for f in files:
        h.update(Path(f).read_bytes())
    for e in extra:
        h.update(e.encode())
    return h.hexdigest()


def cached_array(kind: str, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    """``make()``, computed once per machine: stored as ``cache_dir()/kind/<sha256 of key>.npy``
    (written atomically; a file that cannot be read is made again), returned read-only."""
    path = cache_dir() / kind / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"
    try:
        arr = np.load(path)
    except (OSError, ValueError):
        arr = np.asarray(make())
        buf = io.BytesIO()
        np.save(buf, arr)
        atomic_write(path, buf.getvalue())
    arr.setflags(write=False)
    return arr
