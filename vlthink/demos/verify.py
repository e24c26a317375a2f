"""``vlthink demos verify DATASET``: is every file of a dataset there, whole and consistent?

Checked, in order: ``meta/info.json`` (present, JSON, the type of every key lerobot reads),
``meta/episodes.jsonl`` and ``meta/tasks.jsonl`` (JSON lines of the right types, indices
0..N-1, as many as info.json counts); then per episode its parquet (present, readable, as many
rows as the episode's length), its MP4 (present, every frame decodable, as many frames as rows)
and vlthink's sidecar (present, JSON). Each problem is one line naming the file, what is wrong
and the fix: for an episode's file ``--rerecord-from K`` (the recorder forgets episodes K.. and
records them again, identically), for the meta files a rerun of the recording command (which
rebuilds them from the episodes). ``vlthink demos info`` runs these checks first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from vlthink.demos import layout, layout30
from vlthink.demos.store import DatasetError

#: The keys of info.json that readers rely on, and their JSON types.
INFO_TYPES: tuple[tuple[str, type], ...] = (
    ("codebase_version", str),
    ("robot_type", str),
    ("fps", int),
    ("total_episodes", int),
    ("total_frames", int),
    ("total_tasks", int),
    ("chunks_size", int),
    ("data_path", str),
    ("video_path", str),
    ("features", dict),
)
EPISODE_TYPES: tuple[tuple[str, type], ...] = (
    ("episode_index", int),
    ("tasks", list),
    ("length", int),
)
TASK_TYPES: tuple[tuple[str, type], ...] = (("task_index", int), ("task", str))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset: the file, what is wrong, and what fixes it."""

    path: Path
    what: str
    fix: str

    def line(self) -> str:
        return f"{self.path}: {self.what}. Fix: {self.fix}"


class DamagedDataset(DatasetError):
    """A dataset with problems; the message is one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.line() for p in problems))


def _type_problem(record: Any, types: tuple[tuple[str, type], ...]) -> str | None:
    if not isinstance(record, dict):
        return f"not a JSON object ({type(record).__name__})"
    for key, tp in types:
        value = record.get(key)
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            return f"key {key!r} must be {tp.__name__}, got {value!r} ({type(value).__name__})"
    return None


class _Verifier:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.problems: list[Problem] = []
        self.command = "the recording command"

    def add(self, path: Path, what: str, fix: str) -> None:
        self.problems.append(Problem(path, what, fix))

    def meta_fix(self) -> str:
        return f"rerun the recording command, which rebuilds the meta files: {self.command}"

    def rerecord_fix(self, i: int) -> str:
        return (
            f"rerun the recording command with --rerecord-from {i} (episodes {i}.. are recorded "
            f"again, identically; earlier ones are kept): {self.command} --rerecord-from {i}"
        )

    def info(self) -> dict | None:
        path = self.root / layout.INFO_FILE
        if not path.exists():
            self.add(
                path, "missing: not a LeRobot dataset", "pass the --out directory of a recording"
            )
            return None
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            self.add(path, f"not readable JSON ({type(exc).__name__})", self.meta_fix())
            return None
        command = info.get("vlthink", {}).get("command") if isinstance(info, dict) else None
        self.command = command if isinstance(command, str) else self.command
        problem = _type_problem(info, INFO_TYPES)
        if problem:
            self.add(path, problem, self.meta_fix())
            return None
        return info

    def lines(self, name: str, types: tuple[tuple[str, type], ...], index: str) -> list[dict]:
        """The records of a JSON-lines meta file, checked for types and indices 0..N-1."""
        path = self.root / name
        try:
            text = path.read_text()
        except OSError as exc:
            self.add(path, f"not readable ({type(exc).__name__})", self.meta_fix())
            return []
        records = []
        for n, line in enumerate((x for x in text.splitlines() if x.strip()), start=1):
            try:
                record = json.loads(line)
            except ValueError:
                self.add(path, f"line {n} is not JSON", self.meta_fix())
                return []
            problem = _type_problem(record, types) or (
                None if record[index] == n - 1 else f"{index} {record[index]} where {n - 1} belongs"
            )
            if problem:
                self.add(path, f"line {n}: {problem}", self.meta_fix())
                return []
            records.append(record)
        return records

    def count(self, name: str, got: int, want: int, key: str) -> bool:
        if got != want:
            self.add(
                self.root / name,
                f"{got} entries where {layout.INFO_FILE} says {key} = {want}",
                self.meta_fix(),
            )
        return got == want

    def episode(self, i: int, length: int) -> None:
        """The parquet, video and sidecar of episode ``i`` (``length`` frames)."""
        for path, kind, count in (
            (layout.data_path(self.root, i), "parquet", _parquet_rows),
            (layout.video_path(self.root, i), "MP4", _decoded_frames),
            (layout.sidecar_path(self.root, i), "JSON sidecar", _sidecar_length),
        ):
            if not path.exists():
                self.add(path, f"missing (episode {i}'s {kind})", self.rerecord_fix(i))
                continue
            try:
                got = count(path)
            except Exception as exc:  # any reader error is a damaged file
                said = str(exc).replace(str(path), "<file>")  # the line names it already
                detail = f"{type(exc).__name__}: {said[:100]}"
                self.add(path, f"not a readable {kind} ({detail})", self.rerecord_fix(i))
                continue
            if got != length:
                self.add(
                    path,
                    f"{got} frames where episode {i} has {length} ({layout.EPISODES_FILE})",
                    self.rerecord_fix(i),
                )


def _parquet_rows(path: Path) -> int:
    """Rows of a parquet file, every column read (a damaged page fails here)."""
    import pyarrow.parquet as pq

    return pq.read_table(path).num_rows


def _decoded_frames(path: Path) -> int:
    """Frames of an MP4 by decoding every one (not the container's count, which a truncated
    file may still carry)."""
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _sidecar_length(path: Path) -> int:
    side = json.loads(path.read_text())
    return int(side["length"])


def verify(root: Path) -> list[Problem]:
    """Every problem of the dataset at ``root`` (empty: the dataset is whole)."""
    v = _Verifier(root)
    info = v.info()
    if info is None:
        return v.problems
    if info.get("codebase_version") == layout30.CODEBASE_VERSION:
        return _verify_v30(v, info)
    episodes = v.lines(layout.EPISODES_FILE, EPISODE_TYPES, "episode_index")
    tasks = v.lines(layout.TASKS_FILE, TASK_TYPES, "task_index")
    if v.problems:
        return v.problems
    v.count(layout.EPISODES_FILE, len(episodes), info["total_episodes"], "total_episodes")
    v.count(layout.TASKS_FILE, len(tasks), info["total_tasks"], "total_tasks")
    frames = sum(e["length"] for e in episodes)
    if frames != info["total_frames"]:
        v.add(
            Path(root) / layout.INFO_FILE,
            f"total_frames = {info['total_frames']} where the episodes hold {frames}",
            v.meta_fix(),
        )
    for e in episodes:
        v.episode(e["episode_index"], e["length"])
    return v.problems


def _verify_v30(v: _Verifier, info: dict) -> list[Problem]:
    """A v3.0 dataset: its episode table readable and agreeing with info.json, and every episode's
    rows and frames readable from its shared files, as many as its length."""
    from vlthink.demos import reader

    try:
        _, episodes = reader.open_dataset(v.root)
    except DatasetError as exc:
        v.add(v.root / layout30.EPISODES_FILE, f"unreadable ({exc})", v.meta_fix())
        return v.problems
    v.count(layout30.EPISODES_FILE, len(episodes), info["total_episodes"], "total_episodes")
    for e in episodes:
        i, length = int(e["episode_index"]), int(e["length"])
        data, video, _ = reader.where(v.root, i)
        counts = (
            (data, "parquet", partial(_v30_rows, v.root, i)),
            (video, "MP4", partial(_v30_frames, v.root, i, length)),
        )
        for path, kind, count in counts:
            try:
                got = count()
            except Exception as exc:  # any reader's failure: the file is damaged
                what = f"episode {i}: not a readable {kind} ({type(exc).__name__})"
                v.add(path, what, v.rerecord_fix(i))
                continue
            if got != length:
                what = f"episode {i}: {got} {kind} frames where it has {length}"
                v.add(path, what, v.rerecord_fix(i))
    return v.problems


def _v30_rows(root: Path, i: int) -> int:
    from vlthink.demos import reader

    return len(reader.parquet_columns(root, i, ["frame_index"])["frame_index"])


def _v30_frames(root: Path, i: int, length: int) -> int:
    from vlthink.demos import reader

    return len(reader.episode_frames(root, i, length))


def check_dataset(root: Path) -> str:
    """One line saying the dataset is whole, or :class:`DamagedDataset` naming every problem."""
    problems = verify(root)
    if problems:
        raise DamagedDataset(problems)
    info = json.loads((Path(root) / layout.INFO_FILE).read_text())
    return (
        f"dataset {root}: {info['total_episodes']} episodes, {info['total_frames']} frames: "
        "every file present and whole"
    )
