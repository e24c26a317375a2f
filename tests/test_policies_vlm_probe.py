"""VLM probe: scoring, and the OpenAI-compatible client against a real HTTP server on 127.0.0.1."""

import time

import numpy as np
import pytest

from vlthink.policies import EpisodeSpec, Observation, PolicyError, load_policy
from vlthink.policies.vlm_probe import PROBE_PROMPT, parse_answer, score_absent, score_answer
from vlthink.testing.servers import ChatServer, free_port


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Yes, on the left.", True),
        ("yes. LEFT", True),
        ("Yes - it's on the left side of the table.", True),
        ("Yes, right.", False),  # wrong position
        ("Yes.", False),  # no position
        ("Yes, left or right.", False),  # hedging over positions
        ("No, I do not see it on the left.", False),
        ("Yes, leftmost.", False),  # whole words only
        (
            "Yes, the no entry sign is on the left.",
            True,
        ),  # the concept's own "no" is not the verdict
        ("The no entry sign: yes, left.", True),
        ("", False),
    ],
)
def test_score_answer(answer, ok):
    assert score_answer(answer, "no entry sign", "left") is ok


def test_score_absent_and_centre_spelling():
    assert score_absent("No.", "cat") and score_absent("no, there is none", "cat")
    assert not score_absent("Yes, center.", "cat") and not score_absent("I am not sure", "cat")
    assert not score_absent("The notebook is absent", "cat")  # 'no' must be a whole word
    assert score_answer("Yes, in the centre", "cat", "center")
    assert parse_answer("Yes, center and left") == ("yes", {"center", "left"})


def scene_vlm(question, image):
    """A 'VLM' that knows the scene: the target is a red square on the image's right third."""
    if "red square" in question:
        w = image.shape[1]
        col = int(np.argmax(image[..., 0].mean(0)))
        return (
            "Yes, it is on the "
            + ("left" if col < w / 3 else "center" if col < 2 * w / 3 else "right")
            + "."
        )
    return "No."


@pytest.fixture(scope="module")
def server():
    with ChatServer(scene_vlm, api_key="sk-test") as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server):
    server.fault = None
    server.model.reset_counters()
    server.answer = scene_vlm
    yield


def _episodes(n, position="right"):
    return [
        EpisodeSpec(
            "VLThink-Shape-v0",
            i,
            i,
            "put the carrot on the red square",
            {"target": "red square", "target_position": position, "absent": "blue star"},
        )
        for i in range(n)
    ]


def _frames(n):
    img = np.zeros((480, 640, 3), np.uint8)
    img[200:260, 500:560, 0] = 255  # a red square on the right
    return [Observation(img, "put the carrot on the red square", 0) for _ in range(n)]


def _probe(server, **kw):
    return load_policy("vlm-probe", endpoint=server.url, api_key="sk-test", **kw)


def test_probe_asks_the_protocol_question_and_scores(server):
    p = _probe(server)
    eps = _episodes(3)
    p.reset(eps)
    res = p.probe(eps, _frames(3))
    assert [r["success"] for r in res] == [True] * 3
    assert [r["absent_correct"] for r in res] == [True] * 3
    assert res[0]["answer"] == "Yes, it is on the right." and res[0]["absent_answer"] == "No."
    questions = sorted(r["question"] for r in server.model.log)
    assert questions[0] == PROBE_PROMPT.format(target="blue star")
    assert questions[-1] == (
        "Do you see red square? Answer 'yes' or 'no'. If 'yes', specify the "
        "position: 'left', 'center', or 'right'."
    )
    assert len(server.model.log) == 6 and server.model.max_in_flight >= 2  # sent concurrently
    first = server.model.log[0]
    assert first["temperature"] == 0.0 and first["model"] == "loopback-vlm"  # from GET /models
    assert first["image_shapes"] == [(480, 640, 3)]  # the PNG data URL decodes to the frame
    # wrong position in the task -> not a success
    eps = _episodes(1, "left")
    assert p.probe(eps, _frames(1))[0]["success"] is False


def test_always_yes_model_does_not_look_good(server):
    server.answer = lambda q, img: "Yes, it is on the right."
    p = _probe(server)
    eps = _episodes(2)
    p.reset(eps)
    res = p.probe(eps, _frames(2))
    assert all(r["success"] for r in res) and not any(r["absent_correct"] for r in res)


def test_ask_absent_off_and_missing_task_fields(server):
    p = _probe(server, ask_absent=False, model="named-model", image_size=[240, 320])
    eps = _episodes(1)
    p.reset(eps)
    (r,) = p.probe(eps, _frames(1))
    assert r["absent_correct"] is None and len(server.model.log) == 1
    assert server.model.log[0]["model"] == "named-model" and server.model.log[0][
        "image_shapes"
    ] == [(240, 320, 3)]
    bad = [EpisodeSpec("VLThink-Shape-v0", 0, 0, "x", {"target_position": "left"})]
    with pytest.raises(PolicyError, match=r"task\['target'\]"):
        p.probe(bad, _frames(1))


def test_error_paths(server):
    eps = _episodes(1)
    p = _probe(server, backoff_s=0.01)
    p.reset(eps)
    server.fault = "http-500"
    with pytest.raises(PolicyError, match=r"HTTP 500: 'The server had an error"):
        p.probe(eps, _frames(1))
    assert p.stats["retries"] == 6  # the server's own error: both questions asked 3 more times
    server.fault = "malformed"
    with pytest.raises(PolicyError, match=r"malformed reply \(no choices\[0\].message.content\)"):
        p.probe(eps, _frames(1))
    server.fault = "not-json"
    with pytest.raises(PolicyError, match=r"malformed reply \(not JSON\)"):
        p.probe(eps, _frames(1))
    server.fault = None
    q = load_policy("vlm-probe", endpoint=server.url, api_key="wrong", model="m")
    q.reset(eps)
    with pytest.raises(PolicyError, match=r"HTTP 401.*api_key"):
        q.probe(eps, _frames(1))


def test_timeout(server):
    server.model.hang_s = 2.0
    server.fault = "hang"
    p = _probe(server, timeout_s=0.4, model="m", retries=0)  # a retry would wait again
    eps = _episodes(1)
    p.reset(eps)
    t = time.perf_counter()
    with pytest.raises(PolicyError, match=r"did not answer within 0.4 s \(timeout\)"):
        p.probe(eps, _frames(1))
    assert time.perf_counter() - t < 1.5


def test_connection_refused():
    url = f"http://127.0.0.1:{free_port()}/v1"
    p = load_policy("vlm-probe", endpoint=url, backoff_s=0.01)
    with pytest.raises(
        PolicyError,
        match=rf"cannot reach VLM server at {url}/models \(connection refused\).*`endpoint`",
    ):
        p.reset(_episodes(1))
