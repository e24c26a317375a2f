"""Assets of the OOD suite: graspable objects, receptacles and overlay textures, all procedural.

The table looks live in :mod:`vlthink.scene.tables`. Nothing here registers environments; the
env code imports the catalogues and builders:

- :mod:`vlthink.ood.objects` — ``OBJECTS_TRAIN``, ``OBJECTS_HELDOUT``, ``build_object``
- :mod:`vlthink.ood.receptacles` — ``RECEPTACLES_TRAIN``, ``RECEPTACLES_HELDOUT``,
  ``build_receptacle``
- :mod:`vlthink.ood.overlays` — ``OVERLAY_TEXTURES``, ``overlay_texture``
"""
