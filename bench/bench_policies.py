"""Policy-adapter throughput against local servers: requests per step and steps/s, 1 and 2 workers.

    python bench/bench_policies.py [--steps 40] [--latency 0.05] [--per-item 0.01]

Each "worker" is one batch slot (one episode): with K workers the harness calls
``policy.act`` once per control step with K observations. The loopback OpenVLA server
(``vlthink.testing.servers``) simulates a single GPU: one model call costs
``latency + per_item * batch`` seconds and calls are serialised. Rows:

- ``openvla /act``: OpenVLA's official protocol; K concurrent requests per step.
- ``openvla /act_batch``: vlthink's batched extension; one request per step.
- ``vlm-probe (openai)``: 2 questions per episode (target + absent), sent concurrently.

Only the policy side is timed (no simulation), so the numbers isolate the adapter and protocol.
"""

import argparse
import time

import numpy as np

from vlthink.policies import EpisodeSpec, Observation, load_policy
from vlthink.testing.servers import ChatServer, OpenVLAServer


def _obs(k):
    rng = np.random.default_rng(0)
    return [
        Observation(
            rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), "put the carrot on the plate", 0
        )
        for _ in range(k)
    ]


def _specs(k):
    return [
        EpisodeSpec(
            "VLThink-Shape-v0",
            i,
            i,
            "put the carrot on the plate",
            {"target": "plate", "target_position": "left", "absent": "cat"},
        )
        for i in range(k)
    ]


def bench_openvla(srv, k, steps, batched):
    kw = (
        {"endpoint": None, "batch_endpoint": srv.url + "/act_batch"}
        if batched
        else {"endpoint": srv.url + "/act"}
    )
    p = load_policy("openvla-sft", **kw)
    p.reset(_specs(k))
    obs = _obs(k)
    p.act(obs)  # warm-up (connections)
    srv.model.reset_counters()
    t = time.perf_counter()
    for _ in range(steps):
        p.act(obs)
    dt = time.perf_counter() - t
    p.close()
    return srv.model.requests / steps, steps / dt


def bench_probe(srv, k, rounds):
    p = load_policy("vlm-probe", endpoint=srv.url)
    p.reset(_specs(k))
    obs = _obs(k)
    srv.model.reset_counters()
    t = time.perf_counter()
    for _ in range(rounds):
        p.probe(_specs(k), obs)
    dt = time.perf_counter() - t
    p.close()
    return srv.model.requests / rounds, rounds / dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--latency", type=float, default=0.05, help="simulated seconds per model call")
    ap.add_argument(
        "--per-item", type=float, default=0.01, help="extra simulated seconds per batch item"
    )
    args = ap.parse_args()
    print(
        f"loopback servers, simulated model call = {args.latency:g} s + {args.per_item:g} s/item, "
        f"{args.steps} steps"
    )
    print(
        f"{'adapter / route':24} {'workers':>7} {'requests/step':>14} {'steps/s':>8} {'episode-steps/s':>16}"
    )
    with OpenVLAServer(latency_s=args.latency, per_item_s=args.per_item) as srv:
        for batched in (False, True):
            for k in (1, 2):
                rps, sps = bench_openvla(srv, k, args.steps, batched)
                name = "openvla /act_batch" if batched else "openvla /act"
                print(f"{name:24} {k:7d} {rps:14.2f} {sps:8.2f} {sps * k:16.2f}")
    with ChatServer(latency_s=args.latency) as srv:
        for k in (1, 2):
            rps, sps = bench_probe(srv, k, max(5, args.steps // 4))
            print(f"{'vlm-probe (openai)':24} {k:7d} {rps:14.2f} {sps:8.2f} {sps * k:16.2f}")


if __name__ == "__main__":
    main()
