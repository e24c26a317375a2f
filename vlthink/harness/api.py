"""The Python entry point: evaluate a policy object with the same harness as ``vlthink-eval``.

    import vlthink

    class MyPolicy(vlthink.PolicyBase):
        name = "my-policy"
        def act(self, observations):          # one (7,) action per observation
            return np.zeros((len(observations), 7), np.float32)

    result = vlthink.evaluate(MyPolicy(), suite="VLThink-Shape-v0", episodes=8, out="runs/mine")
    print(result.table)                       # the summary, as vlthink-eval prints it

Workers, resume, the run directory, the summary and the exit codes are those of ``vlthink-eval``
(the policy runs in this process; envs run in worker processes).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vlthink.harness import cli, rundir, summary
from vlthink.harness.results import HarnessError


@dataclass
class Evaluation:
    """What :func:`evaluate` returns: the run directory and what it holds."""

    out: Path
    exit_code: int  # as vlthink-eval's: 0 complete, 3 incomplete, 4 complete with errors
    table: pd.DataFrame  # the summary (per env, group and suite)
    rows: list[dict[str, Any]]


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
    **options: Any,
) -> Evaluation:
    """Run ``policy`` (an object, a policy name, a .toml path or an import string) on ``suite``.

    ``episodes`` / ``seeds`` default to ``vlthink-eval``'s (128 episodes, seed 0);
    ``protocol="paper"`` runs the paper's size instead. ``options`` are other ``vlthink-eval``
    options by their Python names (``episode_timeout``, ``max_policy_failures``, ``obs_mode``). Bad input raises :class:`HarnessError` with the
    message ``vlthink-eval`` prints.
    """
    specs = [suite] if isinstance(suite, str) else list(suite)
    spec = policy if isinstance(policy, str) else _import_string(policy)
    argv = [
        "--policy",
        spec,
        "--suite",
        *specs,
        "--workers",
        str(workers),
    ]
    argv += ["--episodes", str(episodes)] if episodes is not None else []
    argv += ["--seed", *map(str, seeds)] if seeds is not None else []
    argv += ["--out", str(out)] if out is not None else []
    argv += ["--record-video"] if record_video else []
    argv += ["--retry-errors"] if retry_errors else []
    argv += [] if progress else ["--no-progress"]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    with contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            args = cli.build_parser().parse_args(argv)
        except SystemExit:
            raise HarnessError(err.getvalue().strip().splitlines()[-1]) from None
    plan, tasks = cli.plan_from_args(args)
    obj = cli.load_policy(policy) if isinstance(policy, str) else policy
    path = Path(out) if out is not None else plan.default_out(obj.name, specs)
    args.out = path
    code = cli.run_policy(args, argv, obj, plan, tasks)
    manifest, rows = rundir.load_run(path)
    return Evaluation(path, code, summary.summarize(manifest, rows), rows)


def _import_string(policy: Any) -> str:
    """How the manifest names a policy object: the import string of its class."""
    cls = type(policy)
    return f"{cls.__module__}:{cls.__qualname__}"
