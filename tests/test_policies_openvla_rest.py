"""OpenVLA REST client against a real server on 127.0.0.1 speaking deploy.py's protocol."""

import time

import numpy as np
import pytest

from vlthink.policies import EpisodeSpec, Observation, PolicyError, load_policy
from vlthink.testing.servers import OpenVLAServer, free_port

RAW = np.array([0.01, -0.02, 0.005, 0.15, 0.12, 0.2, 0.8])  # a known raw OpenVLA action


def fixed_predict(images, instructions, unnorm_key):
    out = np.tile(RAW, (len(images), 1))
    out[:, 6] = [0.8 if "open" in t else 0.2 for t in instructions]  # gripper from the text
    return out


@pytest.fixture(scope="module")
def server():
    with OpenVLAServer(fixed_predict, latency_s=0.05) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server):
    server.fault = None
    server.model.reset_counters()
    yield
    server.fault = None


def _obs(n, text="open the drawer"):
    rng = np.random.default_rng(0)
    return [
        Observation(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), text, 0) for _ in range(n)
    ]


def _policy(server, **kw):
    kw.setdefault("endpoint", server.url + "/act")
    p = load_policy("openvla-sft", **kw)
    return p


def _specs(n):
    return [EpisodeSpec("VLThink-Shape-v0", i, i, "open the drawer") for i in range(n)]


def test_single_request_protocol_and_conversion(server):
    p = _policy(server)
    p.reset(_specs(1))
    a = p.act(_obs(1))
    assert a.shape == (1, 7) and a.dtype == np.float32
    np.testing.assert_allclose(a[0, :6], RAW[:6], atol=1e-6)  # euler: passes through
    assert a[0, 6] == 1.0  # 0.8 > 0.5 -> open
    (req,) = server.model.log
    assert req["route"] == "act" and req["shape"] == (1, 224, 224, 3)  # resized on the client
    assert req["unnorm_key"] == "sft" and req["instructions"] == ["open the drawer"]
    a = p.act(_obs(1, "close the drawer"))
    assert a[0, 6] == -1.0  # 0.2 -> closed


def test_axis_angle_convention_converts_rotation(server):
    from vlthink.policies.conventions import sxyz_euler_to_matrix, xyz_euler_to_matrix

    p = _policy(server, action_convention="axis-angle")
    p.reset(_specs(1))
    a = p.act(_obs(1))[0]
    np.testing.assert_allclose(
        xyz_euler_to_matrix(a[3:6]), sxyz_euler_to_matrix(RAW[3:6]), atol=1e-6
    )
    assert not np.allclose(a[3:6], RAW[3:6], atol=1e-3)


def test_k_episodes_send_k_concurrent_requests(server):
    p = _policy(server)
    p.reset(_specs(3))
    t = time.perf_counter()
    a = p.act(_obs(3))
    assert a.shape == (3, 7)
    assert server.model.requests == 3  # the official server has no batch route
    assert server.model.max_in_flight == 3  # ... so they go out together
    assert time.perf_counter() - t < 1.0


def test_batch_endpoint_sends_one_request_per_step(server):
    p = _policy(server, endpoint=None, batch_endpoint=server.url + "/act_batch")
    p.reset(_specs(4))
    for _ in range(3):
        a = p.act(_obs(4))
    assert a.shape == (4, 7) and np.all(a[:, 6] == 1.0)
    assert server.model.requests == 3 and server.model.items == 12
    assert server.model.log[-1]["route"] == "act_batch" and server.model.log[-1]["shape"] == (
        4,
        224,
        224,
        3,
    )


def test_server_error_string_becomes_clear_error(server):
    server.fault = "error"
    p = _policy(server)
    p.reset(_specs(1))
    with pytest.raises(PolicyError, match=r'answered "error".*unnorm_key \'sft\''):
        p.act(_obs(1))


def test_unknown_unnorm_key_is_the_servers_error(server):
    p = _policy(server, unnorm_key="no_such_dataset")
    p.reset(_specs(2))
    with pytest.raises(PolicyError, match="no_such_dataset"):
        p.act(_obs(2))


def test_connection_refused_names_endpoint_and_fix():
    url = f"http://127.0.0.1:{free_port()}/act"
    p = load_policy("openvla-sft", endpoint=url, backoff_s=0.01)
    p.reset(_specs(1))
    with pytest.raises(PolicyError) as info:
        p.act(_obs(1))
    msg = str(info.value)
    assert p.stats["retries"] == 3  # refused while a server restarts: tried again, 3 by default
    assert f"cannot reach OpenVLA server at {url} (connection refused)" in msg
    assert "vla-scripts/deploy.py" in msg and "openvla-sft.toml" in msg and "`endpoint`" in msg


def test_timeout(server):
    server.fault = "hang"
    p = _policy(server, timeout_s=0.5, retries=0)  # a retry would wait again
    p.reset(_specs(1))
    t = time.perf_counter()
    with pytest.raises(PolicyError, match=r"did not answer within 0.5 s \(timeout\)"):
        p.act(_obs(1))
    assert time.perf_counter() - t < 2.5


def test_malformed_reply(server):
    server.fault = "malformed"
    p = _policy(server)
    p.reset(_specs(1))
    with pytest.raises(PolicyError, match="malformed reply"):
        p.act(_obs(1))


def test_http_error_status(server):
    server.fault = "http-500"
    p = _policy(server, retries=2, backoff_s=0.01)
    p.reset(_specs(1))
    with pytest.raises(PolicyError, match="HTTP 500") as info:
        p.act(_obs(1))
    # the server's own error, shown with its body, after the same request was sent 3 times
    assert "the server answered HTTP 500: 'Internal Server Error'" in str(info.value)
    assert "/act route" not in str(info.value) and "gave up after 2 retries" in str(info.value)
    assert server.model.requests == 3 and p.stats["retries"] == 2


@pytest.mark.parametrize("batched", [False, True])
def test_wrong_action_shape(server, batched):
    server.fault = "wrong-shape"
    kw = {"endpoint": None, "batch_endpoint": server.url + "/act_batch"} if batched else {}
    p = _policy(server, **kw)
    p.reset(_specs(2))
    with pytest.raises(PolicyError, match=r"shape \((2, )?6,?\), expected \([12], 7\)"):
        p.act(_obs(2))


def test_client_side_denormalisation_with_bridge_stats(server):
    from vlthink.policies.conventions import BRIDGE_ORIG_ACTION_STATS as STATS

    def normalised(images, instructions, key):
        return np.tile([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0], (len(images), 1))

    with OpenVLAServer(normalised) as srv:
        p = load_policy(
            "openvla-sft", endpoint=srv.url + "/act", denormalize=True, unnorm_key="bridge_orig"
        )
        p.reset(_specs(1))
        a = p.act(_obs(1))[0]
    np.testing.assert_allclose(
        a[:6],
        [
            STATS["q99"][0],
            STATS["q01"][1],
            STATS["q99"][2],
            STATS["q01"][3],
            STATS["q99"][4],
            STATS["q01"][5],
        ],
        rtol=1e-6,
    )
    assert a[6] == 1.0


def test_a_slot_starts_alone_and_idle_slots_send_nothing(server):
    p = _policy(server)
    p.reset(_specs(1))
    p.reset_slots([2], _specs(1))  # slot 2 starts while 0 plays on; OpenVLA keeps no state
    a = p.act([None, None, _obs(1)[0]])
    assert a.shape == (3, 7) and server.model.requests == 1
    assert a[2, 6] == 1.0 and not a[:2].any()  # the live slot's action; idle slots: zeros
    with pytest.raises(PolicyError, match="slot 3, but only 3 episodes were started"):
        p.act([None, None, None, _obs(1)[0]])


@pytest.mark.parametrize("k", [1, 2])
def test_in_flight_through_the_rest_client_gives_the_rows_of_one_at_a_time(k):
    """The REST client declares per_slot_reset and concurrent_act, so --in-flight runs it: the
    harness's stand-in workers take turns, the real client asks the real loopback server from
    several threads, and every row is the one a run with one episode in flight records."""
    from harness_standins import turn_taking, workers

    from vlthink.harness.episodes import plan_episodes
    from vlthink.harness.executor import CpuExecutor, RunOptions

    keys = plan_episodes(["Fake-A-v0", "Fake-B-v0"], 3, [0, 1])

    def run(in_flight):
        rows: list[dict] = []
        with OpenVLAServer(latency_s=0.01) as srv:
            policy = load_policy("openvla-sft", endpoint=srv.url + "/act")
            slots = turn_taking(k, in_flight)[0] if in_flight > 1 else workers(k)
            outcome = CpuExecutor(
                policy, RunOptions(workers=k, in_flight=in_flight), rows.append, slots
            ).run(keys)
            policy.close()
            overlap = srv.model.max_in_flight
        assert outcome.stopped is None and all(r["error"] is None for r in rows)
        stable = {
            (r["env"], r["episode"], r["seed"]): {f: v for f, v in r.items() if f != "seconds"}
            for r in rows
        }
        return stable, overlap

    one, _ = run(1)
    two, overlap = run(2)
    assert len(one) == len(keys) and two == one
    assert overlap >= 2  # two slots' requests were at the server at once
