"""VL-Think answer mode: the carrot is already in the gripper; the agent answers by placing it.

Task (issue 34; the protocol of Act2Answer, arXiv 2606.19297)
    The carrot starts held in the closed gripper, 7 cm above and between two boards (left and
    right, at VL-Think's side positions). One board shows the target concept, the other a
    distractor of the same domain (Parity: one odd, one even numeral), and the instruction is
    VL-Think's. A policy that cannot grasp can still answer, so the score measures what it
    knows rather than how well it picks.

Swapped pairs
    Episode seed ``s`` shows pair ``s >> 1`` in orientation ``s & 1``: both seeds of a pair draw
    the same boards, target and table look from the pair's RNG, and orientation 1 swaps the two
    boards (the mirror). The harness gives episodes ``2k`` and ``2k + 1`` of a run the two seeds
    of one pair (:func:`vlthink.harness.episodes.episode_seed`), and ``task_info`` names the
    pair and orientation, so a row says which it is.

Same seed, same episode
    Every reset of a one-env instance builds a new scene (ManiSkill's reconfiguration,
    ``reconfiguration_freq=1``) before the grasp is made, so a seed's whole episode, first
    frame and state included, is the same bit for bit whatever ran before
    (tests/test_answer_mode.py, tests/test_every_env.py).

Everything else is VL-Think's (:mod:`vlthink.envs.vl_think`): robot, camera, image pipeline,
table looks, physics, the success rule. Success is read at the final step
(``success_at_end``); the horizon is :data:`vlthink.envs.ids.ANSWER_MAX_EPISODE_STEPS`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import torch
from mani_skill.utils.logging_utils import logger as maniskill_logger
from mani_skill.utils.structs.pose import Pose

from vlthink.boards import catalogue
from vlthink.envs.ids import answer_env_id  # noqa: F401  (re-exported)
from vlthink.envs.vl_think import (
    BOARD_HALF_SIZE,
    BOARD_X,
    DOMAIN_TASKS,
    LAYOUT_KINDS,
    POSITION_Y,
    POSITIONS_2,
    TASKS,
    DomainTask,
    EpisodeLayout,
    VLThinkEnv,
    draw_table_look,
)
from vlthink.scene.widowx import (
    ROBOT_BASE_P,
    ROBOT_BASE_Q,
    ROBOT_INIT_QPOS,
    SETTLE_SECONDS,
    SIM_FREQ,
    TABLE_TOP_Z,
)

# The arm's start: the TCP at (-0.25, 0.0, 0.955) m, fingers down as in VL-Think's start pose
# (the controller's own IK from ROBOT_INIT_QPOS, read back once); fingers open, closed on the
# carrot while the scene settles.
HOLD_ARM_QPOS = (0.07018, 0.50642, -0.25657, 0.00054, 1.37787, 0.08893)
CARROT_ABOVE_TCP = 0.004  # m: the oracle's grasp (its GRASP_DEPTH), the fingers straddle the body
GRIPPER_CLOSE = -1.0  # the gripper action that closes the fingers
PINNED_SECONDS = 0.2  # s of the settle the carrot is held in place while the fingers close
ORIENTATIONS = ("drawn", "mirrored")


# VL-Think's rows with two positions, left and right (Parity already has them).
ANSWER_TASKS: dict[str, DomainTask] = {t.domain: replace(t, positions=POSITIONS_2) for t in TASKS}


@dataclass(frozen=True)
class AnswerEpisode:
    """What seed ``s`` shows: VL-Think's two-board layout of pair ``s >> 1``, mirrored when
    ``s & 1``, on the pair's table look."""

    layout: EpisodeLayout
    table_look: str
    pair: int
    orientation: str  # "drawn" or "mirrored"


def mirror(layout: EpisodeLayout) -> EpisodeLayout:
    """The same boards, target and instruction with the two boards' positions swapped."""
    return replace(
        layout,
        boards=layout.boards[::-1],
        target_slot=len(layout.boards) - 1 - layout.target_slot,
    )


def draw_episode(domain: str, seed: int) -> AnswerEpisode:
    """The episode of ``seed``: drawn from the pair's RNG as VL-Think draws one (layout, then
    table look), with the boards swapped in the pair's second orientation."""
    task = ANSWER_TASKS[domain]
    rng = np.random.RandomState(int(seed) >> 1)
    layout = LAYOUT_KINDS[task.layout](task, rng)
    look = draw_table_look(rng)
    flipped = int(seed) & 1
    return AnswerEpisode(
        mirror(layout) if flipped else layout, look, int(seed) >> 1, ORIENTATIONS[flipped]
    )


class VLThinkAnswerEnv(VLThinkEnv):
    """Base class of the eight answer-mode tasks; subclasses set DOMAIN."""

    episodes: list[AnswerEpisode | None]

    def __init__(self, *args, **kwargs):
        # A new physics scene at every reset (ManiSkill's reconfiguration): CPU PhysX carries
        # state from one episode into the next that no reset call clears (contact caches, sleep
        # records, and the solver's response to the grasp's first contact differed after some
        # episodes even with those cleared), and the grasp built during the settle amplifies
        # the smallest difference; a fresh scene replays a seed bit for bit. One env only:
        # ManiSkill cannot rebuild a batched scene on a partial reset (untested on the GPU).
        if kwargs.get("num_envs", 1) == 1:
            kwargs.setdefault("reconfiguration_freq", 1)
        self._agent_loads = 0
        super().__init__(*args, **kwargs)

    def _load_agent(self, options: dict):
        """VL-Think's agent. ManiSkill warns about the gripper's mimic joints each time it loads
        the agent, which is every reset here: the first load's warning is the one shown."""
        level = maniskill_logger.level
        if self._agent_loads:
            maniskill_logger.setLevel(logging.ERROR)
        try:
            super()._load_agent(options)
        finally:
            maniskill_logger.setLevel(level)
        self._agent_loads += 1

    @property
    def domain_task(self) -> DomainTask:
        """The domain's VL-Think row with two positions (VL-Think's own row is ``vl_think_task``)."""
        return ANSWER_TASKS[self.DOMAIN]

    @domain_task.setter
    def domain_task(self, row: DomainTask) -> None:
        self.vl_think_task = row

    # ---- episode ---------------------------------------------------------------------------------
    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        idx = [int(i) for i in env_idx]
        if len(self.layouts) != self.num_envs:
            self.layouts = [None] * self.num_envs
            self.episode_table_looks = [None] * self.num_envs
            self.episodes = [None] * self.num_envs
        for i in idx:
            ep = draw_episode(self.DOMAIN, int(self._episode_seed[i]))
            self.episodes[i], self.layouts[i] = ep, ep.layout
            self.episode_table_looks[i] = ep.table_look
            self.set_table_look(ep.table_look, env_idx=[i])
            self.target_slot[i] = ep.layout.target_slot
            for board, key in zip(self.boards, ep.layout.boards):
                self.set_actor_texture(board, key, path=catalogue.board_path(key), env_idx=[i])
        self._place_boards(len(idx))
        self._hold_carrot(env_idx)

    def _place_boards(self, n: int) -> None:
        for board, pos in zip(self.boards, self.domain_task.positions):
            p = torch.tensor([BOARD_X, POSITION_Y[pos], TABLE_TOP_Z + BOARD_HALF_SIZE[2]])
            board.set_pose(
                Pose.create_from_pq(p=p.expand(n, 3), q=torch.tensor([1.0, 0, 0, 0]).expand(n, 4))
            )
            board.set_linear_velocity(torch.zeros(n, 3))
            board.set_angular_velocity(torch.zeros(n, 3))

    def _hold_carrot(self, env_idx: torch.Tensor) -> None:
        """The arm at its start pose with the carrot between open fingers, then the gripper closed
        on it while the scene settles, as a control step does it (the controller's targets, the
        arm's gravity compensation, SETTLE_SECONDS of physics), in the reset's new scene."""
        n = len(env_idx)
        qpos = torch.tensor([*HOLD_ARM_QPOS, *ROBOT_INIT_QPOS[6:]], dtype=torch.float32)
        self.agent.robot.set_pose(
            Pose.create_from_pq(p=torch.tensor(ROBOT_BASE_P), q=torch.tensor(ROBOT_BASE_Q))
        )
        self.agent.reset(init_qpos=qpos.expand(n, -1) if self.num_envs > 1 else qpos)
        self.agent.controller.reset()
        held = Pose.create_from_pq(
            p=self.tcp_pose.p[env_idx] + torch.tensor([0.0, 0.0, CARROT_ABOVE_TCP]),
            q=torch.tensor([1.0, 0, 0, 0]).expand(n, 4),
        )
        hold = torch.zeros(self.num_envs, 7)
        hold[:, 6] = GRIPPER_CLOSE
        self.agent.set_action(hold.to(self.device))
        for step in range(int(SIM_FREQ * SETTLE_SECONDS)):
            if step < int(SIM_FREQ * PINNED_SECONDS):  # held still while the fingers close
                self.carrot.set_pose(held)
                self.carrot.set_linear_velocity(torch.zeros(n, 3))
                self.carrot.set_angular_velocity(torch.zeros(n, 3))
            self.agent.before_simulation_step()
            if self.gpu_sim_enabled:
                self.scene._gpu_apply_all()
            self.scene.step()
            if self.gpu_sim_enabled:
                self.scene._gpu_fetch_all()

    # ---- what policies and the harness see -------------------------------------------------------
    def _task_info(self) -> list[dict]:
        """VL-Think's facts, and which pair and orientation this episode is."""
        out = super()._task_info()
        for facts, ep in zip(out, self.episodes):
            facts.update(pair=ep.pair, orientation=ep.orientation)
        return out

    def _privileged_state(self) -> dict:
        """VL-Think's, and that the object starts in the gripper (the oracle skips the grasp)."""
        held = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        return {**super()._privileged_state(), "object_in_hand": held}


def _domain_env(domain: str) -> type[VLThinkAnswerEnv]:
    """A thin subclass per domain (the registry needs one class per id)."""
    return type(
        f"VLThink{domain}AnswerEnv",
        (VLThinkAnswerEnv,),
        {"DOMAIN": domain, "__doc__": f"VL-Think {domain}, answer mode: {__doc__}"},
    )


ANSWER_ENVS: dict[str, tuple[type[VLThinkAnswerEnv], str]] = {
    t.domain: (_domain_env(t.domain), DOMAIN_TASKS[t.domain].summary.replace("3 ", "2 ", 1))
    for t in TASKS
}
"""Domain -> (env class, one line: what its boards show)."""
globals().update({c.__name__: c for c, _ in ANSWER_ENVS.values()})  # named by entry points
