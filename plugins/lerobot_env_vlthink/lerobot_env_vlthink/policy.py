"""A LeRobot policy driven by vlthink's harness: vlthink's seeding, rows and statistics.

``vlthink-eval --policy lerobot.toml`` with a policy file::

    adapter = "lerobot_env_vlthink.policy:LeRobotPolicy"
    path = "outputs/train/act/checkpoints/last/pretrained_model"   # config, weights, processors
    device = "cpu"

Each step the harness's observations become the batch ``lerobot-eval`` would give the policy
(``observation.images.image`` as float [0, 1] channels-first, ``observation.state`` as vlthink
datasets record it, ``task``), through the policy's own saved pre- and post-processors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vlthink.demos.processing import state_vector
from vlthink.policies.base import EpisodeSpec, Observation, PolicyBase


class LeRobotPolicy(PolicyBase):
    name = "lerobot"

    def __init__(self, path: str, device: str = "cpu"):
        self.path, self.device = str(path), device
        self._loaded: tuple[Any, Any, Any] | None = None  # policy, preprocessor, postprocessor

    def _load(self) -> tuple[Any, Any, Any]:
        if self._loaded is None:
            from lerobot.configs.policies import PreTrainedConfig
            from lerobot.policies.factory import get_policy_class, make_pre_post_processors

            cfg = PreTrainedConfig.from_pretrained(self.path)
            cfg.device = self.device
            policy = get_policy_class(cfg.type).from_pretrained(self.path, config=cfg)
            policy.eval()
            overrides = {"device_processor": {"device": self.device}}
            pre, post = make_pre_post_processors(
                cfg, pretrained_path=self.path, preprocessor_overrides=overrides
            )
            self._loaded = (policy, pre, post)
        return self._loaded

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        policy, pre, post = self._load()
        policy.reset()
        for step in (pre, post):
            step.reset()

    def act(self, observations: list[Observation]) -> np.ndarray:
        import torch

        policy, pre, post = self._load()
        images = np.stack([np.asarray(o.image, np.uint8) for o in observations])
        batch = {
            "observation.images.image": torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255,
            "observation.state": torch.from_numpy(
                np.stack([state_vector(o.privileged) for o in observations])
            ),
            "task": [o.instruction for o in observations],
        }
        with torch.inference_mode():
            action = post(policy.select_action(pre(batch)))
        return action.to("cpu").numpy().astype(np.float32).reshape(len(observations), 7)
