"""`vlthink demos --format v3.0`: a real recorder, killed with SIGKILL, resumed, and its dataset
read back with a reader written here from LeRobot's published v3.0 layout (pyarrow, PyAV), not
with the writer's code. lerobot itself reads it in tests/lerobot (Python 3.12, `.ci/lerobot`).

Cost on a 2-core machine: one recording of 2 episodes (killed once, resumed) and two
conversions (stream copies); the bad-input checks run no simulation.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from test_demos import EPISODES, _env, cli, demos_cmd, read_v21

av = pytest.importorskip("av")
pq = pytest.importorskip("pyarrow.parquet")

FPS = 5
KEY = "observation.images.image"
N = EPISODES - 1  # 2 episodes


def read_v30(root: Path) -> dict:
    """Check a dataset against the published v3.0 layout; return what was read."""
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == FPS
    assert "total_chunks" not in info and "total_videos" not in info  # v2.1 keys, gone in v3.0
    feats = info["features"]
    assert feats[KEY]["dtype"] == "video" and feats["action"]["shape"] == [7]
    assert all(f["fps"] == FPS for k, f in feats.items() if f["dtype"] != "video")
    n = info["total_episodes"]
    tasks = pq.read_table(root / "meta/tasks.parquet").to_pandas()
    assert tasks.index.name == "task" and list(tasks["task_index"]) == list(range(len(tasks)))
    episodes = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["episode_index"] for e in episodes] == list(range(n))
    out, total = [], 0
    for ep in episodes:
        c, f = ep["data/chunk_index"], ep["data/file_index"]
        data = root / info["data_path"].format(chunk_index=c, file_index=f)
        table = pq.read_table(data).to_pydict()
        lo, hi, length = ep["dataset_from_index"], ep["dataset_to_index"], ep["length"]
        assert (lo, hi - lo) == (total, length)
        rows = [i for i, e in enumerate(table["episode_index"]) if e == ep["episode_index"]]
        assert [table["index"][i] for i in rows] == list(range(lo, hi))
        assert [table["frame_index"][i] for i in rows] == list(range(length))
        ts = np.asarray([table["timestamp"][i] for i in rows], np.float32)
        assert np.array_equal(ts, (np.arange(length) / FPS).astype(np.float32))
        assert {tasks.index[table["task_index"][i]] for i in rows} == set(ep["tasks"])
        action = np.asarray([table["action"][i] for i in rows], np.float32)
        assert np.allclose(ep["stats/action/mean"], action.mean(0), atol=1e-6)
        vc, vf = ep[f"videos/{KEY}/chunk_index"], ep[f"videos/{KEY}/file_index"]
        video = root / info["video_path"].format(video_key=KEY, chunk_index=vc, file_index=vf)
        t0 = ep[f"videos/{KEY}/from_timestamp"]
        assert ep[f"videos/{KEY}/to_timestamp"] == pytest.approx(t0 + length / FPS)
        with av.open(str(video)) as container:
            decoded = [(fr.to_ndarray(format="rgb24"), float(fr.time)) for fr in container.decode(video=0)]  # fmt: skip
        mine = [(img, t) for img, t in decoded if t0 - 1e-4 <= t < t0 + length / FPS - 1e-4]
        assert np.allclose([t - t0 for _, t in mine], ts, atol=1e-4)  # lerobot's tolerance
        total += length
        out.append({"action": action, "frames": np.stack([img for img, _ in mine])})
    assert info["total_frames"] == total
    stats = json.loads((root / "meta/stats.json").read_text())
    assert stats["action"]["count"] == [total]
    return {"info": info, "episodes": out}


def cmd30(out: Path, *extra: str) -> list[str]:
    """`vlthink demos` of N episodes on one worker (the kill lands between two episodes)."""
    cmd = demos_cmd(out, *extra)
    cmd[cmd.index("--episodes") + 1] = str(N)
    cmd[cmd.index("--workers") + 1] = "1"
    return cmd


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("demos30") / "ds"
    cmd = cmd30(out, "--format", "v3.0")
    proc = subprocess.Popen(
        cmd,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    info = out / "meta/info.json"
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and proc.poll() is None:
        if info.exists() and json.loads(info.read_text())["total_episodes"] >= 1:
            break
        time.sleep(0.1)
    killed = proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL) if killed else None
    proc.wait()
    partial = read_v30(out)
    resumed = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=600)
    return {"out": out, "killed": killed, "partial": partial, "resumed": resumed, "cmd": cmd}


def test_a_killed_v30_recorder_resumes_to_a_complete_dataset(recorded):
    assert recorded["killed"], "the recorder ended before it could be killed"
    assert recorded["resumed"].returncode == 0, recorded["resumed"].stderr[-1500:]
    got = read_v30(recorded["out"])
    assert got["info"]["total_episodes"] == N
    before = recorded["partial"]["episodes"]
    assert 1 <= len(before) < N
    for a, b in zip(before, got["episodes"]):  # nothing finished is lost or changed
        assert np.array_equal(a["action"], b["action"]) and np.array_equal(a["frames"], b["frames"])


def test_v30_converts_to_v21_and_back_byte_for_byte(recorded, tmp_path, capsys):
    src = recorded["out"]
    v21, back = tmp_path / "v21", tmp_path / "back"
    assert cli(["demos", "convert", str(src), "--to", "v2.1", "--out", str(v21)], capsys)[0] == 0
    old = read_v21(v21)["episodes"]
    assert cli(["demos", "convert", str(v21), "--to", "v3.0", "--out", str(back)], capsys)[0] == 0
    for name in ("data/chunk-000/file-000.parquet", f"videos/{KEY}/chunk-000/file-000.mp4"):
        assert (back / name).read_bytes() == (src / name).read_bytes(), name
    for a, b in zip(old, read_v30(src)["episodes"]):
        assert np.array_equal(np.asarray(a["table"]["action"], np.float32), b["action"])
        assert np.array_equal(a["frames"], b["frames"])
    code, out, _ = cli(["demos", "info", str(back)], capsys)
    assert code == 0 and "LeRobot v3.0" in out and f"success {N}/{N}" in out


def _copy(recorded, tmp_path) -> Path:
    ds = tmp_path / "ds"
    shutil.copytree(recorded["out"], ds)
    return ds


def test_an_interrupted_v30_commit_is_cut_back_at_open(recorded, tmp_path):
    """Kill -9 after the shared files were replaced but before the ledger line: the next open
    cuts the files back to the committed episodes; the first episode is untouched."""
    from vlthink.demos.store30 import V30Store

    ds = _copy(recorded, tmp_path)
    ledger = ds / "meta/vlthink/attempts.jsonl"
    rows = ledger.read_text().splitlines(keepends=True)
    ledger.write_text("".join(rows[:-1]) + rows[-1][: len(rows[-1]) // 2])  # torn last line
    store = V30Store(ds, json.loads((ds / "meta/vlthink/recording.json").read_text()))
    notes = store.open()
    assert any("cut 2 file(s)" in n for n in notes), notes
    got = read_v30(ds)
    assert got["info"]["total_episodes"] == N - 1
    first = read_v30(recorded["out"])["episodes"][0]
    assert np.array_equal(got["episodes"][0]["frames"], first["frames"])


def test_a_damaged_v30_file_is_one_line_naming_the_fix(recorded, tmp_path, capsys):
    ds = _copy(recorded, tmp_path)
    video = ds / f"videos/{KEY}/chunk-000/file-000.mp4"
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    code, _, err = cli(cmd30(ds, "--format", "v3.0")[3:], capsys)
    lines = [ln for ln in err.splitlines() if "file-000.mp4" in ln]
    assert code == 2 and len(lines) == 1 and "--rerecord-from 0" in lines[0]
    assert (ds / "data/chunk-000/file-000.parquet").exists()  # nothing deleted


def test_demos_verify_checks_a_v30_dataset_and_names_a_damaged_shared_file(
    recorded, tmp_path, capsys
):
    code, out, _ = cli(["demos", "verify", str(recorded["out"])], capsys)
    assert code == 0 and "every file present and whole" in out
    ds = _copy(recorded, tmp_path)
    video = ds / f"videos/{KEY}/chunk-000/file-000.mp4"
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    code, _, err = cli(["demos", "verify", str(ds)], capsys)
    lines = [ln for ln in err.splitlines() if "file-000.mp4" in ln]
    assert code == 2 and lines and "--rerecord-from" in lines[0]


def test_a_directory_of_the_other_version_is_refused(recorded, tmp_path, capsys):
    ds = _copy(recorded, tmp_path)
    before = (ds / "meta/info.json").read_bytes()
    code, _, err = cli(cmd30(ds)[3:], capsys)  # --format v2.1, the default
    assert code == 2 and "holds a LeRobot v3.0 dataset" in err and "--format v3.0" in err
    assert (ds / "meta/info.json").read_bytes() == before
    code, _, err = cli(["demos", "convert", str(ds), "--to", "v3.0", "--out", str(tmp_path / "x")], capsys)  # fmt: skip
    assert code == 2 and "already LeRobot v3.0" in err


def test_rerecord_from_cuts_the_shared_files_to_the_episodes_before_it(recorded, tmp_path):
    from vlthink.demos.store30 import V30Store

    ds = _copy(recorded, tmp_path)
    store = V30Store(ds, json.loads((ds / "meta/vlthink/recording.json").read_text()))
    notes = store.open(rerecord_from=1)
    assert any("--rerecord-from 1" in n for n in notes) and store.n_episodes == 1
    got = read_v30(ds)["episodes"]
    assert len(got) == 1
    assert np.array_equal(got[0]["frames"], read_v30(recorded["out"])["episodes"][0]["frames"])
    store = V30Store(ds, json.loads((ds / "meta/vlthink/recording.json").read_text()))
    store.open(rerecord_from=0)
    assert not (ds / "meta/episodes/chunk-000/file-000.parquet").exists()
    assert not list((ds / "data").rglob("*.parquet")) and not list((ds / "videos").rglob("*.mp4"))
