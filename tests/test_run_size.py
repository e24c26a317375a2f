"""Run size: the defaults, the paper's preset (--protocol paper) and what records it."""

import pytest

from vlthink.harness import cli, rundir, summary
from vlthink.harness.results import HarnessError
from vlthink.report import leaderboard


def _plan(*argv):
    args = cli.build_parser().parse_args(["--policy", "oracle", *argv])
    return cli.plan_from_args(args)[0]


def test_default_is_128_episodes_one_seed_and_says_it_is_not_the_papers_size():
    plan = _plan()
    assert (plan.episodes, plan.seeds) == (128, (0,))
    assert not plan.paper_size
    note = rundir.size_note({"plan": plan.to_json()})
    assert "128 episodes x seeds 0" in note and "--protocol paper" in note


def test_an_answer_mode_run_has_no_paper_size_to_fall_short_of_but_a_mixed_run_does():
    answer = _plan("--suite", "vl-think-answer", "--episodes", "256")
    assert rundir.size_note({"plan": answer.to_json()}) is None  # not in the paper
    mixed = _plan("--suite", "vl-think-answer", "VLThink-Shape-v0", "--episodes", "256")
    assert "256 episodes x seeds 0" in rundir.size_note({"plan": mixed.to_json()})


def test_protocol_paper_is_128_episodes_over_the_papers_eight_seeds():
    plan = _plan("--protocol", "paper", "--suite", "VLThink-Shape-v0")
    assert plan.episodes == 128 and plan.seeds == (0, 1, 2, 4, 5, 6, 7, 8)
    assert plan.paper_size and rundir.size_note({"plan": plan.to_json()}) is None
    assert len(plan.keys()) == 128 * 8
    # the same size spelt out is the paper's size too
    assert _plan("--seed", "0", "1", "2", "4", "5", "6", "7", "8").paper_size


@pytest.mark.parametrize(
    "extra, named",
    [(["--episodes", "16"], "--episodes 16"), (["--seed", "3"], "--seed 3")],
)
def test_protocol_paper_refuses_a_conflicting_size(extra, named):
    with pytest.raises(HarnessError, match=rf"--protocol paper means 128 .*{named}.*Fix"):
        _plan("--protocol", "paper", *extra)


def test_the_manifest_and_leaderboard_columns_record_the_size():
    plan = _plan("--protocol", "paper")
    manifest = rundir.Manifest(plan=plan, policy={}, tasks={}, command="x")
    assert manifest.to_json()["paper_size"] is True
    assert rundir.Manifest.from_json(manifest.to_json()).provenance.get("paper_size") is None
    # paper_size was appended after the first release's columns; only the comparison's
    # adjusted p-values and paired differences were appended after it, then the asset set
    at = leaderboard.COLUMNS.index("paper_size")
    assert leaderboard.COLUMNS[at - 1] == leaderboard.NEW_RATES[-1]
    assert leaderboard.COLUMNS[at + 1 :] == [*summary.COMPARISON_COLUMNS, *summary.ASSET_COLUMNS]
