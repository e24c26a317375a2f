"""The OOD suite: pick-and-place on the WidowX table, with held-out variants on three axes.

- :mod:`.task` — ``OODPickPlaceEnv``: scene, episode, success, task facts, privileged state
- :mod:`.placement` — ``Placement``: the shelf, resting poses, same seed -> same first frame
- :mod:`.episode` — a split's config, the instruction templates, the per-episode draw
- :mod:`.layout` — cells and the original's layout rules (every valid tuple, drawn uniformly)
- :mod:`.overlays` — overlay textures blended into camera frames (vision axis)
- :mod:`.variants` — the table of the 14 variants and their env classes

The assets (objects, receptacles, table looks, overlay textures) are in :mod:`vlthink.assets`.
"""

from vlthink.envs.ood.variants import VARIANT_ENVS, VARIANTS, env_id

__all__ = ["VARIANTS", "VARIANT_ENVS", "env_id"]
