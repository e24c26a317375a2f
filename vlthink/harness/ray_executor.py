"""``--executor ray``: episodes sharded over a Ray cluster (``pip install vlthink[ray]``).

The driver (the ``vlthink-eval`` process) keeps the results file, the manifest and the progress
bars; Ray tasks only compute rows.  The episodes still to run are cut into chunks of
``chunk_size`` episodes of one env (default: 4 x ``--workers``); each chunk is one Ray task that
builds the policy from the policy file's *contents* (shipped with the task, so nodes need the
package but not the file) and runs the chunk with the local CPU executor (``--workers`` env
processes on that node, one batched policy).  Rows are written by the driver as each chunk
returns, so a killed driver loses at most the chunks in flight; rerunning resumes as usual.
Episode identity does not depend on which node ran it, so the rows equal a local run's.

Cluster address: ``RAY_ADDRESS`` (or ``ray.init()``'s own discovery); with none, a local Ray
instance is started for the run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from vlthink.harness.episodes import EpisodeKey
from vlthink.harness.executor import RunOutcome
from vlthink.harness.results import HarnessError


def _import_ray():
    try:
        import ray
    except ImportError:
        raise HarnessError(
            "--executor ray needs Ray, an optional extra. Fix: pip install 'vlthink[ray]' "
            "(or 'ray[default]'), or use the default --executor local."
        ) from None
    return ray


def chunks(keys: list[EpisodeKey], size: int) -> list[list[EpisodeKey]]:
    """Consecutive runs of at most ``size`` episodes, never mixing env ids."""
    out: list[list[EpisodeKey]] = []
    for k in keys:
        if out and len(out[-1]) < size and out[-1][-1].env_id == k.env_id:
            out[-1].append(k)
        else:
            out.append([k])
    return out


def _policy_source(spec: str) -> tuple[str, str]:
    """What a node needs to build the policy: ("toml", contents) or ("import", "module:attr")."""
    from vlthink.policies.registry import find_policy_file, is_import_string

    if is_import_string(spec):
        return "import", spec
    return "toml", find_policy_file(spec).read_text()


def _run_chunk(
    source: tuple[str, str], policy_name: str, keys: list[tuple], opts: Any
) -> tuple[list[dict], RunOutcome]:
    """Body of one Ray task: run ``keys`` locally, return their rows and what else happened."""
    from vlthink.harness.executor import make_executor
    from vlthink.policies.registry import load_policy

    kind, text = source
    if kind == "toml":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{policy_name}.toml"
            path.write_text(text)
            policy = load_policy(str(path))
    else:
        policy = load_policy(text)
    rows: list[dict] = []
    try:
        outcome = make_executor(policy, opts, rows.append).run([EpisodeKey(*k) for k in keys])
    finally:
        try:
            policy.close()
        except Exception:
            pass
    return rows, outcome


def runner(policy_spec: str, policy_name: str) -> Callable[..., RunOutcome]:
    """``run(todo, opts, emit)`` over a Ray cluster, for :func:`vlthink.harness.cli.execute`."""
    ray = _import_ray()
    source = _policy_source(policy_spec)

    def run(todo: list[EpisodeKey], opts: Any, emit: Callable[[dict], None]) -> RunOutcome:
        if not ray.is_initialized():
            ray.init(
                address=os.environ.get("RAY_ADDRESS"),
                ignore_reinit_error=True,
                log_to_driver=False,
                include_dashboard=False,
            )
        size = 4 * max(1, opts.workers)
        task = ray.remote(num_cpus=max(1, opts.workers))(_run_chunk)
        # videos stay on the node that made them unless the run dir is on a shared filesystem
        ropts = replace(opts, stop_after=None)
        pending = [
            task.remote(source, policy_name, [tuple(k) for k in c], ropts)
            for c in chunks(todo, size)
        ]
        total = RunOutcome()
        try:
            while pending and total.stopped is None:
                ready, pending = ray.wait(pending, num_returns=1)
                try:
                    rows, outcome = ray.get(ready[0])
                except Exception as exc:  # RayTaskError wraps the task's own exception
                    cause = getattr(exc, "cause", None) or exc
                    if isinstance(cause, HarnessError):
                        raise type(cause)(str(cause)) from None
                    raise
                for row in rows:
                    emit(row)
                _add(total, outcome)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
        return total

    return run


def _add(total: RunOutcome, part: RunOutcome) -> None:
    total.written += part.written
    total.recorded_errors += part.recorded_errors
    for kind, n in part.left.items():
        total.left[kind] = total.left.get(kind, 0) + n
    total.last_error.update(part.last_error)
    total.stopped = total.stopped or part.stopped
    total.busy_s += part.busy_s
    total.scene_s += part.scene_s
