"""End to end: ``vlthink-eval --policy openvla-sft`` against a local OpenVLA REST server.

Two episodes of 80 control steps on two workers: about 45 s on a quiet 2-core CPU (RGB render
only), so it runs by default.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vlthink.paths import policies_dir
from vlthink.testing.servers import OpenVLAServer


@pytest.mark.timeout(600)
def test_vlthink_eval_openvla_sft_against_local_rest_server(tmp_path):
    with OpenVLAServer() as srv:
        # the shipped file, pointed at the loopback server (same name: openvla-sft)
        text = (policies_dir() / "openvla-sft.toml").read_text()
        assert 'endpoint = "http://127.0.0.1:8000/act"' in text
        policy = tmp_path / "openvla-sft.toml"
        policy.write_text(text.replace("http://127.0.0.1:8000/act", srv.url + "/act"))
        out = tmp_path / "run"
        exe = shutil.which("vlthink-eval")
        cmd = ([exe] if exe else [sys.executable, "-m", "vlthink.harness.cli"]) + [
            "--policy",
            str(policy),
            "--suite",
            "VLThink-Shape-v0",
            "--episodes",
            "2",
            "--workers",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")])
        )
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=560)
        assert r.returncode == 0, r.stderr[-3000:]
        steps_requests = srv.model.requests
        in_flight = srv.model.max_in_flight
    rows = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert [row["episode"] for row in rows] == [0, 1]
    assert all(row["policy"] == "openvla-sft" and row["env"] == "VLThink-Shape-v0" for row in rows)
    assert all(row["error"] is None and row["steps"] > 0 for row in rows)
    assert steps_requests == sum(row["steps"] for row in rows)  # one request per episode-step
    assert in_flight == 2  # the two workers' requests go out together
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["policy"]["config"]["adapter"] == "openvla"
    assert manifest["policy"]["config"]["action_convention"] == "euler"
    assert (out / "summary.csv").exists()
