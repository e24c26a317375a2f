"""Provenance: which versions, which render device, which commit produced a result.

One place for these facts, read by ``vlthink doctor`` (with a fix on every failing line) and
written into every run manifest (``vlthink-eval``, ``vlthink diagnose``, ``vlthink demos``).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from importlib import metadata
from typing import Any

#: Distributions whose versions a manifest records.
TRACKED = ("sapien", "mani_skill", "torch", "gymnasium", "numpy", "scipy")


def dist_version(dist: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def package_version() -> str:
    """vlthink's own version (``+checkout`` when run from a source tree that is not installed)."""
    v = dist_version("vlthink")
    if v:
        return v
    try:
        import tomllib

        from vlthink.paths import REPO_DIR

        with open(REPO_DIR / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh)["project"]["version"] + "+checkout"
    except Exception:
        return "unknown"


def mesa_version() -> str:
    """Mesa's Vulkan driver version as dpkg knows it ('' when unknown)."""
    if not shutil.which("dpkg-query"):
        return ""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "mesa-vulkan-drivers"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def render_devices() -> str:
    """The devices SAPIEN can render with, e.g. 'llvmpipe (LLVM 15.0.6, 256 bits)' or a GPU name.

    Raises whatever SAPIEN raises when no Vulkan device is usable.
    """
    import sapien

    summary = sapien.render.get_device_summary()
    names = re.findall(r"GPU:\s*(.+)", summary)
    supported = re.findall(r"Supported:\s*(\d)", summary)
    return ", ".join(n.strip() for n, s in zip(names, supported) if s == "1")


def git_commit() -> str | None:
    """HEAD of the checkout vlthink runs from (``+dirty`` with uncommitted changes), or None."""
    from vlthink.paths import REPO_DIR

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", "-C", str(REPO_DIR), *args], capture_output=True, text=True, timeout=10
        )

    try:
        head = git("rev-parse", "--verify", "-q", "HEAD")
        commit = head.stdout.strip()
        if head.returncode != 0 or not commit:
            return None
        dirty = git("status", "--porcelain", "-uno").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def art_versions() -> dict[str, str]:
    """Versions of the project's own art (board PNGs, OOD assets): results cite them, since a
    change of art changes what every policy sees."""
    from vlthink.assets import ASSET_VERSION
    from vlthink.boards.catalogue import ART_VERSION

    return {"board_art": ART_VERSION, "ood_assets": ASSET_VERSION}


def environment_info() -> dict[str, Any]:
    """The provenance block of a manifest: versions, render device, commit, host."""
    try:
        device: str | None = render_devices() or None
    except Exception as exc:
        device = f"unknown ({type(exc).__name__})"
    versions: dict[str, str | None] = {"vlthink": package_version()}
    versions.update({d: dist_version(d) for d in TRACKED})
    versions["mesa"] = mesa_version() or None
    versions["python"] = platform.python_version()
    versions.update(art_versions())
    return {
        "versions": versions,
        "render_device": device,
        "git_commit": git_commit(),
        "host": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }
