"""The run pipeline: one typed config, resolved once and recorded; bad input refused before
anything is built or written; a plan of any size costs no memory; a lost worker is logged."""

import json
import logging
import tracemalloc
from itertools import islice

import numpy as np
import pytest
from harness_standins import Fault, Faults, SeedPolicy, ServerSeedPolicy, turn_taking, workers

from vlthink.harness import cli, pipeline, rundir
from vlthink.harness.config import EvalConfig
from vlthink.harness.episodes import plan_episodes
from vlthink.harness.executor import RunOptions, make_executor
from vlthink.harness.results import HarnessError

ENV = "VLThink-Shape-v0"
KEYS = plan_episodes(["Fake-A-v0", "Fake-B-v0"], 3, [0])  # stand-in envs (harness_standins)


class CountingPolicy(SeedPolicy):
    """Counts how often the harness reads its declarations (each read of ``kind``)."""

    name = "counting"
    reads = 0

    @property
    def kind(self):
        type(self).reads += 1
        return "action"


class MissingCheckpoint(SeedPolicy):
    name = "missing-checkpoint"
    config = {"checkpoint": "/nonexistent/vlthink-test/openvla-ckpt"}


@pytest.mark.parametrize("seed", ["-1", str(2**31)])
def test_a_seed_out_of_range_is_refused_at_parse_time_with_one_line_and_exit_2(seed, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--policy", "oracle", "--suite", ENV, "--seed", seed])
    assert stop.value.code == cli.EXIT_USER
    err = capsys.readouterr().err.strip().splitlines()
    assert "--seed" in err[-1] and "0 to 2147483647" in err[-1]


def test_the_python_config_refuses_a_bad_seed_with_the_same_message():
    with pytest.raises(HarnessError, match=r"--seed: a run seed is an integer from 0"):
        EvalConfig.build("oracle", suite=ENV, seeds=[3, -1])
    with pytest.raises(HarnessError, match="unknown option"):
        EvalConfig.build("oracle", suite=ENV, wrokers=2)


def test_planning_a_hundred_million_episodes_takes_no_memory():
    config = EvalConfig.build("oracle", suite=ENV, episodes=10**8, seeds=[0, 1])
    tracemalloc.start()
    try:
        plan = config.plan
        first = list(islice(rundir.todo(plan, []), 3))
        finished, planned = rundir.completeness({"plan": plan.to_json()}, [])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [k.episode for k in first] == [0, 1, 2] and (finished, planned) == (0, 2 * 10**8)
    assert peak < 1_000_000  # bytes: the plan is walked, never listed
    assert plan.per_env() == {ENV: 2 * 10**8}
    assert first[0] in plan and (ENV, 10**8, 0) not in plan


def test_a_missing_checkpoint_fails_preflight_before_anything_is_written(tmp_path):
    out = tmp_path / "run"
    config = EvalConfig.build("missing", suite=ENV, episodes=1, out=out, progress=False)
    with pytest.raises(HarnessError, match=r"checkpoint '/nonexistent.*does not exist. Fix"):
        pipeline.run(config, MissingCheckpoint())
    assert not out.exists()


def test_the_traits_are_read_once_and_the_resolved_obs_mode_is_recorded(tmp_path):
    CountingPolicy.reads = 0
    policy = CountingPolicy()
    config = EvalConfig.build("counting", suite=ENV, episodes=2, out=tmp_path / "r")
    setup = pipeline.prepare(config, policy)
    assert CountingPolicy.reads == 1
    assert setup.obs_mode == "state_dict"  # uses_images False, no video
    assert setup.session["obs_mode"] == "state_dict"
    assert setup.manifest.policy["traits"]["uses_images"] is False
    rows: list[dict] = []
    make_executor(policy, setup.options, rows.append, workers=workers(2)).run(KEYS[:4])
    assert len(rows) == 4 and CountingPolicy.reads == 1  # the executor took the resolved traits


def test_an_old_manifest_without_the_recorded_fields_still_resumes(tmp_path):
    config = EvalConfig.build("seed", suite=ENV, episodes=2, out=tmp_path / "r")
    setup = pipeline.prepare(config, SeedPolicy())
    old = setup.manifest.to_json()
    del old["policy"]["traits"]  # what runs made before the field was recorded hold
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "manifest.json").write_text(json.dumps(old))
    with rundir.open_run(setup.out, setup.manifest, setup.session) as opened:
        assert opened.rows == [] and len(list(opened.todo())) == 2
    saved = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert saved["sessions"][-1]["obs_mode"] == "state_dict"


def test_a_lost_worker_is_logged_in_one_line_and_its_episode_run_again(caplog):
    lost = KEYS[2]
    faults = Faults().for_key(lost, Fault("die", at_step=1, times=1))
    rows: list[dict] = []
    with caplog.at_level(logging.WARNING, logger="vlthink.harness"):
        ex = make_executor(
            SeedPolicy(), RunOptions(workers=2), rows.append, workers=workers(2, faults)
        )
        ex.run(iter(KEYS[:5]))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "worker died" in lines[0] and lost.label() in lines[0] and "running it again" in lines[0]
    assert len(rows) == 5 and not any(r["error"] for r in rows)


README_EXAMPLE = """
import numpy as np
import vlthink


class MyPolicy(vlthink.PolicyBase):
    name = "my-policy"

    def act(self, observations):
        return np.zeros((len(observations), 7), np.float32)


result = vlthink.evaluate(MyPolicy(), suite="VLThink-Shape-v0", episodes=1, out="runs/mine",
                          progress=False)
print("exit", result.exit_code, len(result.rows))
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", ["script", "stdin"])
def test_the_readme_python_example_runs_as_written_without_a_main_guard(how, tmp_path):
    import subprocess
    import sys

    script = tmp_path / "example.py"
    script.write_text(README_EXAMPLE)
    args, stdin = ([sys.executable, str(script)], None)
    if how == "stdin":
        args, stdin = [sys.executable, "-"], README_EXAMPLE
    res = subprocess.run(
        args, input=stdin, cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "exit 0 1" in res.stdout  # once: the workers did not run the script again


class NeverPolicy(SeedPolicy):
    """Never pushes: every stand-in episode fails (a baseline that is clearly worse)."""

    name = "never"

    def act(self, observations):
        return np.zeros((len(observations), 7), np.float32)


def _run(policy, out, baseline=None, **options):
    config = EvalConfig.build(
        policy.name, suite=ENV, episodes=64, out=out, baseline=baseline, progress=False, **options
    )
    return pipeline.run(config, policy, workers=workers(2))


def test_stop_when_decided_stops_a_clear_difference_early_and_a_rerun_completes_it(tmp_path):
    base = _run(NeverPolicy(), tmp_path / "never")
    assert base.code == 0 and len(base.rows) == 64
    run = _run(SeedPolicy(), tmp_path / "seed", tmp_path / "never", stop_when_decided=True)
    assert run.code == 0  # decided: the unplayed episodes are not needed
    assert 0 < len(run.rows) < 64 and len(run.rows) % 16 == 0  # stopped at a look
    decisions = (tmp_path / "seed" / "sequential.csv").read_text()
    assert "better" in decisions
    assert run.manifest["sessions"][-1]["stop_when_decided"] == {"alpha": 0.05, "block": 16}
    rerun = _run(SeedPolicy(), tmp_path / "seed", tmp_path / "never")
    assert rerun.code == 0 and len(rerun.rows) == 64  # the same run, completed


def test_stop_when_decided_never_declares_a_difference_against_itself(tmp_path):
    _run(SeedPolicy(), tmp_path / "a")
    run = _run(SeedPolicy(), tmp_path / "b", tmp_path / "a", stop_when_decided=True)
    assert run.code == 0
    decisions = (tmp_path / "b" / "sequential.csv").read_text()
    assert "no difference" in decisions and "better" not in decisions


def test_a_run_records_and_prints_how_busy_its_workers_were(tmp_path, capsys):
    def run():
        slots, _ = turn_taking(1, 1, None, 0.02)  # a scene step of 20 ms; the server 60 ms
        config = EvalConfig.build("seed", suite=ENV, episodes=3, out=tmp_path / "r", progress=False)
        return pipeline.run(config, ServerSeedPolicy(seconds=0.06), workers=slots)

    done = run()
    assert done.code == 0 and done.workers_busy < pipeline.BUSY_ENOUGH
    assert done.manifest["sessions"][-1]["workers_busy"] == round(done.workers_busy, 3)
    out = capsys.readouterr().out
    assert f"env workers busy {done.workers_busy:.0%}" in out and "try --in-flight 2" in out
    again = run()  # nothing left to play: no workers ran, nothing is said of them
    assert again.workers_busy is None and "workers_busy" not in again.manifest["sessions"][-1]
    assert "env workers busy" not in capsys.readouterr().out


def test_a_run_stopped_by_a_failing_policy_is_not_told_to_add_episodes_in_flight(tmp_path, capsys):
    slots, _ = turn_taking(1, 1, None, 0.02)
    config = EvalConfig.build("seed", suite=ENV, episodes=3, out=tmp_path / "r", progress=False)
    done = pipeline.run(config, ServerSeedPolicy(fail_calls=(4, 5, 6), seconds=0.06), workers=slots)
    assert done.code == 3 and done.workers_busy < pipeline.BUSY_ENOUGH  # stopped, incomplete
    out = capsys.readouterr().out
    assert "failed calls that left episodes" in out and "--in-flight" not in out


def test_stop_when_decided_without_a_baseline_is_refused_with_the_fix():
    with pytest.raises(HarnessError, match="Fix: add --baseline"):
        EvalConfig.build("oracle", suite=ENV, stop_when_decided=True)


def test_episodes_in_flight_are_refused_in_one_line_where_nothing_could_overlap(tmp_path):
    with pytest.raises(HarnessError, match="--in-flight is for the CPU backend"):
        EvalConfig.build("seed", suite=ENV, sim_backend="gpu", num_envs=2, in_flight=2)
    with pytest.raises(HarnessError, match="in_flight must be an integer >= 1"):
        EvalConfig.build("seed", suite=ENV, in_flight=0)
    out = tmp_path / "r"
    config = EvalConfig.build("seed", suite=ENV, episodes=2, out=out, in_flight=2)
    with pytest.raises(HarnessError, match="no reset_slots.*Fix: drop --in-flight"):
        pipeline.prepare(config, SeedPolicy())  # before anything is built or written
    assert not out.exists()
