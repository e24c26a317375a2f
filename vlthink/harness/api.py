"""The Python entry point: evaluate a policy object with the same harness as ``vlthink-eval``.

    import numpy as np
    import vlthink

    class MyPolicy(vlthink.PolicyBase):
        name = "my-policy"
        def act(self, observations):          # one (7,) action per observation
            return np.zeros((len(observations), 7), np.float32)

    result = vlthink.evaluate(MyPolicy(), suite="VLThink-Shape-v0", episodes=8, out="runs/mine")
    print(result.table)                       # the summary, as vlthink-eval prints it

Workers, resume, the run directory, the summary and the exit codes are those of ``vlthink-eval``
(the policy runs in this process; envs run in worker processes). The keywords become an
:class:`~vlthink.harness.config.EvalConfig` directly (no command line is built or parsed) and
run through :func:`vlthink.harness.pipeline.run`, as ``vlthink-eval`` does. The example runs as
written from a script (no ``if __name__ == "__main__":`` guard needed) or from stdin: the env
workers are spawned without re-running the caller's script. Only a policy that
``runs_in_worker`` and whose class is defined in the script itself makes the workers import
the script, and then the call needs the guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vlthink.harness import pipeline
from vlthink.harness.config import EvalConfig


@dataclass
class Evaluation:
    """What :func:`evaluate` returns: the run directory and what it holds."""

    out: Path
    exit_code: int  # as vlthink-eval's: 0 complete, 3 incomplete, 4 complete with errors
    table: pd.DataFrame  # the summary (per env, group and suite)
    rows: list[dict[str, Any]]
    # the share of the time the env workers had work (None: none ran, e.g. nothing was left)
    workers_busy: float | None = None


def evaluate(
    policy: Any,
    suite: str | Sequence[str] = "vl-think",
    episodes: int | None = None,
    seeds: Sequence[int] | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    record_video: bool = False,
    retry_errors: bool = False,
    progress: bool = True,
    protocol: str | None = None,
    shard: str | None = None,
    **options: Any,
) -> Evaluation:
    """Run ``policy`` (an object, a policy name, a .toml path or an import string) on ``suite``.

    ``episodes`` / ``seeds`` default to ``vlthink-eval``'s (128 episodes, seed 0);
    ``protocol="paper"`` runs the paper's size instead. ``options`` are other ``vlthink-eval``
    options by their Python names (``in_flight``, ``episode_timeout``, ``max_policy_failures``,
    ``obs_mode``, ``assets="original"``: the paper's asset pack instead of vlthink's own art).
    Bad input raises :class:`~vlthink.harness.results.HarnessError` with the message
    ``vlthink-eval`` prints.
    """
    spec = policy if isinstance(policy, str) else _import_string(policy)
    config = EvalConfig.build(
        spec,
        suite=suite,
        episodes=episodes,
        seeds=None if seeds is None else tuple(seeds),
        protocol=protocol,
        shard=shard,
        out=None if out is None else Path(out),
        workers=workers,
        record_video=record_video,
        retry_errors=retry_errors,
        progress=progress,
        **options,
    )
    obj = pipeline.load_policy(policy) if isinstance(policy, str) else policy
    done = pipeline.run(config, obj)
    return Evaluation(done.out, done.code, done.table, done.rows, done.workers_busy)


def _import_string(policy: Any) -> str:
    """How the manifest names a policy object: the import string of its class."""
    cls = type(policy)
    return f"{cls.__module__}:{cls.__qualname__}"
