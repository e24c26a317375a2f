"""``vlthink demos replay DATASET --episode K``: rerun an episode's executed actions from its
seed; report whether it succeeds again and how far frames and states are from the dataset's.

Every executed action up to the cut (idle ones included) is sent, from the recorded simulator
seed; the frames of the kept steps are compared with the decoded video (PSNR: codec loss plus
any drift of the simulation) and the states with ``observation.state`` (max abs difference).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vlthink.demos import reader
from vlthink.demos.processing import state_vector
from vlthink.video import psnr


@dataclass(frozen=True)
class ReplayReport:
    episode: int
    env_id: str
    episode_seed: int
    steps: int
    recorded_success: bool
    success: bool
    psnr_min: float  # dB, replayed frames vs the decoded video
    psnr_mean: float
    state_max_abs: float  # max |replayed - recorded| over observation.state

    @property
    def ok(self) -> bool:
        return self.success == self.recorded_success

    def line(self) -> str:
        verdict = "succeeds again" if self.success else "does NOT succeed"
        return (
            f"episode {self.episode} ({self.env_id}, sim seed {self.episode_seed}): "
            f"{self.steps} steps replayed, {verdict} (recorded: "
            f"{'success' if self.recorded_success else 'failure'}); frames vs video: PSNR "
            f"min {self.psnr_min:.1f} dB, mean {self.psnr_mean:.1f} dB; state max |diff| "
            f"{self.state_max_abs:.2e}"
        )


def replay(root: Path, index: int, envs: dict | None = None) -> ReplayReport:
    """Replay one episode; ``envs`` caches built envs by id across calls."""
    from vlthink.harness.worker import ManiSkillEpisodes

    side = reader.sidecar(root, index)
    envs = {} if envs is None else envs
    if side["env_id"] not in envs:
        assets = reader.recorded_assets(root)  # drawn as when it was recorded
        envs[side["env_id"]] = ManiSkillEpisodes(side["env_id"], obs_mode="rgb", assets=assets)
    env = envs[side["env_id"]]
    obs = env.reset([int(side["episode_seed"])])[0].observation
    kept = set(side["kept_steps"])
    frames, states, success = [], [], False
    for t, action in enumerate(side["executed_actions"]):
        if t in kept:
            frames.append(np.asarray(obs.image))
            states.append(state_vector(obs.privileged))
        out = env.step(np.asarray(action, np.float32)[None])[0]
        obs, success = out.observation, bool(out.success)
    video = reader.episode_frames(root, index, len(side["kept_steps"]))
    recorded = np.asarray(
        reader.parquet_columns(root, index, ["observation.state"])["observation.state"], np.float32
    )
    scores = [psnr(a, b) for a, b in zip(frames, video)]
    if len(frames) != len(video) or len(states) != len(recorded):
        raise reader.DatasetError(
            f"episode {index}: {len(video)} video frames and "
            f"{len(recorded)} rows, the sidecar keeps {len(frames)} steps"
        )
    return ReplayReport(
        index,
        side["env_id"],
        int(side["episode_seed"]),
        len(side["executed_actions"]),
        bool(side["success"]),
        success,
        float(min(scores)),
        float(np.mean(scores)),
        float(np.max(np.abs(np.stack(states) - recorded))),
    )
