"""The WidowX table scene every vlthink task stands on.

- :mod:`.widowx` — ``WidowXTableEnv``: robot, Bridge camera, table, settle, robot state
- :mod:`.success` — the one success rule (``resting_on``, ``PLACED_ON``)
- :mod:`.meshes` — the scene's own meshes (textured slab, carrot); :mod:`.robot_asset` — the
  WidowX description, found or fetched
"""
