"""One vlthink scene as the Gymnasium env ``lerobot-eval`` vectorises.

Observations are what LeRobot's ``preprocess_observation`` turns into a policy's inputs:
``pixels/image`` (the Bridge camera frame, 480x640x3 uint8) becomes
``observation.images.image`` and ``agent_pos`` (vlthink's 7-D state, the convention of
``vlthink demos`` datasets) becomes ``observation.state``; ``task_description`` is the
scene's instruction (LeRobot's ``task``). The action is vlthink's 7-D end-effector delta.

Seeding: ``reset(seed=s)`` is vlthink episode ``s`` of run seed ``run_seed``; its scene is
``vlthink.harness.episodes.episode_seed(task, s, run_seed)``, the scene ``vlthink-eval --seed
run_seed`` gives its episode ``s``. ``reset()`` without a seed goes on to the next episode.
Success is vlthink's rule for the scene, reported every step as ``info["is_success"]``; the
episode runs to its step budget (vlthink's scenes never end early), so LeRobot's count (a
success at any step) is vlthink's ``success_once``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from vlthink.demos.layout import IMAGE_SHAPE
from vlthink.demos.processing import state_vector
from vlthink.harness.episodes import episode_seed
from vlthink.scene.timing import MAX_EPISODE_STEPS

FPS = 5  # the scenes' control rate


class VLThinkEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": FPS}

    def __init__(self, task: str, run_seed: int = 0, episode_length: int = MAX_EPISODE_STEPS):
        from vlthink.harness.worker import ManiSkillEpisodes

        self.task = task
        self.run_seed = run_seed
        self._max_episode_steps = min(episode_length, MAX_EPISODE_STEPS)
        self.render_mode = "rgb_array"
        self.observation_space = gym.spaces.Dict(
            {
                "pixels": gym.spaces.Dict({"image": gym.spaces.Box(0, 255, IMAGE_SHAPE, np.uint8)}),
                "agent_pos": gym.spaces.Box(-np.inf, np.inf, (7,), np.float32),
            }
        )
        self.action_space = gym.spaces.Box(-1.0, 1.0, (7,), np.float32)
        self._episodes = ManiSkillEpisodes(task, obs_mode="rgb")
        self.episode = -1
        self.task_description = ""
        self._image: np.ndarray | None = None
        self._steps = 0

    def _observation(self, obs: Any) -> dict:
        self._image = np.asarray(obs.image, np.uint8)
        return {"pixels": {"image": self._image}, "agent_pos": state_vector(obs.privileged)}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.episode = int(seed) if seed is not None else self.episode + 1
        sim_seed = episode_seed(self.task, self.episode, self.run_seed)
        ready = self._episodes.reset([sim_seed])[0]
        self.task_description = str(ready.task.get("instruction", ""))
        self._steps = 0
        info = {"is_success": False, "episode": self.episode, "episode_seed": sim_seed}
        return self._observation(ready.observation), info

    def step(self, action):
        out = self._episodes.step(np.asarray(action, np.float32).reshape(1, 7))[0]
        self._steps += 1
        success = bool(out.success)
        truncated = bool(out.done) or self._steps >= self._max_episode_steps
        info = {"is_success": success, "episode": self.episode}
        return self._observation(out.observation), float(success), False, truncated, info

    def render(self) -> np.ndarray:
        return self._image if self._image is not None else np.zeros(IMAGE_SHAPE, np.uint8)

    def close(self) -> None:
        self._episodes.close()
