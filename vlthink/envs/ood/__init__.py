"""The OOD suite: pick-and-place on the WidowX table, with held-out variants on three axes.

- :mod:`.layout` — cells, footprints and the seeded placement sampler
- :mod:`.episode` — a split's config, the instruction templates, the per-episode draw
- :mod:`.overlays` — overlay textures blended into camera frames (vision axis)
- :mod:`.base` — ``OODPickPlaceEnv``: scene, episode, success, task facts, privileged state
- :mod:`.variants` — the table of the 14 variants and their env classes
"""

from vlthink.envs.ood.variants import VARIANT_ENVS, VARIANTS, env_id

__all__ = ["VARIANTS", "VARIANT_ENVS", "env_id"]
