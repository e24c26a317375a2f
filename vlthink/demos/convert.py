"""``vlthink demos convert SRC --to v3.0|v2.1 --out DST``: the same dataset in the other format.

Every attempt of SRC's ledger is staged again in DST's staging directory (the episode's
actions and states from its rows, its frames by stream copy, its facts from its sidecar) and
committed through DST's store, in SRC's order: DST is what recording with ``--format`` would
have written (same rows, same frames, same ledger), it keeps vlthink's per-episode facts
(lerobot's own converter drops ``meta/vlthink``), and a killed conversion resumes when rerun.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vlthink.demos import formats, layout, reader
from vlthink.demos.episode import ARRAYS_FILE, ATTEMPT_FILE, EPISODE_FILE, VIDEO_FILE, Staged
from vlthink.demos.files import TMP_SUFFIX, link_or_copy, write_json
from vlthink.demos.remux import Span, join
from vlthink.demos.store import DatasetError, staged_path

#: Sidecar keys a commit adds (where the episode landed); the rest is the staged facts.
PLACEMENT_KEYS = ("episode_index", "length", "task_index", "episodes_entry", "stats", "v30")


def _stage_again(src: Path, row: dict, dst: Path) -> Staged:
    """SRC's attempt ``row`` as a staged attempt of the dataset at ``dst``."""
    final = staged_path(dst, row["env"], int(row["seed"]), int(row["episode"]))
    tmp = final.with_name(final.name + TMP_SUFFIX)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    i = row["demo"].get("episode_index")
    if row["demo"]["kept"]:
        side = reader.sidecar(src, i)
        facts = {k: v for k, v in side.items() if k not in PLACEMENT_KEYS}
        cols = reader.parquet_columns(src, i, ["action", "observation.state"])
        np.savez(
            tmp / ARRAYS_FILE,
            action=np.asarray(cols["action"], np.float32),
            state=np.asarray(cols["observation.state"], np.float32),
        )
        _, video, offset = reader.where(src, i)
        if offset is None:
            link_or_copy(video, tmp / VIDEO_FILE)
        else:
            join([Span(video, offset, offset + side["length"])], tmp / VIDEO_FILE, layout.FPS)
        write_json(tmp / EPISODE_FILE, facts, indent=None)
    write_json(tmp / ATTEMPT_FILE, row, indent=None)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    return Staged(final, row)


def convert(src: Path, to: str, out: Path) -> str:
    from vlthink.harness.results import read_rows, run_lock

    info, _ = reader.open_dataset(src)
    have = formats.readable_version(src, info)
    if have == to:
        raise DatasetError(f"{src} is already LeRobot {to}. Fix: pass --to with the other one.")
    recording_file = Path(src) / layout.RECORDING_FILE
    if not recording_file.exists():
        raise DatasetError(
            f"{src} was not recorded by `vlthink demos` (no {layout.RECORDING_FILE}). Fix: "
            "convert it with lerobot's own converter."
        )
    recording = {**json.loads(recording_file.read_text()), "lerobot_version": to}
    ledger, _ = read_rows(Path(src) / layout.LEDGER_FILE, repair=False)
    quotas = dict(Counter(r["env"] for r in ledger if r["demo"]["kept"]))
    with run_lock(out):
        formats.check_version(out, to)
        store = formats.STORES[to](out, recording)
        store.open()
        done = len(store.ledger)
        if [(r["env"], r["episode"]) for r in store.ledger] != [
            (r["env"], r["episode"]) for r in ledger[:done]
        ]:
            raise DatasetError(f"{out} holds another dataset. Fix: pass a new --out.")
        for row in ledger[done:]:
            store.add(_stage_again(Path(src), row, Path(out)))
            store.commit_ready(quotas)
    return (
        f"{out}: LeRobot {to}, {store.n_episodes} episodes, {store.done.frames} frames "
        f"(from {src}, LeRobot {have})"
    )


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="vlthink demos convert",
        description="Write a vlthink demos dataset again in the other LeRobot version "
        "(resumable; vlthink's per-episode facts kept).",
    )
    p.add_argument("dataset", type=Path)
    p.add_argument("--to", choices=formats.FORMATS, required=True)
    p.add_argument("--out", type=Path, required=True, help="a new directory")
    a = p.parse_args(argv)
    print(convert(a.dataset, a.to, a.out))
    return 0
