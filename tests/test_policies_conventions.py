"""Action conventions: the rotation math, and a commanded delta moving the simulated WidowX.

The simulation tests build the Bridge WidowX (``widowx250s_bridgedataset_flat_table``) with the
controller vlthink's envs use (``arm_pd_ee_target_delta_pose_align2_gripper_pd_joint_pos``) in
an empty scene, so they check the conventions against ManiSkill's own reading of an action.
"""

import numpy as np
import pytest
import torch

from vlthink.policies.conventions import (
    BRIDGE_ORIG_ACTION_STATS,
    binarize_gripper,
    convert_rotation,
    load_action_stats,
    matrix_to_rotvec,
    matrix_to_xyz_euler,
    sxyz_euler_to_matrix,
    to_env_actions,
    unnormalize_actions,
    xyz_euler_to_matrix,
)


def _rand_angles(n, scale=0.6, seed=0):
    return np.random.default_rng(seed).uniform(-scale, scale, (n, 3))


def test_xyz_euler_matches_maniskill_controller_reading():
    from mani_skill.utils.geometry.rotation_conversions import (
        euler_angles_to_matrix,
        matrix_to_euler_angles,
    )

    a = _rand_angles(50)
    ms = euler_angles_to_matrix(torch.tensor(a), "XYZ").numpy()
    np.testing.assert_allclose(xyz_euler_to_matrix(a), ms, atol=1e-12)
    np.testing.assert_allclose(
        matrix_to_xyz_euler(ms), matrix_to_euler_angles(torch.tensor(ms), "XYZ").numpy(), atol=1e-6
    )
    np.testing.assert_allclose(matrix_to_xyz_euler(xyz_euler_to_matrix(a)), a, atol=1e-12)


def test_sxyz_matches_simplerenv_euler2axangle():
    from transforms3d.euler import euler2axangle, euler2mat

    for rpy in _rand_angles(20, seed=1):
        np.testing.assert_allclose(sxyz_euler_to_matrix(rpy), euler2mat(*rpy, "sxyz"), atol=1e-12)
        axis, angle = euler2axangle(*rpy)  # SimplerEnv's conversion (axes='sxyz')
        np.testing.assert_allclose(
            matrix_to_rotvec(sxyz_euler_to_matrix(rpy)), axis * angle, atol=1e-9
        )


def test_axis_angle_convention_commands_simplerenv_rotation():
    rpy = _rand_angles(30, seed=2)
    out = convert_rotation(rpy, "axis-angle")
    # what the controller builds from our numbers == what SimplerEnv meant by the model's numbers
    np.testing.assert_allclose(xyz_euler_to_matrix(out), sxyz_euler_to_matrix(rpy), atol=1e-12)
    # euler passes through, and the two conventions differ for rotations about several axes
    np.testing.assert_array_equal(convert_rotation(rpy, "euler"), rpy)
    assert np.abs(out - rpy).max() > 1e-2
    # ... but agree for a rotation about one axis
    for i in range(3):
        single = np.zeros(3)
        single[i] = 0.3
        np.testing.assert_allclose(convert_rotation(single, "axis-angle"), single, atol=1e-12)
    with pytest.raises(ValueError, match="valid: euler, axis-angle"):
        convert_rotation(rpy, "quaternion")


def test_gripper_binarised_at_half_minus_one_closed():
    np.testing.assert_array_equal(binarize_gripper([0.0, 0.49, 0.5, 0.51, 1.0]), [-1, -1, -1, 1, 1])
    np.testing.assert_array_equal(binarize_gripper([-0.2, 0.0, 0.3], "signed"), [-1, -1, 1])
    a = to_env_actions(
        np.array([[0.01, -0.02, 0.03, 0.1, 0.0, 0.0, 0.9], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1]])
    )
    assert a.dtype == np.float32 and a.shape == (2, 7)
    np.testing.assert_allclose(a[0, :6], [0.01, -0.02, 0.03, 0.1, 0, 0], atol=1e-7)
    assert a[:, 6].tolist() == [1.0, -1.0]


def test_bridge_orig_stats_and_unnormalize(tmp_path):
    s = BRIDGE_ORIG_ACTION_STATS
    assert all(len(s[k]) == 7 for k in ("q01", "q99", "mean", "std", "min", "max", "mask"))
    assert s["mask"][6] is False and s["q01"][6] == 0.0 and s["q99"][6] == 1.0
    out = unnormalize_actions(np.array([[-1] * 6 + [0.7], [1] * 6 + [0.2]]), s)
    np.testing.assert_allclose(out[0, :6], s["q01"][:6])
    np.testing.assert_allclose(out[1, :6], s["q99"][:6])
    assert out[0, 6] == 0.7 and out[1, 6] == 0.2  # masked: the gripper passes through
    import json

    f = tmp_path / "dataset_statistics.json"
    f.write_text(json.dumps({"my_robot": {"action": {"q01": [0] * 7, "q99": [2] * 7}}}))
    assert load_action_stats(str(f), "my_robot")["q99"] == [2] * 7
    with pytest.raises(KeyError, match="my_robot"):
        load_action_stats(str(f), "bridge_orig")


# --- in simulation ------------------------------------------------------------------------------

CONTROL_MODE = "arm_pd_ee_target_delta_pose_align2_gripper_pd_joint_pos"


@pytest.fixture(scope="module")
def widowx():
    import sapien
    from mani_skill.envs.sapien_env import BaseEnv
    from mani_skill.envs.tasks.digital_twins.bridge_dataset_eval.base_env import (
        WidowX250SBridgeDatasetFlatTable,
    )
    from mani_skill.utils.structs.types import SimConfig

    class EmptyWidowXEnv(BaseEnv):
        """The Bridge WidowX on its own, at the pose and control rate of the Bridge scenes."""

        SUPPORTED_ROBOTS = ["widowx250s_bridgedataset_flat_table"]

        def __init__(self, **kw):
            super().__init__(robot_uids=WidowX250SBridgeDatasetFlatTable, **kw)

        @property
        def _default_sim_config(self):
            return SimConfig(sim_freq=500, control_freq=5)

        @property
        def _default_sensor_configs(self):
            return []

        def _load_agent(self, options):
            super()._load_agent(options, sapien.Pose(p=[0.127, 0.060, 0.85], q=[0, 0, 0, 1]))

        def _load_scene(self, options):
            pass

        def _initialize_episode(self, env_idx, options):
            # the Bridge flat-table rest pose (ManiSkill's bridge_dataset_eval), gripper open
            qpos = np.array(
                [
                    -0.01840777,
                    0.0398835,
                    0.22242722,
                    -0.00460194,
                    1.36524296,
                    0.00153398,
                    0.037,
                    0.037,
                ]
            )
            self.agent.reset(qpos)
            self.agent.robot.set_pose(sapien.Pose([0.147, 0.028, 0.870], q=[0, 0, 0, 1]))

        def evaluate(self):
            return {}

        def _get_obs_extra(self, info):
            return {}

    env = EmptyWidowXEnv(
        obs_mode="state_dict",
        reward_mode="none",
        control_mode=CONTROL_MODE,
        render_backend="none",
        sim_backend="physx_cpu",
    )
    yield env
    env.close()


def _tcp(env):
    """TCP pose in the robot base frame: (position, rotation matrix)."""
    from mani_skill.utils.geometry.rotation_conversions import quaternion_to_matrix

    pose = env.agent.controller.controllers["arm"].ee_pose_at_base
    return pose.p[0].numpy().astype(np.float64), quaternion_to_matrix(pose.q)[0].numpy().astype(
        np.float64
    )


def _angle(r):
    return float(np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1)))


def _run(env, action, steps=3, settle=6):
    env.reset(seed=0)
    p0, r0 = _tcp(env)
    a = np.asarray(action, np.float32)
    for _ in range(steps):
        env.step(a)
    hold = np.zeros(7, np.float32)
    hold[6] = a[6]
    for _ in range(settle):  # zero deltas: the target stays, the arm catches up
        env.step(hold)
    p1, r1 = _tcp(env)
    return p1 - p0, r1 @ r0.T  # position delta, rotation delta in the base frame


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_position_delta_moves_tcp_along_base_axis(widowx, axis):
    action = np.zeros(7)
    action[axis] = 0.01
    action[6] = 1.0
    dp, _ = _run(widowx, to_env_actions(action[None])[0])
    assert dp[axis] == pytest.approx(0.03, abs=0.006), dp
    others = np.delete(dp, axis)
    assert np.abs(others).max() < 0.006, dp


@pytest.mark.parametrize(
    "convention, intended", [("euler", xyz_euler_to_matrix), ("axis-angle", sxyz_euler_to_matrix)]
)
def test_rotation_delta_rotates_gripper_as_the_convention_means(widowx, convention, intended):
    rpy = np.array([0.15, 0.12, 0.2])  # per step, 2 steps: the conventions differ by ~0.08 rad
    raw = np.concatenate([[0, 0, 0], rpy, [1.0]])[None]
    act = to_env_actions(raw, convention)[0]
    _, dr = _run(widowx, act, steps=2)
    want = intended(rpy) @ intended(rpy)
    other = {"euler": sxyz_euler_to_matrix, "axis-angle": xyz_euler_to_matrix}[convention](rpy)
    assert _angle(dr) > 0.4  # it did rotate (about 2 * 0.28 rad)
    assert _angle(dr @ want.T) < 0.01, (
        f"{convention}: {_angle(dr @ want.T):.4f} rad from the intended rotation"
    )
    # ... and is measurably not the rotation the other convention means
    assert _angle(dr @ (other @ other).T) > 0.05


def test_yaw_positive_turns_gripper_counterclockwise_about_base_z(widowx):
    _, dr = _run(widowx, to_env_actions(np.array([[0, 0, 0, 0, 0, 0.1, 1.0]]))[0])
    yaw = np.arctan2(dr[1, 0], dr[0, 0])
    assert yaw == pytest.approx(0.3, abs=0.03) and abs(dr[2, 2] - 1) < 1e-3


def test_gripper_minus_one_closes_plus_one_opens(widowx):
    env = widowx
    for raw, expect_closed in ((0.0, True), (1.0, False)):
        action = to_env_actions(np.array([[0, 0, 0, 0, 0, 0, raw]]))[0]
        assert action[6] == (-1.0 if expect_closed else 1.0)
        _run(env, action, steps=4, settle=0)
        fingers = env.agent.robot.get_qpos()[0, -2:].numpy()
        if expect_closed:
            assert np.all(fingers < 0.02), fingers  # closed limit 0.015 - clearance
        else:
            assert np.all(fingers > 0.033), fingers  # open limit 0.037
