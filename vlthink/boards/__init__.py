"""VL-Think's printed boards: the one table of domains and concepts, and the art.

- :mod:`.catalogue` — ``DOMAINS`` (one row per domain: concepts, phrase, art family, partner
  domain, classes), ``BOARDS``, look-ups and instructions
- :mod:`.art` — the drawing code of every board; :mod:`.build` — writes the PNGs and manifest

Contact sheets of the art are in :mod:`vlthink.sheets.boards`.
"""
