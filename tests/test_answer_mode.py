"""VL-Think answer mode (issue 34): the carrot starts in the gripper, two boards, swapped pairs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

import vlthink  # noqa: F401  (registers the ids)
from vlthink.envs import ids
from vlthink.envs.vl_think import TASKS
from vlthink.envs.vl_think_answer import answer_env_id, draw_episode, mirror
from vlthink.harness import answer, rundir
from vlthink.harness.api import evaluate
from vlthink.harness.episodes import episode_seed
from vlthink.harness.summary import format_table, rows_frame, summarize

DOMAINS = [t.domain for t in TASKS]
_ENVS: dict[tuple[str, str], gym.Env] = {}


def _env(domain: str, obs_mode: str = "state_dict") -> gym.Env:
    key = (domain, obs_mode)
    if key not in _ENVS:
        _ENVS[key] = gym.make(answer_env_id(domain), obs_mode=obs_mode)
    return _ENVS[key]


def test_the_eight_answer_ids_are_their_own_suite_never_in_vl_think_or_all():
    answer_ids = ids.resolve_suites(["vl-think-answer"])
    assert answer_ids == [f"VLThink-{d}-Answer-v0" for d in ids.VL_THINK_DOMAINS]
    assert {ids.GROUPS[i] for i in answer_ids} == {("vl-think-answer", d) for d in DOMAINS}
    pooled = set(ids.resolve_suites(["vl-think", "ood", "all"]))
    assert not pooled & set(answer_ids)


def test_the_horizon_is_the_gym_specs_max_episode_steps_and_truncates_the_episode():
    assert gym.spec("VLThink-Arrow-Answer-v0").max_episode_steps == ids.ANSWER_MAX_EPISODE_STEPS
    assert gym.spec("VLThink-Arrow-v0").max_episode_steps == ids.MAX_EPISODE_STEPS
    env = _env("Arrow")
    env.reset(seed=3)
    hold = np.array([0, 0, 0, 0, 0, 0, -1.0], np.float32)
    ends = [bool(env.step(hold)[3]) for _ in range(ids.ANSWER_MAX_EPISODE_STEPS)]
    assert ends == [False] * (ids.ANSWER_MAX_EPISODE_STEPS - 1) + [True]


@pytest.mark.parametrize("domain", ["Traffic", "Parity"])
def test_the_carrot_is_held_at_step_0_and_does_not_touch_the_table(domain):
    env = _env(domain)
    for seed in (0, 1, 17):
        _, info = env.reset(seed=seed)
        u = env.unwrapped
        assert bool(u.agent.is_grasping(u.carrot)[0]) and bool(info["is_src_obj_grasped"][0])
        touching = torch.linalg.norm(u.scene.get_pairwise_contact_forces(u.carrot, u.table), dim=1)
        assert float(touching[0]) == 0.0
        assert float(u.carrot.pose.p[0, 2]) > float(u.boards[0].pose.p[0, 2]) + 0.05
        assert int(info["placed_on"][0]) == 0  # rests on no board yet


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_mirror_layout_swaps_the_two_boards_and_changes_nothing_else(domain):
    for pair in range(40):
        drawn, mirrored = draw_episode(domain, 2 * pair), draw_episode(domain, 2 * pair + 1)
        assert (drawn.orientation, mirrored.orientation) == ("drawn", "mirrored")
        assert drawn.pair == mirrored.pair == pair and drawn.table_look == mirrored.table_look
        a, b = drawn.layout, mirrored.layout
        assert b.boards == a.boards[::-1] and a.boards[0] != a.boards[1]
        assert b.positions == a.positions == ("left", "right")
        assert b.target_slot == 1 - a.target_slot
        assert (b.target, b.instruction, b.absent) == (a.target, a.instruction, a.absent)
        assert b.boards[b.target_slot] == a.boards[a.target_slot]
        assert mirror(b) == a


def test_the_mirrored_scene_differs_from_its_pair_only_in_the_boards_pictures():
    env = _env("Laundry")
    states, facts = [], []
    for seed in (40, 41):
        env.reset(seed=seed)
        u = env.unwrapped
        states.append({k: v for k, v in u.privileged_state().items() if k != "target_pose"})
        facts.append(u.task_info()[0])
    for key in states[0]:
        np.testing.assert_array_equal(states[0][key], states[1][key], err_msg=key)
    (a, b) = facts
    assert a["boards"] == {"left": b["boards"]["right"], "right": b["boards"]["left"]}
    assert {a["target_position"], b["target_position"]} == {"left", "right"}
    same = ("instruction", "target", "target_board", "absent", "table_look", "pair")
    assert all(a[k] == b[k] for k in same)


def test_the_harness_gives_episodes_2k_and_2k_plus_1_one_pairs_two_seeds():
    env_id = answer_env_id("Color")
    for k in range(20):
        s0, s1 = episode_seed(env_id, 2 * k, 3), episode_seed(env_id, 2 * k + 1, 3)
        assert s0 >> 1 == s1 >> 1 and (s0 & 1, s1 & 1) == (0, 1)
    pairs = {episode_seed(env_id, 2 * k, 3) >> 1 for k in range(20)}
    assert len(pairs) == 20
    # VL-Think's seeds are untouched by the pairing
    assert episode_seed("VLThink-Color-v0", 1, 3) != episode_seed("VLThink-Color-v0", 0, 3) ^ 1


def test_the_first_frame_of_a_seed_is_pixel_identical_whatever_ran_before():
    env = _env("Weather", "rgb")
    first = env.reset(seed=9)[0]["sensor_data"]["3rd_view_camera"]["rgb"].clone()
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(6):  # move, open the gripper, drop the carrot somewhere
        env.step(rng.uniform(-1, 1, 7).astype(np.float32) * [0.03] * 6 + [0, 0, 0, 0, 0, 0, 1])
    again = env.reset(seed=9)[0]["sensor_data"]["3rd_view_camera"]["rgb"]
    assert torch.equal(first, again)


def _physical_state(env) -> dict[str, np.ndarray]:
    """Every pose, velocity, joint position and velocity and the controller's target, and the
    state observation: what the next step is computed from."""
    u = env.unwrapped
    flat: dict[str, np.ndarray] = {}

    def walk(prefix: str, tree) -> None:
        for key, value in tree.items():
            if isinstance(value, dict):
                walk(f"{prefix}/{key}", value)
            else:
                flat[f"{prefix}/{key}"] = np.array(value.cpu() if torch.is_tensor(value) else value)

    walk("state", u.get_state_dict())
    walk("obs", u.get_obs())
    return flat


def _replay(env, seed: int, actions: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
    env.reset(seed=seed)
    states = [_physical_state(env)]
    for action in actions:
        env.step(action)
        states.append(_physical_state(env))
    return states


def test_a_seed_replays_bit_for_bit_after_an_episode_with_motion():
    # Before every reset built a new physics scene, PhysX state left by an episode in which the
    # gripper moved and let go changed the next grasp (step-0 joint velocities by ~5e-3).
    env = _env("Color")
    rng = np.random.default_rng(0)
    low, high = env.unwrapped.single_action_space.low, env.unwrapped.single_action_space.high
    actions = [rng.uniform(low, high).astype(np.float32) for _ in range(4)]
    first = _replay(env, 3, actions)
    _replay(env, 4, [rng.uniform(low, high).astype(np.float32) for _ in range(5)])
    again = _replay(env, 3, actions)
    differ = [(t, k) for t, (a, b) in enumerate(zip(first, again)) for k in a
              if not np.array_equal(a[k], b[k])]  # fmt: skip
    assert differ == []
    assert not np.array_equal(first[0]["state/actors/carrot"], first[-1]["state/actors/carrot"])


@pytest.fixture(scope="module")
def always_left_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "always-left"
    return evaluate(
        "always-left", "VLThink-Arrow-Answer-v0", episodes=4, out=out, progress=False,
        obs_mode="state_dict",
    )  # fmt: skip


def test_always_left_answers_left_every_time_and_shows_a_position_bias_of_one(always_left_run):
    rows = always_left_run.rows
    assert always_left_run.exit_code == 0 and len(rows) == 4
    for row in rows:
        want = "target" if row["task"]["target_position"] == "left" else "distractor"
        assert row["placed_on"] == want
    table = answer.answer_table(rows_frame(rows, {"tasks": {"VLThink-Arrow-Answer-v0": {
        "suite": "vl-think-answer", "group": "Arrow"}}}))  # fmt: skip
    r = table.iloc[0]
    assert (r["answered"], r["correct"], r["consistent"]) == (1.0, 0.5, 0.0)
    assert r["position_bias"] == 1.0 and r["pairs"] == 2


def test_success_is_read_at_the_final_step_of_the_whole_horizon(always_left_run):
    for row in always_left_run.rows:
        assert row["steps"] == ids.ANSWER_MAX_EPISODE_STEPS
        assert row["success_at_end"] == (row["placed_on"] == "target")
    # a row placed on the target at some step but not at the end is not correct
    late = dict(always_left_run.rows[0], success_once=True, success_at_end=False, placed_on="none")
    df = rows_frame([late], {"tasks": {late["env"]: {"suite": "vl-think-answer", "group": "A"}}})
    block = answer.domain_block(df)
    assert (block["correct"], block["answered"]) == (0.0, 0.0)


def test_the_summary_prints_an_answer_mode_section(always_left_run):
    manifest = {"tasks": {"VLThink-Arrow-Answer-v0": {"suite": "vl-think-answer", "group": "Arrow"}},
                "policy": {"name": "always-left"}}  # fmt: skip
    table = summarize(manifest, always_left_run.rows)
    text = format_table(table)
    assert "answer mode" in text and "+1.00" in text
    both = pd.concat([table, summarize(manifest, always_left_run.rows[:2])])  # as reports do
    assert len(both) > len(table)


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "oracle"
    return evaluate("oracle", "VLThink-Arrow-Answer-v0", episodes=4, out=out, progress=False,
                    obs_mode="state_dict")  # fmt: skip


def test_against_a_baseline_the_paired_tests_count_pairs_not_episodes(always_left_run, oracle_run):
    manifest, rows = rundir.load_run(oracle_run.out)
    baseline = rundir.load_run(always_left_run.out)
    table = summarize(manifest, rows, baseline=baseline)
    (rec,) = table.attrs["answer"]
    # 4 episodes are 2 pairs: the oracle is consistent in both, always-left in neither
    assert (rec["pairs_matched"], rec["pair_score"], rec["pair_score_base"]) == (2, 1.0, 0.5)
    assert (rec["pair_p_n"], rec["consistent_p_n"]) == (2, 2)
    assert rec["consistent_p"] == pytest.approx(0.25) and rec["pair_p"] == pytest.approx(0.25)
    text = format_table(table)
    assert "against always-left, pairs as the unit" in text and "1.00 vs 0.50" in text


def test_the_answer_board_publishes_complete_runs_with_their_asset_set_and_refuses_a_partial_one(
    always_left_run, oracle_run, tmp_path
):
    import shutil
    import subprocess
    import sys

    from vlthink.harness import results
    from vlthink.report.answer_board import write_leaderboard

    board = write_leaderboard(tmp_path / "a.csv", [oracle_run.out, always_left_run.out])
    assert list(board["policy"]) == ["oracle", "always-left"]
    assert list(board["correct"]) == [1.0, 0.5] and set(board["assets"]) == {"vlthink"}
    assert board["command"].str.startswith("vlthink-eval --policy").all()
    partial = tmp_path / "partial"
    shutil.copytree(oracle_run.out, partial)
    rows_file = partial / results.ROWS_FILE
    rows_file.write_text("".join(rows_file.read_text().splitlines(keepends=True)[:3]))
    cmd = [
        sys.executable,
        "-m",
        "vlthink.report.answer_board",
        str(tmp_path / "b.csv"),
        str(partial),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 2 and not (tmp_path / "b.csv").exists()
    (line,) = out.stderr.strip().splitlines()
    assert "incomplete: 3 of 4" in line and "Fix: rerun its command" in line


def test_the_report_has_an_answer_mode_section_with_the_pair_tests(
    always_left_run, oracle_run, tmp_path
):
    from vlthink.report.report import build_report

    page = build_report([oracle_run.out], tmp_path / "r.html", baseline=always_left_run.out)
    html = page.read_text()
    section = html[html.index('<section id="vl-think-answer">') :]
    assert "<h2>Answer mode</h2>" in section and "answer mode correct" in section
    # the oracle's row (correct 4/4) and the baseline's (2/4, always left: bias +1)
    assert "<td>Arrow</td><td>4 (2)</td>" in section and "1.00 [0.51, 1.00]" in section
    assert "0.50 [0.15, 0.85]" in section and "+1.00 [" in section
    assert "1.00 vs 0.50" in section and "pairs as the unit" in section


@pytest.mark.slow  # a rendered harness run (minutes on a loaded 2-core machine)
def test_the_vlm_probe_asks_its_question_on_the_answer_mode_first_frame(tmp_path):
    # The real probe adapter against a loopback VLM that always says "Yes, it is on the left".
    from vlthink.testing.servers import ChatServer

    with ChatServer() as srv:
        pol = tmp_path / "probe.toml"
        pol.write_text(f'adapter = "vlm-probe"\nbackend = "openai"\nendpoint = "{srv.url}"\n')
        run = evaluate(str(pol), "VLThink-Parity-Answer-v0", episodes=2, out=tmp_path / "p",
                       progress=False)  # fmt: skip
        shapes = [q["image_shapes"] for q in srv.model.log]
    assert run.exit_code == 0 and [r["episode"] for r in run.rows] == [0, 1]
    assert shapes and all(s == [(480, 640, 3)] for s in shapes)
    sides = [r["task"]["target_position"] for r in run.rows]
    assert sorted(sides) == ["left", "right"]  # one pair, both orientations
    assert [r["success_once"] for r in run.rows] == [s == "left" for s in sides]


def test_a_worker_freezes_its_imports_not_its_env_so_each_rebuilt_scene_is_still_collected():
    """A worker process freezes what lives before it builds an env (ManiSkill's full collection
    on every answer-mode reset then skips torch and SAPIEN); the env is built after, so the scenes
    the resets drop are collected, the first one included."""
    import gc
    import weakref

    from vlthink.harness.worker import Failed, ManiSkillEpisodes, RequestLoop, Reset

    gc.unfreeze()
    env_id = answer_env_id("Parity")
    loop = RequestLoop(ManiSkillEpisodes, freeze_gc=True)
    try:
        assert not isinstance(loop.handle(Reset(env_id, 3, "state_dict")), Failed)
        assert gc.get_freeze_count() > 0
        env = loop.env.env.unwrapped
        assert any(o is env for o in gc.get_objects())  # the env itself is not frozen
        first_scene = weakref.ref(env.scene)
        for seed in (4, 5):  # ManiSkill's collection at a reset frees the scene dropped before
            assert not isinstance(loop.handle(Reset(env_id, seed, "state_dict")), Failed)
        assert first_scene() is None
    finally:
        loop.close()
        gc.unfreeze()
