"""The report's forest plot of paired differences, drawn from real summary tables."""

import base64
import io
import re
from pathlib import Path

import numpy as np
from PIL import Image

from vlthink.harness import summary
from vlthink.harness.episodes import HARNESS_PROTOCOL
from vlthink.report import effects
from vlthink.report.media import MediaSink
from vlthink.report.runs import Run, RunSet

TASKS = {
    "VLThink-Shape-v0": ("vl-think", "Shape"),
    "VLThink-OOD-Plate-v0": ("ood", "Object"),
    "VLThink-OOD-Bowl-v0": ("ood", "Object"),
}


def _manifest(policy):
    return {
        "protocol_version": "vlthink-1",
        "harness_protocol": HARNESS_PROTOCOL,
        "policy": {"name": policy},
        "plan": {"sim_backend": "cpu"},
        "tasks": {e: {"suite": s, "group": g} for e, (s, g) in TASKS.items()},
    }


def _rows(rate, seed_count=2, episodes=16):
    rng = np.random.default_rng(int(rate * 100))
    return [
        {"env": e, "episode": i, "seed": s, "success_once": bool(rng.random() < rate)}
        | {"success_at_end": False}
        for e in TASKS
        for s in range(seed_count)
        for i in range(episodes)
    ]


def _runset(with_baseline=True):
    base_m, base_rows = _manifest("base"), _rows(0.2)
    run_m, run_rows = _manifest("new"), _rows(0.8)
    pair = (base_m, base_rows) if with_baseline else None
    table = summary.summarize(run_m, run_rows, pair)
    run = Run(Path("new"), "new", run_m, run_rows, table)
    base = None
    if with_baseline:
        base_table = summary.summarize(base_m, base_rows)
        base = Run(Path("base"), "base (baseline)", base_m, base_rows, base_table, True)
    return RunSet([run], base)


def test_forest_plot_per_run_with_suites_groups_and_envs_in_page_order(tmp_path):
    runset = _runset()
    lines = effects._ordered(runset.runs[0].table)
    labels = [e.label for e in lines]
    # VL-Think first; a group of one env (Shape) has no diamond of its own; Object (2 envs) has
    assert labels == [
        "vl-think (all)",
        "VLThink-Shape-v0",
        "ood (all)",
        "[Object]",
        "VLThink-OOD-Bowl-v0",
        "VLThink-OOD-Plate-v0",
    ]
    assert [e.summary for e in lines] == [True, False, True, True, False, False]
    for e in lines:  # 0.8 vs 0.2: every interval lies above 0 and holds its estimate
        assert 0 < e.lo <= e.diff <= e.hi and e.note.startswith("p=")
    html = effects.effects_section(runset, MediaSink(tmp_path / "r.html"))
    assert 'data-kind="effects"' in html and "Newcombe" in html and "Holm" in html
    src = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    im = np.asarray(Image.open(io.BytesIO(base64.b64decode(src))).convert("L"), dtype=float)
    assert im.shape[0] > 150 and im.std() > 20  # a drawn chart, not a blank canvas


def test_no_baseline_no_effects_section(tmp_path):
    assert effects.effects_section(_runset(False), MediaSink(tmp_path / "r.html")) == ""
