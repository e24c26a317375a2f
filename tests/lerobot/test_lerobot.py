"""vlthink's datasets and scenes as lerobot 0.6.1 itself sees them (run by ``.ci/lerobot``).

One v3.0 dataset is recorded here under Python 3.12 (2 oracle episodes); lerobot's
``LeRobotDataset`` loads it, lerobot's converter turns vlthink's v2.1 copy of it into v3.0, and
``lerobot-eval`` runs a random-weight ACT saved to a temp directory on two env ids through the
``lerobot_env_vlthink`` plugin. No hub: ``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vlthink.demos import reader

ENV = "VLThink-OOD-Train-v0"
EVAL_ENVS = ("VLThink-Shape-v0", "VLThink-OOD-Carrot-v0")
BIN = Path(sys.executable).parent


def _env() -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", MS_SKIP_ASSET_DOWNLOAD_PROMPT="1")
    env.setdefault("MS_ASSET_DIR", "/work/shared/maniskill")
    return env


def vlthink(*argv: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "vlthink.cli", *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def v30(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("v30") / "ds"
    vlthink(
        "demos", "--suite", ENV, "--episodes", "2", "--format", "v3.0", "--out", str(out),
        "--no-progress",
    )  # fmt: skip
    return out


def _dataset(root: Path):
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    return LeRobotDataset("vlthink/demos", root=root, video_backend="pyav")


def _uint8(chw) -> np.ndarray:
    return (chw.numpy() * 255).round().astype(np.uint8).transpose(1, 2, 0)


def test_lerobot_loads_every_feature_of_a_v30_dataset_vlthink_wrote(v30):
    ds = _dataset(v30)
    info = json.loads((v30 / "meta/info.json").read_text())
    assert ds.num_episodes == 2 and len(ds) == info["total_frames"]
    last = ds[len(ds) - 1]  # the second episode's last frame: offsets in the shared files
    assert set(info["features"]) <= set(last)
    k, ep = int(last["frame_index"]), int(last["episode_index"])
    side = reader.sidecar(v30, ep)
    assert ep == 1 and k == side["length"] - 1
    assert last["task"] == side["instruction"]
    assert last["scene.env_id"] == ENV and int(last["scene.seed"]) == side["episode_seed"]
    rows = reader.parquet_columns(v30, ep, ["action", "observation.state"])
    assert np.array_equal(last["action"].numpy(), np.float32(rows["action"][k]))
    assert np.array_equal(
        last["observation.state"].numpy(), np.float32(rows["observation.state"][k])
    )
    ours = reader.episode_frames(v30, ep, side["length"])[k]
    assert np.array_equal(_uint8(last["observation.images.image"]), ours)
    assert np.allclose(ds.meta.stats["action"]["mean"], np.mean(ds.hf_dataset["action"], 0))


def test_lerobots_converter_accepts_vlthinks_v21_and_gives_the_same_frames(v30, tmp_path):
    from lerobot.scripts.convert_dataset_v21_to_v30 import convert_dataset

    v21 = tmp_path / "v21"
    vlthink("demos", "convert", str(v30), "--to", "v2.1", "--out", str(v21))
    assert json.loads((v21 / "meta/info.json").read_text())["codebase_version"] == "v2.1"
    converted = tmp_path / "converted"
    shutil.copytree(v21, converted)
    convert_dataset("vlthink/demos", root=converted, push_to_hub=False, force_conversion=True)
    theirs, ours = _dataset(converted), _dataset(v30)
    assert len(theirs) == len(ours) and theirs.num_episodes == ours.num_episodes
    for i in (0, len(ours) - 1):
        a, b = theirs[i], ours[i]
        assert np.array_equal(a["action"].numpy(), b["action"].numpy())
        assert np.array_equal(
            _uint8(a["observation.images.image"]), _uint8(b["observation.images.image"])
        )


def test_lerobot_eval_runs_two_episodes_of_two_env_ids_through_the_plugin(v30, tmp_path):
    from tiny_policy import save_tiny_act

    policy = save_tiny_act(tmp_path / "act", v30 / "meta/stats.json")
    for env_id in EVAL_ENVS:
        out = tmp_path / env_id
        proc = subprocess.run(
            [
                str(BIN / "lerobot-eval"),
                f"--policy.path={policy}",
                "--policy.device=cpu",
                "--env.type=vlthink",
                f"--env.task={env_id}",
                "--env.episode_length=6",
                "--eval.n_episodes=2",
                "--eval.batch_size=1",
                "--seed=0",
                f"--output_dir={out}",
            ],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=900,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        metrics = json.loads((out / "eval_info.json").read_text())["overall"]
        assert metrics["n_episodes"] == 2
        assert 0.0 <= metrics["pc_success"] <= 100.0
        assert len(metrics["video_paths"]) == 2 and all(
            Path(p).exists() for p in metrics["video_paths"]
        )


def test_the_plugin_seeds_lerobots_episode_s_as_vlthinks_episode_s():
    from lerobot_env_vlthink.env import VLThinkEnv

    from vlthink.harness.episodes import episode_seed

    env = VLThinkEnv("VLThink-Shape-v0", run_seed=3, episode_length=2)
    try:
        _, info = env.reset(seed=5)
        assert info["episode_seed"] == episode_seed("VLThink-Shape-v0", 5, 3)
        obs, reward, terminated, truncated, info = env.step(np.zeros(7, np.float32))
        assert obs["pixels"]["image"].shape == (480, 640, 3) and obs["agent_pos"].shape == (7,)
        assert env.task_description and isinstance(info["is_success"], bool)
        assert (terminated, truncated) == (False, False)
        assert env.step(np.zeros(7, np.float32))[3] is True  # the budget ends it
        _, info = env.reset()  # no seed: the next episode
        assert info["episode"] == 6
    finally:
        env.close()


def test_an_unknown_env_task_is_one_line_naming_the_fix(tmp_path):
    proc = subprocess.run(
        [str(BIN / "lerobot-eval"), "--env.type=vlthink", "--env.task=VLThink-Nope-v0",
         "--policy.type=act", f"--output_dir={tmp_path / 'out'}"],
        capture_output=True, text=True, env=_env(), timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("lerobot_env_vlthink:")]
    assert len(lines) == 1 and "VLThink-Nope-v0" in lines[0] and "Fix:" in lines[0]
    assert "Traceback" not in proc.stderr


def test_vlthink_eval_drives_a_lerobot_policy_and_writes_vlthink_rows(v30, tmp_path):
    """The other way round: vlthink's harness (its seeding, rows, statistics) with a LeRobot
    policy loaded from its directory by the plugin's adapter."""
    from tiny_policy import save_tiny_act

    from vlthink.harness.episodes import episode_seed

    policy_dir = save_tiny_act(tmp_path / "act", v30 / "meta/stats.json")
    toml = tmp_path / "lerobot.toml"
    toml.write_text(
        f'adapter = "lerobot_env_vlthink.policy:LeRobotPolicy"\npath = "{policy_dir}"\n'
    )
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "vlthink.harness.cli", "--policy", str(toml), "--suite",
         "VLThink-Shape-v0", "--episodes", "1", "--out", str(out), "--no-progress"],
        capture_output=True, text=True, env=_env(), timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["error"] is None and rows[0]["policy"] == "lerobot"
    assert rows[0]["episode_seed"] == episode_seed("VLThink-Shape-v0", 0, 0)
    assert rows[0]["steps"] > 0 and isinstance(rows[0]["success_once"], bool)
