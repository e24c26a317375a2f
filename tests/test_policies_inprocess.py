"""In-process adapters with tiny random-weight models built locally (no download).

OpenVLA: a ``trust_remote_code`` checkpoint (see ``tiny_models.py``) loaded through
``AutoProcessor`` / the ``auto_map`` model class, ``predict_action`` with OpenVLA's
de-tokenisation. VLM probe: a tiny LLaVA through ``AutoModelForImageTextToText``, the processor's
chat template and ``generate``. The models answer noise; the tests check the pipeline and scoring.
"""

import numpy as np
import pytest
from tiny_models import build_tiny_llava, build_tiny_openvla

from vlthink.policies import EpisodeSpec, Observation, PolicyError, load_policy
from vlthink.policies.conventions import BRIDGE_ORIG_ACTION_STATS as STATS
from vlthink.policies.vlm_probe import score_absent, score_answer


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {
        "vla": build_tiny_openvla(root / "tinyvla_batched"),
        "vla1": build_tiny_openvla(root / "tinyvla_single", batch_predict=False),
        "llava": build_tiny_llava(root / "llava"),
    }


def _obs():
    rng = np.random.default_rng(1)
    texts = ["Put the carrot on the towel", "open the drawer", "pick up the red can"]
    return [Observation(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), t, 0) for t in texts]


def _specs(n):
    return [
        EpisodeSpec(
            "VLThink-Shape-v0",
            i,
            i,
            "x",
            {"target": "red square", "target_position": "left", "absent": "blue star"},
        )
        for i in range(n)
    ]


def test_openvla_in_process_batched_one_model_call_per_step(models):
    p = load_policy("openvla-sft", endpoint=None, checkpoint=str(models["vla"]))
    assert (
        p._prompt("Put the Carrot on the towel")
        == "In: What action should the robot take to put the carrot on the towel?\nOut: "
    )  # the paper's prompt: lower-cased, a space after "Out:"
    p.reset(_specs(3))
    obs = _obs()
    a = p.act(obs)
    assert a.shape == (3, 7) and a.dtype == np.float32
    assert p.stats["model_calls"] == 1 and p.batched is True
    # de-tokenised actions lie in the bridge_orig [q01, q99] box; the gripper is binarised
    assert np.all(a[:, :6] >= np.array(STATS["q01"][:6]) - 1e-6) and np.all(
        a[:, :6] <= np.array(STATS["q99"][:6]) + 1e-6
    )
    assert set(np.unique(a[:, 6])) <= {-1.0, 1.0}
    assert np.unique(a[:, :6].round(6)).size > 6  # not a constant
    # the batched call (left-padded prompts of different lengths) equals one call per episode
    singles = np.concatenate([p.act([o]) for o in obs])
    np.testing.assert_allclose(a, singles, atol=1e-6)
    assert p.stats["model_calls"] == 4
    np.testing.assert_array_equal(p.act(obs), a)  # greedy: deterministic


def test_openvla_in_process_falls_back_when_predict_action_is_single_sample(models):
    p = load_policy("openvla-sft", endpoint=None, checkpoint=str(models["vla1"]))
    p.reset(_specs(3))
    a = p.act(_obs())
    assert a.shape == (3, 7) and p.batched is False
    assert p.stats["model_calls"] == 1 + 3  # one batched try, then one call per episode
    p.act(_obs())
    assert p.stats["model_calls"] == 4 + 3  # no second batched try
    q = load_policy(
        "openvla-sft", endpoint=None, checkpoint=str(models["vla1"]), batch_inference="on"
    )
    q.reset(_specs(2))
    with pytest.raises(PolicyError, match=r"batch_inference = \"off\""):
        q.act(_obs()[:2])


def test_openvla_bad_checkpoint_is_a_clear_error(tmp_path):
    p = load_policy("openvla-sft", endpoint=None, checkpoint=str(tmp_path / "missing"))
    with pytest.raises(
        PolicyError,
        match=r"cannot load OpenVLA checkpoint .*fix `checkpoint` in .*openvla-sft.toml",
    ):
        p.reset(_specs(1))


def test_vlm_probe_in_process_one_generate_call_and_scoring(models):
    p = load_policy(
        "vlm-probe",
        backend="transformers",
        endpoint=None,
        checkpoint=str(models["llava"]),
        max_tokens=6,
    )
    specs = _specs(3)
    p.reset(specs)
    res = p.probe(specs, _obs())
    assert p.stats["requests"] == 1  # 3 target + 3 absent questions in one generate call
    assert len(res) == 3
    for r in res:
        assert isinstance(r["answer"], str) and r["answer"] and isinstance(r["absent_answer"], str)
        assert r["success"] == score_answer(r["answer"], "red square", "left")
        assert r["absent_correct"] == score_absent(r["absent_answer"], "blue star")
    assert p.probe(specs, _obs())[0]["answer"] == res[0]["answer"]  # greedy: deterministic
