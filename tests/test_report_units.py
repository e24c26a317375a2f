"""The report's small parts without a simulator: outcome rules, p marks, the leaderboard page."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from vlthink import cli
from vlthink.report import leaderboard, leaderboard_page, outcomes
from vlthink.report.browser import find_chromium, load_page
from vlthink.report.numbers import p_note

BASE = {"error": None, "success_once": False, "placed_on": "none"}
CASES = [  # (row fields, outcome): one per rule, in the table's order
    ({"error": "env_step: boom", "success_once": True}, "error"),
    ({"success_once": True, "placed_on": "target"}, "success"),
    ({"grasped": False, "dropped": False}, "never grasped"),
    ({"grasped": True, "dropped": False, "placed_on": "distractor"}, "wrong board"),
    ({"grasped": True, "dropped": True}, "dropped"),
    ({"grasped": True, "dropped": False}, "nowhere"),
    ({"placed_on": "distractor"}, "wrong board"),  # a row without grasp fields
    ({"placed_on": "target"}, "failed"),  # on the target once but counted a failure
]


@pytest.mark.parametrize("fields,expected", CASES)
def test_outcome_rules(fields, expected):
    assert outcomes.outcome({**BASE, **fields}) == expected


def test_grasp_split_only_when_rows_record_it():
    old = [dict(BASE), {**BASE, "placed_on": "distractor"}]
    new = [{**BASE, "grasped": False, "dropped": False}]
    assert "never grasped" not in outcomes.names(False, old)
    assert {"never grasped", "dropped", "wrong board", "nowhere"} <= set(outcomes.names(False, new))
    probe = {**BASE, "said_yes": True}
    assert outcomes.outcome(probe, probe=True) == "wrong position"
    assert outcomes.outcome({**BASE, "said_yes": False}, probe=True) == "said no"


def test_p_marks():
    row = pd.Series({"baseline": "oracle-random", "p_value": 0.5, "mcnemar_p": 0.031})
    assert p_note(row) == "W0.5\nM0.031*"
    assert p_note(pd.Series({"baseline": "b", "p_value": math.nan, "mcnemar_p": 0.5})) == "W–\nM0.5"
    assert p_note(pd.Series({"baseline": None, "p_value": 0.01, "mcnemar_p": 0.01})) == ""


def test_leaderboard_markdown_marks_reported_columns():
    md = leaderboard_page.markdown(leaderboard.default_dir())
    vl = md.split("### ood")[0]
    assert "| group | oracle |" in vl  # VL-Think's groups are single envs: no env column
    # a policy on both asset sets: vlthink's art, then the original pack, side by side
    assert "| oracle | oracle \\[original assets\\] | oracle-random |" in vl
    header = [line for line in md.splitlines() if line.startswith("| group")]
    assert len(header) == 2  # one table per board
    assert "(reported)" in header[1] and "(reported)" not in header[0]
    assert all(f"| {d} |" in vl for d in ("Shape", "Color", "Parity", "Traffic"))
    ood = pd.read_csv(leaderboard.default_dir() / "ood.csv")
    row = ood[(ood["env"] == "VLThink-OOD-EEPose-v0") & (ood["policy"] == "OpenVLA Align (paper)")]
    assert f"{row['success_mean'].iloc[0]:.2f} ± {row['success_sd'].iloc[0]:.2f}" in md


@pytest.mark.skipif(find_chromium() is None, reason="no chromium")
def test_leaderboard_render_page(tmp_path, capsys):
    md, page = tmp_path / "lb.md", tmp_path / "lb.html"
    assert cli.main(["leaderboard", "render", "--md", str(md), "--html", str(page)]) == 0
    assert md.read_text() == leaderboard_page.markdown(leaderboard.default_dir())
    res = load_page(
        page,
        {
            "groups": "[...document.querySelectorAll("
            "'figure.chart[data-kind=group]')].map(f => f.dataset.group)"
        },
    )
    assert res.errors == []
    # one chart per OOD axis; VL-Think's domains (one env each) share one chart
    ood = pd.read_csv(leaderboard.default_dir() / "ood.csv")
    vl = pd.read_csv(leaderboard.default_dir() / "vl-think.csv")
    groups = res.values["groups"]
    assert len(groups) == ood["group"].nunique() + 1
    assert sorted(groups[0].split(",")) == sorted(vl["group"].unique())


def test_leaderboard_render_without_boards(tmp_path, capsys):
    assert (
        cli.main(
            ["leaderboard", "render", "--dir", str(tmp_path), "--html", str(tmp_path / "x.html")]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holds no leaderboard CSV" in err and "Fix:" in err
