"""The env ids: one Gymnasium string entry point each, agreeing with the task tables."""

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator

from vlthink.envs import ids


def test_every_id_is_registered_with_a_string_entry_point_naming_its_env_class():
    ids.register_gym_ids()
    for env_id in ids.ENV_IDS:
        spec = gym.spec(env_id)
        assert spec.entry_point == ids.ENTRY_POINTS[env_id]
        cls = load_env_creator(spec.entry_point)
        assert isinstance(cls, type) and cls.__name__ in spec.entry_point


def test_the_task_tables_hold_exactly_the_ids_groups_and_entry_points():
    from vlthink.envs import registry

    registry.check_ids()  # raises naming the ids that differ
    assert list(registry.ALL_TASKS) == list(ids.ENV_IDS)
