"""End-to-end: the real oracle on real vlthink envs through `vlthink-eval`, killed and resumed.

These tests start real worker processes (spawn) running SAPIEN on the CPU, so they cost tens of
seconds; they share one uninterrupted reference run (module fixture).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from vlthink.harness import cli
from vlthink.harness import results as store

REPO = Path(__file__).resolve().parents[1]
ENVS = ["VLThink-Traffic-v0", "VLThink-Shape-v0"]
EPISODES = 2  # per env -> 4 episodes per run


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _cmd(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "vlthink.harness.cli",
        "--policy",
        "oracle",
        "--suite",
        *ENVS,
        "--episodes",
        str(EPISODES),
        "--seed",
        "0",
        "--workers",
        "2",
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


def _stable(rows: list[dict]) -> dict:
    return {store.row_key(r): store.stable_row(r) for r in rows}


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "uninterrupted"
    proc = subprocess.run(
        _cmd(out), env=_env(), cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.timeout(900)
def test_uninterrupted_run_writes_rows_manifest_and_summary(reference_run):
    manifest, rows = store.load_run(reference_run)
    assert len(rows) == len(ENVS) * EPISODES
    assert all(r["error"] is None for r in rows), [r["error"] for r in rows]
    for r in rows:
        for field in store.ROW_FIELDS:
            assert field in r
        assert r["policy"] == "oracle" and r["instruction"] and r["steps"] > 0
        assert r["placed_on"] in ("none", "target", "distractor")
        assert r["grasped"] is True and r["dropped"] is False  # why it failed, had it failed
    # the oracle is the ceiling: it must solve these easy cells
    assert sum(r["success_once"] for r in rows) >= len(rows) - 1
    assert manifest["protocol_version"] and manifest["harness_protocol"]
    assert manifest["paper_size"] is False  # 2 episodes x 1 seed
    assert manifest["policy"]["config"]["adapter"] == "oracle"
    for pkg in ("vlthink", "sapien", "mani_skill", "torch", "mesa", "board_art", "ood_assets"):
        assert pkg in manifest["versions"]
    assert manifest["render_device"] and manifest["plan"]["sim_backend"] == "cpu"
    assert manifest["command"].startswith("vlthink-eval --policy oracle --suite")
    summary = (reference_run / store.SUMMARY_FILE).read_text()
    assert "VLThink-Traffic-v0" in summary and "ci_low" in summary


@pytest.mark.timeout(900)
def test_kill_half_way_then_resume_gives_the_uninterrupted_rows(reference_run, tmp_path):
    out = tmp_path / "killed"
    rows_file = out / store.ROWS_FILE
    proc = subprocess.Popen(
        _cmd(out),
        env=_env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    half = len(ENVS) * EPISODES // 2
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            if rows_file.exists() and rows_file.read_bytes().count(b"\n") >= half:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("no half-way point within 600 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # parent and workers, as a power cut would
        proc.wait(timeout=60)
    done_before = rows_file.read_bytes().count(b"\n")
    assert half <= done_before < len(ENVS) * EPISODES
    # a kill in the middle of a write leaves half a line: simulate it on top of the real kill
    with open(rows_file, "a") as fh:
        fh.write('{"env": "VLThink-Shape-v0", "episode": 1, "se')
    res = subprocess.run(
        _cmd(out), env=_env(), cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "truncated last line" in res.stderr and "resuming" in res.stderr
    _, resumed = store.load_run(out)
    _, reference = store.load_run(reference_run)
    assert len(resumed) == len(reference)  # nothing duplicated, nothing lost
    assert _stable(resumed) == _stable(reference)  # and exactly the same rows
    # a third run of the same command has nothing left to do and changes nothing
    again = subprocess.run(
        _cmd(out), env=_env(), cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert again.returncode == 0
    assert rows_file.read_bytes().count(b"\n") == len(reference)


@pytest.mark.timeout(300)
def test_summary_against_itself_and_refusals(reference_run, tmp_path, capsys):
    # pairing a run with itself: every difference is zero -> no Wilcoxon test, shown as "—"
    assert cli.main(["summary", str(reference_run), "--baseline", str(reference_run)]) == 0
    out = capsys.readouterr().out
    assert "Wilcoxon p (n)" in out and "— (0)" in out
    assert "not the paper's size: 2 episodes x seeds 0" in out
    # a baseline of another protocol is refused with the reason and the fix, exit code 2
    other = tmp_path / "other-protocol"
    other.mkdir()
    manifest = json.loads((reference_run / store.MANIFEST_FILE).read_text())
    manifest["protocol_version"] = "vlthink-0"
    (other / store.MANIFEST_FILE).write_text(json.dumps(manifest))
    (other / store.ROWS_FILE).write_bytes((reference_run / store.ROWS_FILE).read_bytes())
    assert cli.main(["summary", str(reference_run), "--baseline", str(other)]) == 2
    err = capsys.readouterr().err
    assert "cannot pair" in err and "vlthink-0" in err and "Fix" in err
    assert "Traceback" not in err


@pytest.mark.timeout(300)
def test_user_errors_exit_2_without_traceback(reference_run, tmp_path, capsys):
    assert (
        cli.main(
            ["--policy", "oracle", "--suite", "VLThink-Trafic-v0", "--out", str(tmp_path / "x")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "unknown suite or env id 'VLThink-Trafic-v0'" in err and "VLThink-Traffic-v0" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('adapter = "oracle"\ntarget = "instructed"\ntypo_key = 1\n')
    assert cli.main(["--policy", str(bad), "--suite", ENVS[0], "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert "typo_key" in err and "Traceback" not in err
    # a corrupt results file: refused with file and line, and the file is left as it was
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / store.MANIFEST_FILE).write_bytes((reference_run / store.MANIFEST_FILE).read_bytes())
    lines = (reference_run / store.ROWS_FILE).read_text().splitlines()
    data = "\n".join([lines[0], "{not json", *lines[1:]]) + "\n"
    (corrupt / store.ROWS_FILE).write_text(data)
    args = [
        "--policy",
        "oracle",
        "--suite",
        *ENVS,
        "--episodes",
        str(EPISODES),
        "--out",
        str(corrupt),
        "--no-progress",
    ]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and str(corrupt / store.ROWS_FILE) in err and "delete line 2" in err
    assert (corrupt / store.ROWS_FILE).read_text() == data
    # the same directory with another configuration is refused rather than mixed
    args = [
        "--policy",
        "oracle",
        "--suite",
        *ENVS,
        "--episodes",
        "3",
        "--out",
        str(reference_run),
        "--no-progress",
    ]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "different plan" in err and "episodes: 2 there, 3 now" in err
    # a video needs frames: forcing the env not to render them is refused before any work starts
    args = [
        "--policy",
        "oracle",
        "--suite",
        ENVS[0],
        "--episodes",
        "1",
        "--record-video",
        "--obs-mode",
        "state_dict",
        "--out",
        str(tmp_path / "z"),
        "--no-progress",
    ]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "--obs-mode state_dict" in err and "Traceback" not in err


@pytest.mark.timeout(300)
def test_dead_policy_stops_with_one_message_and_keeps_rows(tmp_path, capsys):
    # An OpenVLA policy file pointing at a port nobody listens on: every call fails.
    pol = tmp_path / "unreachable.toml"
    pol.write_text('adapter = "openvla"\nendpoint = "http://127.0.0.1:9/act"\ntimeout_s = 2.0\n')
    out = tmp_path / "dead"
    code = cli.main(
        [
            "--policy",
            str(pol),
            "--suite",
            ENVS[0],
            "--episodes",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
            "--no-progress",
            "--max-policy-failures",
            "2",
        ]
    )
    err = capsys.readouterr().err
    assert code == cli.EXIT_INCOMPLETE
    assert "incomplete: 2 of 2 episodes not run" in err
    assert "failed on 2 consecutive calls" in err and "rerun the same command" in err
    assert "Traceback" not in err
    rows, _ = store.read_rows(out / store.ROWS_FILE)
    assert rows == []  # the failed calls' episodes are not recorded: they run again on resume


@pytest.mark.timeout(300)
def test_hung_episode_is_recorded_and_retry_errors_completes_it(tmp_path, capsys):
    # A budget far below what building the env takes: the worker is killed, the row says why,
    # the run goes on to the next episode (which gets a fresh worker).
    out = tmp_path / "timeout"
    run = f"--policy oracle --suite {ENVS[0]} --episodes 2 --workers 1 --no-progress".split()
    code = cli.main([*run, "--out", str(out), "--episode-timeout", "0.05"])
    assert code == cli.EXIT_ERRORED
    rows, _ = store.read_rows(out / store.ROWS_FILE)
    assert len(rows) == 2
    assert all(r["error"] and r["error"].startswith("timeout") for r in rows)
    assert all(r["error_kind"] == "timeout" and not r["success_once"] for r in rows)
    err = capsys.readouterr().err
    assert "complete; 2 episode(s) errored" in err and "--retry-errors" in err
    # the errored episodes run again with --retry-errors, and the run completes cleanly
    code = cli.main([*run, "--out", str(out), "--retry-errors"])
    assert code == cli.EXIT_OK
    rows, _ = store.read_rows(out / store.ROWS_FILE)
    assert len(rows) == 2 and all(r["error"] is None and r["success_once"] for r in rows)
    assert (out / (store.ROWS_FILE + ".bak")).exists()  # the errored rows are kept beside it


@pytest.mark.slow  # two to three more full runs; `pytest -m slow` runs it
@pytest.mark.timeout(900)
def test_shards_merge_into_the_uninterrupted_rows(reference_run, tmp_path):
    shards = []
    for i in (1, 2):
        out = tmp_path / f"shard{i}"
        res = subprocess.run(
            _cmd(out, "--shard", f"{i}/2"),
            env=_env(),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert res.returncode == 0, res.stderr[-3000:]
        shards.append(out)
    sizes = [len(store.load_run(s)[1]) for s in shards]
    assert sum(sizes) == len(ENVS) * EPISODES
    merged = tmp_path / "merged"
    assert cli.main(["merge", str(merged), *map(str, shards)]) == 0
    manifest, rows = store.load_run(merged)
    assert manifest["plan"]["shard"] is None and len(manifest["merged_from"]) == 2
    assert _stable(rows) == _stable(store.load_run(reference_run)[1])
    # merging shards of different commands is refused
    other = tmp_path / "other"
    other.mkdir()
    m = json.loads((shards[1] / store.MANIFEST_FILE).read_text())
    m["plan"]["episodes"] = 5
    (other / store.MANIFEST_FILE).write_text(json.dumps(m))
    assert cli.main(["merge", str(tmp_path / "m2"), str(shards[0]), str(other)]) == 2


@pytest.mark.timeout(900)
def test_ray_executor_matches_local_run(reference_run, tmp_path):
    """A real local Ray instance (started by the run) gives exactly the local run's rows."""
    pytest.importorskip("ray", reason="Ray is an optional extra (pip install vlthink[ray])")
    out = tmp_path / "ray"
    res = subprocess.run(
        _cmd(out, "--executor", "ray"),
        env=_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert _stable(store.load_run(out)[1]) == _stable(store.load_run(reference_run)[1])


@pytest.mark.timeout(600)
def test_probe_policy_rows_and_video(tmp_path, capsys):
    # The real VLM-probe adapter against a loopback OpenAI-compatible server that always says
    # "Yes, it is on the left": success exactly when the target is on the left.
    servers = pytest.importorskip("vlthink.testing.servers")
    with servers.ChatServer() as srv:
        pol = tmp_path / "probe.toml"
        pol.write_text(f'adapter = "vlm-probe"\nbackend = "openai"\nendpoint = "{srv.url}"\n')
        out = tmp_path / "probe"
        code = cli.main(
            [
                "--policy",
                str(pol),
                "--suite",
                ENVS[0],
                "--episodes",
                "3",
                "--workers",
                "1",
                "--out",
                str(out),
                "--no-progress",
                "--record-video",
            ]
        )
    assert code == 0, capsys.readouterr().err[-2000:]
    rows, _ = store.read_rows(out / store.ROWS_FILE)
    assert len(rows) == 3
    for r in rows:
        assert r["steps"] == 0 and r["error"] is None and r["answer"] == "Yes, it is on the left."
        assert r["success_once"] == (r["task"]["target_position"] == "left")
        assert r["success_at_end"] == r["success_once"]
        video = out / "videos" / ENVS[0] / f"seed0_ep{r['episode']:04d}.mp4"
        with av.open(str(video)) as container:  # the first frame, as the probe saw it
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert len(frames) == 1 and frames[0].shape == (240, 320, 3) and frames[0].std() > 5


class _PerSlotOracle:
    """The real oracle, one instance per batch slot, so that slots can be reset one at a time.

    This exercises the harness's refill mode (``reset_slots``): a slot whose episode ends gets
    the next episode at once while the other slot carries on.
    """

    name = "oracle"
    uses_images = False
    per_slot_reset = True

    def __init__(self, slots: int):
        from vlthink.policies.registry import load_policy

        self.inner = [load_policy("oracle") for _ in range(slots)]
        self.calls = {"reset": 0, "reset_slots": 0}

    def reset(self, episodes):
        self.calls["reset"] += 1
        for pol, spec in zip(self.inner, episodes):
            pol.reset([spec])

    def reset_slots(self, slots, episodes):
        self.calls["reset_slots"] += 1
        for i, spec in zip(slots, episodes):
            self.inner[i].reset([spec])

    def act(self, observations):
        import numpy as np

        out = np.zeros((len(observations), 7), np.float32)
        for i, obs in enumerate(observations):
            if obs is not None:
                out[i] = self.inner[i].act([obs])[0]
        return out

    def close(self):
        pass


@pytest.mark.slow  # two to three more full runs; `pytest -m slow` runs it
@pytest.mark.timeout(900)
def test_refill_mode_gives_the_same_rows(reference_run):
    from vlthink.harness.episodes import plan_episodes
    from vlthink.harness.executor import CpuExecutor, RunOptions

    policy = _PerSlotOracle(2)
    rows: list[dict] = []
    keys = plan_episodes(ENVS, EPISODES, [0])
    CpuExecutor(policy, RunOptions(workers=2), rows.append).run(keys)
    assert policy.calls["reset_slots"] >= 2  # slots were refilled one by one
    assert _stable(rows) == _stable(store.load_run(reference_run)[1])


@pytest.mark.timeout(900)
def test_rows_do_not_depend_on_skipping_the_render(reference_run):
    """The oracle never looks at frames, so the harness skips the camera render for it; forcing
    the render must change nothing but the time taken."""
    from vlthink.harness.episodes import plan_episodes
    from vlthink.harness.executor import CpuExecutor, RunOptions, obs_mode_for
    from vlthink.policies.registry import load_policy

    policy = load_policy("oracle")
    assert obs_mode_for(policy, RunOptions()) == "state_dict"
    assert obs_mode_for(policy, RunOptions(record_video=True)) == "rgb"
    rows: list[dict] = []
    CpuExecutor(policy, RunOptions(workers=2, obs_mode="rgb"), rows.append).run(
        plan_episodes(ENVS, EPISODES, [0])
    )
    assert _stable(rows) == _stable(store.load_run(reference_run)[1])


@pytest.mark.timeout(300)
def test_a_worker_whose_parent_left_while_it_imported_exits_quietly(capfd):
    """A run killed (or done: a resume with nothing left) while its workers still import: each
    worker finds the pipe closed when it reports for work and exits 0, no traceback."""
    from vlthink.harness.worker import ProcessWorker

    worker = ProcessWorker()
    worker.start()
    proc = worker.proc
    worker.conn.close()  # the parent's end, before the worker's imports are done
    proc.join(timeout=240)
    assert proc.exitcode == 0
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.timeout(300)
def test_worker_processes_close_together_and_exit_cleanly():
    from vlthink.harness.executor import process_workers
    from vlthink.harness.worker import close_workers

    workers = process_workers(2)
    for w in workers:
        w.wait_started()
    procs = [w.proc for w in workers]
    workers[0].ask_to_close()
    workers[0].ask_to_close()  # a second ask sends nothing more
    close_workers(workers)
    assert [p.exitcode for p in procs] == [0, 0]
    assert all(w.proc is None and not w.closing for w in workers)
    close_workers(workers)  # closing closed workers is a no-op
