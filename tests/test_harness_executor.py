"""Scheduling and failure handling of the executors, with in-process stand-ins (milliseconds).

The real process workers and SAPIEN envs are exercised end to end in test_harness_run.py; here
the same executors run over ``InProcessWorker`` and a scripted env, so every path (rounds and
refill, timeouts, deaths, env errors, a dead policy, probes, ``stop_after``, resume) is checked
quickly and by default.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from harness_standins import (
    Fault,
    Faults,
    FreeSeedPolicy,
    ScriptedEpisodes,
    SeedPolicy,
    ServerSeedPolicy,
    SlotSeedPolicy,
    WorkerSeedPolicy,
    YesProbe,
    length,
    target_step,
    turn_taking,
    workers,
)

from vlthink.harness.episodes import plan_episodes
from vlthink.harness.executor import (
    CpuExecutor,
    GpuExecutor,
    ProbeExecutor,
    RunOptions,
    make_executor,
)
from vlthink.harness.worker import InProcessWorker

ENVS = ["Fake-A-v0", "Fake-B-v0"]
KEYS = plan_episodes(ENVS, 5, [0, 1])  # 20 episodes


def _stable(rows):
    return {
        (r["env"], r["episode"], r["seed"]): {k: v for k, v in r.items() if k != "seconds"}
        for r in rows
    }


def _run(policy, keys=KEYS, k=2, faults=None, **opts):
    rows: list[dict] = []
    ex = CpuExecutor(policy, RunOptions(workers=k, **opts), rows.append, workers(k, faults))
    return rows, ex.run(keys)


@pytest.fixture(scope="module")
def reference():
    rows, outcome = _run(SeedPolicy(), k=1)
    assert outcome.stopped is None and outcome.written == len(KEYS)
    return _stable(rows)


def test_every_episode_succeeds_and_rows_carry_identity(reference):
    assert len(reference) == len(KEYS)
    for r in reference.values():
        assert r["success_once"] and r["success_at_end"] is False  # success on its own step only
        assert r["steps"] == length(r["episode_seed"]) and r["error"] is None
        assert r["placed_on"] == "none"
        assert r["grasped"] is (target_step(r["episode_seed"]) > 1)  # held before its step
        assert r["dropped"] is False  # it succeeded once; the object ends on no board
        assert r["instruction"].startswith("touch ") and r["target"] is not None


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rounds_and_refill_give_identical_rows(reference, k):
    rounds_policy, refill_policy = SeedPolicy(), SlotSeedPolicy()
    rounds, _ = _run(rounds_policy, k=k)
    refill, _ = _run(refill_policy, k=k)
    assert _stable(rounds) == reference and _stable(refill) == reference
    assert rounds_policy.resets == -(-len(KEYS) // k)  # one reset per round
    if k > 1:  # refill resets slots as they free, so more often than once per round
        assert refill_policy.resets > rounds_policy.resets


@pytest.mark.parametrize("k", [1, 2, 3])
def test_free_running_gives_identical_rows_one_slot_per_call(reference, k):
    policy = FreeSeedPolicy()
    assert CpuExecutor(policy, RunOptions(workers=k), print, workers(k)).free_running
    assert not CpuExecutor(SlotSeedPolicy(), RunOptions(), print, workers(1)).free_running
    rows, outcome = _run(policy, k=k)
    assert _stable(rows) == reference and outcome.stopped is None
    assert set(policy.batch_sizes) == {1}  # each act() call steps one worker, no lock-step
    assert policy.resets == len(KEYS)  # one reset_slots per episode, as its slot frees


def _mixed_faults() -> tuple[Faults, tuple]:
    """A step that raises, a worker that dies once (retried) and one that dies twice, a hang;
    returns the faults and the three keys that end in an error row."""
    bad, once, twice, hang = KEYS[3], KEYS[1], KEYS[6], KEYS[5]
    faults = Faults().for_key(bad, Fault("raise", at_step=2))
    faults.for_key(once, Fault("die", at_step=2, times=1))
    faults.for_key(twice, Fault("die", at_step=4, times=2))
    faults.for_key(hang, Fault("hang", at_step=3))
    return faults, (bad, twice, hang)


def test_free_running_failures_are_handled_as_in_lock_step(reference):
    faults, (bad, twice, hang) = _mixed_faults()
    rows, outcome = _run(FreeSeedPolicy(), faults=faults)
    got = _stable(rows)
    assert got.pop(tuple(bad))["error_kind"] == "env_step"
    assert got.pop(tuple(twice))["error_kind"] == "worker_died"
    assert got.pop(tuple(hang))["error_kind"] == "timeout"
    assert got == {k: v for k, v in reference.items() if k in got}  # the retried one as well
    assert len(rows) == len(KEYS) and outcome.recorded_errors == 3
    # A failed policy call leaves its one episode; three in a row stop the run.
    rows, outcome = _run(FreeSeedPolicy(fail_calls=(3, 20)))
    assert outcome.left == {"policy": 2} and len(rows) == len(KEYS) - 2
    assert all(_stable(rows)[k] == reference[k] for k in _stable(rows))
    rows, outcome = _run(FreeSeedPolicy(fail_calls=(4, 5, 6)))
    assert "failed on 3 consecutive calls" in outcome.stopped
    assert all(r["error"] is None for r in rows)
    rows, outcome = _run(FreeSeedPolicy(), stop_after=5)
    assert len(rows) == 5 and all(_stable(rows)[key] == reference[key] for key in _stable(rows))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_a_policy_that_runs_in_the_worker_gives_identical_rows(reference, k):
    policy = WorkerSeedPolicy()
    ex = CpuExecutor(policy, RunOptions(workers=k), print, workers(k))
    assert ex.in_worker and ex.free_running
    rows, outcome = _run(policy, k=k)
    assert _stable(rows) == reference and outcome.stopped is None
    assert policy.calls == 0 and policy.resets == 0  # only its copies in the workers acted


def test_in_worker_failures_are_handled_as_when_the_executor_steps(reference):
    faults, (bad, twice, hang) = _mixed_faults()
    faults.for_key(KEYS[0], Fault("raise", at_step=0))
    rows, outcome = _run(WorkerSeedPolicy(), faults=faults)
    got = _stable(rows)
    step_error = got.pop(tuple(bad))
    assert step_error["error_kind"] == "env_step" and step_error["steps"] == 1
    assert "(at step 1)" in step_error["error"]  # as when the executor steps it
    reset_error = got.pop(tuple(KEYS[0]))
    assert reset_error["error_kind"] == "env_reset" and "(at reset)" in reset_error["error"]
    assert got.pop(tuple(twice))["error_kind"] == "worker_died"
    timeout = got.pop(tuple(hang))
    assert timeout["error_kind"] == "timeout" and "while the worker played" in timeout["error"]
    assert got == {k: v for k, v in reference.items() if k in got}  # the retried one as well
    assert len(rows) == len(KEYS) and outcome.recorded_errors == 4


def test_in_worker_policy_failures_are_left_and_three_in_a_row_stop(reference):
    seed_of = {tuple(r_key): r["episode_seed"] for r_key, r in reference.items()}
    seeds = [seed_of[tuple(key)] for key in KEYS]
    rows, outcome = _run(WorkerSeedPolicy(fail_seeds=(seeds[2], seeds[9])))
    assert outcome.left == {"policy": 2} and len(rows) == len(KEYS) - 2
    assert all(r["error"] is None for r in rows)
    assert all(_stable(rows)[key] == reference[key] for key in _stable(rows))
    rows, outcome = _run(WorkerSeedPolicy(fail_seeds=tuple(seeds[4:7])), k=1)
    assert "failed on 3 consecutive calls" in outcome.stopped
    assert "scripted policy failure in the worker" in outcome.stopped
    assert len(rows) == 4 and all(r["error"] is None for r in rows)
    rows, outcome = _run(WorkerSeedPolicy(), stop_after=5)
    assert len(rows) == 5 and all(_stable(rows)[key] == reference[key] for key in _stable(rows))


def _in_flight(policy, k=1, lanes=2, faults=None, seconds=0.0, keys=KEYS, **opts):
    """Run with ``lanes`` episodes in flight per worker, counting what each worker has in flight
    (and, for a policy that acts here, what is in flight at each of its ``act`` calls)."""
    slots, watch = turn_taking(k, lanes, faults, seconds)
    if not policy.runs_in_worker:
        act = policy.act

        def watched(observations):
            watch.busy_while_acting.append(sum(watch.in_flight.values()))
            return act(observations)

        policy.act = watched
    rows: list[dict] = []
    opts = RunOptions(workers=k, in_flight=lanes, **opts)
    ex = CpuExecutor(policy, opts, rows.append, slots)
    assert ex.free_running  # turns are taken by the free-running schedule, batched or not
    return rows, ex.run(keys), watch


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("make", [FreeSeedPolicy, SlotSeedPolicy, WorkerSeedPolicy])
def test_episodes_in_flight_give_identical_rows_one_scene_at_a_time_per_worker(reference, k, make):
    rows, outcome, watch = _in_flight(make(), k=k)
    assert _stable(rows) == reference and outcome.stopped is None
    assert watch.most == 1  # a worker's two slots never simulate at once
    if not make.runs_in_worker:  # the policy thinks while the worker simulates another episode
        busy = watch.busy_while_acting
        assert sum(b > 0 for b in busy) > 0.8 * len(busy), busy


def test_episodes_in_flight_handle_failures_as_one_at_a_time(reference):
    faults, (bad, twice, hang) = _mixed_faults()
    rows, outcome, _ = _in_flight(FreeSeedPolicy(), k=2, faults=faults)
    got = _stable(rows)
    assert got.pop(tuple(bad))["error_kind"] == "env_step"
    assert got.pop(tuple(twice))["error_kind"] == "worker_died"
    assert got.pop(tuple(hang))["error_kind"] == "timeout"
    assert got == {k: v for k, v in reference.items() if k in got}
    assert len(rows) == len(KEYS) and outcome.recorded_errors == 3
    rows, outcome, _ = _in_flight(FreeSeedPolicy(fail_calls=(3, 20)), k=2)
    assert outcome.left == {"policy": 2} and len(rows) == len(KEYS) - 2
    rows, outcome, _ = _in_flight(FreeSeedPolicy(), stop_after=5)
    assert len(rows) == 5 and all(_stable(rows)[key] == reference[key] for key in _stable(rows))


def test_a_servers_client_is_asked_for_several_slots_at_once_with_identical_rows(reference):
    policy = ServerSeedPolicy()
    rows, outcome, watch = _in_flight(policy, k=2)
    assert _stable(rows) == reference and outcome.stopped is None
    assert watch.most == 1 and policy.most > 1  # one scene a worker, calls overlapping
    # a failed call leaves its episode; three in a row stop the run; nothing else is lost
    rows, outcome, _ = _in_flight(ServerSeedPolicy(fail_calls=(3, 20)), k=2)
    assert outcome.left == {"policy": 2} and len(rows) == len(KEYS) - 2
    assert all(_stable(rows)[k] == reference[k] for k in _stable(rows))
    rows, outcome, _ = _in_flight(ServerSeedPolicy(fail_calls=(4, 5, 6), seconds=0.02), k=1)
    assert "failed on 3 consecutive calls" in outcome.stopped
    assert all(r["error"] is None for r in rows)
    assert all(_stable(rows)[k] == reference[k] for k in _stable(rows))


def test_time_waiting_for_the_workers_turn_is_not_charged_to_an_episodes_timeout(reference):
    # 4 episodes of 6-7 requests, 50 ms each: at most 0.35 s of an episode's own, about twice
    # that with the waits for the other slot's turn; within a 0.42 s timeout only if the waits
    # are not counted
    rows, outcome, _ = _in_flight(
        FreeSeedPolicy(), seconds=0.05, keys=KEYS[:4], episode_timeout=0.42
    )
    assert [r["error"] for r in rows] == [None] * 4
    assert all(r["seconds"] > 0.42 for r in rows)  # they did wait, longer than the timeout
    assert _stable(rows) == {k: reference[k] for k in _stable(rows)}


def _use(policy, lanes: int, scene_s: float) -> float:
    """The workers' use (RunOutcome.workers_busy) with one worker whose scene takes ``scene_s``
    a request, ``lanes`` episodes in flight."""
    slots, _ = turn_taking(1, lanes, None, scene_s)
    ex = CpuExecutor(policy, RunOptions(workers=1, in_flight=lanes), [].append, slots)
    return ex.run(KEYS[:4]).workers_busy


def test_the_workers_use_shows_them_waiting_for_a_slow_server_and_in_flight_filling_it():
    # a scene step of 20 ms against a server's 60 ms: alone, a worker has work a quarter of the
    # time; with two in flight it simulates one episode while the server answers the other
    alone = _use(ServerSeedPolicy(seconds=0.06), 1, 0.02)
    two = _use(ServerSeedPolicy(seconds=0.06), 2, 0.02)
    quick = _use(ServerSeedPolicy(seconds=0.0), 1, 0.02)
    assert 0.1 < alone < 0.4 and two > alone + 0.1, (alone, two)
    assert quick > 0.8, quick


def test_more_than_one_episode_in_flight_needs_a_policy_that_resets_one_slot():
    from vlthink.harness.executor import check_in_flight
    from vlthink.harness.results import HarnessError

    for policy, why in ((SeedPolicy(), "no reset_slots"), (YesProbe(), "first frames only")):
        with pytest.raises(HarnessError, match=f"{why}.*--in-flight 2.*Fix: drop --in-flight"):
            check_in_flight(policy, RunOptions(in_flight=2))
        check_in_flight(policy, RunOptions())  # one at a time: anything goes
    check_in_flight(SlotSeedPolicy(), RunOptions(in_flight=3))


def test_env_error_is_recorded_with_its_kind_and_the_worker_recovers(reference):
    bad = KEYS[3]
    rows, outcome = _run(SeedPolicy(), faults=Faults().for_key(bad, Fault("raise", at_step=2)))
    got = _stable(rows)
    assert got.pop(tuple(bad))["error_kind"] == "env_step"
    assert got == {k: v for k, v in reference.items() if k != tuple(bad)}
    assert outcome.recorded_errors == 1 and outcome.stopped is None


def test_reset_error_is_recorded():
    bad = KEYS[0]
    rows, outcome = _run(SeedPolicy(), faults=Faults().for_key(bad, Fault("raise", at_step=0)))
    row = _stable(rows)[tuple(bad)]
    assert row["error_kind"] == "env_reset" and row["steps"] == 0 and "at reset" in row["error"]
    assert len(rows) == len(KEYS)


def test_hang_is_a_recorded_timeout(reference):
    bad = KEYS[5]
    rows, _ = _run(SeedPolicy(), faults=Faults().for_key(bad, Fault("hang", at_step=3)))
    row = _stable(rows)[tuple(bad)]
    assert row["error"].startswith("timeout: no answer") and row["error_kind"] == "timeout"
    assert "step 2" in row["error"] and not row["success_once"]
    assert len(rows) == len(KEYS)


def test_worker_lost_once_is_run_again_and_twice_is_recorded(reference):
    once, twice = KEYS[1], KEYS[6]
    faults = Faults().for_key(once, Fault("die", at_step=2, times=1))
    faults.for_key(twice, Fault("die", at_step=4, times=2))
    rows, outcome = _run(SeedPolicy(), faults=faults)
    got = _stable(rows)
    assert got[tuple(once)] == reference[tuple(once)]  # the retry ran it as if nothing happened
    assert got[tuple(twice)]["error_kind"] == "worker_died"
    assert outcome.recorded_errors == 1 and len(rows) == len(KEYS)


def test_env_that_cannot_be_built_stops_the_run_and_writes_no_row():
    faults = Faults(build_fails={"Fake-B-v0"})
    rows, outcome = _run(SeedPolicy(), faults=faults, k=1)
    assert {r["env"] for r in rows} == {"Fake-A-v0"}  # what ran before it is kept
    assert outcome.left == {"env_build": 1}
    assert outcome.stopped.startswith("cannot run Fake-B-v0 (env_build)")
    assert "scripted build failure" in outcome.stopped


def test_policy_failures_are_never_rows_and_a_dead_policy_stops(reference):
    # Two isolated failing calls: their episodes are left, the rest is recorded.
    policy = SeedPolicy(fail_calls=(3, 20))
    rows, outcome = _run(policy, k=2)
    assert outcome.stopped is None and outcome.left == {"policy": 4}  # two calls, two slots each
    assert all(r["error"] is None for r in rows) and len(rows) == len(KEYS) - 4
    assert all(_stable(rows)[k] == reference[k] for k in _stable(rows))
    # Three in a row: the run stops with the last error.
    dead = SeedPolicy(fail_calls=(4, 5, 6))
    rows, outcome = _run(dead, k=2, max_policy_failures=3)
    assert "failed on 3 consecutive calls" in outcome.stopped
    assert "scripted policy server failure" in outcome.stopped
    assert all(r["error"] is None for r in rows)
    # Failures in the very last calls of a run are left, never flushed as rows.
    counting = SeedPolicy()
    _run(counting, k=2)
    last = SeedPolicy(fail_calls=(counting.calls,))
    rows, outcome = _run(last, k=2)
    assert outcome.left == {"policy": 1} and outcome.stopped is None  # the last round's live one
    assert all(r["error"] is None for r in rows) and len(rows) == len(KEYS) - 1


def test_resume_after_each_failure_gives_the_uninterrupted_rows(reference):
    for faults, policy in [
        (Faults(build_fails={"Fake-B-v0"}), SeedPolicy()),
        (Faults(), SeedPolicy(fail_calls=(4, 5, 6))),
        (Faults().for_key(KEYS[2], Fault("die", at_step=1, times=1)), SeedPolicy()),
    ]:
        rows, _ = _run(policy, faults=faults, k=2)
        done = {(r["env"], r["episode"], r["seed"]) for r in rows}
        todo = [k for k in KEYS if tuple(k) not in done]
        more, outcome = _run(SeedPolicy(), keys=todo, k=2)
        assert outcome.stopped is None
        assert _stable(rows + more) == reference


def test_stop_after_writes_exactly_that_many_rows(reference):
    for k in (1, 2, 3):
        rows, outcome = _run(SeedPolicy(), k=k, stop_after=5)
        assert len(rows) == 5 and outcome.stopped is None
        assert all(_stable(rows)[key] == reference[key] for key in _stable(rows))


def test_worker_that_cannot_start_stops_the_run():
    rows: list[dict] = []
    broken = [
        InProcessWorker(lambda e, _mode: ScriptedEpisodes(e), fail_start="ImportError: sapien")
    ]
    outcome = CpuExecutor(SeedPolicy(), RunOptions(), rows.append, broken).run(KEYS)
    assert rows == [] and "could not start: ImportError: sapien" in outcome.stopped


def test_probe_rows_and_probe_failures():
    rows: list[dict] = []
    ex = make_executor(YesProbe(), RunOptions(workers=2), rows.append, workers=workers(2))
    assert isinstance(ex, ProbeExecutor)
    outcome = ex.run(KEYS)
    assert outcome.written == len(KEYS) and len(rows) == len(KEYS)
    for r in rows:
        assert r["steps"] == 0 and r["probe"] is True and r["said_yes"] is True
        assert r["success_once"] == (r["task"]["target_position"] == "left")

    class Broken(YesProbe):
        def probe(self, episodes, observations):
            raise TimeoutError("probe server timed out")

    rows = []
    outcome = ProbeExecutor(
        Broken(), RunOptions(workers=2, max_policy_failures=2), rows.append, workers(2)
    ).run(KEYS)
    assert rows == [] and "failed on 2 consecutive calls" in outcome.stopped


def test_gpu_executor_over_a_batched_stand_in(reference):
    made: list[ScriptedEpisodes] = []

    def make(env_id, n):
        made.append(ScriptedEpisodes(env_id, n))
        return made[-1]

    rows: list[dict] = []
    outcome = GpuExecutor(
        SeedPolicy(), RunOptions(sim_backend="gpu", num_envs=3), rows.append, make
    ).run(KEYS)
    assert outcome.stopped is None and _stable(rows) == reference  # padding rows are dropped
    assert [e.num_envs for e in made] == [3, 3] and all(e.closed for e in made)


def test_policy_traits_are_checked():
    class NoAct:
        name = "broken"

        def reset(self, episodes):
            pass

    with pytest.raises(TypeError, match="has no act"):
        make_executor(NoAct(), RunOptions(), print, workers=workers(1))

    class ClaimsSlots(SeedPolicy):
        per_slot_reset = True

    with pytest.raises(TypeError, match="reset_slots"):
        make_executor(ClaimsSlots(), RunOptions(), print, workers=workers(1))


@pytest.mark.parametrize("policy_class", [SlotSeedPolicy, WorkerSeedPolicy])
def test_trace_keeps_every_observation_and_action_for_a_recorder(reference, policy_class):
    seen = []

    def on_finish(ep, row):
        seen.append((ep, row))

    rows, _ = _run(policy_class(), k=2, keep_trace=True, on_finish=on_finish)
    assert _stable(rows) == reference and len(seen) == len(KEYS)
    for ep, row in seen:
        assert len(ep.trace) == row["steps"] and ep.obs.step == row["steps"]
        assert all(obs.image is not None for obs, _action, _ok in ep.trace)
        wins = [i + 1 for i, (_obs, action, ok) in enumerate(ep.trace) if ok]
        assert wins == [target_step(ep.seed)]  # the step the success came back on
        obs, action, _ = ep.trace[wins[0] - 1]
        assert action[0] == 1.0 and obs.step == wins[0] - 1  # the observation it acted on


def test_videos_are_mp4_and_can_be_limited_to_failures_or_the_first_k(tmp_path):
    import av

    bad = KEYS[0]
    faults = Faults().for_key(bad, Fault("raise", at_step=3))
    _run(SeedPolicy(), faults=faults, record_video=True, video_dir=tmp_path / "all")
    videos = sorted((tmp_path / "all").rglob("*.mp4"))
    assert len(videos) == len(KEYS)
    with av.open(str(videos[0])) as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 3 and (frames[0].width, frames[0].height) == (16, 16)
    _run(WorkerSeedPolicy(), faults=faults, record_video=True, video_dir=tmp_path / "played")
    played = sorted((tmp_path / "played").rglob("*.mp4"))
    assert [p.relative_to(tmp_path / "played") for p in played] == [
        p.relative_to(tmp_path / "all") for p in videos
    ]
    with av.open(str(played[0])) as container:
        assert len(list(container.decode(video=0))) == len(frames)  # the frames came back
    _run(
        SeedPolicy(),
        faults=faults,
        record_video=True,
        video_dir=tmp_path / "fail",
        video_of="failures",
    )
    assert [p.name for p in (tmp_path / "fail").rglob("*.mp4")] == [
        f"seed{bad.seed}_ep{bad.episode:04d}.mp4"
    ]
    _run(SeedPolicy(), record_video=True, video_dir=tmp_path / "first", video_first=2)
    names = {p.name for p in (tmp_path / "first").rglob("*.mp4")}
    assert names == {f"seed{s}_ep{e:04d}.mp4" for s in (0, 1) for e in (0, 1)}


def test_rows_say_why_an_episode_failed():
    class Idle(SeedPolicy):
        def act(self, observations):
            return np.zeros((len(observations), 7), np.float32)

    rows, _ = _run(Idle(), k=2)
    for r in rows:
        held = target_step(r["episode_seed"]) > 1
        assert not r["success_once"] and r["grasped"] is held and r["dropped"] is held


def test_every_failure_kind_has_a_disposition():
    from vlthink.harness.executor import DISPOSITION, Disposition
    from vlthink.harness.worker import FAILURE_KINDS

    assert set(DISPOSITION) == {*FAILURE_KINDS, "policy"}
    # what is not the episode's doing is never recorded as its outcome on the first failure
    for kind in ("env_build", "worker_start", "policy", "worker_died"):
        assert DISPOSITION[kind] is not Disposition.RECORD


def test_a_played_episode_sends_images_back_only_when_kept():
    from vlthink.harness.worker import Play, Played, RequestLoop, Reset
    from vlthink.policies.base import EpisodeSpec

    loop = RequestLoop(lambda env_id, _obs_mode, _assets: ScriptedEpisodes(env_id))
    for keep in (False, True):
        spec = EpisodeSpec("Fake-A-v0", 0, 0)
        played = loop.handle(Play(Reset("Fake-A-v0", 11, "rgb"), spec, WorkerSeedPolicy(), keep))
        assert isinstance(played, Played) and played.failed is None
        observations = [played.ready.observation] + [s.observation for s in played.steps]
        assert len(played.actions) == len(played.steps) == length(11)
        assert {o.image is None for o in observations} == {not keep}
        assert any(s.success for s in played.steps)  # the copy acted on the task it was reset to


class HoldsALock(WorkerSeedPolicy):
    """Claims to run in the worker but holds what cannot travel (a lock, like a connection)."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()


def test_runs_in_worker_needs_an_action_policy_that_pickles():
    from vlthink.policies.base import PolicyTraits

    class ProbeInWorker(YesProbe):
        runs_in_worker = True

    with pytest.raises(TypeError, match="needs kind 'action'"):
        PolicyTraits.of(ProbeInWorker())
    with pytest.raises(TypeError, match="cannot be pickled"):
        PolicyTraits.of(HoldsALock())
    assert PolicyTraits.of(WorkerSeedPolicy()).runs_in_worker
