"""The evaluation harness behind ``vlthink-eval``.

One concept per module:

- :mod:`~vlthink.harness.episodes` - episode identity ``(env, episode, seed)`` and its stable seed.
- :mod:`~vlthink.harness.results`  - the run directory: JSONL rows (fsync, resume, repair), manifest.
- :mod:`~vlthink.harness.stats`    - Wilson interval, mean ± SD over seeds, Wilcoxon, McNemar.
- :mod:`~vlthink.harness.summary`  - per env / group / suite tables, pairing with a baseline.
- :mod:`~vlthink.harness.runner`   - worker processes, batched policy calls, timeouts, GPU batch.
- :mod:`~vlthink.harness.ray_executor` - ``--executor ray`` (optional extra).
- :mod:`~vlthink.harness.leaderboard` - ``leaderboards/*.csv`` (``vlthink leaderboard publish``).
- :mod:`~vlthink.harness.cli`      - the ``vlthink-eval`` command.
"""
