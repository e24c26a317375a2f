"""Contact sheets: labelled pictures of what vlthink shows, for the README and for looking.

One home for all three (they sit above the packages they draw, so imports point down):

- :mod:`.boards` — the board art, a section per domain (``vlthink boards``;
  ``python -m vlthink.sheets.boards --out docs/img`` writes ``boards_<domain>.png``)
- :mod:`.assets` — the OOD objects, receptacles and table looks as the Bridge camera sees them
  (``vlthink assets --out docs/img``; the overlays are table looks 2..17)
- :mod:`.frames` — first camera frames of seeded episodes of some envs (``vlthink frames``)
"""
