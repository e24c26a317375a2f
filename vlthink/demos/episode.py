"""One attempt: from the executor's finished episode to staged files, and to a dataset episode.

Staging (in the recorder, when the attempt finishes) writes what does not depend on where the
episode lands: the video, the kept frames' actions and states, the sidecar facts. Committing
(in attempt order) writes what does: the parquet (``episode_index``, ``index``, ``task_index``)
and the per-episode statistics.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vlthink.demos import layout
from vlthink.demos.files import TMP_SUFFIX, write_json
from vlthink.demos.processing import Processing, Selection, select, state_vector
from vlthink.video import VideoSettings, encode

ATTEMPT_FILE, EPISODE_FILE, ARRAYS_FILE, VIDEO_FILE = (
    "attempt.json",
    "episode.json",
    "frames.npz",
    "video.mp4",
)
SIDECAR_FORMAT = "vlthink-demo-episode/1"


def staging_name(env_id: str, seed: int, attempt: int) -> str:
    return f"{env_id}__seed{seed}__attempt{attempt:06d}"


@dataclass
class Staged:
    """A finished attempt waiting for its turn to be committed."""

    path: Path
    row: dict[str, Any]  # the executor's row, with a "demo" block: kept, reason, frames

    @property
    def kept(self) -> bool:
        return bool(self.row["demo"]["kept"])

    @classmethod
    def load(cls, path: Path) -> Staged:
        return cls(Path(path), json.loads((Path(path) / ATTEMPT_FILE).read_text()))


def verdict(ep: Any, sel: Selection | None, proc: Processing) -> tuple[bool, str]:
    """(kept, why) for a finished attempt."""
    if ep.failure is not None:
        return False, f"error: {ep.failure.kind}"
    if sel is None or sel.cut == 0:
        return False, "no steps"
    if proc.successes_only and not sel.success:
        return False, "not successful"
    return True, "success" if sel.success else "kept (successes_only off)"


def _image_stats(frames: list[np.ndarray]) -> dict[str, list]:
    """Per-channel min/max/mean/std of pixel values in [0, 1], shaped (3, 1, 1) as lerobot."""
    n = sum(f.shape[0] * f.shape[1] for f in frames)
    s = np.zeros(3)
    s2 = np.zeros(3)
    lo, hi = np.full(3, 255), np.zeros(3)
    for f in frames:
        px = f.reshape(-1, 3)
        s += px.sum(0, dtype=np.float64)
        s2 += np.einsum("ij,ij->j", px.astype(np.float32), px.astype(np.float32), dtype=np.float64)
        lo, hi = np.minimum(lo, px.min(0)), np.maximum(hi, px.max(0))
    mean = s / n
    std = np.sqrt(np.maximum(s2 / n - mean**2, 0.0))
    shape = lambda v: [[[float(x) / 255.0]] for x in v]  # noqa: E731
    return {
        "min": shape(lo),
        "max": shape(hi),
        "mean": shape(mean),
        "std": shape(std),
        "count": [len(frames)],
    }


def stage(
    ep: Any, row: dict[str, Any], staging: Path, proc: Processing, video: VideoSettings
) -> Staged:
    """Write a finished attempt to ``staging/<name>`` (a directory renamed into place whole)."""
    trace = ep.trace if ep.failure is None else []
    actions = [np.asarray(a, np.float32) for _, a, _ in trace]
    sel = select(actions, [s for _, _, s in trace], proc) if trace else None
    kept, why = verdict(ep, sel, proc)
    row = dict(row)
    row["demo"] = {
        "kept": kept,
        "reason": why,
        "frames": len(sel.kept) if kept else 0,
        "cut": sel.cut if sel else 0,
        "dropped_idle": sel.dropped if sel else 0,
        "first_success": sel.first_success if sel else None,
    }
    final = staging / staging_name(ep.key.env_id, ep.key.seed, ep.key.episode)
    tmp = final.with_name(final.name + TMP_SUFFIX)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if kept:
            _write_frames(ep, sel, tmp, video)
        write_json(tmp / ATTEMPT_FILE, row, indent=None)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Staged(final, row)


def _write_frames(ep: Any, sel: Selection, out: Path, video: VideoSettings) -> None:
    frames = [np.asarray(ep.trace[t][0].image, np.uint8) for t in sel.kept]
    encode(frames, out / VIDEO_FILE, layout.FPS, video)
    np.savez(
        out / ARRAYS_FILE,
        action=np.stack([np.asarray(ep.trace[t][1], np.float32) for t in sel.kept]),
        state=np.stack([state_vector(ep.trace[t][0].privileged) for t in sel.kept]),
    )
    from vlthink.harness.executor import _jsonable_task

    facts = {
        "format": SIDECAR_FORMAT,
        "env_id": ep.key.env_id,
        "attempt": ep.key.episode,
        "run_seed": ep.key.seed,
        "episode_seed": ep.seed,
        "instruction": str(ep.task.get("instruction", "")),
        "task": _jsonable_task(ep.task),
        "success": sel.success,
        "first_success": sel.first_success,
        "cut": sel.cut,
        "attempt_steps": len(ep.trace),
        "kept_steps": sel.kept,
        # every executed action up to the cut, idle ones too: what a replay must send
        "executed_actions": [[float(x) for x in ep.trace[t][1]] for t in range(sel.cut)],
        "image_stats": _image_stats(frames),
    }
    write_json(out / EPISODE_FILE, facts, indent=None)


# --- committing ------------------------------------------------------------------------------


def _column_stats(x: np.ndarray) -> dict[str, list]:
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    return {
        "min": x.min(0).tolist(),
        "max": x.max(0).tolist(),
        "mean": x.mean(0).tolist(),
        "std": x.std(0).tolist(),
        "count": [len(x)],
    }


def _hf_features() -> dict[str, Any]:
    """The ``huggingface`` schema metadata HF ``datasets`` writes, so it restores the types."""
    value = lambda dtype: {"dtype": dtype, "_type": "Value"}  # noqa: E731
    seq = {"feature": value("float32"), "length": 7, "_type": "Sequence"}
    feats = {"action": seq, "observation.state": dict(seq), "timestamp": value("float32")}
    feats.update(
        {k: value("int64") for k in ("frame_index", "episode_index", "index", "task_index")}
    )
    feats.update({name: value(dtype) for name, dtype, _ in layout.SCENE_COLUMNS})
    return feats


def episode_table(staged: Path, facts: dict, index: int, offset: int, task_index: int):
    """The episode's parquet table and its ``episodes_stats`` entry."""
    import pyarrow as pa

    arrays = np.load(staged / ARRAYS_FILE)
    action, state = arrays["action"], arrays["state"]
    n = len(action)
    frame_index = np.arange(n, dtype=np.int64)
    cols: dict[str, np.ndarray] = {
        "timestamp": (frame_index / layout.FPS).astype(np.float32),
        "frame_index": frame_index,
        "episode_index": np.full(n, index, np.int64),
        "index": offset + frame_index,
        "task_index": np.full(n, task_index, np.int64),
    }
    vec = lambda a: pa.FixedSizeListArray.from_arrays(pa.array(a.reshape(-1)), 7)  # noqa: E731
    arrow = {"action": vec(action), "observation.state": vec(state)}
    arrow.update({k: pa.array(v) for k, v in cols.items()})
    for name, dtype, key in layout.SCENE_COLUMNS:
        value = scene_value(name, key, facts)
        arrow[name] = pa.array([value] * n, pa.string() if dtype == "string" else pa.int64())
    meta = {b"huggingface": json.dumps({"info": {"features": _hf_features()}}).encode()}
    table = pa.table(arrow).replace_schema_metadata(meta)
    stats = {
        "action": _column_stats(action),
        "observation.state": _column_stats(state),
        **{k: _column_stats(v) for k, v in cols.items()},
        layout.IMAGE_KEY: facts["image_stats"],
    }
    return table, stats


def scene_value(name: str, key: str | None, facts: dict) -> Any:
    if name == "scene.env_id":
        return facts["env_id"]
    if name == "scene.seed":
        return int(facts["episode_seed"])
    value = facts["task"].get(key)
    return "" if value is None else str(value)  # VL-Think scenes have no object/table facts
