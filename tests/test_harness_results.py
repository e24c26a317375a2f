"""The JSONL store, summaries, pairing refusals and the leaderboard, on real files."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from vlthink.harness import results, summary
from vlthink.harness.episodes import HARNESS_PROTOCOL, episode_seed
from vlthink.report import leaderboard


def _row(env, ep, seed, ok, end=None, placed="target", error=None, policy="p"):
    return {
        "env": env,
        "episode": ep,
        "seed": seed,
        "episode_seed": episode_seed(env, ep, seed),
        "policy": policy,
        "instruction": f"put it on {env}",
        "target": "x",
        "success_once": ok,
        "success_at_end": ok if end is None else end,
        "placed_on": placed if ok else "distractor",
        "steps": 10,
        "seconds": 0.1,
        "error": error,
    }


def _manifest(envs, episodes, seeds, policy="p", protocol="vlthink-1", backend="cpu"):
    return {
        "format": results.RUN_FORMAT,
        "protocol_version": protocol,
        "harness_protocol": HARNESS_PROTOCOL,
        "policy": {"name": policy, "config": {}},
        "plan": {
            "envs": envs,
            "episodes": episodes,
            "seeds": seeds,
            "sim_backend": backend,
            "num_envs": 1,
            "shard": None,
        },
        "tasks": {
            e: {"suite": "vl-think", "group": "Traffic" if "T" in e else "Shape"} for e in envs
        },
        "command": f"vlthink-eval --policy {policy}",
        "versions": {"vlthink": "0.1.0"},
    }


def _write_run(path, manifest, rows):
    results.write_manifest(path, manifest)
    results.write_rows_atomic(path / results.ROWS_FILE, rows)
    return path


def test_append_fsync_and_reload(tmp_path):
    f = tmp_path / "episodes.jsonl"
    with results.RowWriter(f) as w:
        w.write(_row("T-v0", 0, 0, True))
        w.write(_row("T-v0", 1, 0, False))
    rows, note = results.read_rows(f)
    assert note is None and [r["episode"] for r in rows] == [0, 1]
    # column order is fixed: env first, error last of the core fields
    assert list(json.loads(f.read_text().splitlines()[0]))[:3] == ["env", "episode", "seed"]


def test_truncated_last_line_is_dropped_and_file_repaired(tmp_path):
    f = tmp_path / "episodes.jsonl"
    good = json.dumps(_row("T-v0", 0, 0, True))
    partial = json.dumps(_row("T-v0", 1, 0, True))[:40]
    f.write_text(good + "\n" + partial)
    rows, note = results.read_rows(f)
    assert len(rows) == 1 and "truncated" in note
    assert f.read_text() == good + "\n"  # repaired on disk: the next append starts a clean line


def test_complete_last_line_without_newline_is_kept(tmp_path):
    f = tmp_path / "episodes.jsonl"
    f.write_text(json.dumps(_row("T-v0", 0, 0, True)))
    rows, note = results.read_rows(f)
    assert len(rows) == 1 and "newline" in note and f.read_text().endswith("\n")


def test_corrupt_middle_line_names_file_line_and_fix(tmp_path):
    f = tmp_path / "episodes.jsonl"
    f.write_text(
        json.dumps(_row("T-v0", 0, 0, True))
        + "\n{oops\n"
        + json.dumps(_row("T-v0", 2, 0, True))
        + "\n"
    )
    before = f.read_bytes()
    with pytest.raises(results.ResultsError) as e:
        results.read_rows(f)
    msg = str(e.value)
    assert str(f) in msg and "line 2" in msg and "delete line 2" in msg
    assert f.read_bytes() == before  # nothing lost or rewritten


def test_duplicate_episode_refused(tmp_path):
    f = tmp_path / "episodes.jsonl"
    line = json.dumps(_row("T-v0", 0, 0, True))
    f.write_text(line + "\n" + line + "\n")
    with pytest.raises(results.ResultsError, match="already on line 1"):
        results.read_rows(f)


def test_lock_refuses_second_writer(tmp_path):
    with results.run_lock(tmp_path):
        with pytest.raises(results.ResultsError, match="another vlthink-eval"):
            with results.run_lock(tmp_path):
                pass


def test_summary_mean_sd_wilson_and_wrong_board():
    # seed 0: 3/4 success, seed 1: 1/4 -> mean 0.5, SD = sqrt(((.25)^2 + (.25)^2)/1) = 0.35355
    rows = [_row("T-v0", i, 0, i < 3) for i in range(4)] + [
        _row("T-v0", i, 1, i < 1) for i in range(4)
    ]
    t = summary.summarize(_manifest(["T-v0"], 4, [0, 1]), rows)
    env = t[t["level"] == "env"].iloc[0]
    assert env["success"] == pytest.approx(0.5)
    assert env["success_sd"] == pytest.approx(math.sqrt(0.125))
    lo, hi = summary.stats.wilson(4, 8)
    assert (env["ci_low"], env["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert env["wrong_board"] == pytest.approx(0.5)  # the 4 failures ended on the distractor
    assert env["episodes"] == 8 and env["seeds"] == 2
    text = summary.format_table(t)
    assert "0.50 ± 0.35" in text


def test_group_mean_weights_envs_equally_and_one_seed_has_no_sd():
    # T-v0: 4/4; Ts-v0 (same group Traffic): 0/4 -> group per-seed rate 0.5; one seed -> SD blank
    m = _manifest(["T-v0", "Ts-v0"], 4, [0])
    rows = [_row("T-v0", i, 0, True) for i in range(4)] + [
        _row("Ts-v0", i, 0, False) for i in range(4)
    ]
    t = summary.summarize(m, rows)
    g = t[t["level"] == "group"].iloc[0]
    assert (
        g["success"] == pytest.approx(0.5)
        and g["success_sd"] is None
        or math.isnan(g["success_sd"])
    )
    assert "SD is blank" in summary.format_table(t)


def test_errors_count_as_failures_and_are_reported():
    # "env: boom" without an error_kind is a row written before failures had kinds: it loads
    # and counts as an error, as it did then.
    rows = [_row("T-v0", 0, 0, True), _row("T-v0", 1, 0, False, error="env: boom")]
    t = summary.summarize(_manifest(["T-v0"], 2, [0]), rows)
    env = t[t["level"] == "env"].iloc[0]
    assert env["success"] == 0.5 and env["errors"] == 1
    from vlthink.harness import cli

    assert cli.run_state(_manifest(["T-v0"], 2, [0]), rows)[0] == cli.EXIT_ERRORED
    assert cli.run_state(_manifest(["T-v0"], 3, [0]), rows)[0] == cli.EXIT_INCOMPLETE


def test_success_by_target_position_and_probe_columns():
    def row(ep, pos, ok, **extra):
        r = _row("T-v0", ep, 0, ok)
        r["task"] = {"target_position": pos}
        r.update(extra)
        return r

    # an always-left action policy: 3/3 on the left, 0/3 elsewhere
    rows = [row(i, ("left", "center", "right")[i % 3], i % 3 == 0) for i in range(9)]
    t = summary.summarize(_manifest(["T-v0"], 9, [0]), rows)
    env = t[t["level"] == "env"].iloc[0]
    assert (env["success_left"], env["success_center"], env["success_right"]) == (1.0, 0.0, 0.0)
    assert env["kind"] == "action" and "1.00 / 0.00 / 0.00" in summary.format_table(t)
    # the same as a probe that always says "yes, on the left" and yes to the absent concept
    probe = [
        dict(r, probe=True, said_yes=True, position="left", absent_correct=False) for r in rows
    ]
    t = summary.summarize(_manifest(["T-v0"], 9, [0]), probe)
    env = t[t["level"] == "env"].iloc[0]
    assert env["kind"] == "probe" and env["said_yes"] == 1.0 and env["absent_correct"] == 0.0
    assert env["position_accuracy"] == pytest.approx(1 / 3)
    assert math.isnan(env["wrong_board"]) and math.isnan(env["success_end"])
    text = summary.format_table(t)
    assert "0.00 !" in text and "says yes to absent concepts" in text and "at end" not in text


def test_wilson_bounds_are_clamped_exactly():
    assert summary.stats.wilson(0, 18)[0] == 0.0 and summary.stats.wilson(18, 18)[1] == 1.0


def _paired_runs(tmp_path, base_ok, run_ok, seeds=(0, 1, 2, 3, 4), n=4):
    """Runs whose (T-v0, seed) cells have the given success counts."""
    env = "T-v0"
    run = [_row(env, i, s, i < k) for s, k in zip(seeds, run_ok) for i in range(n)]
    base = [_row(env, i, s, i < k, policy="b") for s, k in zip(seeds, base_ok) for i in range(n)]
    m = _manifest([env], n, list(seeds))
    mb = _manifest([env], n, list(seeds), policy="b")
    return _write_run(tmp_path / "run", m, run), _write_run(tmp_path / "base", mb, base)


def test_paired_wilcoxon_over_cells_and_mcnemar(tmp_path):
    # cells (of 4): run 1,2,3,4,4 vs baseline 0,0,0,0,0 -> differences .25,.5,.75,1,1 all > 0:
    # W+ = 15, exact p = 1/32. McNemar: b = 14 episodes only the run solved, c = 0 -> p = 2^-14.
    run_dir, base_dir = _paired_runs(tmp_path, [0, 0, 0, 0, 0], [1, 2, 3, 4, 4])
    m, rows = results.load_run(run_dir)
    t = summary.summarize(m, rows, results.load_run(base_dir), str(base_dir))
    env = t[t["level"] == "env"].iloc[0]
    assert env["p_value"] == pytest.approx(1 / 32) and env["p_n"] == 5
    assert env["mcnemar_p"] == pytest.approx(2.0**-14) and env["mcnemar_n"] == 14
    text = summary.format_table(t)
    assert "0.031 (5, exact)" in text  # p with its n and how it was computed
    assert "6.1e-05 (14, exact)" in text  # 2^-14 in scientific notation, not "0.000"


def test_pairing_refuses_other_protocol_backend_and_scenes(tmp_path):
    run_dir, base_dir = _paired_runs(tmp_path, [0] * 5, [1] * 5)
    m, rows = results.load_run(run_dir)
    bm, brows = results.load_run(base_dir)
    with pytest.raises(summary.PairingError, match="scene protocol"):
        summary.summarize(m, rows, (dict(bm, protocol_version="vlthink-0"), brows))
    with pytest.raises(summary.PairingError, match="simulator backend"):
        summary.summarize(m, rows, (dict(bm, plan=dict(bm["plan"], sim_backend="gpu")), brows))
    changed = [dict(r, instruction="something else") for r in brows]
    with pytest.raises(summary.PairingError, match="scenes differ"):
        summary.summarize(m, rows, (bm, changed))
    other_env = [dict(r, env="X-v0") for r in brows]
    with pytest.raises(summary.PairingError, match="no episode"):
        summary.summarize(m, rows, (bm, other_env))


def test_publish_writes_rows_and_refuses_bad_runs(tmp_path):
    run_dir, base_dir = _paired_runs(tmp_path, [0, 0, 0, 0, 0], [1, 2, 3, 4, 4])
    board = tmp_path / "boards"
    paths = leaderboard.publish(
        [run_dir, base_dir], out_dir=board, baseline=base_dir, date="2025-01-01"
    )
    assert paths == [board / "vl-think.csv"]
    df = pd.read_csv(paths[0])
    row = df[df["policy"] == "p"].iloc[0]
    assert row["episodes"] == 20 and row["seeds"] == 5 and row["source"] == "measured"
    assert row["success_mean"] == pytest.approx(0.7) and row["p_value"] == pytest.approx(
        1 / 32, abs=1e-4
    )
    assert row["protocol_version"] == "vlthink-1" and row["command"].startswith("vlthink-eval")
    # the comparison's adjusted p-values (one env: Holm changes nothing) and paired difference
    assert row["p_adjusted"] == pytest.approx(1 / 32, abs=1e-4)
    assert row["mcnemar_p_adjusted"] == pytest.approx(2.0**-14, rel=1e-3)
    assert row["diff"] == pytest.approx(0.7) and row["diff_low"] < 0.7 < row["diff_high"]
    assert "Holm" in row["adjust_family"] and row["diff_method"]
    # republishing replaces, never duplicates; reported rows are kept untouched
    with open(paths[0], "a") as fh:
        fh.write("vl-think,Traffic,T-v0,paper-x,reported: somewhere,,,0.5,,,,,,,,,,,,\n")
    leaderboard.publish([run_dir], out_dir=board, baseline=base_dir, date="2025-01-02")
    df = pd.read_csv(paths[0])
    assert len(df) == 3 and (df["source"] == "reported: somewhere").sum() == 1
    # incomplete run
    m, rows = results.load_run(run_dir)
    _write_run(tmp_path / "short", m, rows[:-1])
    with pytest.raises(leaderboard.LeaderboardError, match="incomplete: 19 of 20"):
        leaderboard.publish([tmp_path / "short"], out_dir=board)
    # errored episodes
    _write_run(tmp_path / "err", m, rows[:-1] + [dict(rows[-1], error="timeout")])
    with pytest.raises(leaderboard.LeaderboardError, match="--retry-errors"):
        leaderboard.publish([tmp_path / "err"], out_dir=board)
    # mixed protocols, and a board measured under another protocol
    _write_run(tmp_path / "new", dict(m, protocol_version="vlthink-2"), rows)
    with pytest.raises(leaderboard.LeaderboardError, match="mix protocols"):
        leaderboard.publish([run_dir, tmp_path / "new"], out_dir=board)
    with pytest.raises(leaderboard.LeaderboardError, match="must not mix protocols"):
        leaderboard.publish([tmp_path / "new"], out_dir=board)


PAPER_TABLE = Path(__file__).resolve().parents[2] / "shared" / "paper" / "table1_ood.csv"


@pytest.mark.skipif(not PAPER_TABLE.exists(), reason="shared/paper not present")
def test_reported_rows_equal_the_paper_table():
    board = pd.read_csv(Path(__file__).resolve().parents[1] / "leaderboards" / "ood.csv")
    reported = board[board["source"] == "reported: arXiv 2510.25616 Table 1"]
    paper = pd.read_csv(PAPER_TABLE)
    assert len(reported) == len(paper) == 39
    for _, p in paper.iterrows():
        r = reported[
            (reported["policy"] == f"OpenVLA {p['method']} (paper)")
            & (reported["group"] == p["axis"])
            & (
                (reported["env"] == p["variant"])
                | reported["env"].str.endswith(f"-{p['variant']}-v0")
            )
        ]
        assert len(r) == 1, p.to_dict()
        assert r.iloc[0]["success_mean"] == pytest.approx(p["success_mean"])
        assert r.iloc[0]["success_sd"] == pytest.approx(p["success_sd"])
