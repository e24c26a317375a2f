"""Bad data is refused by name (issue 36): typed rows for summary, report and leaderboard; a
reference row never replaced by a smaller run; Markdown that escapes; media kept inside the
run; and the CLIs' one-line errors only for user errors (a bug keeps its traceback)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from vlthink import cli
from vlthink.harness import cli as harness_cli
from vlthink.harness import results
from vlthink.harness.episodes import HARNESS_PROTOCOL, episode_seed
from vlthink.report import leaderboard, leaderboard_page
from vlthink.report.media import find_video

ENV = "VLThink-Traffic-v0"


def _row(ep, seed, ok, policy="p"):
    return {
        "env": ENV,
        "episode": ep,
        "seed": seed,
        "episode_seed": episode_seed(ENV, ep, seed),
        "policy": policy,
        "instruction": "put carrot on stop sign",
        "target": "stop",
        "success_once": ok,
        "success_at_end": ok,
        "placed_on": "target" if ok else "distractor",
        "steps": 80,
        "seconds": 0.5,
        "error": None,
    }


def _run(path, episodes=4, seeds=(0, 1), policy="p", protocol="vlthink-1", edit=None):
    """A complete run directory (real files) of ``policy`` on ENV; ``edit(rows)`` changes rows."""
    manifest = {
        "format": results.RUN_FORMAT,
        "protocol_version": protocol,
        "harness_protocol": HARNESS_PROTOCOL,
        "policy": {"name": policy, "config": {}},
        "plan": {
            "envs": [ENV],
            "episodes": episodes,
            "seeds": list(seeds),
            "sim_backend": "cpu",
            "num_envs": 1,
            "shard": None,
        },
        "tasks": {ENV: {"suite": "vl-think", "group": "Traffic"}},
        "command": f"vlthink-eval --policy {policy}",
        "versions": {"vlthink": "0.1.0"},
    }
    rows = [_row(i, s, i % 3 == 0, policy) for s in seeds for i in range(episodes)]
    results.write_manifest(path, manifest)
    results.write_rows_atomic(path / results.ROWS_FILE, rows)
    if edit is not None:  # a hand edit, kept as the user typed it (not through the writer)
        lines = (path / results.ROWS_FILE).read_text().splitlines()
        objs = [json.loads(x) for x in lines]
        edit(objs)
        (path / results.ROWS_FILE).write_text("".join(json.dumps(o) + "\n" for o in objs))
    return path


def _set(field, value, line=2):
    def edit(rows):
        rows[line - 1][field] = value

    return edit


def _drop(field, line=2):
    def edit(rows):
        del rows[line - 1][field]

    return edit


BAD_ROWS = [
    ("success_once", _set("success_once", "no"), '"no", must be true or false'),
    ("episode", _set("episode", "3"), '"3", must be an integer'),
    ("steps", _set("steps", "eighty"), '"eighty", must be an integer'),
    ("steps", _set("steps", -1), "-1, must be >= 0"),
    ("seed", _set("seed", 1.5), "1.5, must be an integer"),
    ("error", _drop("error"), "missing"),
    ("env", _set("env", "VLThink-Shape-v0"), "not an env of the run's plan"),
]


def _one_line(err: str) -> str:
    lines = [x for x in err.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("field, edit, why", BAD_ROWS, ids=[b[2] for b in BAD_ROWS])
def test_a_bad_row_stops_the_summary_with_file_line_field_and_fix(
    tmp_path, capsys, field, edit, why
):
    run = _run(tmp_path / "run", edit=edit)
    assert harness_cli.main(["summary", str(run)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"{run / results.ROWS_FILE}, line 2: field {field!r}" in line
    assert why in line and "Fix:" in line and "delete line 2" in line
    assert not (run / results.SUMMARY_FILE).exists()  # nothing was counted


@pytest.mark.parametrize("field, edit, why", BAD_ROWS[:3], ids=["success", "episode", "steps"])
def test_a_bad_row_is_never_reported_or_published(tmp_path, capsys, field, edit, why):
    run = _run(tmp_path / "run", edit=edit)
    out = tmp_path / "report.html"
    assert cli.main(["report", str(run), "--out", str(out), "--leaderboard-dir", ""]) == 2
    assert f"line 2: field {field!r}" in _one_line(capsys.readouterr().err) and not out.exists()
    boards = tmp_path / "boards"
    assert cli.main(["leaderboard", "publish", str(run), "--out-dir", str(boards)]) == 2
    assert f"line 2: field {field!r}" in _one_line(capsys.readouterr().err)
    assert not (boards / "vl-think.csv").exists()


def test_rows_of_an_env_the_hand_edited_manifest_dropped_are_refused(tmp_path, capsys):
    run = _run(tmp_path / "run")
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["plan"]["envs"] = ["VLThink-Shape-v0"]
    manifest["tasks"] = {"VLThink-Shape-v0": {"suite": "vl-think", "group": "Shape"}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert harness_cli.main(["summary", str(run)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "line 1: field 'env'" in line and ENV in line and "plan" in line


# --- leaderboard integrity ------------------------------------------------------------------------


def _board_row(boards: Path, policy="p") -> pd.Series:
    df = pd.read_csv(boards / "vl-think.csv")
    return df[(df["policy"] == policy) & (df["source"] == "measured")].iloc[0]


@pytest.mark.parametrize(
    "smaller, why",
    [({"episodes": 2}, "fewer episodes"), ({"seeds": (0,)}, "fewer seeds")],
)
def test_a_smaller_run_never_silently_replaces_a_reference_row(tmp_path, smaller, why):
    boards = tmp_path / "boards"
    leaderboard.publish([_run(tmp_path / "big")], out_dir=boards, date="2025-01-01")
    before = (boards / "vl-think.csv").read_bytes()
    small = _run(tmp_path / "small", **smaller)
    with pytest.raises(leaderboard.LeaderboardError, match=why) as e:
        leaderboard.publish([small], out_dir=boards, date="2025-01-02")
    assert "8 episodes x 2 seeds" in str(e.value) and "--replace" in str(e.value)
    assert (boards / "vl-think.csv").read_bytes() == before


def test_replace_replaces_a_reference_row_and_prints_old_and_new(tmp_path, capsys):
    boards = tmp_path / "boards"
    leaderboard.publish([_run(tmp_path / "big")], out_dir=boards, date="2025-01-01")
    small = _run(tmp_path / "small", episodes=2, seeds=(0,))
    args = ["leaderboard", "publish", str(small), "--out-dir", str(boards), "--replace"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "old: 8 episodes x 2 seeds" in out and "new: 2 episodes x 1 seeds" in out
    assert _board_row(boards)["episodes"] == 2


def test_another_protocol_replaces_a_row_only_with_replace(tmp_path, capsys):
    boards = tmp_path / "boards"
    leaderboard.publish([_run(tmp_path / "v1")], out_dir=boards)
    v2 = _run(tmp_path / "v2", protocol="vlthink-2")
    with pytest.raises(leaderboard.LeaderboardError, match="must not mix protocols"):
        leaderboard.publish([v2], out_dir=boards)
    lines = []
    leaderboard.publish([v2], out_dir=boards, replace=True, log=lines.append)
    assert any("protocol vlthink-1" in x for x in lines) and any("vlthink-2" in x for x in lines)
    assert _board_row(boards)["protocol_version"] == "vlthink-2"


def test_a_run_of_the_same_size_replaces_its_row_without_replace(tmp_path):
    boards = tmp_path / "boards"
    leaderboard.publish([_run(tmp_path / "a")], out_dir=boards, date="2025-01-01")
    leaderboard.publish([_run(tmp_path / "b")], out_dir=boards, date="2025-01-02")
    assert _board_row(boards)["date"] == "2025-01-02"


def test_the_markdown_board_escapes_policy_names(tmp_path):
    boards = tmp_path / "boards"
    evil = "<img src=x onerror=alert(1)>|*x*"
    leaderboard.publish([_run(tmp_path / "run", policy=evil)], out_dir=boards)
    md = leaderboard_page.markdown(boards)
    assert "<img" not in md and "onerror=alert(1)&gt;" in md
    header = next(x for x in md.splitlines() if x.startswith("| group"))
    assert header.count(" | ") == 1  # the policy's "|" does not open a column
    assert "\\*x\\*" in header  # nor do its asterisks make it italic


# --- report media stay inside the run ---------------------------------------------------------------


def test_a_row_naming_a_path_outside_the_run_finds_no_video(tmp_path):
    run = tmp_path / "runs" / "r"
    (run / "videos" / ENV).mkdir(parents=True)  # a run recorded with --record-video
    outside = tmp_path / "secret" / "seed0_ep0000.mp4"
    outside.parent.mkdir(parents=True)
    outside.write_bytes(b"not yours")
    row = {"env": "../../../secret", "seed": 0, "episode": 0}
    assert (run / "videos" / row["env"] / "seed0_ep0000.mp4").resolve() == outside.resolve()
    assert find_video(run, row) is None
    inside = run / "videos" / ENV / "seed0_ep0000.mp4"
    inside.write_bytes(b"ours")
    assert find_video(run, {"env": ENV, "seed": 0, "episode": 0}).path == inside


# --- the CLIs: a user error is one line, a bug keeps its traceback ---------------------------------


def test_an_unknown_env_is_one_line_and_exit_2(capsys):
    assert cli.main(["frames", "VLThink-Trafic-v0"]) == 2
    assert "VLThink-Traffic-v0" in _one_line(capsys.readouterr().err)


def test_a_bug_keeps_its_traceback(monkeypatch):
    import vlthink.sheets.frames

    def broken(*args, **kwargs):
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr(vlthink.sheets.frames, "first_frames_sheet", broken)
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["frames", ENV])
