"""vlthink's scenes for lerobot: importing this package registers ``--env.type=vlthink``.

lerobot's ``register_third_party_plugins()`` imports it by its distribution name.
"""

from lerobot_env_vlthink.config import VLThinkEnvConfig

__all__ = ["VLThinkEnvConfig"]
