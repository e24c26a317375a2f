"""Separability numbers on features whose answer is known: clusters, shuffled labels, noise."""

import numpy as np
import pytest

from vlthink.diagnostics import separability as sep
from vlthink.diagnostics.probe import split_by_group, split_stratified
from vlthink.diagnostics.rundir import DiagnosticsError

N_PER_CLASS, N_CLASSES, DIM = 40, 4, 32


def _clusters(seed=0, spread=0.05):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(N_CLASSES, DIM))
    y = np.repeat(np.arange(N_CLASSES), N_PER_CLASS)
    x = centres[y] + spread * rng.normal(size=(len(y), DIM))
    return x, y


def test_known_clusters_separate():
    x, y = _clusters()
    assert sep.knn_accuracy(x, y) > 0.98
    assert sep.silhouette(x, y) > 0.8


def test_shuffled_labels_score_chance():
    x, y = _clusters()
    accs = [sep.knn_accuracy(x, np.random.default_rng(s).permutation(y), seed=s) for s in range(5)]
    assert abs(np.mean(accs) - 1 / N_CLASSES) < 0.08  # chance 0.25
    assert abs(sep.silhouette(x, np.random.default_rng(0).permutation(y))) < 0.1


def test_probe_on_random_features_scores_chance_within_its_interval():
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(N_CLASSES), 100)
    x = rng.normal(size=(len(y), DIM))
    test = split_stratified(y, 0.5, seed=0)
    r = sep.linear_probe(x[~test], y[~test], x[test], y[test], seed=0)
    assert r.ci_low <= 1 / N_CLASSES <= r.ci_high
    assert r.n_test == 200 and r.chance == pytest.approx(0.25)
    assert r.train_top1 > r.top1  # it fits noise on the training split, not on the test split


def test_probe_on_separable_features_is_perfect():
    x, y = _clusters(spread=0.3)
    test = split_stratified(y, 0.3, seed=0)
    r = sep.linear_probe(x[~test], y[~test], x[test], y[test])
    assert r.top1 == 1.0 and r.ci_high == 1.0 and r.ci_low > 0.9


def test_wilson_interval_known_values():
    lo, hi = sep.wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert sep.wilson(0, 10)[0] == 0.0 and sep.wilson(10, 10)[1] == 1.0


def test_splits_keep_seeds_apart_and_need_enough_items():
    groups = np.repeat(np.arange(10), 3)
    test = split_by_group(groups, 0.3)
    assert set(groups[test]) == {7, 8, 9} and not set(groups[test]) & set(groups[~test])
    with pytest.raises(DiagnosticsError, match="needs >= 2 seeds"):
        split_by_group(np.zeros(6, int), 0.3)
    with pytest.raises(DiagnosticsError, match="2 classes"):
        sep.knn_accuracy(np.zeros((3, 2)), np.array([0, 0, 1]))


def test_tsne_keeps_clusters_apart():
    x, y = _clusters()
    xy = sep.tsne_2d(x)
    assert xy.shape == (len(y), 2)
    assert sep.knn_accuracy(xy, y) > 0.95
