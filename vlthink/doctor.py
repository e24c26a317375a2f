"""`vlthink doctor`: what this machine renders with, which versions run, where the robot is.

Every line that is not OK carries the fix. The facts come from :mod:`vlthink.provenance`, the
same functions that write them into every run manifest.
"""

from __future__ import annotations

import glob
import os
import platform
import re
from dataclasses import dataclass

from vlthink import provenance

MIN_MESA = (24, 3)  # lavapipe older than this cannot serve SAPIEN's renderer
MESA_FIX = (
    "install Mesa's Vulkan drivers >= 24.3: on Debian 12 `apt-get install -t bookworm-backports "
    "mesa-vulkan-drivers libvulkan1` (add\n"
    "`deb http://deb.debian.org/debian bookworm-backports main` "
    "to the apt sources first), on Debian 13 / Ubuntu 24.10+ `apt-get install mesa-vulkan-drivers "
    "libvulkan1`; with an NVIDIA GPU, install its driver instead"
)


@dataclass
class Check:
    name: str
    value: str
    ok: bool = True
    fix: str = ""


def _mesa_ok(version: str) -> bool:
    m = re.match(r"(?:\d+:)?(\d+)\.(\d+)", version)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= MIN_MESA


def checks() -> list[Check]:
    import vlthink
    from vlthink.scene.robot_asset import urdf_path

    out = [
        Check("vlthink", provenance.package_version() + f" (protocol {vlthink.PROTOCOL_VERSION})"),
        Check("python", platform.python_version()),
    ]
    out += [
        Check(d, provenance.dist_version(d) or "not installed")
        for d in ("sapien", "mani_skill", "torch", "gymnasium")
    ]
    mesa = provenance.mesa_version()
    icds = glob.glob("/usr/share/vulkan/icd.d/*.json") + glob.glob("/etc/vulkan/icd.d/*.json")
    try:
        device = provenance.render_devices()
    except Exception as exc:  # SAPIEN raises plain RuntimeErrors here
        device = f"error: {exc}"
    has_device = bool(device) and not device.startswith("error")
    software = "llvmpipe" in device or "lavapipe" in device
    out.append(
        Check(
            "mesa-vulkan-drivers",
            mesa or "not found (no dpkg, or not installed)",
            ok=(not software and has_device) or _mesa_ok(mesa),
            fix="" if _mesa_ok(mesa) or (has_device and not software) else MESA_FIX,
        )
    )
    out.append(
        Check(
            "vulkan ICDs",
            ", ".join(os.path.basename(p) for p in icds) or "none",
            ok=bool(icds),
            fix="" if icds else MESA_FIX,
        )
    )
    out.append(
        Check(
            "render device",
            (device or "none found") + (" (CPU, software)" if software else ""),
            ok=has_device,
            fix="" if has_device else MESA_FIX,
        )
    )
    urdf = urdf_path()
    out.append(
        Check(
            "WidowX asset",
            str(urdf) + ("" if urdf.exists() else " (missing)"),
            ok=urdf.exists(),
            fix=""
            if urdf.exists()
            else "set MS_ASSET_DIR to a folder holding data/robots/widowx, or run "
            "`python -m mani_skill.utils.download_asset widowx250s -y` with internet access",
        )
    )
    from vlthink.boards import build

    try:
        build.verify()
        out.append(Check("board art", "manifest verified"))
    except Exception as exc:
        out.append(Check("board art", str(exc), ok=False, fix="python -m vlthink.boards.build"))
    out.append(original_pack_check())
    return out


def original_pack_check(root=None) -> Check:
    """The paper's asset pack (optional): absent is fine; present, it must verify."""
    from vlthink.assets.original.pack import FETCH_HINT, check, default_root

    root = default_root() if root is None else root
    if not root.is_dir():
        return Check("original asset pack", f"not fetched (optional: `{FETCH_HINT}`)")
    problems = check(root)
    if problems:
        line = problems.line(root, f"`{FETCH_HINT}`")
        return Check("original asset pack", line.split("; fix:")[0], ok=False, fix=FETCH_HINT)
    return Check("original asset pack", f"{root} (verified)")


def run() -> int:
    """Print every check; exit status 1 when any fails."""
    results = checks()
    width = max(len(c.name) for c in results)
    for c in results:
        mark = "ok " if c.ok else "FAIL"
        print(f"[{mark}] {c.name:<{width}}  {c.value}")
        if not c.ok and c.fix:
            print(f"       {'':<{width}}  fix: {c.fix}")
    return 0 if all(c.ok for c in results) else 1
