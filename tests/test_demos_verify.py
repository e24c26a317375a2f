"""`vlthink demos verify` (and `vlthink demos info`, which runs it first) on a real recording
(test_demos.py's: 3 episodes, killed mid-run and resumed), whole and then damaged four ways, each
on a copy: a deleted parquet, a half-truncated parquet, a truncated MP4 and a wrong type in
info.json. Each damage is one line naming the file and the fix, exit 2.

Cost: none of its own beyond reading files; the recording is made once per session
(tests/conftest.py's ``recorded``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("av")
pytest.importorskip("pyarrow.parquet")
from test_demos import EPISODES, cli  # noqa: E402  (the recorder's own test helpers)


@pytest.fixture
def dataset(recorded) -> Path:
    return recorded["out"]


def _copy(dataset: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(dataset, dst)
    return dst


def _parquet(root: Path, i: int) -> Path:
    return root / f"data/chunk-000/episode_{i:06d}.parquet"


def _video(root: Path, i: int) -> Path:
    return root / f"videos/chunk-000/observation.images.image/episode_{i:06d}.mp4"


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _delete_parquet(root: Path) -> tuple[Path, str]:
    _parquet(root, 1).unlink()
    return _parquet(root, 1), "--rerecord-from 1"


def _truncate_parquet(root: Path) -> tuple[Path, str]:
    _truncate(_parquet(root, 0))
    return _parquet(root, 0), "--rerecord-from 0"


def _truncate_video(root: Path) -> tuple[Path, str]:
    _truncate(_video(root, 1))
    return _video(root, 1), "--rerecord-from 1"


def _mistype_info(root: Path) -> tuple[Path, str]:
    path = root / "meta/info.json"
    info = json.loads(path.read_text())
    info["total_episodes"] = str(info["total_episodes"])
    path.write_text(json.dumps(info))
    return path, "rerun the recording command"


DAMAGES: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "deleted parquet": _delete_parquet,
    "half-truncated parquet": _truncate_parquet,
    "truncated mp4": _truncate_video,
    "wrong type in info.json": _mistype_info,
}


def test_a_whole_dataset_verifies_and_info_summarises_it(dataset, tmp_path, capsys):
    code, out, err = cli(["demos", "verify", str(dataset)], capsys)
    assert code == 0, err[-2000:]
    assert f"{EPISODES} episodes" in out and "every file present and whole" in out
    sheet = tmp_path / "s.png"  # beside, not inside, the shared recording
    code, out, err = cli(["demos", "info", str(dataset), "--sheet", str(sheet)], capsys)
    assert code == 0 and f"episodes {EPISODES}," in out


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_dataset_is_refused_with_one_line_naming_the_file_and_the_fix(
    dataset, tmp_path, capsys, damage
):
    root = _copy(dataset, tmp_path)
    path, fix = DAMAGES[damage](root)
    for command in ("verify", "info"):
        code, out, err = cli(["demos", command, str(root)], capsys)
        assert code == 2, (command, out, err[-2000:])
        problems = [line for line in err.splitlines() if "Fix:" in line]
        assert len(problems) == 1, err  # one line for the one damage
        assert str(path) in problems[0] and fix in problems[0]
        assert "Traceback" not in err and "objects (" not in out  # nothing summarised
    if fix.startswith("--rerecord-from"):  # the fix names the recording command to rerun
        assert f"--episodes {EPISODES}" in problems[0]
