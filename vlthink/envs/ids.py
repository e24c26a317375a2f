"""The suites' env ids, their groups and the protocol version, registered with Gymnasium without
building anything.

``import vlthink`` runs :func:`register_gym_ids`: each id gets a Gymnasium spec whose entry point
is a string naming its env class (:data:`ENTRY_POINTS`), imported (torch, SAPIEN, ManiSkill:
seconds) only when an env is first made. A process that only plans, publishes or starts workers
(the harness's parent) never pays for them.

The ids are listed here, in suite order, with their suite and group (what a run's manifest
and the harness's plan need); nothing here imports the env modules. The task tables
(:mod:`vlthink.envs.vl_think`'s ``TASKS``, :mod:`vlthink.envs.ood.variants`'s ``VARIANTS``) hold
the same rows and groups, which ``tests/test_env_ids.py`` checks (with every entry point).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from functools import partial

from vlthink.errors import VLThinkError
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
OOD_VARIANTS = {  # variant -> its axis
    "Train": "Train",
    "VisionImg": "Vision", "Tex03": "Vision", "Tex05": "Vision",
    "Whole03": "Vision", "Whole05": "Vision",
    "Carrot": "Semantic", "Plate": "Semantic", "Instruct": "Semantic",
    "MultiCarrot": "Semantic", "MultiPlate": "Semantic",
    "Position": "Execution", "EEPose": "Execution", "PosChangeTo": "Execution",
}  # fmt: skip


def vl_think_env_id(domain: str) -> str:
    return f"VLThink-{domain}-v0"


def ood_env_id(variant: str) -> str:
    return f"VLThink-OOD-{variant}-v0"


def answer_env_id(domain: str) -> str:
    return f"VLThink-{domain}-Answer-v0"


# Answer mode (docs/answer-mode.md): its own suite, so never pooled with VL-Think.
ANSWER_MAX_EPISODE_STEPS = 40  # the oracle's placing time plus margin (docs/answer-mode.md)
ANSWER_GROUPS = {answer_env_id(d): ("vl-think-answer", d) for d in VL_THINK_DOMAINS}


GROUPS: dict[str, tuple[str, str]] = {
    **{vl_think_env_id(d): ("vl-think", d) for d in VL_THINK_DOMAINS},
    **ANSWER_GROUPS,
    **{ood_env_id(v): ("ood", axis) for v, axis in OOD_VARIANTS.items()},
}
"""env id -> (suite, group): the VL-Think domain, or the OOD axis."""

ENV_IDS = tuple(GROUPS)

SUITES: dict[str, tuple[str, ...]] = {
    "vl-think": tuple(i for i, (suite, _) in GROUPS.items() if suite == "vl-think"),
    "ood": tuple(i for i, (suite, _) in GROUPS.items() if suite == "ood"),
    "all": tuple(i for i in ENV_IDS if i not in ANSWER_GROUPS),  # answer mode is asked for by name
    "vl-think-answer": tuple(ANSWER_GROUPS),
}
"""Suite name -> its env ids, in order."""


class UnknownEnvError(VLThinkError, ValueError):
    """A suite name or env id that vlthink does not know."""


def resolve_suites(specs: Sequence[str]) -> list[str]:
    """Suite names (:data:`SUITES`) and env ids -> env ids, in order, without repeats.

    Raises :class:`UnknownEnvError` naming the first unknown spec, its close matches and the
    valid suites and ids."""
    env_ids: list[str] = []
    for spec in specs:
        if spec in SUITES:
            found = SUITES[spec]
        elif spec in GROUPS:
            found = (spec,)
        else:
            hint = difflib.get_close_matches(spec, [*GROUPS, *SUITES], n=3)
            raise UnknownEnvError(
                f"unknown suite or env id {spec!r}"
                + (f" (did you mean {', '.join(hint)}?)" if hint else "")
                + f"; suites: {', '.join(SUITES)}; env ids: {', '.join(GROUPS)}"
            )
        env_ids += [i for i in found if i not in env_ids]
    return env_ids


#: env id -> Gymnasium's string entry point: the env class, imported when the first env is made.
ENTRY_POINTS: dict[str, str] = {
    **{vl_think_env_id(d): f"vlthink.envs.vl_think:VLThink{d}Env" for d in VL_THINK_DOMAINS},
    **{
        answer_env_id(d): f"vlthink.envs.vl_think_answer:VLThink{d}AnswerEnv"
        for d in VL_THINK_DOMAINS
    },
    **{ood_env_id(v): f"vlthink.envs.ood.variants:OOD{v}Env" for v in OOD_VARIANTS},
}


def _make_vec(env_id: str, **kwargs):
    """Gymnasium's vector entry point: ManiSkill's batched wrapper over ``gym.make(env_id)``."""
    from mani_skill.utils.registration import make_vec

    return make_vec(env_id, **kwargs)


def register_gym_ids() -> None:
    """A Gymnasium spec per id, as ManiSkill's ``register_env`` writes it (idempotent)."""
    import gymnasium as gym
    from gymnasium.envs.registration import WrapperSpec

    for env_id in ENV_IDS:
        if env_id in gym.registry:
            continue
        steps = ANSWER_MAX_EPISODE_STEPS if env_id in ANSWER_GROUPS else MAX_EPISODE_STEPS
        gym.register(
            env_id,
            entry_point=ENTRY_POINTS[env_id],
            vector_entry_point=partial(_make_vec, env_id),
            max_episode_steps=steps,
            disable_env_checker=True,  # ManiSkill's envs may have empty observation spaces
            additional_wrappers=(
                WrapperSpec(
                    "MSTimeLimit",
                    entry_point="mani_skill.utils.registration:TimeLimitWrapper",
                    kwargs={"max_episode_steps": steps},
                ),
            ),
        )
