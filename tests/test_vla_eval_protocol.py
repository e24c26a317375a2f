"""The vla-eval adapter against vla-eval's own model server (a scripted model on 127.0.0.1).

No env here (milliseconds per step): the protocol, its failure classes, chunks and batching.
The version check at the top fails first, and says so, when vla-eval changes its protocol.
"""

import inspect
import socket
import time

import numpy as np
import pytest

vla_eval = pytest.importorskip("vla_eval")

from vla_eval.api import serve_background  # noqa: E402

from vlthink.policies.base import EpisodeSpec, Observation, PolicyError  # noqa: E402
from vlthink.policies.registry import load_policy  # noqa: E402
from vlthink.policies.vla_eval import PROTOCOL_VERSION, env_actions  # noqa: E402
from vlthink.testing.vla_eval_models import ScriptedModel, scripted_action  # noqa: E402

SPECS = [EpisodeSpec("VLThink-Shape-v0", 0, 0), EpisodeSpec("VLThink-Shape-v0", 1, 0)]


def frame(value: int) -> np.ndarray:
    return np.full((48, 64, 3), value, np.uint8)


def test_vla_eval_still_speaks_the_protocol_and_classes_vlthink_relies_on():
    from vla_eval.benchmarks.base import StepBenchmark
    from vla_eval.model_servers.predict import PredictModelServer
    from vla_eval.protocol import messages
    from vla_eval.protocol.image_codec import encode_image
    from vla_eval.protocol.numpy_codec import decode_ndarray

    assert messages.PROTOCOL_VERSION == PROTOCOL_VERSION, "vla-eval bumped its wire protocol"
    wanted = {"hello", "observation", "action", "episode_start", "episode_end", "error"}
    assert wanted <= {t.value for t in messages.MessageType}, "message types changed"
    raw = messages.pack_message(messages.Message(messages.MessageType.ACTION, {"a": 1}, seq=7))
    back = messages.unpack_message(raw)
    assert (back.type.value, back.payload, back.seq) == ("action", {"a": 1}, 7)
    hello = messages.make_hello_payload(benchmark="vlthink")
    assert hello["protocol_version"] == PROTOCOL_VERSION and "harness_version" in hello
    image = decode_ndarray(encode_image(frame(9), "raw"))
    assert image.shape == (48, 64, 3) and image[0, 0, 0] == 9
    for name in ("predict", "predict_batch", "get_observation_params", "on_episode_start"):
        assert callable(getattr(PredictModelServer, name)), f"PredictModelServer.{name} is gone"
    abstract = StepBenchmark.__abstractmethods__
    assert abstract == {"get_tasks", "reset", "step", "make_obs", "get_step_result"}, abstract
    assert {"server_url", "output_dir", "docker"} <= set(
        inspect.signature(vla_eval.api.run).parameters
    )


def test_env_actions_read_rot3_as_a_rotation_vector_and_binarise_the_gripper_at_half():
    from scipy.spatial.transform import Rotation

    raw = np.array([[0.01, 0.02, 0.03, 0.1, -0.2, 0.3, 0.6], [0, 0, 0, 0, 0, 0, 0.5]])
    out = env_actions(raw, "rotvec")
    assert out[:, 6].tolist() == [1.0, -1.0]  # > 0.5 opens, 0.5 closes
    np.testing.assert_allclose(out[0, :3], raw[0, :3], rtol=1e-6)
    same = Rotation.from_euler("XYZ", out[0, 3:6]).as_matrix()
    np.testing.assert_allclose(same, Rotation.from_rotvec(raw[0, 3:6]).as_matrix(), atol=1e-6)
    np.testing.assert_allclose(env_actions(raw, "euler")[0, 3:6], raw[0, 3:6], rtol=1e-6)


def test_image_dependent_actions_come_back_for_each_slot_at_the_size_the_server_asks():
    model = ScriptedModel(observation_params={"image_size": [32, 40]})
    with serve_background(model) as server:
        policy = load_policy("vla-eval", endpoint=server.url, timeout_s=5.0)
        policy.reset(SPECS)
        actions = policy.act([Observation(frame(40), "a", 0), Observation(frame(200), "a", 0)])
        policy.close()
    expected = env_actions(
        np.stack([scripted_action(np.full((32, 40, 3), v), 0) for v in (40, 200)])
    )
    np.testing.assert_allclose(actions, expected, atol=1e-6)
    assert set(model.seen) == {("VLThink-Shape-v0", 0, 0), ("VLThink-Shape-v0", 1, 0)}
    assert policy.server_info["model_server"] == "ScriptedModel"


def test_a_chunk_is_played_before_the_next_observation_is_sent():
    model = ScriptedModel(chunk=4)
    with serve_background(model) as server:
        policy = load_policy("vla-eval", endpoint=server.url, timeout_s=5.0)
        policy.reset(SPECS[:1])
        played = [policy.act([Observation(frame(10 * s), "a", s)])[0] for s in range(6)]
        policy.close()
    assert model.calls == 2  # steps 0-3 from the first chunk, 4-5 from the second
    first = env_actions(np.stack([scripted_action(frame(0), k) for k in range(4)]))
    np.testing.assert_allclose(np.stack(played[:4]), first, atol=1e-6)


def test_concurrent_slots_reach_a_batching_server_as_one_batch():
    # vla-eval starts a batch with the first request it holds: two slots share one only when
    # they happen to arrive together, a race. With three, whatever arrives while the first batch
    # runs (50 ms) is pending when it ends, so every step has a batch of two.
    model = ScriptedModel(max_batch_size=2, latency_s=0.05)
    specs = [*SPECS, EpisodeSpec("VLThink-Shape-v0", 2, 0)]
    with serve_background(model) as server:
        policy = load_policy("vla-eval", endpoint=server.url, timeout_s=5.0)
        policy.reset(specs)
        for s in range(12):
            policy.act([Observation(frame(v), "a", s) for v in (1, 2, 3)])
        policy.close()
    assert 2 in model.batch_sizes and sum(model.batch_sizes) == 36
    assert model.batch_sizes.count(2) >= 6, model.batch_sizes  # not by chance


@pytest.mark.parametrize(
    "fault, says",
    [("raise", "reported an error: observation_failed: RuntimeError"), ("sleep", "(timeout)")],
)
def test_a_failing_predict_is_a_policy_error_and_the_next_episode_runs(fault, says):
    model = ScriptedModel(faults={0: fault}, fault_step=1, fault_sleep_s=2.0)
    with serve_background(model) as server:
        policy = load_policy("vla-eval", endpoint=server.url, timeout_s=1.0)
        policy.reset(SPECS[:1])
        policy.act([Observation(frame(1), "a", 0)])
        with pytest.raises(PolicyError, match=says):
            policy.act([Observation(frame(1), "a", 1)])
        time.sleep(1.5 if fault == "sleep" else 0)  # the slow predict still holds the model
        policy.reset_slots([0], SPECS[1:])  # episode 1 has no fault: a new episode_start
        assert policy.act([Observation(frame(1), "a", 0)]).shape == (1, 7)
        policy.close()


def test_a_refused_connection_names_the_endpoint_and_the_fix():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    policy = load_policy(
        "vla-eval", endpoint=f"ws://127.0.0.1:{port}", timeout_s=2.0, retries=2, backoff_s=0.01
    )
    with pytest.raises(PolicyError, match=r"connection refused.*vla-eval serve.*after 2 retries"):
        policy.reset(SPECS[:1])
    assert policy.stats["retries"] == 2  # the connection was tried again, and counted


class _Malformed(ScriptedModel):
    def predict_batch(self, obs_batch, ctx_batch):
        return [{"actions": np.zeros(3)} for _ in obs_batch]


def test_a_reply_of_the_wrong_shape_is_a_policy_error():
    with serve_background(_Malformed()) as server:
        policy = load_policy("vla-eval", endpoint=server.url, timeout_s=5.0)
        policy.reset(SPECS[:1])
        with pytest.raises(PolicyError, match=r"shape \(1, 3\)"):
            policy.act([Observation(frame(1), "a", 0)])
        policy.close()
