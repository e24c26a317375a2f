"""The suites' env ids and protocol version, registered with Gymnasium without building anything.

``import vlthink`` runs :func:`register_gym_ids`: each id gets a Gymnasium spec whose entry point
imports the envs (torch, SAPIEN, ManiSkill: seconds) only when an env is first made. A process
that only plans, publishes or starts workers (the harness's parent) never pays for them.

The ids are listed here, in suite order; the task tables (:mod:`vlthink.envs.vl_think`'s
``TASKS``, :mod:`vlthink.envs.ood.variants`'s ``VARIANTS``) must hold exactly these rows, which
:mod:`vlthink.envs.registry` checks when it is imported.
"""

from __future__ import annotations

from functools import partial

from vlthink.scene.timing import MAX_EPISODE_STEPS

PROTOCOL_VERSION = "vlthink-3"
"""Identifies the scene protocol (layouts, success rule, step budget). Runs made under different
protocol versions are never paired or published together; bump it when any of those change.

History: ``vlthink-1`` first release. ``vlthink-2``: OOD objects rest on a flat collision base in a
calibrated resting pose (before, rounded objects could still be rolling at step 0).
``vlthink-3``: the paper's rules fact for fact (README, "Protocol"): layouts, distractors,
PosChangeTo, Tex/Whole overlays, MultiPlate tables and split, Position yaws, EEPose draw, Instruct
templates, the success disk, physics constants, lights, shader, the table image as background;
and the original's object, receptacle and table-look categories at their sizes."""

VL_THINK_DOMAINS = (
    "Shape", "Color", "Traffic", "Laundry", "Weather", "Arrow", "PublicInfo", "Parity",
)  # fmt: skip
OOD_VARIANTS = (
    "Train",
    "VisionImg", "Tex03", "Tex05", "Whole03", "Whole05",
    "Carrot", "Plate", "Instruct", "MultiCarrot", "MultiPlate",
    "Position", "EEPose", "PosChangeTo",
)  # fmt: skip


def vl_think_env_id(domain: str) -> str:
    return f"VLThink-{domain}-v0"


def ood_env_id(variant: str) -> str:
    return f"VLThink-OOD-{variant}-v0"


ENV_IDS = (*map(vl_think_env_id, VL_THINK_DOMAINS), *map(ood_env_id, OOD_VARIANTS))


def _make(env_id: str, **kwargs):
    from vlthink.envs.registry import make_env

    return make_env(env_id, **kwargs)


def _make_vec(env_id: str, **kwargs):
    from vlthink.envs.registry import make_vec_env

    return make_vec_env(env_id, **kwargs)


def register_gym_ids() -> None:
    """A Gymnasium spec per id, as ManiSkill's ``register_env`` writes it (idempotent)."""
    import gymnasium as gym
    from gymnasium.envs.registration import WrapperSpec

    for env_id in ENV_IDS:
        if env_id in gym.registry:
            continue
        gym.register(
            env_id,
            entry_point=partial(_make, env_id=env_id),
            vector_entry_point=partial(_make_vec, env_id=env_id),
            max_episode_steps=MAX_EPISODE_STEPS,
            disable_env_checker=True,  # ManiSkill's envs may have empty observation spaces
            additional_wrappers=(
                WrapperSpec(
                    "MSTimeLimit",
                    entry_point="mani_skill.utils.registration:TimeLimitWrapper",
                    kwargs={"max_episode_steps": MAX_EPISODE_STEPS},
                ),
            ),
        )
