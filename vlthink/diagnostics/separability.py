"""Numbers for "do the classes separate": cross-validated k-NN accuracy, silhouette, and a linear
probe with a confidence interval (scikit-learn, the ``[diagnostics]`` extra).

Protocols (fixed so results can be cited):

- k-NN: ``KNN_K`` neighbours, cosine distance, majority vote, ``CV_FOLDS``-fold stratified
  cross-validation (shuffled with the given seed); folds shrink to the smallest class count.
- silhouette: scikit-learn's mean silhouette coefficient, cosine distance (-1..1; 0 = no
  structure).
- linear probe: features standardised on the training split, multinomial logistic regression,
  L2 penalty with ``C = PROBE_C`` (inverse strength), lbfgs, ``PROBE_MAX_ITER`` iterations,
  ``random_state = seed``; trained on one split, top-1 accuracy on the other with a 95% Wilson
  interval over the test items. Chance is the largest class share of the test split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vlthink.diagnostics.rundir import DiagnosticsError

KNN_K = 5
CV_FOLDS = 5
PROBE_C = 1.0
PROBE_MAX_ITER = 2000
WILSON_Z = 1.959964  # 95%
TSNE_EXACT_MAX = 500  # items


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise DiagnosticsError(
            "scikit-learn is not installed; install the diagnostics extra: "
            "pip install 'vlthink[diagnostics]'"
        ) from None


def wilson(k: int, n: int, z: float = WILSON_Z) -> tuple[float, float]:
    """95% Wilson score interval of k successes in n trials."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo, hi = max(0.0, mid - half), min(1.0, mid + half)
    return (0.0 if k == 0 else lo, 1.0 if k == n else hi)  # exact ends, not 1 - 1e-16


def _check(x: np.ndarray, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise ValueError(f"{len(x)} feature rows but {len(y)} labels")
    counts = np.unique(y, return_counts=True)[1]
    if len(counts) < 2 or counts.min() < 2:
        raise DiagnosticsError(
            f"separability needs >= 2 classes with >= 2 items each; got class "
            f"sizes {sorted(counts.tolist())}: add items (more --episodes or images)"
        )


def knn_accuracy(x: np.ndarray, y: np.ndarray, seed: int = 0, k: int = KNN_K) -> float:
    """Cross-validated k-NN accuracy (see the module docstring)."""
    _sklearn()
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    _check(x, y)
    folds = int(min(CV_FOLDS, np.unique(y, return_counts=True)[1].min()))
    train_min = len(x) * (folds - 1) // folds
    knn = KNeighborsClassifier(n_neighbors=max(1, min(k, train_min)), metric="cosine")
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(cross_val_score(knn, x, y, cv=cv).mean())


def silhouette(x: np.ndarray, y: np.ndarray) -> float:
    _sklearn()
    from sklearn.metrics import silhouette_score

    _check(x, y)
    return float(silhouette_score(x, y, metric="cosine"))


@dataclass(frozen=True)
class ProbeResult:
    top1: float
    ci_low: float
    ci_high: float
    n_train: int
    n_test: int
    chance: float
    train_top1: float


def linear_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int = 0,
    c: float = PROBE_C,
) -> ProbeResult:
    """Fit the logistic-regression probe on one split, score top-1 on the other."""
    _sklearn()
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(np.unique(y_train)) < 2 or len(y_test) == 0:
        raise DiagnosticsError(
            "the probe needs >= 2 classes in the training split and a non-empty "
            "test split; add items or change the split"
        )
    clf = make_pipeline(
        StandardScaler(), LogisticRegression(C=c, max_iter=PROBE_MAX_ITER, random_state=seed)
    )
    clf.fit(x_train, y_train)
    hits = int((clf.predict(x_test) == y_test).sum())
    lo, hi = wilson(hits, len(y_test))
    shares = np.unique(y_test, return_counts=True)[1] / len(y_test)
    return ProbeResult(
        hits / len(y_test),
        lo,
        hi,
        len(y_train),
        len(y_test),
        float(shares.max()),
        float((clf.predict(x_train) == y_train).mean()),
    )


def tsne_2d(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """The paper's t-SNE: perplexity 30 (capped below the item count), PCA init, cosine, 1000
    iterations; the exact gradient up to ``TSNE_EXACT_MAX`` items (Barnes-Hut, the paper's
    default, is slower there and only an approximation of it), Barnes-Hut above."""
    _sklearn()
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3)))
    method = "exact" if len(x) <= TSNE_EXACT_MAX else "barnes_hut"
    return TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        metric="cosine",
        max_iter=1000,
        method=method,
        random_state=seed,
    ).fit_transform(x)
