"""The WidowX table scene every vlthink task stands on.

- :mod:`.widowx` — ``WidowXTableEnv``: robot, Bridge camera, table, settle, robot state
- :mod:`.success` — the one success rule (``resting_on``); :mod:`.placed` — ``PLACED_ON``
- :mod:`.timing` — the simulation and control rates and the episode's step budget
- :mod:`.meshes` — the scene's own meshes (textured slab, carrot); :mod:`.robot_asset` — the
  WidowX description, found or fetched
"""
