"""A whole `vlthink-eval` run against a flaky model server: the real OpenVLA loopback server
behind the fault-injecting proxy (every 5th call slow, reset mid-response, HTTP 500 or refused
for a moment, in turns), 2 workers, real SAPIEN episodes on the CPU.

Cost: two runs of 2 episodes of 80 steps (a clean one, a flaky one) and one with retries = 0
that stops at the first fault: 2 to 5 minutes on a shared 2-core machine, so it is marked slow
(`pytest -m slow tests/test_policies_flaky_runs.py`); tests/test_policies_faults.py covers the
same faults call by call in seconds.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vlthink.harness import cli
from vlthink.harness import results as store

servers = pytest.importorskip("vlthink.testing.servers")
from vlthink.testing.faults import FAULT_KINDS, Fault, FaultProxy  # noqa: E402

ENV = "VLThink-Traffic-v0"


def _policy_file(tmp_path: Path, url: str, name: str, **settings) -> Path:
    """The OpenVLA REST adapter at ``url``; every file names the same policy ("rest")."""
    lines = ['adapter = "openvla"', 'name = "rest"', f'endpoint = "{url}/act"', "timeout_s = 1.0"]
    lines += [f"{k} = {v!r}" for k, v in settings.items()]
    path = tmp_path / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(policy: Path, out: Path) -> int:
    return cli.main(
        [
            "--policy",
            str(policy),
            "--suite",
            ENV,
            "--episodes",
            "2",
            "--workers",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
    )


def _rows(out: Path) -> dict:
    rows = store.read_rows(out / store.ROWS_FILE)[0]
    return {store.row_key(r): store.stable_row(r) for r in rows}  # without `seconds`


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_run_against_a_server_failing_every_5th_call_completes_with_the_clean_rows(
    tmp_path, caplog
):
    with servers.OpenVLAServer() as srv:
        assert _run(_policy_file(tmp_path, srv.url, "clean"), tmp_path / "clean") == cli.EXIT_OK
        clean = _rows(tmp_path / "clean")
        fault = Fault(FAULT_KINDS, every=5, slow_s=2.0, refuse_s=0.3)
        with FaultProxy(srv.port, fault) as proxy, caplog.at_level(logging.WARNING):
            flaky = _policy_file(tmp_path, proxy.url(), "flaky", backoff_s=0.1)
            assert _run(flaky, tmp_path / "flaky") == cli.EXIT_OK
        assert all(proxy.injected[k] >= 1 for k in FAULT_KINDS), proxy.injected
        assert _rows(tmp_path / "flaky") == clean  # the same episodes, the same outcomes
        retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retry")]
        assert len(retries) >= sum(proxy.injected.values())  # one log line per retry ...
        for what in ("(timeout)", "connection reset", "HTTP 500", "connection refused"):
            assert any(what in line for line in retries)  # ... saying what happened
        # Without retries the first fault stops the run as before: exit 3, nothing bogus.
        with FaultProxy(srv.port, fault) as proxy:
            brittle = _policy_file(tmp_path, proxy.url(), "brittle", retries=0)
            assert _run(brittle, tmp_path / "brittle") == cli.EXIT_INCOMPLETE
    assert len(clean) == 2
    left = _rows(tmp_path / "brittle")
    assert len(left) < 2 and all(row == clean[key] for key, row in left.items())
