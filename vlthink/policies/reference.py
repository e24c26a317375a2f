"""Reference policies that give every table a floor (``random``) and a ceiling (``oracle``).

``random``: uniform actions, position deltas within +-``pos_bound`` m, rotation deltas within
+-``rot_bound`` rad, gripper uniform in [-1, 1]; each batch slot has its own generator seeded
from ``(seed, EpisodeSpec.seed)``, so an episode's actions do not depend on the other slots or on
how many workers run.

``always-left``: the oracle aimed at the leftmost board whatever the instruction says; in answer
mode it shows 50% correct and a position bias of 1 (a policy that ignores the instruction).

``oracle``: a scripted policy on privileged simulator state, in :mod:`vlthink.policies.oracle`;
its policy-file keys are the fields of :class:`~vlthink.policies.oracle.OracleConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vlthink.policies.base import EpisodeSpec, Observation, PolicyBase, PolicyError


@dataclass
class RandomConfig:
    pos_bound: float = 0.02
    rot_bound: float = 0.1
    seed: int = 0  # mixed with each episode's seed

    def validate(self) -> tuple[str, str] | None:
        for key in ("pos_bound", "rot_bound"):
            if getattr(self, key) < 0:
                return (key, "must be >= 0")
        return None


class RandomPolicy(PolicyBase):
    uses_images = False
    per_slot_reset = True  # one generator per slot
    batched_act = False
    runs_in_worker = True

    def __init__(self, cfg: RandomConfig, name: str = "random"):
        self.cfg = cfg
        self.name = name
        self.config: dict[str, Any] = {}
        self._rngs: list[np.random.Generator] = []

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        self._rngs = []
        self.reset_slots(list(range(len(episodes))), episodes)

    def reset_slots(self, slots: list[int], episodes: list[EpisodeSpec]) -> None:
        self._rngs += [None] * (max(slots, default=-1) + 1 - len(self._rngs))
        for slot, e in zip(slots, episodes):
            self._rngs[slot] = np.random.default_rng([self.cfg.seed, int(e.seed) & 0xFFFFFFFF])

    def act(self, observations: list[Observation | None]) -> np.ndarray:
        unset = [j for j, o in enumerate(observations) if o is not None and j >= len(self._rngs)]
        if unset:
            raise PolicyError(
                f"{self.name}: act() got an observation for slot {unset[0]}, which no reset "
                f"started ({len(self._rngs)} slots reset)"
            )
        p, r = self.cfg.pos_bound, self.cfg.rot_bound
        low = np.array([-p] * 3 + [-r] * 3 + [-1.0])
        high = -low
        return np.stack(
            [
                np.zeros(7) if o is None else self._rngs[j].uniform(low, high)
                for j, o in enumerate(observations)
            ]
        ).astype(np.float32)

    def close(self) -> None:
        pass


def make_random(cfg: RandomConfig, *, name: str, source: str) -> RandomPolicy:
    return RandomPolicy(cfg, name)


def make_oracle(cfg: Any, *, name: str, source: str):
    from vlthink.policies.oracle import OraclePolicy

    return OraclePolicy(target=cfg.target, max_step=cfg.max_step, name=name)


def always_left(max_step: float | None = None):
    """The ``always-left`` reference (``policies/always-left.toml``): the oracle's motions, always
    to the leftmost board."""
    from vlthink.policies.oracle import MAX_STEP, OraclePolicy

    return OraclePolicy(target="left", max_step=MAX_STEP if max_step is None else max_step)
