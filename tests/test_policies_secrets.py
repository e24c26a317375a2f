"""A secret in a policy file never reaches a run's files: any setting named as a secret
(``hf_token``, ``api_key``, ``password`` ...) is recorded as ``***``, nested tables included,
while settings that merely contain a word (``unnorm_key``, ``max_tokens``) keep their values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vlthink.harness import cli
from vlthink.policies import load_policy
from vlthink.policies.base import PolicyBase

TOKEN = "hf_vlthinkTestToken0123456789"


class TokenPolicy(PolicyBase):
    """A user's policy that needs a hub token (to download its weights, say); holds still."""

    name = "token-policy"
    uses_images = False
    runs_in_worker = True

    def __init__(self, hf_token: str = "", revision: str = "main", extra: dict | None = None):
        self.hf_token, self.revision, self.extra = hf_token, revision, extra or {}

    def act(self, observations):
        out = np.zeros((len(observations), 7), np.float32)
        out[:, 6] = 1.0
        return out


def _policy_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'adapter = "test_policies_secrets:TokenPolicy"\n'
        f'hf_token = "{TOKEN}"\nrevision = "v2"\n'
        f'[extra]\nPassword = "{TOKEN}"\nunnorm_key = "bridge_orig"\n'
    )
    return path


def test_a_custom_policys_hf_token_is_recorded_as_set_but_not_its_value(tmp_path):
    policy = load_policy(str(_policy_file(tmp_path)))
    assert policy.hf_token == TOKEN  # the policy itself gets its token
    assert policy.config["hf_token"] == "***" and policy.config["revision"] == "v2"
    assert policy.config["extra"] == {"Password": "***", "unnorm_key": "bridge_orig"}
    assert TOKEN not in json.dumps(policy.config)


def test_a_built_in_adapters_key_named_settings_keep_their_values():
    config = load_policy("openvla-sft").config
    assert config["unnorm_key"] == "sft"  # a name of a statistics entry, not a secret
    config = load_policy("vlm-probe", api_key="sk-secret", max_tokens=16).config
    assert config["api_key"] == "***" and config["max_tokens"] == 16
    assert "retries" not in config and "backoff_s" not in config  # how to reach, not what


@pytest.mark.timeout(600)
def test_a_run_of_a_policy_holding_an_hf_token_writes_it_nowhere(tmp_path):
    out = tmp_path / "run"
    argv = ["--policy", str(_policy_file(tmp_path)), "--suite", "VLThink-Traffic-v0"]
    argv += ["--episodes", "1", "--out", str(out), "--no-progress"]
    assert cli.main(argv) == cli.EXIT_OK
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["policy"]["config"]["hf_token"] == "***"
    for path in out.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
