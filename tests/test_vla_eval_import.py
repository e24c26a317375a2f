"""The importer keeps only what happened: vla-eval's error episodes and episodes cut short by a
small ``max_steps`` are left out (and listed), with vla-eval's own orchestrator producing them.

One env, two episodes of a few steps each: about 20 s (mostly the env build).
"""

import pytest

pytest.importorskip("vla_eval")

from vla_eval.api import run as vla_eval_run  # noqa: E402
from vla_eval.api import serve_background  # noqa: E402

from vlthink.harness import rundir  # noqa: E402
from vlthink.harness.results import HarnessError  # noqa: E402
from vlthink.integrations.vla_eval.importer import import_results  # noqa: E402
from vlthink.testing.vla_eval_models import ScriptedModel  # noqa: E402

ENV = "VLThink-Shape-v0"


@pytest.mark.timeout(300)
def test_error_episodes_and_cut_short_episodes_are_not_imported(tmp_path):
    entry = {
        "benchmark": "vlthink.integrations.vla_eval:VLThinkBenchmark",
        "episodes_per_task": 2,
        "max_steps": 3,  # below the env's 80: no episode ends
        "params": {"suite": [ENV], "seed": 5},
    }
    with serve_background(ScriptedModel(faults={0: "raise"}, fault_step=1)) as server:
        (result,) = vla_eval_run(
            {"benchmarks": [entry]}, server_url=server.url, output_dir=tmp_path / "b", docker=False
        )
    assert result["num_errors"] == 1
    (aggregate,) = (tmp_path / "b").glob("*_aggregate.json")
    done = import_results(aggregate, tmp_path / "c")
    assert done.written == 0
    assert [s.split(":")[0] for s in done.skipped] == [f"{ENV}#0", f"{ENV}#1"]
    assert "model_act" in done.skipped[0] and "not played to the env's end" in done.skipped[1]
    manifest, rows = rundir.load_run(tmp_path / "c")
    assert rows == [] and rundir.completeness(manifest, rows) == (0, 2)
    assert manifest["plan"]["seeds"] == [5] and manifest["policy"]["name"] == "scriptedmodel"


def test_results_of_another_benchmark_are_refused_with_the_reason(tmp_path):
    other = tmp_path / "LiberoBenchmark_aggregate.json"
    other.write_text(
        '{"config": {"benchmark": "vla_eval.benchmarks.libero.benchmark:LiberoBenchmark"}}'
    )
    with pytest.raises(HarnessError, match="only vlthink's benchmark records vlthink rows"):
        import_results(other, tmp_path / "c")
