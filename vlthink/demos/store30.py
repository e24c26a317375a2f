"""A LeRobot v3.0 dataset being recorded: :class:`DemoStore`'s staging, ledger and in-order
commits, with v3.0's shared files.

What changes from v2.1 is where an episode lands: its rows are appended to the open data file
and its frames to the open video file (:mod:`.remux`, no re-encoding), each written whole to
``*.tmp`` and renamed into place, then its sidecar (which says where it sits), then the meta
files, then the ledger line: the ledger stays the commit record. A kill -9 between the renames
and the ledger line leaves a file holding one episode more than the ledger lists; the next
open cuts it back (or deletes a file only that episode opened), so a file always holds exactly
the committed episodes, and the uncut attempt is committed again from its staged copy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from vlthink.demos import layout, layout30
from vlthink.demos.episode import EPISODE_FILE, VIDEO_FILE, episode_table
from vlthink.demos.files import TMP_SUFFIX, write_atomic, write_json
from vlthink.demos.remux import Span, join
from vlthink.demos.store import Committed, DatasetError, DemoStore


def replace_from_tmp(path: Path, write) -> None:
    """``write(tmp)``, fsync it, rename it over ``path``: readers see the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    tmp.unlink(missing_ok=True)
    write(tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def aggregate(stats: list[dict]) -> dict:
    """Dataset statistics from per-episode ones (count-weighted mean, pooled std)."""
    out: dict[str, dict] = {}
    for feature in stats[0] if stats else {}:
        parts = [s[feature] for s in stats]
        count = np.array([p["count"][0] for p in parts], np.float64)
        shape = (-1,) + (1,) * np.asarray(parts[0]["mean"]).ndim
        w = (count / count.sum()).reshape(shape)
        means = np.stack([np.asarray(p["mean"], np.float64) for p in parts])
        stds = np.stack([np.asarray(p["std"], np.float64) for p in parts])
        mean = (w * means).sum(0)
        var = (w * (stds**2 + (means - mean) ** 2)).sum(0)
        out[feature] = {
            "min": np.min([p["min"] for p in parts], axis=0).tolist(),
            "max": np.max([p["max"] for p in parts], axis=0).tolist(),
            "mean": mean.tolist(),
            "std": np.sqrt(var).tolist(),
            "count": [int(count.sum())],
        }
    return out


class V30Store(DemoStore):
    """:class:`DemoStore` writing LeRobot v3.0 (see the module's docstring)."""

    def __init__(self, root: Path, recording: dict):
        super().__init__(root, recording)
        self.sides: list[dict] = []  # committed episodes' sidecars, in order

    # -- opening: cut files back to the committed episodes ----------------------------------------
    def _remove_uncommitted(self, n: int) -> list[str]:
        notes = super()._remove_uncommitted(n)  # sidecars of episodes >= n, *.tmp
        sides = [self._read_sidecar(i) for i in range(n)]
        rows: dict[int, int] = {}  # file -> committed rows (= frames)
        first: dict[int, int] = {}  # file -> its first episode
        for i, side in enumerate(sides):
            f = side["v30"]["file"]
            rows[f] = rows.get(f, 0) + side["length"]
            first.setdefault(f, i)
        cut = 0
        for kind, path_of, count in (
            ("parquet", layout30.data_path, _parquet_rows),
            ("mp4", layout30.video_path, _video_frames),
        ):
            cut += self._cut_files(kind, path_of, count, rows, first)
        if cut:
            notes.append(f"cut {cut} file(s) back to the {n} episode(s) the ledger lists")
        return notes

    def _cut_files(self, kind, path_of, count, rows: dict[int, int], first: dict[int, int]) -> int:
        top = self.root / ("data" if kind == "parquet" else "videos")
        on_disk = {layout30.file_number(p): p for p in top.rglob("file-*." + kind)}
        cut = 0
        for n, path in sorted((k, p) for k, p in on_disk.items() if k is not None):
            want = rows.get(n, 0)
            if want == 0:
                path.unlink()
                cut += 1
                continue
            try:
                got = count(path)
            except Exception as exc:  # any reader error is a corrupt file
                raise DatasetError(
                    f"{path}: not a readable {kind} ({type(exc).__name__}: {str(exc)[:80]}). "
                    f"{self._fix(first[n])}"
                ) from None
            if got < want:
                raise DatasetError(
                    f"{path}: {got} frames, its episodes have {want}. {self._fix(first[n])}"
                )
            if got > want:
                _truncate(kind, path, want)
                cut += 1
        missing = sorted(set(rows) - set(on_disk))
        if missing:
            path = path_of(self.root, missing[0])
            raise DatasetError(f"{path} is missing. {self._fix(first[missing[0]])}")
        return cut

    def _check_files(self, i: int, length: int) -> None:
        """Checked file by file when opening (:meth:`_cut_files`), not episode by episode."""

    def _rebuild(self, n: int) -> None:
        self.done, self.sides = Committed(), []
        for i in range(n):
            self._add(self._read_sidecar(i))
        self._write_meta(full=True)

    def _add(self, side: dict) -> None:
        self.sides.append(side)
        self.done.tasks.setdefault(side["instruction"], side["task_index"])
        self.done.episodes.append(side["episodes_entry"])
        self.done.stats.append({"episode_index": side["episode_index"], "stats": side["stats"]})
        self.done.frames += side["length"]

    # -- committing ------------------------------------------------------------------------------
    def _place(self) -> tuple[int, int]:
        """(file, offset) of the next episode: the open file, or a new one when it is full."""
        if not self.sides:
            return 0, 0
        last = self.sides[-1]["v30"]
        f, end = last["file"], last["offset"] + self.sides[-1]["length"]
        in_file = sum(1 for s in self.sides if s["v30"]["file"] == f)
        mb = os.path.getsize(layout30.video_path(self.root, f)) / 2**20
        if in_file >= layout30.EPISODES_PER_FILE or mb >= layout30.VIDEO_FILE_MB:
            return f + 1, 0
        return f, end

    def _commit_episode(self, staged: Path, i: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        facts = json.loads((staged / EPISODE_FILE).read_text())
        new_task = facts["instruction"] not in self.done.tasks
        task_index = self.done.tasks.get(facts["instruction"], len(self.done.tasks))
        table, stats = episode_table(staged, facts, i, self.done.frames, task_index)
        f, offset = self._place()
        data = layout30.data_path(self.root, f)
        if offset:
            table = pa.concat_tables([pq.read_table(data), table])
        replace_from_tmp(data, lambda tmp: pq.write_table(table, tmp))
        video = layout30.video_path(self.root, f)
        spans = ([Span(video)] if offset else []) + [Span(staged / VIDEO_FILE)]
        replace_from_tmp(video, lambda tmp: join(spans, tmp, layout.FPS))
        n = table.num_rows - offset
        side = {
            **facts,
            "episode_index": i,
            "length": n,
            "task_index": task_index,
            "episodes_entry": {"episode_index": i, "tasks": [facts["instruction"]], "length": n},
            "stats": stats,
            "v30": {"file": f, "offset": offset, "dataset_from_index": self.done.frames},
        }
        write_json(layout.sidecar_path(self.root, i), side, indent=None)
        self._add(side)
        self._write_meta(full=new_task)

    # -- meta ------------------------------------------------------------------------------------
    def _write_meta(self, full: bool) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [layout30.episode_row(i, s) for i, s in enumerate(self.sides)]
        path = self.root / layout30.EPISODES_FILE
        if rows:
            table = pa.Table.from_pylist(rows)
            replace_from_tmp(path, lambda tmp: pq.write_table(table, tmp))
        else:  # every episode forgotten (--rerecord-from 0): no stale rows left behind
            path.unlink(missing_ok=True)
            (self.root / layout30.TASKS_FILE).unlink(missing_ok=True)
        if full and self.done.tasks:
            self._write_tasks()
        stats = aggregate([s["stats"] for s in self.sides])
        write_atomic(self.root / layout30.STATS_FILE, (json.dumps(stats, indent=2) + "\n").encode())
        self._write_info()

    def _write_tasks(self) -> None:
        import pandas as pd

        ranked = sorted(self.done.tasks.items(), key=lambda kv: kv[1])
        frame = pd.DataFrame(
            {"task_index": [v for _, v in ranked]},
            index=pd.Index([k for k, _ in ranked], name="task"),
        )
        replace_from_tmp(self.root / layout30.TASKS_FILE, lambda tmp: frame.to_parquet(tmp))

    def _write_info(self) -> None:
        info = layout30.info_json(
            self.n_episodes, self.done.frames, len(self.done.tasks), self._video_info
        )
        write_atomic(self.root / layout.INFO_FILE, (json.dumps(info, indent=4) + "\n").encode())


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _video_frames(path: Path) -> int:
    from vlthink.video import frame_count

    return frame_count(path)


def _truncate(kind: str, path: Path, rows: int) -> None:
    """Keep the first ``rows`` rows (frames) of ``path``: whole episodes, so a keyframe follows."""
    import pyarrow.parquet as pq

    if kind == "parquet":
        table = pq.read_table(path).slice(0, rows)
        replace_from_tmp(path, lambda tmp: pq.write_table(table, tmp))
    else:
        replace_from_tmp(path, lambda tmp: join([Span(path, 0, rows)], tmp, layout.FPS))
