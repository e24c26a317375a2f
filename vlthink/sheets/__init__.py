"""Contact sheets: labelled pictures of what vlthink shows, for the README and for looking.

One home for all three (they sit above the packages they draw, so imports point down):

- :mod:`.boards` — the board art, a section per domain (``vlthink boards``;
  ``python -m vlthink.sheets.boards --out docs/img`` writes ``boards_<domain>.png``)
- :mod:`.assets` — the OOD objects, receptacles, table looks and overlays (``vlthink assets``;
  ``python -m vlthink.sheets.assets docs/img``)
- :mod:`.frames` — first camera frames of seeded episodes of some envs (``vlthink frames``)
"""
