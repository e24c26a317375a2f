"""Results that cannot mislead, against real components: a missing robot asset, policy servers
that fail or are down (real HTTP servers on loopback), a degenerate VLM, secrets; and the
user-facing ways in: an import-string policy and the Python entry point.

Each run is a real ``vlthink-eval`` over real SAPIEN envs on the CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vlthink.harness import cli
from vlthink.harness import results as store
from vlthink.harness.results import HarnessError
from vlthink.policies.base import PolicyBase

REPO = Path(__file__).resolve().parents[1]
ENV = "VLThink-Traffic-v0"
servers = pytest.importorskip("vlthink.testing.servers")


def _stable(rows):
    return {store.row_key(r): store.stable_row(r) for r in rows}


def _rows(out: Path) -> list[dict]:
    return store.read_rows(out / store.ROWS_FILE)[0]


def _eval(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "vlthink.harness.cli", *args, "--no-progress"]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.timeout(600)
def test_quick_start_without_the_robot_asset_stops_and_records_nothing(tmp_path):
    out = tmp_path / "demo"
    args = [
        "--policy",
        "oracle",
        "--suite",
        ENV,
        "--episodes",
        "8",
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    res = _eval(*args, env={"MS_ASSET_DIR": str(tmp_path / "empty")})
    assert res.returncode == cli.EXIT_INCOMPLETE, res.stderr[-2000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("vlthink-eval:")]
    assert len(lines) == 1 and lines[0].startswith(
        f"vlthink-eval: stopped: cannot build {ENV} (env_build)"
    )
    assert "MS_ASSET_DIR" in lines[0] and "Fix" in lines[0] and "Traceback" not in res.stderr
    assert _rows(out) == []  # nothing was scored
    res = _eval(*args)  # the asset back (conftest points MS_ASSET_DIR at the offline copy)
    assert res.returncode == cli.EXIT_OK, res.stderr[-2000:]
    rows = _rows(out)
    assert len(rows) == 8 and sum(r["success_once"] for r in rows) == 8


def _openvla_file(tmp_path: Path, url: str, name: str = "rest") -> Path:
    pol = tmp_path / f"{name}.toml"
    pol.write_text(f'adapter = "openvla"\nname = "rest"\nendpoint = "{url}/act"\ntimeout_s = 5.0\n')
    return pol


class FailOnCall:
    """The default deterministic OpenVLA stand-in, failing from call ``n`` on."""

    def __init__(self, server_ref: list, n: int):
        self.server_ref, self.n, self.calls = server_ref, n, 0

    def __call__(self, images, instructions, unnorm_key):
        self.calls += 1
        if self.calls == self.n - 1:  # the server checks its fault switch before predicting
            self.server_ref[0].fault = "error"
        return servers.default_openvla_predict(images, instructions, unnorm_key)


@pytest.mark.timeout(900)
def test_policy_failing_on_the_last_call_or_down_leaves_episodes_for_the_rerun(tmp_path):
    steps = 80
    with servers.OpenVLAServer() as srv:  # the uninterrupted reference
        ref = tmp_path / "ref"
        assert (
            cli.main(
                [
                    "--policy",
                    str(_openvla_file(tmp_path, srv.url)),
                    "--suite",
                    ENV,
                    "--episodes",
                    "2",
                    "--out",
                    str(ref),
                    "--no-progress",
                ]
            )
            == cli.EXIT_OK
        )
    reference = _stable(_rows(ref))
    ref_srv: list = []
    predict = FailOnCall(ref_srv, n=2 * steps)  # the very last call of a 2-episode run
    with servers.OpenVLAServer(predict=predict) as srv:
        ref_srv.append(srv)
        out = tmp_path / "last"
        pol = _openvla_file(tmp_path, srv.url)
        args = [
            "--policy",
            str(pol),
            "--suite",
            ENV,
            "--episodes",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
        assert cli.main(args) == cli.EXIT_INCOMPLETE
        rows = _rows(out)
        assert len(rows) == 1 and rows[0]["error"] is None  # episode 1 kept, episode 2 left
        srv.fault = None  # the server is fixed: the same command finishes the run
        assert cli.main(args) == cli.EXIT_OK
    assert _stable(_rows(out)) == reference
    # A server that is down: nothing is recorded, the run says why.
    down = tmp_path / "down"
    pol = _openvla_file(tmp_path, f"http://127.0.0.1:{servers.free_port()}", "down")
    res = _eval(
        "--policy",
        str(pol),
        "--suite",
        ENV,
        "--episodes",
        "4",
        "--workers",
        "2",
        "--out",
        str(down),
    )
    assert res.returncode == cli.EXIT_INCOMPLETE
    assert "incomplete: 4 of 4 episodes not run" in res.stderr and "rerun" in res.stderr
    assert _rows(down) == []


@pytest.mark.timeout(600)
def test_always_yes_probe_shows_its_absent_answers_and_is_flagged(tmp_path, capsys):
    with servers.ChatServer(api_key="sk-vlthink-test-secret-123") as srv:
        pol = tmp_path / "probe.toml"
        pol.write_text(
            f'adapter = "vlm-probe"\nbackend = "openai"\nendpoint = "{srv.url}"\n'
            'api_key_env = "VLTHINK_TEST_KEY"\n'
        )
        out = tmp_path / "probe"
        args = [
            "--policy",
            str(pol),
            "--suite",
            ENV,
            "--episodes",
            "6",
            "--workers",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
        os.environ["VLTHINK_TEST_KEY"] = "sk-vlthink-test-secret-123"
        try:
            assert cli.main(args) == cli.EXIT_OK
        finally:
            del os.environ["VLTHINK_TEST_KEY"]
        printed = capsys.readouterr()
        # without the variable: one line naming it, never the key
        no_key = [*args[:-2], str(tmp_path / "nokey"), "--no-progress"]
        assert cli.main(no_key) == cli.EXIT_USER  # a setting problem: nothing runs
        missing = capsys.readouterr().err
    assert "VLTHINK_TEST_KEY" in missing and "is not set" in missing
    text = printed.out
    assert "(probe)" in text and "absent no" in text and "0.00 !" in text
    assert "says yes to absent concepts" in text
    assert "at end" not in text and "wrong board" not in text
    summary = (out / store.SUMMARY_FILE).read_text()
    assert "absent_correct" in summary and "said_yes" in summary
    for f in (out / store.ROWS_FILE, out / store.MANIFEST_FILE, out / store.SUMMARY_FILE):
        assert "sk-vlthink-test-secret-123" not in f.read_text()
    assert "sk-vlthink-test-secret-123" not in printed.out + printed.err + missing


class ReplayOracle(PolicyBase):
    """A user's own policy: the scripted oracle, wrapped as a researcher would wrap a model."""

    name = "my-oracle"
    uses_images = False

    def __init__(self, max_step: float = 0.035):
        from vlthink.policies.oracle import OraclePolicy

        self.inner = OraclePolicy(max_step=max_step)

    def reset(self, episodes):
        self.inner.reset(episodes)

    def act(self, observations):
        return np.asarray(self.inner.act(observations), np.float32)


@pytest.mark.timeout(600)
def test_a_policy_of_my_own_by_import_string_and_by_python_give_the_same_rows(tmp_path):
    import vlthink

    pol = tmp_path / "mine.toml"
    pol.write_text(
        'adapter = "test_harness_failures:ReplayOracle"\nname = "my-oracle"\nmax_step = 0.035\n'
    )
    by_file = tmp_path / "by-file"
    assert (
        cli.main(
            [
                "--policy",
                str(pol),
                "--suite",
                ENV,
                "--episodes",
                "2",
                "--workers",
                "2",
                "--out",
                str(by_file),
                "--no-progress",
            ]
        )
        == cli.EXIT_OK
    )
    result = vlthink.evaluate(
        ReplayOracle(), suite=ENV, episodes=2, workers=2, out=tmp_path / "by-python", progress=False
    )
    assert result.exit_code == 0 and len(result.rows) == 2
    assert _stable(result.rows) == _stable(_rows(by_file))
    assert all(r["policy"] == "my-oracle" and r["success_once"] for r in result.rows)
    env_row = result.table[result.table["level"] == "env"].iloc[0]
    assert env_row["success"] == 1.0
    # a missing module or attribute is one clear line
    for adapter, needle in (
        ("no_such_module:X", "cannot import module 'no_such_module'"),
        ("test_harness_failures:Nope", "has no attribute 'Nope'"),
    ):
        pol.write_text(f'adapter = "{adapter}"\n')
        with pytest.raises(HarnessError, match=needle):
            vlthink.evaluate(str(pol), suite=ENV, episodes=1, out=tmp_path / "x")
