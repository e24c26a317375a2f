"""``vlthink diagnose probe``: a linear classifier on frozen visual features.

Features: the ``vision`` mode of :mod:`vlthink.diagnostics.features` (mean hidden state of the
visual tokens on the board; the whole image for a folder) at each chosen layer; ``--layers 0``
is the projector's output (the visual tokens as they enter the language model).

Split: VL-Think items by seed (the last ``test_share`` of the seeds are the test split, so no
scene is in both; each seed shows every position), an image folder by file (stratified,
seeded). Classifier and interval: :func:`vlthink.diagnostics.separability.linear_probe`.
Output: ``probe_scores.csv``, one row per (domain, layer): top-1, its 95% Wilson interval,
chance, train accuracy, item counts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from vlthink.diagnostics import features as feat
from vlthink.diagnostics import separability as sep
from vlthink.diagnostics.embeddings import open_feature_run
from vlthink.diagnostics.models import ModelRef
from vlthink.diagnostics.rundir import DiagnosticsError, RunDir, write_csv

TEST_SHARE = 0.3


def split_by_group(groups: np.ndarray, test_share: float) -> np.ndarray:
    """Boolean test mask: the last ``test_share`` of the sorted distinct groups (at least one)."""
    distinct = sorted(set(groups.tolist()))
    if len(distinct) < 2:
        raise DiagnosticsError(
            f"the probe splits by seed and needs >= 2 seeds; got {distinct}: raise --episodes"
        )
    n_test = min(len(distinct) - 1, max(1, round(len(distinct) * test_share)))
    return np.isin(groups, distinct[-n_test:])


def split_stratified(classes: np.ndarray, test_share: float, seed: int) -> np.ndarray:
    """Boolean test mask: ``test_share`` of each class, seeded."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(classes), bool)
    for c in np.unique(classes):
        idx = np.flatnonzero(classes == c)
        n = min(len(idx) - 1, max(1, round(len(idx) * test_share)))
        test[rng.choice(idx, n, replace=False)] = True
    return test


def run_probe(
    lm: ModelRef,
    s: feat.FeatureSettings,
    out: Path,
    seed: int = 0,
    test_share: float = TEST_SHARE,
    c: float = sep.PROBE_C,
    progress: bool = True,
) -> RunDir:
    """Run (or resume) the linear probe into ``out``."""
    s = dataclasses.replace(s, modes=("vision",))
    run, layers = open_feature_run(
        lm, s, out, "probe", {"probe_seed": seed, "test_share": test_share, "C": c}
    )
    feat.collect(lm, s, layers, run, progress)
    rows = []
    for i, layer in enumerate(layers):
        for domain, (x, y, g) in feat.load(run, "vision", i).items():
            test = (
                split_stratified(y, test_share, seed) if s.images else split_by_group(g, test_share)
            )
            r = sep.linear_probe(x[~test], y[~test], x[test], y[test], seed=seed, c=c)
            rows.append(
                {
                    "domain": domain,
                    "layer": layer,
                    "classes": len(set(y.tolist())),
                    **dataclasses.asdict(r),
                }
            )
    write_csv(run.path / "probe_scores.csv", rows)
    return run
