"""Procedural assets of the OOD suite, all made by this project's code (nothing downloaded).

- :mod:`.objects` — graspable objects: ``OBJECTS_TRAIN``, ``OBJECTS_HELDOUT``, ``build_object``
- :mod:`.receptacles` — ``RECEPTACLES_TRAIN``, ``RECEPTACLES_HELDOUT``, ``build_receptacle``
- :mod:`.table_looks` — table-top textures: ``TABLE_LOOKS_TRAIN``, ``TABLE_LOOKS_HELDOUT``
- :mod:`.overlay_textures` — the vision axis's overlay patterns: ``OVERLAY_TEXTURES``
- :mod:`.parts` — mesh parts and their files on disk (visual GLB, convex collision pieces)
- :mod:`.catalogue` — the pipeline both catalogues share: row -> parts -> files -> actor
- :mod:`.actors` — an asset's files -> a ManiSkill actor; :mod:`.noise` — texture noise
- contact sheets of all of the above: :mod:`vlthink.sheets.assets` (``vlthink assets``)
- :mod:`.sets` — asset sets: ``gym.make(id, assets="vlthink" | "original")``; the second is the
  paper's own pack, fetched by the user (:mod:`.original`, ``vlthink assets fetch original``)

Every catalogue splits its rows into :data:`SPLITS`: the held-out split (``"ood"``, what an OOD
variant measures) and ``"train"``. Nothing here registers environments or imports ``envs``.
"""

SPLITS = ("ood", "train")
"""The two splits, named as everywhere in vlthink: ``gym.make(id, split=...)``, task facts."""

ASSET_VERSION = "2.2.0"
"""Version of the OOD suite's assets (catalogues, shapes, textures): results cite it, as board art
does. 2.0.0: receptacles, table looks and overlay textures follow the original suite's catalogue
(names, sizes, densities; overlays = table looks 2..17). 2.1.0: the kitchen spoon's handle is
square-edged and nearly level, the carrot's grasp point is at its centre of mass, and the reset's
settle caps the objects' depenetration speed (``envs.ood.placement``). 2.2.0: every body is built
with a cap too, 1 m/s for objects and 0.3 m/s for receptacles (``OBJECT_MAX_DEPENETRATION_VELOCITY``,
``RECEPTACLE_MAX_DEPENETRATION_VELOCITY``): a thin receptacle pinched under an object was
launched, a squeezed object thrown when the fingers opened. Generated files need no bump of their
own: :func:`.parts.write_asset` keeps a digest of the geometry, colours and textures next to each file
and rewrites the files whenever it differs, so a cache written by an older version regenerates."""
