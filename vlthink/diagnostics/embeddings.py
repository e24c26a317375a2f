"""``vlthink diagnose embeddings``: do the classes stay apart in the model's hidden states?

For every (domain, mode, layer): cross-validated k-NN accuracy, silhouette and the chance level
(largest class share), in ``embeddings_scores.csv``; t-SNE plots of each domain and mode with
one panel per layer, ``diagnostics_embeddings_<domain>_<mode>.png``. Features: see
:mod:`vlthink.diagnostics.features`; protocols: :mod:`vlthink.diagnostics.separability`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from vlthink.diagnostics import features as feat
from vlthink.diagnostics import separability as sep
from vlthink.diagnostics.models import ModelRef
from vlthink.diagnostics.rundir import DiagnosticsError, RunDir, write_csv

TSNE_MAX_ITEMS = 2000  # t-SNE is quadratic; a larger domain is subsampled (seeded) for the plot


def check_layers(layers: list[int], lm: ModelRef) -> list[int]:
    bad = [layer for layer in layers if not 0 <= layer <= lm.n_layers]
    if bad:
        raise DiagnosticsError(
            f"--layers {bad}: hidden states of {lm.path} are 0..{lm.n_layers} "
            "(0 = input embeddings)"
        )
    return layers


def open_feature_run(
    lm: ModelRef, s: feat.FeatureSettings, out: Path, command: str, extra_settings: dict
) -> tuple[RunDir, list[int]]:
    layers = check_layers(
        s.layers if s.layers is not None else feat.default_layers(lm.n_layers), lm
    )
    for m in s.modes:
        if m not in feat.MODES:
            raise DiagnosticsError(f"--modes {m!r}: known modes are {', '.join(feat.MODES)}")
    settings = {**dataclasses.asdict(s), "layers": layers, **lm.settings, **extra_settings}
    run = RunDir.open(out, command, settings, extra={"model": lm.describe()})
    return run, layers


def run_embeddings(
    lm: ModelRef, s: feat.FeatureSettings, out: Path, seed: int = 0, progress: bool = True
) -> RunDir:
    """Run (or resume) the embeddings diagnostic into ``out``."""
    run, layers = open_feature_run(lm, s, out, "embeddings", {"cv_seed": seed})
    feat.collect(lm, s, layers, run, progress)
    rows = []
    for mode in s.modes:
        per_layer = {i: feat.load(run, mode, i) for i in range(len(layers))}
        for domain in per_layer[0]:
            points, scores, labels = {}, {}, None
            for i, layer in enumerate(layers):
                x, y, _ = per_layer[i][domain]
                row, x, y = score_features(x, y, seed)
                rows.append({"domain": domain, "mode": mode, "layer": layer, **row})
                pick = _subsample(len(y), seed)
                points[f"layer {layer}"], labels = sep.tsne_2d(x[pick], seed), y[pick]
                scores[f"layer {layer}"] = (
                    f"k-NN {row['knn_accuracy']:.2f} (chance {row['chance']:.2f}), "
                    f"silhouette {row['silhouette']:.2f}"
                )
            _plot(run.path, domain, mode, points, labels, scores)
    write_csv(run.path / "embeddings_scores.csv", rows)
    return run


def score_features(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """k-NN accuracy, silhouette and chance of one feature set; classes seen once are left out
    (neither number is defined for them) and counted in ``dropped``."""
    classes, counts = np.unique(y, return_counts=True)
    keep = np.isin(y, classes[counts >= 2])
    x, y = x[keep], y[keep]
    row = {
        "n": len(y),
        "classes": len(set(y.tolist())),
        "dropped": int((~keep).sum()),
        "knn_accuracy": sep.knn_accuracy(x, y, seed),
        "silhouette": sep.silhouette(x, y),
        "chance": float(np.unique(y, return_counts=True)[1].max() / len(y)),
    }
    return row, x, y


def _subsample(n: int, seed: int) -> np.ndarray:
    if n <= TSNE_MAX_ITEMS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, TSNE_MAX_ITEMS, replace=False))


def _plot(folder: Path, domain: str, mode: str, points, labels, scores) -> None:
    from vlthink.diagnostics.figures import tsne_sheet

    what = {"token": "object-name token of the question", "vision": "visual tokens on the object"}
    tsne_sheet(
        points,
        labels,
        folder / f"diagnostics_embeddings_{domain.lower()}_{mode}.png",
        f"{domain}: t-SNE of the {what[mode]}",
        scores,
    )
