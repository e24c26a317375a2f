"""The `vlthink` command and the robot-asset and rendering checks, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def vlthink(*args, env=None, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "vlthink.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_doctor_reports_render_device_versions_and_asset():
    out = vlthink("doctor")
    assert out.returncode == 0, out.stdout + out.stderr
    for name in (
        "render device",
        "sapien",
        "mani_skill",
        "mesa-vulkan-drivers",
        "WidowX asset",
        "board art",
    ):
        assert name in out.stdout
    assert "FAIL" not in out.stdout


def test_doctor_names_the_fix_when_the_robot_is_missing(tmp_path):
    out = vlthink("doctor", env={"MS_ASSET_DIR": str(tmp_path)})
    assert out.returncode == 1
    assert "WidowX asset" in out.stdout and "(missing)" in out.stdout
    assert "MS_ASSET_DIR" in out.stdout and "download_asset widowx250s" in out.stdout


def test_missing_robot_offline_gives_one_clear_error(tmp_path):
    code = (
        "from vlthink.scene.robot_asset import ensure_robot_asset, RobotAssetError\n"
        "try:\n    ensure_robot_asset(download=False)\n"
        "except RobotAssetError as e:\n    print('ERR', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MS_ASSET_DIR": str(tmp_path)},
    )
    assert "ERR WidowX robot description not found" in out.stdout
    assert str(tmp_path) in out.stdout and "download_asset widowx250s" in out.stdout


@pytest.mark.parametrize("ms_asset_dir", ["set", "unset"])
def test_the_robot_check_finds_maniskills_folder_without_importing_it(tmp_path, ms_asset_dir):
    """The harness's parent checks the robot file before any worker builds an env; by
    ManiSkill's rule, not its import (seconds of torch and SAPIEN)."""
    code = (
        "import sys\n"
        "from vlthink.scene.robot_asset import asset_dir, urdf_path\n"
        "ours = asset_dir(); urdf_path()\n"
        "loaded = 'mani_skill' in sys.modules\n"
        "import mani_skill\n"
        "print(loaded, ours == mani_skill.ASSET_DIR, asset_dir() == mani_skill.ASSET_DIR)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MS_ASSET_DIR"}
    env["HOME"] = str(tmp_path)  # the default folder lives under the home directory
    if ms_asset_dir == "set":
        env["MS_ASSET_DIR"] = str(tmp_path / "assets")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.stdout.split() == ["False", "True", "True"], out.stderr[-2000:]


def test_envs_lists_every_vl_think_id():
    out = vlthink("envs")
    assert out.returncode == 0
    for domain in (
        "Shape",
        "Color",
        "Traffic",
        "Laundry",
        "Weather",
        "Arrow",
        "PublicInfo",
        "Parity",
    ):
        assert f"VLThink-{domain}-v0" in out.stdout


def test_boards_writes_a_contact_sheet(tmp_path):
    from PIL import Image

    out = vlthink("boards", "--domain", "Arrow", "--out", str(tmp_path / "arrow.png"))
    assert out.returncode == 0, out.stderr
    img = Image.open(tmp_path / "arrow.png")
    assert img.width > 400 and img.height > 100


def test_unknown_domain_is_one_clear_line(tmp_path):
    out = vlthink("boards", "--domain", "Trafic", "--out", str(tmp_path / "x.png"))
    assert out.returncode == 2
    assert "Traffic" in out.stderr and "Traceback" not in out.stderr
