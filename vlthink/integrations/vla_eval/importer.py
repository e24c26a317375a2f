"""vla-eval results -> a vlthink run directory (``manifest.json`` + ``episodes.jsonl``).

``vla-eval run`` (and ``vla_eval.api.run``) leave ``<output_dir>/<benchmark>_aggregate.json`` (the
export of the run's recording) holding every episode's ``metrics``; for
:class:`~vlthink.integrations.vla_eval.benchmark.VLThinkBenchmark` those carry the very row
``vlthink-eval`` writes (``metrics["row"]``). The importer writes those rows under a manifest
of the same format, so ``vlthink-eval summary``, ``--baseline`` paired tests and ``vlthink
report`` read the directory as any other run.

Only what happened is imported: an episode vla-eval recorded as an error (``failure_reason``:
server down, timeout, exception) or cut short by a ``max_steps`` below the env's step budget is
left out (the run directory shows it as missing). Importing again into the same directory adds
the episodes it lacks (a resumed vla-eval run) and refuses a different configuration.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlthink.harness import results, rundir
from vlthink.harness.results import HarnessError

BENCHMARK_CLASS = "vlthink.integrations.vla_eval:VLThinkBenchmark"


@dataclass
class Imported:
    out: Path
    written: int = 0
    already: int = 0
    skipped: list[str] = field(default_factory=list)  # "<env>#<episode>: why"


def read_aggregate(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HarnessError(
            f"{path}: cannot read a vla-eval aggregate ({exc}). Fix: pass the "
            "<benchmark>_aggregate.json that `vla-eval run`/`vla-eval export` wrote"
        ) from None
    bench = (body.get("config") or {}).get("benchmark") if isinstance(body, dict) else None
    if bench != BENCHMARK_CLASS:
        raise HarnessError(
            f"{path}: results of benchmark {bench!r}, not {BENCHMARK_CLASS}; only vlthink's "
            "benchmark records vlthink rows"
        )
    return body


def _rows(body: dict[str, Any], policy: str, out: Imported) -> list[dict[str, Any]]:
    rows = []
    for task in body.get("tasks", []):
        for ep in task.get("episodes", []):
            metrics = ep.get("metrics") or {}
            label = f"{task.get('task')}#{ep.get('episode_id')}"
            if ep.get("failure_reason"):
                out.skipped.append(f"{label}: {ep['failure_reason']} (not the episode's outcome)")
            elif not metrics.get("ended") or "row" not in metrics:
                out.skipped.append(f"{label}: not played to the env's end (max_steps too small?)")
            else:
                rows.append({**metrics["row"], "policy": policy})
    return rows


def _plan(body: dict[str, Any], rows: list[dict[str, Any]]) -> rundir.RunPlan:
    """What the vla-eval config asked for: its envs (after ``tasks`` / ``max_tasks``), episodes
    per task and the seed the episodes were played under (a server may have supplied it)."""
    from vlthink.envs import ids

    config = body.get("config") or {}
    params = config.get("params") or {}
    suite = params.get("suite", "vl-think")
    envs = ids.resolve_suites([suite] if isinstance(suite, str) else list(suite))
    wanted = config.get("tasks")
    if wanted:
        envs = [e for e in envs if e in wanted or ids.GROUPS[e][0] in wanted]
    envs = envs[: config.get("max_tasks") or None]
    seeds = sorted({int(r["seed"]) for r in rows}) or [int(params.get("seed", 0))]
    if len(seeds) > 1:
        raise HarnessError(f"episodes played under seeds {seeds}; one vla-eval run has one seed")
    per_task = config.get("episodes_per_task") or max((r["episode"] + 1 for r in rows), default=1)
    return rundir.RunPlan(tuple(envs), int(per_task), tuple(seeds))


def _manifest(
    body: dict[str, Any], plan: rundir.RunPlan, policy: str, source: Sequence[Path]
) -> rundir.Manifest:
    from vlthink.envs import PROTOCOL_VERSION, ids
    from vlthink.provenance import environment_info

    server = body.get("server_info") or {}
    config = {
        "adapter": "vla-eval (imported)",
        "model_server": server.get("model_server"),
        "vla_eval_version": body.get("harness_version"),
        "benchmark": BENCHMARK_CLASS,
    }
    command = "python -m vlthink.integrations.vla_eval import " + " ".join(map(str, source))
    return rundir.Manifest(
        plan=plan,
        tasks={e: dict(zip(("suite", "group"), ids.GROUPS[e])) for e in plan.envs},
        policy={
            "name": policy,
            "spec": f"vla-eval:{server.get('model_server')}",
            "kind": "action",
            "config": config,
        },
        command=command,
        argv=command.split(),
        protocol_version=str(PROTOCOL_VERSION),
        provenance={
            **environment_info(),
            "imported_from": {"vla_eval_eval_id": body.get("eval_id")},
        },
    )


def import_results(aggregate: Path, out: Path, policy: str | None = None) -> Imported:
    """Write the vlthink rows of ``aggregate`` into run directory ``out`` (created or extended)."""
    body = read_aggregate(aggregate)
    name = policy or str((body.get("server_info") or {}).get("model_server") or "vla-eval").lower()
    done = Imported(Path(out))
    rows = _rows(body, name, done)
    manifest = _manifest(body, _plan(body, rows), name, [aggregate])
    session = {"imported": str(aggregate)}
    with rundir.open_run(Path(out), manifest, session) as run:
        have = {results.row_key(r) for r in run.rows}
        planned = set(manifest.plan.keys())
        with results.RowWriter(run.rows_path) as writer:
            for row in rows:
                key = results.row_key(row)
                if key not in planned:
                    done.skipped.append(f"{key.label()}: outside the plan")
                elif key in have:
                    done.already += 1
                else:
                    writer.write(row)
                    have.add(key)
                    done.written += 1
    return done
