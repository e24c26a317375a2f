"""Flaky model servers, for real: the loopback servers behind a fault-injecting proxy on
127.0.0.1 (vlthink.testing.faults) that makes every Nth call slow, reset mid-response, answer
HTTP 500 or refuse connections for a while. The adapters' own clients talk to it; nothing is
mocked. Each test runs in well under a few seconds."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from vlthink.policies import EpisodeSpec, Observation, PolicyError, load_policy
from vlthink.policies.registry import is_secret

servers = pytest.importorskip("vlthink.testing.servers")
from vlthink.testing.faults import Fault, FaultProxy  # noqa: E402

TIMEOUT_S = 0.5
SLOW_S = 1.0  # past the client's timeout
REFUSE_S = 0.3  # shorter than the retries' backoff in total (0.1 + 0.2 + 0.4 s)


def _fault(*kinds: str, every: int = 2) -> Fault:
    return Fault(kinds, every=every, slow_s=SLOW_S, refuse_s=REFUSE_S)


def _specs(n: int) -> list[EpisodeSpec]:
    return [EpisodeSpec("VLThink-Shape-v0", i, i, "put the can in the bowl") for i in range(n)]


def _frames(n: int, step: int = 0) -> list[Observation]:
    rng = np.random.default_rng(step)
    return [
        Observation(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), "put the can", step)
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def openvla():
    with servers.OpenVLAServer() as srv:
        yield srv


def _openvla(url: str, **kw):
    kw.setdefault("timeout_s", TIMEOUT_S)
    kw.setdefault("backoff_s", 0.1)
    kw.setdefault("unnorm_key", "bridge_orig")
    return load_policy("openvla-sft", endpoint=url + "/act", **kw)


def _actions(policy, steps: int, batch: int = 1) -> np.ndarray:
    policy.reset(_specs(batch))
    try:
        return np.stack([policy.act(_frames(batch, t)) for t in range(steps)])
    finally:
        policy.close()


@pytest.mark.parametrize("kind", ["slow", "reset", "http-500", "refuse"])
def test_an_openvla_call_that_fails_transiently_is_sent_again_and_gets_the_clean_answer(
    openvla, kind, caplog
):
    clean = _actions(_openvla(openvla.url), steps=4)
    with FaultProxy(openvla.port, _fault(kind)) as proxy, caplog.at_level(logging.WARNING):
        policy = _openvla(proxy.url())
        flaky = _actions(policy, steps=4)
    # every 2nd call misbehaved: steps 2, 3 and 4 each failed once and were sent again ...
    assert proxy.injected[kind] == 3 and proxy.calls == 7
    np.testing.assert_array_equal(flaky, clean)  # ... and got the clean answers
    retries = policy.stats["retries"]  # (refused connections never reach the proxy: >= 3)
    assert retries == 3 if kind != "refuse" else retries >= 3
    retry_lines = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retry_lines) == retries  # one log line per retry


NO_RETRY_MESSAGES = {
    "slow": rf"did not answer within {TIMEOUT_S:g} s \(timeout\)",
    "reset": r"connection reset by the server",  # half an answer, then an RST
    "http-500": r"the server answered HTTP 500: 'Internal Server Error \(injected fault\)'",
    "refuse": r"connection reset by the server",  # no answer, and the listener closes
}


@pytest.mark.parametrize("kind", list(NO_RETRY_MESSAGES))
def test_with_retries_0_a_transient_failure_stops_with_a_message_naming_what_happened(
    openvla, kind
):
    with FaultProxy(openvla.port, _fault(kind, every=1)) as proxy:
        policy = _openvla(proxy.url(), retries=0)
        policy.reset(_specs(1))
        with pytest.raises(PolicyError, match=NO_RETRY_MESSAGES[kind]) as info:
            policy.act(_frames(1))
        assert "/act route" not in str(info.value) and "gave up" not in str(info.value)
        assert policy.stats["retries"] == 0 and proxy.calls == 1
        if kind == "refuse":  # while the server is away: refused, and the fix is to start it
            with pytest.raises(PolicyError, match=r"\(connection refused\): start it with"):
                policy.act(_frames(1))
        policy.close()


def test_a_request_error_is_not_retried(openvla):
    policy = _openvla(openvla.url, unnorm_key="no_such_dataset", backoff_s=5.0)
    policy.reset(_specs(1))
    with pytest.raises(PolicyError, match='answered "error"'):
        policy.act(_frames(1))
    assert policy.stats["retries"] == 0  # the same request would get the same answer


def test_openpi_calls_survive_slow_reset_and_refused_connections():
    with servers.OpenPIServer() as srv:
        clean = _actions(load_policy("openpi", endpoint=srv.url, replan_steps=1), steps=9, batch=2)
        fault = _fault("slow", "reset", "refuse", every=3)
        with FaultProxy(srv.port, fault) as proxy:
            policy = load_policy(
                "openpi",
                endpoint=proxy.url("ws"),
                replan_steps=1,
                timeout_s=TIMEOUT_S,
                backoff_s=0.1,
            )
            flaky = _actions(policy, steps=9, batch=2)
    assert all(proxy.injected[k] >= 1 for k in ("slow", "reset", "refuse")), proxy.injected
    np.testing.assert_array_equal(flaky, clean)
    assert policy.stats["retries"] >= 3


def _probe_answers(url: str, **kw) -> list[dict]:
    policy = load_policy("vlm-probe", endpoint=url, model="loopback-vlm", **kw)
    specs = [
        s.with_task(
            {"instruction": "x", "target": "a can", "target_position": "left", "absent": "a cup"}
        )
        for s in _specs(3)
    ]
    policy.reset(specs)
    try:
        return [policy.probe(specs, _frames(3, t)) for t in range(3)], policy.stats
    finally:
        policy.close()


def test_the_chat_probe_survives_http_500_and_resets():
    with servers.ChatServer() as srv:
        clean, _ = _probe_answers(srv.url)
        with FaultProxy(srv.port, _fault("http-500", "reset", every=3)) as proxy:
            flaky, stats = _probe_answers(proxy.url() + "/v1", timeout_s=TIMEOUT_S, backoff_s=0.05)
    assert proxy.injected["http-500"] >= 1 and proxy.injected["reset"] >= 1
    assert flaky == clean and stats["retries"] >= 2


def test_a_secret_is_named_by_its_key_not_by_a_word_inside_another():
    secret = ["api_key", "hf_token", "HF_TOKEN", "apiKey", "key", "password", "client_secret"]
    plain = ["unnorm_key", "image_key", "prompt_key", "max_tokens", "api_key_env", "tokenizer"]
    assert all(is_secret(k) for k in secret) and not any(is_secret(k) for k in plain)
