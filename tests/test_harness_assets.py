"""Choosing the asset set: ``vlthink-eval --assets original`` / ``vlthink demos --assets`` on a
synthetic pack in the original layout (made by tests/test_original_pack.py's ``make_pack``), the
set and its verified hash in the manifest, summary, leaderboard, report and dataset, and runs of
different sets never resumed into each other, paired or published as one.

One real run (the oracle, 2 episodes of one OOD env on real SAPIEN) is shared by the module; its
copy relabelled as a run made before manifests named their set stands in for a vlthink-art run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_original_pack import SUBDIR, make_pack

from vlthink.assets import ASSET_VERSION
from vlthink.assets.original import pack
from vlthink.assets.original.fetch import fetch
from vlthink.harness import cli, rundir, summary
from vlthink.harness import results as store
from vlthink.harness.config import EvalConfig
from vlthink.harness.results import HarnessError

ENV = "VLThink-OOD-Train-v0"


def _args(out: Path, *extra: str) -> list[str]:
    return [
        "--policy",
        "oracle",
        "--suite",
        ENV,
        "--episodes",
        "2",
        "--seed",
        "0",
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


def _error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if "error" in ln and "WARNING" not in ln]


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory):
    """The synthetic pack, installed and verified; the env vars point every process at it."""
    root = tmp_path_factory.mktemp("pack")
    tsv = make_pack(root / "clone" / SUBDIR)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(pack.EXPECTED_VAR, str(tsv))
        dest = fetch(root / "installed", str(root / "clone"))
        mp.setenv(pack.ENV_VAR, str(dest))
        yield dest


@pytest.fixture(scope="module")
def original_run(pack_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "original"
    assert cli.main(_args(out, "--assets", "original")) == 0
    return out


@pytest.fixture(scope="module")
def vlthink_run(original_run, tmp_path_factory) -> Path:
    """The same rows under a manifest written before runs named their asset set."""
    out = tmp_path_factory.mktemp("runs") / "vlthink"
    shutil.copytree(original_run, out)
    manifest = json.loads((out / store.MANIFEST_FILE).read_text())
    del manifest["assets"], manifest["assets_hash"]
    (out / store.MANIFEST_FILE).write_text(json.dumps(manifest))
    return out


@pytest.mark.timeout(600)
def test_a_run_on_the_original_pack_records_the_set_and_its_verified_hash(original_run):
    manifest, rows = store.load_run(original_run)
    verified = pack.list_hash(pack.expected_files())
    assert len(rows) == 2 and all(r["error"] is None for r in rows)
    assert (manifest["assets"], manifest["assets_hash"]) == ("original", verified)
    assert manifest["command"].endswith("--assets original")  # the command repeats the run
    table = pd.read_csv(original_run / store.SUMMARY_FILE)
    assert list(table.columns[-2:]) == ["assets", "assets_hash"]
    assert set(table["assets"]) == {"original"} and set(table["assets_hash"]) == {verified}


def test_resuming_a_run_with_the_other_asset_set_is_refused_in_one_line(original_run, capsys):
    before = (original_run / store.ROWS_FILE).read_text()
    capsys.readouterr()
    assert cli.main(_args(original_run)) == 2
    lines = _error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "different asset set" in lines[0] and "--assets original" in lines[0]
    assert (original_run / store.ROWS_FILE).read_text() == before


def test_a_missing_pack_is_one_line_naming_the_fix_exit_2_before_anything_is_written(
    pack_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv(pack.ENV_VAR, str(tmp_path / "no-pack"))
    assert cli.main(_args(tmp_path / "run", "--assets", "original")) == 2
    lines = _error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "vlthink assets fetch original" in lines[0]
    assert not (tmp_path / "run").exists()


def test_evaluate_takes_the_asset_set_and_refuses_a_missing_pack_the_same_way(
    pack_dir, tmp_path, monkeypatch
):
    import vlthink

    monkeypatch.setenv(pack.ENV_VAR, str(tmp_path / "no-pack"))
    with pytest.raises(HarnessError, match="--assets original: no original asset pack"):
        vlthink.evaluate("oracle", suite=ENV, episodes=1, out=tmp_path / "run", assets="original")
    assert not (tmp_path / "run").exists()


def test_a_pack_that_fails_verification_is_refused_the_same_way(
    pack_dir, tmp_path, monkeypatch, capsys
):
    broken = shutil.copytree(pack_dir, tmp_path / "broken")
    picture = next((broken / "more_table" / "imgs").iterdir())
    data = bytearray(picture.read_bytes())
    data[-1] ^= 0xFF
    picture.write_bytes(bytes(data))
    monkeypatch.setenv(pack.ENV_VAR, str(broken))
    assert cli.main(_args(tmp_path / "run", "--assets", "original")) == 2
    lines = _error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "corrupt" in lines[0] and picture.name in lines[0]
    assert "vlthink assets fetch original" in lines[0]
    assert not (tmp_path / "run").exists()


def test_the_config_names_the_set_in_its_command_and_default_folder_and_refuses_others():
    config = EvalConfig.build("oracle", suite=ENV, episodes=2, assets="original")
    default = EvalConfig.build("oracle", suite=ENV, episodes=2)
    assert config.command() == default.command() + " --assets original"
    assert config.default_out("oracle").name == default.default_out("oracle").name + "-original"
    with pytest.raises(HarnessError, match="assets='photos' is not one of vlthink, original"):
        EvalConfig.build("oracle", suite=ENV, assets="photos")


def test_a_manifest_from_before_asset_sets_reads_as_vlthink_art_and_resumes():
    from vlthink.assets.original import asset_set_id

    plan = rundir.RunPlan((ENV,), 2, (0,))
    new = rundir.Manifest(plan, {"name": "oracle"}, {}, "cmd", **asset_set_id("vlthink"))
    old_json = {k: v for k, v in new.to_json().items() if not k.startswith("assets")}
    old = rundir.Manifest.from_json({**old_json, "versions": {"ood_assets": ASSET_VERSION}})
    assert (old.assets, old.assets_hash) == ("vlthink", f"vlthink-{ASSET_VERSION}")
    rundir.check_same_run(old, new, Path("runs/x"))  # no refusal: the same art
    # a manifest made without naming its set (the vla-eval importer's) is the same run again
    unnamed = rundir.Manifest(plan, {"name": "oracle"}, {}, "cmd")
    rundir.check_same_run(rundir.Manifest.from_json(unnamed.to_json()), unnamed, Path("x"))
    assert rundir.asset_set_of({"versions": {"ood_assets": "1.0"}})["assets_hash"] == "vlthink-1.0"


def test_a_baseline_on_the_other_asset_set_is_never_paired(original_run, vlthink_run, capsys):
    capsys.readouterr()
    code = cli.main(["summary", str(original_run), "--baseline", str(vlthink_run)])
    lines = _error_lines(capsys.readouterr().err)
    assert code == 2 and len(lines) == 1
    assert "cannot pair" in lines[0] and "asset set" in lines[0]
    manifest = store.read_manifest(original_run)
    other_pack = dict(manifest, assets_hash="0" * 64)
    with pytest.raises(summary.PairingError, match="original asset pack"):
        summary.check_pairable(manifest, other_pack)
    summary.check_pairable(manifest, dict(manifest))  # the same set and pack pair


def test_leaderboard_rows_carry_their_set_and_one_policy_on_two_sets_is_two_rows(
    original_run, vlthink_run, tmp_path
):
    from vlthink.report import leaderboard, leaderboard_page

    leaderboard.publish([original_run, vlthink_run], tmp_path, log=lambda *_: None)
    board = pd.read_csv(tmp_path / "ood.csv")
    assert list(board.columns[-2:]) == ["assets", "assets_hash"]
    assert sorted(board["assets"]) == ["original", "vlthink"]
    hashes = dict(zip(board["assets"], board["assets_hash"]))
    assert hashes["original"] == pack.list_hash(pack.expected_files())
    assert hashes["vlthink"] == f"vlthink-{ASSET_VERSION}"
    header = leaderboard_page.markdown(tmp_path).splitlines()[2]
    assert "oracle \\[original assets\\]" in header and "| oracle |" in header
    with pytest.raises(HarnessError, match="cannot pair"):
        leaderboard.publish([original_run], tmp_path / "b", baseline=vlthink_run)


def test_an_old_board_without_the_asset_columns_reads_measured_rows_as_vlthink(tmp_path):
    from vlthink.report import leaderboard

    old = [c for c in leaderboard.COLUMNS if c not in summary.ASSET_COLUMNS]
    rows = [
        {"suite": "ood", "env": ENV, "policy": "oracle", "source": "measured"},
        {"suite": "ood", "env": ENV, "policy": "paper", "source": "reported: Table 1"},
    ]
    pd.DataFrame(rows, columns=old).to_csv(tmp_path / "ood.csv", index=False)
    board = leaderboard.read_board(tmp_path / "ood.csv")
    assert board.loc[0, "assets"] == "vlthink"
    assert pd.isna(board.loc[1, "assets"])  # a paper's number was measured on neither


def test_the_report_labels_each_run_s_asset_set(original_run, vlthink_run):
    from vlthink.report import runs
    from vlthink.report.provenance import provenance_section

    runset = runs.load_runs([original_run, vlthink_run])
    assert [r.label for r in runset.runs] == ["oracle [original]", "oracle [vlthink]"]
    assert any("differ in asset set" in w for w in runset.warnings)
    assert "original (" + store.read_manifest(original_run)["assets_hash"][:12] in (
        provenance_section(runset)
    )
    with pytest.raises(runs.ReportError, match="asset set"):
        runs.load_runs([original_run], baseline=vlthink_run)


def test_vlthink_demos_without_the_pack_is_one_line_and_records_nothing(
    pack_dir, tmp_path, monkeypatch, capsys
):
    from vlthink.cli import main

    monkeypatch.setenv(pack.ENV_VAR, str(tmp_path / "no-pack"))
    args = ["demos", "--suite", ENV, "--episodes", "1", "--out", str(tmp_path / "ds")]
    assert main([*args, "--assets", "original", "--no-progress"]) == 2
    lines = _error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "vlthink assets fetch original" in lines[0]
    assert not (tmp_path / "ds").exists()


def test_a_dataset_s_identity_holds_its_asset_set_and_an_old_one_reads_as_vlthink():
    from vlthink.demos.store import identity

    old = {"protocol_version": "vlthink-3", "provenance": {"versions": {"ood_assets": "2.0"}}}
    assert identity(old)["assets"] == "vlthink"
    assert identity(old)["assets_hash"] == "vlthink-2.0"
    drawn = {"assets": "original", "assets_hash": "ab" * 32}
    assert identity({**old, **drawn})["assets_hash"] == "ab" * 32


@pytest.mark.timeout(600)
def test_a_dataset_recorded_on_the_pack_names_it_resumes_only_on_it_and_replays_on_it(
    pack_dir, tmp_path, capsys
):
    from vlthink.cli import main
    from vlthink.demos import layout
    from vlthink.demos.replay import replay

    out = tmp_path / "ds"
    args = ["demos", "--suite", ENV, "--episodes", "1", "--out", str(out), "--no-progress"]
    assert main([*args, "--assets", "original"]) == 0
    verified = pack.list_hash(pack.expected_files())
    info = json.loads((out / layout.INFO_FILE).read_text())["vlthink"]
    recording = json.loads((out / layout.RECORDING_FILE).read_text())
    for facts in (info, recording):
        assert (facts["assets"], facts["assets_hash"]) == ("original", verified)
    capsys.readouterr()
    assert main(args) == 2  # the same command on vlthink's art would mix two looks
    lines = _error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "different assets" in lines[0]
    envs: dict = {}
    try:
        rep = replay(out, 0, envs)
    finally:
        for env in envs.values():
            env.close()
    assert rep.ok and rep.psnr_min > 30  # drawn again with the pack, frame for frame
