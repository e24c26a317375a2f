"""The evaluation harness behind ``vlthink-eval``.

One concept per module, imports pointing down the list:

- :mod:`~vlthink.harness.cli`      - the ``vlthink-eval`` command: argv into an EvalConfig.
- :mod:`~vlthink.harness.api`      - ``vlthink.evaluate(policy, ...)``: keywords into an EvalConfig.
- :mod:`~vlthink.harness.pipeline` - the run: plan -> preflight -> open -> execute -> report.
- :mod:`~vlthink.harness.config`   - :class:`EvalConfig`, what a run is asked to do, resolved once.
- :mod:`~vlthink.harness.progress` - the progress bars.
- :mod:`~vlthink.harness.summary`  - per env / group / suite tables, pairing with a baseline.
- :mod:`~vlthink.harness.stats`    - Wilson interval, mean ± SD over seeds, Wilcoxon, McNemar.
- :mod:`~vlthink.harness.ray_executor` - ``--executor ray`` (optional extra).
- :mod:`~vlthink.harness.executor` - a package: executors (CPU workers with one schedule object
  per mode, probes, one batched GPU env), the in-flight episode, the failure table.
- :mod:`~vlthink.harness.worker`   - the env worker: request loop, process, in-process stand-in.
- :mod:`~vlthink.harness.episode_env` - the envs a worker drives (ManiSkill, in protocol terms).
- :mod:`~vlthink.harness.protocol` - the worker protocol: typed requests and replies.
- :mod:`~vlthink.harness.bridge`   - a ManiSkill observation as the policy interface's Observation.
- :mod:`~vlthink.harness.rundir`   - what a run directory is: plan, manifest, open/resume, merge.
- :mod:`~vlthink.harness.results`  - the JSONL store (fsync, repair, corrupt-line errors).
- :mod:`~vlthink.harness.episodes` - episode identity ``(env, episode, seed)`` and its stable seed.
"""
