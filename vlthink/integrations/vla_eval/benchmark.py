"""vlthink's suites as a vla-eval benchmark: ``benchmark: vlthink.integrations.vla_eval:VLThinkBenchmark``.

One vla-eval task per env id (``suite``: a suite name such as ``vl-think`` / ``ood`` or env ids).
vla-eval's episode index ``episode_idx`` and the benchmark's ``seed`` are vlthink's episode and
run seed: the scene is reset with :func:`vlthink.harness.episodes.episode_seed` of
``(env_id, episode, seed)``, so ``vlthink-eval --seed S`` plays the same scenes. The env is the
one ``vlthink-eval``'s workers drive (:class:`vlthink.harness.worker.ManiSkillEpisodes`) and an
episode's outcome is worked out by the same :class:`vlthink.harness.executor.RunningEpisode`,
so ``get_result()`` holds the very row ``vlthink-eval`` would write (under ``metrics["row"]``),
beside ``success`` (= ``success_once``), ``placed_on``, ``target_position`` and ``grasped``.

Actions follow vla-eval's Simpler/WidowX benchmark (``[pos3, rotvec3, gripper]``, the gripper
binarised at 0.5); an ``(H, 7)`` chunk is played whole (or its first ``replan_steps``) in one
``step``. :mod:`vlthink.integrations.vla_eval.importer` turns the results into a run directory.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from vla_eval.benchmarks.base import StepBenchmark, StepResult
from vla_eval.specs import (
    GRIPPER_CLOSE_POS,
    IMAGE_RGB,
    LANGUAGE,
    POSITION_DELTA,
    RAW,
    ROTATION_AA,
    ROTATION_EULER,
    DimSpec,
)

from vlthink.harness.episodes import EpisodeKey
from vlthink.policies.vla_eval import STATE_DIM, action_chunk, env_actions, primary_image

#: metrics["row"] holds the vlthink-eval row under this policy name until the importer names it.
UNNAMED_POLICY = "vla-eval"
#: The vlthink facts get_result() reports beside the row.
FACTS = (
    "success_at_end",
    "placed_on",
    "target",
    "grasped",
    "steps",
    "env",
    "episode",
    "seed",
    "episode_seed",
)


class VLThinkBenchmark(StepBenchmark):
    """VL-Think / OOD envs for vla-eval's orchestrator (sync mode)."""

    # vlthink chooses its render device itself (SAPIEN falls back to the CPU renderer)
    render_backends: ClassVar[frozenset[str]] = frozenset({"gpu", "cpu"})

    @classmethod
    def configure_render(cls, mode: str) -> dict[str, str]:
        return {}

    def __init__(
        self,
        suite: str | list[str] = "vl-think",
        seed: int = 0,
        image_size: list[int] | None = None,
        send_state: bool = False,
        rotation: str = "rotvec",
        replan_steps: int | None = None,
    ) -> None:
        from vlthink.envs import ids

        super().__init__()
        self.env_ids = ids.resolve_suites([suite] if isinstance(suite, str) else list(suite))
        self.groups = {i: dict(zip(("suite", "group"), ids.GROUPS[i])) for i in self.env_ids}
        self.seed = int(seed)
        self.image_size = image_size
        self.send_state = send_state
        self.rotation = rotation
        self.replan_steps = replan_steps
        self._env: Any = None
        self._env_id: str | None = None
        self._episode: Any = None  # the RunningEpisode being played

    def get_tasks(self) -> list[dict[str, Any]]:
        return [{"name": e, "env_id": e, "seed": self.seed, **self.groups[e]} for e in self.env_ids]

    def _env_for(self, env_id: str) -> Any:
        from vlthink.harness.worker import ManiSkillEpisodes

        if self._env_id != env_id:
            self.cleanup()
            self._env = ManiSkillEpisodes(env_id, "rgb")
            self._env_id = env_id
        return self._env

    def reset(self, task: dict[str, Any]) -> Any:
        from vlthink.harness.executor import RunningEpisode

        env = self._env_for(task["env_id"])
        key = EpisodeKey(task["env_id"], int(task.get("episode_idx", 0)), self.seed)
        self._episode = RunningEpisode.of(key)
        ready = env.reset([self._episode.seed])[0]
        self._episode.started(ready)
        return ready

    def step(self, action: dict[str, Any]) -> StepResult:
        chunk = action_chunk(action, "the model server")
        reply = None
        for raw in chunk[: self.replan_steps or len(chunk)]:
            reply = self._env.step(env_actions(raw[None], self.rotation))[0]
            self._episode.stepped(reply)
            if reply.done:
                break
        return StepResult(obs=reply, reward=float(reply.success), done=bool(reply.done), info={})

    def make_obs(self, raw_obs: Any, task: dict[str, Any]) -> dict[str, Any]:
        obs: dict[str, Any] = {
            "images": {"primary": primary_image(raw_obs.observation.image, self.image_size)},
            "task_description": raw_obs.observation.instruction,
            "task_name": task["env_id"],
        }
        if self.send_state:  # vlthink's learned policies do not observe the robot state
            obs["states"] = np.zeros(STATE_DIM, dtype=np.float32)
        return obs

    def check_done(self, step_result: StepResult) -> bool:
        return bool(step_result.done)

    def get_step_result(self, step_result: StepResult) -> dict[str, Any]:
        row = self._episode.row(UNNAMED_POLICY)
        row.pop("seconds", None)
        facts = {k: row.get(k) for k in FACTS}
        position = (row.get("task") or {}).get("target_position")
        ended = bool(self._episode.done)
        return {
            "success": row["success_once"],
            **facts,
            "target_position": position,
            "ended": ended,
            "row": row,
        }

    def get_metric_keys(self) -> dict[str, str]:
        return {"success": "mean", "success_at_end": "mean", "grasped": "mean"}

    def get_metadata(self) -> dict[str, Any]:
        from vlthink.scene.timing import MAX_EPISODE_STEPS

        return {"max_steps": MAX_EPISODE_STEPS, "suite": self.env_ids, "seed": self.seed}

    def get_action_spec(self) -> dict[str, DimSpec]:
        rotation = ROTATION_AA if self.rotation == "rotvec" else ROTATION_EULER
        return {"position": POSITION_DELTA, "rotation": rotation, "gripper": GRIPPER_CLOSE_POS}

    def get_observation_spec(self) -> dict[str, DimSpec]:
        spec = {"primary": IMAGE_RGB, "language": LANGUAGE}
        return {**spec, "state": RAW} if self.send_state else spec

    def cleanup(self) -> None:
        env, self._env, self._env_id = self._env, None, None
        if env is not None:
            env.close()
