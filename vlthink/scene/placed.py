"""Where an episode's object came to rest, by name: ``info["placed_on"]`` indexes this tuple.

Apart from :mod:`.success` (which computes the index with torch) so that the harness's parent
can name outcomes without importing torch.
"""

PLACED_ON = ("none", "target", "distractor")
