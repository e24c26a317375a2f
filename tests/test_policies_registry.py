"""Policy files: every shipped file loads; a bad file fails with one error naming the file and key."""

import numpy as np
import pytest

from vlthink.policies import (
    EpisodeSpec,
    Observation,
    PolicyConfigError,
    available_policies,
    load_policy,
)
from vlthink.policies.base import Policy

SHIPPED = ["openvla-sft", "openvla-align", "openpi", "vlm-probe", "oracle", "random"]


def test_every_named_policy_file_exists_and_loads_without_network():
    assert set(SHIPPED) <= set(available_policies())
    for name in SHIPPED:
        p = load_policy(name)  # must not contact a server or load weights
        assert p.name == name
        assert isinstance(p, Policy)
        assert p.config["adapter"] and p.config["name"] == name
        assert getattr(p, "kind", None) in ("action", "probe")
    assert load_policy("vlm-probe").kind == "probe"
    assert (
        load_policy("openvla-align").config["endpoint"]
        != load_policy("openvla-sft").config["endpoint"]
    )


def _write(tmp_path, text, name="mine.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_user_file_by_path_and_overrides(tmp_path):
    path = _write(
        tmp_path,
        'adapter = "openvla"\nendpoint = "http://127.0.0.1:9/act"\n'
        'action_convention = "axis-angle"\n',
    )
    p = load_policy(path)
    assert p.name == "mine"
    assert p.config["action_convention"] == "axis-angle"
    assert p.config["unnorm_key"] == "bridge_orig"  # default
    p = load_policy(path, unnorm_key="fractal20220817_data", timeout_s=5)
    assert p.config["unnorm_key"] == "fractal20220817_data" and p.config["timeout_s"] == 5.0


@pytest.mark.parametrize(
    "text, key",
    [
        ('endpoint = "http://x/act"\n', "adapter"),  # no adapter
        ('adapter = "openvlaa"\nendpoint = "http://x/act"\n', "adapter"),  # unknown adapter
        ('adapter = "openvla"\nendpiont = "http://x/act"\n', "endpiont"),  # unknown key
        ('adapter = "openvla"\nendpoint = "http://x/act"\nunnorm_key = 3\n', "unnorm_key"),
        ('adapter = "openvla"\nendpoint = "http://x/act"\nimage_size = [224]\n', "image_size"),
        (
            'adapter = "openvla"\nendpoint = "http://x/act"\naction_convention = "quat"\n',
            "action_convention",
        ),
        ('adapter = "openvla"\n', "endpoint"),  # neither endpoint nor checkpoint
        ('adapter = "openvla"\nendpoint = "127.0.0.1:8000"\n', "endpoint"),  # not a URL
        ('adapter = "openvla"\nendpoint = "http://x/act"\ntemperature = 0.7\n', "temperature"),
        (
            'adapter = "openvla"\nendpoint = "http://x/act"\nprompt_template = "go"\n',
            "prompt_template",
        ),
        ('adapter = "openpi"\n', "endpoint"),  # missing required key
        ('adapter = "openpi"\nendpoint = "ws://x:1"\nreplan_steps = "4"\n', "replan_steps"),
        ('adapter = "vlm-probe"\nbackend = "openai"\n', "endpoint"),
        ('adapter = "vlm-probe"\nbackend = "transformers"\n', "checkpoint"),
        ('adapter = "random"\npos_bound = true\n', "pos_bound"),
        ('adapter = "oracle"\ntarget = "instructed"\nspeed = 2\n', "speed"),
    ],
)
def test_bad_setting_names_file_and_key(tmp_path, text, key):
    path = _write(tmp_path, text)
    with pytest.raises(PolicyConfigError) as info:
        load_policy(path)
    msg = str(info.value)
    assert path in msg and repr(key) in msg, msg
    assert "\n" not in msg


def test_unknown_key_lists_valid_keys_and_suggests(tmp_path):
    path = _write(tmp_path, 'adapter = "openvla"\nendpoint = "http://x/act"\nunorm_key = "a"\n')
    with pytest.raises(PolicyConfigError, match=r"did you mean 'unnorm_key'.*valid keys: endpoint"):
        load_policy(path)


def test_unknown_name_and_missing_path():
    with pytest.raises(PolicyConfigError, match=r"did you mean 'openvla-sft'.*available: .*random"):
        load_policy("openvla-sfd")
    with pytest.raises(PolicyConfigError, match="does not exist"):
        load_policy("/nonexistent/policy.toml")
    with pytest.raises(ValueError):  # PolicyConfigError is a ValueError
        load_policy("nope")


def test_invalid_toml_is_a_config_error(tmp_path):
    with pytest.raises(PolicyConfigError, match="not valid TOML"):
        load_policy(_write(tmp_path, 'adapter = "random\n'))


def test_api_key_is_redacted_in_config(tmp_path):
    path = _write(
        tmp_path, 'adapter = "openpi"\nendpoint = "ws://127.0.0.1:1"\napi_key = "s3cret"\n'
    )
    p = load_policy(path)
    assert p.config["api_key"] == "***" and "s3cret" not in repr(p.config)


def test_random_policy_is_bounded_and_reproducible_per_episode():
    p = load_policy("random")
    specs = [EpisodeSpec("VLThink-Shape-v0", i, 1000 + i) for i in range(3)]
    obs = [Observation(np.zeros((480, 640, 3), np.uint8), "x", 0)] * 3

    def run(specs, n=5):
        p.reset(specs)
        return np.stack([p.act(obs[: len(specs)]) for _ in range(n)], 1)

    a = run(specs)
    assert a.shape == (3, 5, 7) and a.dtype == np.float32
    assert np.all(np.abs(a[..., :3]) <= 0.02) and np.all(np.abs(a[..., 3:6]) <= 0.1)
    assert np.all(np.abs(a[..., 6]) <= 1.0)
    assert a[..., :3].std() > 0.005  # actually random
    # an episode's actions depend on its own seed only, not on the other slots
    np.testing.assert_array_equal(run([specs[1]])[0], a[1])
    assert not np.allclose(a[0], a[1])
    p = load_policy("random", seed=1)  # the file's seed changes every episode's stream
    assert not np.allclose(run(specs)[0], a[0])


def test_oracle_file_builds_the_oracle():
    p = load_policy("oracle")
    assert type(p).__name__ == "OraclePolicy" and p.kind == "action" and p.name == "oracle"
