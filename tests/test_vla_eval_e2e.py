"""Both ways round, real envs: vlthink-eval through the vla-eval adapter, and vla-eval's own
orchestrator running vlthink's benchmark, against vla-eval's model server on 127.0.0.1.

Two envs x one episode each way (80 control steps an episode), then the fault cases on one env
(each fails within a few steps): about a minute and a half on a quiet 2-core CPU.
"""

import json
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("vla_eval")

from vla_eval.api import run as vla_eval_run  # noqa: E402
from vla_eval.api import serve_background  # noqa: E402

import vlthink  # noqa: E402
from vlthink.harness import rundir, summary  # noqa: E402
from vlthink.integrations.vla_eval.importer import import_results  # noqa: E402
from vlthink.policies.registry import load_policy  # noqa: E402
from vlthink.testing.servers import free_port  # noqa: E402
from vlthink.testing.vla_eval_models import ScriptedModel  # noqa: E402

ENVS = ["VLThink-Shape-v0", "VLThink-OOD-Train-v0"]
COMPARED = (
    "env",
    "episode",
    "seed",
    "episode_seed",
    "instruction",
    "target",
    "success_once",
    "success_at_end",
    "placed_on",
    "steps",
    "grasped",
    "error",
    "task",
)


def vla_eval_config(envs, seed=0, episodes=1):
    entry = {
        "benchmark": "vlthink.integrations.vla_eval:VLThinkBenchmark",
        "episodes_per_task": episodes,
        "params": {"suite": envs, "seed": seed},
    }
    return {"server": {"timeout": 30}, "benchmarks": [entry]}


@pytest.mark.timeout(600)
def test_the_same_scripted_model_scores_the_same_episodes_alike_through_either_harness(tmp_path):
    model = ScriptedModel(chunk=2, observation_params={"image_size": [224, 224]})
    with serve_background(model) as server:
        policy = load_policy("vla-eval", endpoint=server.url, timeout_s=30.0)
        # both episodes at once on one worker, taking turns (--in-flight 2): the same outcomes
        ours = vlthink.evaluate(
            policy,
            suite=ENVS,
            episodes=1,
            seeds=[0],
            out=tmp_path / "a",
            progress=False,
            in_flight=2,
        )
        seen_ours, model.seen = model.seen, {}
        results = vla_eval_run(
            vla_eval_config(ENVS), server_url=server.url, output_dir=tmp_path / "b", docker=False
        )
        seen_theirs = model.seen
    assert ours.exit_code == 0
    assert results[0]["num_episodes_total"] == 2 and results[0]["num_errors"] == 0
    (aggregate,) = (tmp_path / "b").glob("*_aggregate.json")
    done = import_results(aggregate, tmp_path / "c", policy="vla-eval")
    assert (done.written, done.skipped) == (2, [])
    _, theirs = rundir.load_run(tmp_path / "c")
    key = lambda r: (r["env"], r["episode"])  # noqa: E731
    pairs = list(zip(sorted(ours.rows, key=key), sorted(theirs, key=key)))
    assert [a["env"] for a, _ in pairs] == sorted(ENVS)
    for a, b in pairs:
        assert {k: a.get(k) for k in COMPARED} == {k: b.get(k) for k in COMPARED}
        assert a["steps"] == 80
    # the model was shown the very same frames, step by step, both ways
    assert seen_ours == seen_theirs and all(len(v) == 40 for v in seen_ours.values())
    # the imported directory is a run like any other: summary, and paired tests against ours
    table = summary.summarize(*rundir.load_run(tmp_path / "c"))
    assert set(ENVS) <= set(table["env"])
    cmd = [
        sys.executable,
        "-m",
        "vlthink.harness.cli",
        "summary",
        str(tmp_path / "c"),
        "--baseline",
        str(ours.out),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.timeout(600)
def test_server_faults_leave_their_episodes_unrecorded_and_a_rerun_resumes(tmp_path):
    port = free_port()
    faults = ["--fault", "0=raise", "--fault", "1=sleep", "--fault", "2=exit"]
    cmd = [
        sys.executable,
        "-m",
        "vlthink.testing.vla_eval_models",
        "--port",
        str(port),
        "--fault-sleep-s",
        "5",
    ]
    server = subprocess.Popen(cmd + faults, env={**os.environ}, stderr=subprocess.DEVNULL)
    try:
        _wait_listening(port)
        policy = load_policy("vla-eval", endpoint=f"ws://127.0.0.1:{port}", timeout_s=3.0)
        run = vlthink.evaluate(
            policy, suite=ENVS[0], episodes=3, seeds=[0], out=tmp_path / "r", progress=False
        )
        died = server.wait(timeout=30)
    finally:
        server.kill()
    assert died == 17  # the server process was killed mid-episode 2
    assert run.exit_code == 3 and run.rows == []  # refused, error frame, timeout: no rows
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["policy"]["config"]["adapter"] == "vla_eval"
    with serve_background(ScriptedModel(), port=port) as healthy:
        policy = load_policy("vla-eval", endpoint=healthy.url, timeout_s=3.0)  # the same config
        again = vlthink.evaluate(
            policy,
            suite=ENVS[0],
            episodes=3,
            seeds=[0],
            out=tmp_path / "r",
            progress=False,
            stop_after=1,
        )
    assert again.exit_code == 3 and [(r["episode"], r["error"]) for r in again.rows] == [(0, None)]


def _wait_listening(port: int, timeout: float = 60.0) -> None:
    import socket

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"the scripted vla-eval server did not listen on {port}")
