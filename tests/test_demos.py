"""`vlthink demos`: a real recorder, killed with SIGKILL mid-episode, resumed, and its dataset
read back with a reader written here from LeRobot's published v2.1 layout (pyarrow for the
parquet, PyAV for the video), not with the writer's code.

Cost on a 2-core machine: one recording of 3 episodes with 2 workers (killed once, resumed),
one replay through the CLI, one in-test rollout per episode; the bad-input checks run no
simulation.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")
pq = pytest.importorskip("pyarrow.parquet")

ENV = "VLThink-OOD-Train-v0"
EPISODES = 3
MIN_PSNR = 35.0  # dB: H.264 crf 23 measured 39-43 dB on these frames; drift would show far lower


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("MS_ASSET_DIR", "/work/shared/maniskill")
    env["MS_SKIP_ASSET_DOWNLOAD_PROMPT"] = "1"
    return env


def demos_cmd(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "vlthink.cli",
        "demos",
        "--suite",
        ENV,
        "--episodes",
        str(EPISODES),
        "--workers",
        "2",
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


def run(cmd: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=timeout)


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``vlthink ARGV`` in this process (the same entry point; no second start-up of SAPIEN)."""
    from vlthink.cli import main

    capsys.readouterr()
    code = main(argv)
    got = capsys.readouterr()
    return code, got.out, got.err


def record_args(out: Path, *extra: str) -> list[str]:
    return demos_cmd(out, *extra)[3:]


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "error" in ln.lower() and "WARNING" not in ln]


# --- an independent reader of the v2.1 layout -------------------------------------------------


def read_v21(root: Path) -> dict:
    """Check a dataset against the published v2.1 layout; return what was read."""
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v2.1"
    assert info["fps"] == 5 and info["chunks_size"] >= 1
    for key in (
        "robot_type",
        "total_episodes",
        "total_frames",
        "total_tasks",
        "total_videos",
        "total_chunks",
        "splits",
        "data_path",
        "video_path",
        "features",
    ):
        assert key in info, key
    feats = info["features"]
    for key in (
        "action",
        "observation.state",
        "timestamp",
        "frame_index",
        "episode_index",
        "index",
        "task_index",
    ):
        assert {"dtype", "shape", "names"} <= set(feats[key]), key
    assert feats["action"]["shape"] == [7] and feats["observation.state"]["shape"] == [7]
    video_keys = [k for k, f in feats.items() if f["dtype"] == "video"]
    assert video_keys == ["observation.images.image"]
    vinfo = feats[video_keys[0]]["info"]
    n = info["total_episodes"]
    assert info["splits"] == {"train": f"0:{n}"} and info["total_videos"] == n

    def lines(name: str) -> list[dict]:
        text = (root / "meta" / name).read_text()
        return [json.loads(x) for x in text.splitlines() if x.strip()]

    episodes, tasks, stats = (
        lines("episodes.jsonl"),
        lines("tasks.jsonl"),
        lines("episodes_stats.jsonl"),
    )
    assert [e["episode_index"] for e in episodes] == list(range(n))
    assert [s["episode_index"] for s in stats] == list(range(n))
    assert [t["task_index"] for t in tasks] == list(range(info["total_tasks"]))
    task_of = {t["task_index"]: t["task"] for t in tasks}
    parquet_files = sorted((root / "data").rglob("*.parquet"))
    assert len(parquet_files) == n  # HF datasets loads every parquet under data/
    total, out = 0, []
    for ep, st in zip(episodes, stats):
        i, chunk = ep["episode_index"], ep["episode_index"] // info["chunks_size"]
        table = pq.read_table(
            root / info["data_path"].format(episode_chunk=chunk, episode_index=i)
        ).to_pydict()
        length = ep["length"]
        assert len(table["index"]) == length
        assert table["frame_index"] == list(range(length))
        assert table["episode_index"] == [i] * length
        assert table["index"] == list(range(total, total + length))
        ts = np.asarray(table["timestamp"], np.float32)
        assert np.array_equal(ts, (np.arange(length) / info["fps"]).astype(np.float32))
        assert {task_of[t] for t in table["task_index"]} == set(ep["tasks"])
        action = np.asarray(table["action"], np.float32)
        assert action.shape == (length, 7)
        assert np.allclose(st["stats"]["action"]["mean"], action.mean(0), atol=1e-6)
        assert st["stats"]["action"]["count"] == [length]
        img = st["stats"]["observation.images.image"]
        assert np.asarray(img["mean"]).shape == (3, 1, 1)
        video = root / info["video_path"].format(
            episode_chunk=chunk, video_key=video_keys[0], episode_index=i
        )
        with av.open(str(video)) as c:
            stream = c.streams.video[0]
            assert stream.codec_context.name == vinfo["video.codec"] == "h264"
            assert (stream.codec_context.width, stream.codec_context.height) == (640, 480)
            decoded = [(f.to_ndarray(format="rgb24"), float(f.time)) for f in c.decode(stream)]
        assert len(decoded) == length  # frame count matches the parquet rows
        assert np.allclose([t for _, t in decoded], ts, atol=1e-4)  # lerobot's tolerance
        total += length
        out.append({"table": table, "frames": np.stack([f for f, _ in decoded]), "episode": ep})
    assert info["total_frames"] == total
    return {"info": info, "episodes": out}


# --- the recording (once per session: tests/conftest.py's ``recorded``, also read by
# test_demos_verify.py) ------------------------------------------------------------------------


def record_killed_and_resumed(out: Path) -> dict:
    """Record EPISODES episodes of ENV into ``out``, kill -9 the recorder mid-episode once the
    first round is committed, then resume it with the same command."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        demos_cmd(out),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    info = out / "meta/info.json"
    # Wait for the first round (attempts 0 and 1) to be committed, then kill -9 during the
    # next episode: it is being simulated, its attempt is neither staged nor committed.
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and proc.poll() is None:
        if info.exists() and json.loads(info.read_text())["total_episodes"] >= 2:
            break
        time.sleep(0.2)
    time.sleep(1.5)
    assert proc.poll() is None, "the recorder ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = json.loads(info.read_text())["total_episodes"]
    partial = read_v21(out)  # valid as it was left
    resumed = run(demos_cmd(out))
    return {
        "out": out,
        "killed_at": killed_at,
        "partial": partial,
        "resumed": resumed,
        "seconds": time.monotonic() - t0,
    }


def test_killed_recorder_resumes_to_a_complete_v21_dataset(recorded):
    assert 2 <= recorded["killed_at"] < EPISODES
    assert len(recorded["partial"]["episodes"]) == recorded["killed_at"]
    res = recorded["resumed"]
    assert res.returncode == 0, res.stderr[-2000:]
    assert "resuming" in res.stderr
    assert f"{EPISODES} of {EPISODES} episodes" in res.stdout
    ds = read_v21(recorded["out"])
    assert ds["info"]["total_episodes"] == EPISODES
    # the episodes recorded before the kill are unchanged
    for a, b in zip(recorded["partial"]["episodes"], ds["episodes"]):
        assert a["table"] == b["table"]
    ledger = [
        json.loads(x)
        for x in (recorded["out"] / "meta/vlthink/attempts.jsonl").read_text().splitlines()
    ]
    assert [r["episode"] for r in ledger] == list(range(len(ledger)))  # in attempt order
    assert not list((recorded["out"] / "meta/vlthink/staging").iterdir())
    scene = ds["episodes"][0]["table"]
    assert set(scene["scene.env_id"]) == {ENV} and scene["scene.object"][0]
    assert scene["scene.table_look"][0] and scene["scene.receptacle"][0]


def test_rollout_from_the_seed_reproduces_actions_frames_and_success(recorded):
    """Rerun each episode from its recorded seed with the oracle acting (this test's own loop):
    its actions are bit-identical to the dataset's, its frames match the decoded video."""
    from vlthink.harness.worker import ManiSkillEpisodes
    from vlthink.policies.base import EpisodeSpec
    from vlthink.policies.oracle import OraclePolicy

    out = recorded["out"]
    ds = read_v21(out)
    env = ManiSkillEpisodes(ENV, obs_mode="rgb")
    worst = []
    try:
        for i, ep in enumerate(ds["episodes"]):
            side = json.loads(
                next((out / "meta/vlthink/episodes").rglob(f"episode_{i:06d}.json")).read_text()
            )
            table = ep["table"]
            assert table["scene.seed"][0] == side["episode_seed"]
            ready = env.reset([side["episode_seed"]])[0]
            assert ready.task["object"] == table["scene.object"][0]
            policy = OraclePolicy()
            policy.reset(
                [
                    EpisodeSpec(
                        ENV,
                        side["attempt"],
                        side["run_seed"],
                        ready.task["instruction"],
                        ready.task,
                    )
                ]
            )
            obs, actions, frames, success = ready.observation, [], [], False
            for _t in range(side["cut"]):
                frames.append(obs.image)
                actions.append(policy.act([obs])[0])
                step = env.step(actions[-1][None])[0]
                obs, success = step.observation, step.success
            assert success, f"episode {i} does not succeed again"
            executed = np.asarray(side["executed_actions"], np.float32)
            assert np.array_equal(np.stack(actions), executed)  # every executed action
            kept = side["kept_steps"]
            assert np.array_equal(np.asarray(table["action"], np.float32), executed[kept])
            # never drop a gripper change
            grip = executed[:, 6]
            changes = [t for t in range(1, len(grip)) if grip[t] != grip[t - 1]]
            assert changes and set(changes) <= set(kept)
            scores = [_psnr(frames[t], f) for t, f in zip(kept, ep["frames"])]
            worst.append(min(scores))
    finally:
        env.close()
    print(f"decoded vs rendered PSNR: min per episode {[round(s, 1) for s in worst]} dB")
    assert min(worst) > MIN_PSNR


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def test_replay_and_info_commands(recorded, tmp_path, capsys):
    out = recorded["out"]
    code, stdout, err = cli(["demos", "replay", str(out), "--episode", str(EPISODES - 1)], capsys)
    assert code == 0, err[-2000:]
    assert "succeeds again" in stdout and "state max |diff| 0.00e+00" in stdout
    sheet = tmp_path / "sheet.png"
    code, stdout, err = cli(["demos", "info", str(out), "--sheet", str(sheet)], capsys)
    assert code == 0, err[-2000:]
    assert f"episodes {EPISODES}," in stdout and f"success {EPISODES}/{EPISODES}" in stdout
    assert "objects (" in stdout and "table looks (" in stdout
    from PIL import Image

    assert Image.open(sheet).size[0] > 0


# --- bad input: one line, exit 2, nothing lost -----------------------------------------------


def _copy(recorded, tmp_path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(recorded["out"], dst)
    return dst


def test_other_processing_is_refused(recorded, tmp_path, capsys):
    ds = _copy(recorded, tmp_path)
    before = (ds / "meta/info.json").read_bytes()
    code, _, err = cli(record_args(ds, "--stop-after-success", "3"), capsys)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and "different processing" in lines[0] and "Fix:" in lines[0]
    assert (ds / "meta/info.json").read_bytes() == before


def test_corrupt_parquet_is_named_with_its_fix(recorded, tmp_path, capsys):
    ds = _copy(recorded, tmp_path)
    bad = ds / "data/chunk-000/episode_000001.parquet"
    bad.write_bytes(bad.read_bytes()[:100])
    code, _, err = cli(record_args(ds), capsys)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and str(bad) in lines[0] and "--rerecord-from 1" in lines[0]
    video = ds / "videos/chunk-000/observation.images.image/episode_000000.mp4"
    video.write_bytes(b"\0" * 64)
    code, _, err = cli(record_args(ds), capsys)
    assert code == 2 and str(video) in err and "--rerecord-from 0" in err


def test_a_foreign_directory_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = cli(record_args(tmp_path), capsys)
    assert code == 2 and "no vlthink demos dataset" in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_interrupted_commit_is_undone_at_open(recorded, tmp_path):
    """Kill -9 after a commit wrote the episode's files but before its ledger line: the next
    open deletes those files and rebuilds the meta files; the dataset reads as N-1 episodes."""
    from vlthink.demos.store import DemoStore

    ds = _copy(recorded, tmp_path)
    ledger = ds / "meta/vlthink/attempts.jsonl"
    rows = ledger.read_text().splitlines(keepends=True)
    ledger.write_text("".join(rows[:-1]) + rows[-1][: len(rows[-1]) // 2])  # torn last line
    with open(ds / "meta/episodes.jsonl", "a") as fh:
        fh.write('{"episode_ind')  # a torn append
    recording = json.loads((ds / "meta/vlthink/recording.json").read_text())
    store = DemoStore(ds, recording)
    notes = store.open()
    assert any("truncated last line" in n for n in notes)
    assert any("interrupted commit" in n for n in notes)
    assert read_v21(ds)["info"]["total_episodes"] == EPISODES - 1


# --- the processing rules ---------------------------------------------------------------------


def test_idle_steps_are_dropped_but_never_a_gripper_change():
    from vlthink.demos.processing import Processing, select

    move, still = [0.01, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]
    acts = [
        np.asarray(a + [g], np.float32)
        for a, g in [
            (still, 1),
            (move, 1),
            (still, 1),
            (still, -1),
            (still, -1),
            (move, -1),
            (still, -1),
            (still, -1),
            (still, 1),
            (still, 1),
            (move, 1),
            (move, 1),
        ]
    ]
    succ = [False] * 6 + [True] + [False] * 5
    sel = select(acts, succ, Processing(True, 2, True))
    assert sel.first_success == 6 and sel.cut == 9 and not sel.success  # cut at 6 + 1 + 2
    assert sel.kept == [0, 1, 3, 5, 8]  # step 0 kept; closes (3) and opens (8) kept
    sel = select(acts, [False] * 6 + [True] * 6, Processing(False, None, True))
    assert sel.cut == 12 and sel.kept == list(range(12)) and sel.success


# --- a full disk (slow: two more recordings; needs root to mount a small tmpfs) -------------


def _mount(point: Path, size: str, remount: bool = False) -> bool:
    opts = f"remount,size={size}" if remount else f"size={size}"
    cmd = ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)]
    return subprocess.run(cmd, capture_output=True).returncode == 0


@pytest.mark.slow
def test_a_full_disk_loses_only_the_episode_being_written(tmp_path):
    """A real full file system (a 250 kB tmpfs holds about one episode of ~170 kB): the episode that does
    not fit is lost, the run ends incomplete with the fix, the dataset stays valid; with more
    space the same command records that episode again and keeps the others."""
    point = tmp_path / "small"
    point.mkdir()
    if os.geteuid() != 0 or not _mount(point, "250k"):
        pytest.skip("needs root and tmpfs mounts")
    try:
        out = point / "ds"
        cmd = [c if c != str(EPISODES) else "2" for c in demos_cmd(out)]
        res = run(cmd)
        assert res.returncode == 3, res.stderr[-2000:]
        assert "No space left" in res.stderr and "free disk space" in res.stderr
        before = read_v21(out)
        assert before["info"]["total_episodes"] < 2
        assert _mount(point, "4m", remount=True)
        res = run(cmd)
        assert res.returncode == 0, res.stderr[-2000:]
        after = read_v21(out)
        assert after["info"]["total_episodes"] == 2
        for a, b in zip(before["episodes"], after["episodes"]):
            assert a["table"] == b["table"]
        print(f"episodes that fitted before the disk was full: {len(before['episodes'])}")
    finally:
        subprocess.run(["umount", str(point)], capture_output=True)
