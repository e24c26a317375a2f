"""vlthink as a vla-eval benchmark, and vla-eval's results as a vlthink run (``vlthink[vla-eval]``).

In a vla-eval config: ``benchmark: vlthink.integrations.vla_eval:VLThinkBenchmark``; then
``python -m vlthink.integrations.vla_eval import RESULTS/<name>_aggregate.json --out runs/...``.
"""

from vlthink.integrations.vla_eval.benchmark import VLThinkBenchmark

__all__ = ["VLThinkBenchmark"]
