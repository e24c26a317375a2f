"""openpi websocket client against a real websocket server on 127.0.0.1 (msgpack-numpy)."""

import time

import numpy as np
import pytest
import requests

from vlthink.policies import EpisodeSpec, Observation, PolicyError, load_policy
from vlthink.policies.serving import msgpack_packb, msgpack_unpackb
from vlthink.testing.servers import OpenPIServer, free_port


def chunk_infer(obs):
    h = 5
    a = np.zeros((h, 8), np.float32)  # 8 dims: the adapter reads the first 7
    a[:, 0] = 0.001 * (np.arange(h) + 1)
    a[:, 6] = [1, 1, 0, 0, 1]
    return {"actions": a}


@pytest.fixture
def server():
    with OpenPIServer(
        chunk_infer, metadata={"policy": "pi0-bridge", "horizon": np.int64(5)}, api_key="k3y"
    ) as srv:
        yield srv


def _specs(n):
    return [EpisodeSpec("VLThink-Shape-v0", i, i, "pick up the can") for i in range(n)]


def _obs(n):
    return [
        Observation(np.full((480, 640, 3), 7, np.uint8), "pick up the can", 0) for _ in range(n)
    ]


def test_msgpack_numpy_roundtrip_matches_openpi_layout():
    import msgpack

    x = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "s": np.float32(2.5),
        "t": "x",
        "n": [1, 2],
    }
    data = msgpack_packb(x)
    raw = msgpack.unpackb(data, raw=False)  # the wire format itself
    assert (
        raw["a"][b"__ndarray__"] is True
        and raw["a"][b"dtype"] == "<f4"
        and raw["a"][b"shape"] == [2, 3]
    )
    assert raw["s"][b"__npgeneric__"] is True
    y = msgpack_unpackb(data)
    np.testing.assert_array_equal(y["a"], x["a"])
    assert y["s"] == 2.5 and isinstance(y["s"], np.float32) and y["t"] == "x" and y["n"] == [1, 2]


def test_metadata_healthz_observation_and_chunking(server):
    p = load_policy(
        "openpi", endpoint=server.url, api_key="k3y", replan_steps=3, state_key="observation/state"
    )
    assert p.healthy()
    assert requests.get(server.url.replace("ws", "http") + "/healthz").text == "OK\n"
    p.reset(_specs(2))
    assert p.server_metadata["policy"] == "pi0-bridge" and p.server_metadata["horizon"] == 5
    acts = [p.act(_obs(2)) for _ in range(4)]
    assert server.model.requests == 4  # 2 slots x (steps 1 and 4): 3 actions per chunk
    np.testing.assert_allclose([a[0, 0] for a in acts], [0.001, 0.002, 0.003, 0.001], atol=1e-7)
    assert [a[0, 6] for a in acts] == [1, 1, -1, 1]
    obs = server.observations[0]
    assert (
        obs["observation/image"].shape == (224, 224, 3)
        and obs["observation/image"].dtype == np.uint8
    )
    assert obs["prompt"] == "pick up the can" and obs["observation/state"].shape == (8,)
    assert server.connections == 2  # one connection per batch slot
    p.close()


def test_wrong_api_key_is_refused(server):
    p = load_policy("openpi", endpoint=server.url, api_key="wrong")
    with pytest.raises(PolicyError, match=r"HTTP 401.*api_key"):
        p.reset(_specs(1))
    p = load_policy("openpi", endpoint=server.url)
    with pytest.raises(PolicyError, match="HTTP 401"):
        p.reset(_specs(1))


def test_error_text_frame_becomes_clear_error(server):
    p = load_policy("openpi", endpoint=server.url, api_key="k3y")
    p.reset(_specs(1))
    server.fault = "error"
    with pytest.raises(
        PolicyError, match=r"reported an error: RuntimeError: policy inference failed"
    ):
        p.act(_obs(1))
    server.fault = None  # the client reconnects on the next step
    assert p.act(_obs(1)).shape == (1, 7)
    p.close()


def test_malformed_frame_and_wrong_shape(server):
    p = load_policy("openpi", endpoint=server.url, api_key="k3y")
    p.reset(_specs(1))
    server.fault = "garbage"
    with pytest.raises(PolicyError, match="malformed action frame"):
        p.act(_obs(1))
    server.fault = "wrong-shape"
    with pytest.raises(PolicyError, match=r"shape \(5, 5\), expected \(horizon, >= 7\)"):
        p.act(_obs(1))
    p.close()


def test_timeout(server):
    server.model.hang_s = 2.0
    p = load_policy("openpi", endpoint=server.url, api_key="k3y", timeout_s=0.4, retries=0)
    p.reset(_specs(1))
    server.fault = "hang"
    t = time.perf_counter()
    with pytest.raises(PolicyError, match=r"did not answer within 0.4 s \(timeout\)"):
        p.act(_obs(1))
    assert time.perf_counter() - t < 1.5
    p.close()


def test_connection_refused():
    url = f"ws://127.0.0.1:{free_port()}"
    p = load_policy("openpi", endpoint=url, backoff_s=0.01)
    assert not p.healthy()
    with pytest.raises(
        PolicyError,
        match=rf"cannot reach openpi server at {url} \(connection refused\).*`endpoint`",
    ):
        p.reset(_specs(1))
