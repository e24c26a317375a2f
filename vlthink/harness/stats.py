"""The statistics the harness reports, each small enough to check by hand.

* :func:`wilson` - the Wilson score interval of a binomial proportion (95% by default).  It is
  computed on *all* episodes pooled (``k`` successes of ``n``), not on per-seed rates.
* :func:`mean_sd` - the paper's "mean ± SD over seeds": the mean and the *sample* standard
  deviation (``ddof=1``) of the per-seed success rates.  With a single seed the SD is undefined
  and is reported as ``None`` (printed blank), never as 0.
* :func:`wilcoxon_paired` - the paired Wilcoxon signed-rank test (``scipy.stats.wilcoxon``) of
  this run against a baseline over matched cells.  Zero differences are dropped (Wilcoxon's
  convention, scipy's ``zero_method="wilcox"``) and the number of non-zero pairs ``n`` is always
  reported beside ``p``: with ``n`` non-zero pairs the smallest one-sided p-value that can occur
  is ``2**-n`` (0.5 for one pair, 0.125 for three), so a large p with a tiny ``n`` says "too few
  cells", not "no effect".  For ``n <= 16`` the p-value is exact (all ``2**n`` sign flips are
  enumerated, which stays exact with tied ranks); above that scipy's normal approximation with the
  tie correction is used.  When every difference is zero there is no test: ``p`` is ``None``.
* :func:`mcnemar_exact` - McNemar's test on matched episodes (same env, episode and seed, hence
  the same scene) in its exact form: of the ``b + c`` discordant episodes, ``b`` succeeded only in
  this run; ``p = P(X >= b)`` for ``X ~ Binomial(b + c, 1/2)`` (``scipy.stats.binomtest``).

* :func:`adjust` - multiplicity: Holm's step-down (default) or Benjamini-Hochberg's step-up
  adjusted p-values over one family of tests (missing p-values stay missing and are not counted
  in the family).
* :func:`paired_difference` - the paired success difference ``(b - c) / n`` of matched episodes
  with Newcombe's hybrid score interval for paired data (Newcombe 1998, method 10).
* :func:`cluster_bootstrap` - a percentile bootstrap interval of a mean difference that
  resamples whole seeds (the unit of replication), with a seeded generator.

One-sided tests default to ``alternative="greater"``: H1 = "this run is better than the
baseline".  Pass ``"less"`` to ask whether it is worse (the direction of the paper's Tables 4-8,
where each ablation is tested against the best variant), or ``"two-sided"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal
EXACT_MAX_N = 16  # 2**16 sign flips: exact and still fast
ALTERNATIVES = ("greater", "less", "two-sided")


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials.

    ``center = (p + z²/2n) / (1 + z²/n)``, ``half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)``.
    ``n == 0`` gives ``(nan, nan)``.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # At k = 0 (k = n) the bound is 0 (1) exactly; float rounding would leave 2.8e-17.
    low = 0.0 if k == 0 else max(0.0, center - half)
    high = 1.0 if k == n else min(1.0, center + half)
    return (low, high)


def mean_sd(rates: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample SD (ddof=1) of per-seed rates; SD is ``None`` with fewer than two."""
    arr = np.asarray(list(rates), dtype=float)
    if arr.size == 0:
        return (math.nan, None)
    mean = float(arr.mean())
    sd = float(arr.std(ddof=1)) if arr.size >= 2 else None
    return (mean, sd)


@dataclass(frozen=True)
class TestResult:
    """A p-value with what it rests on; ``p`` is ``None`` where no test is possible."""

    p: float | None
    n: int  # pairs that carry information (non-zero differences / discordant episodes)
    n_pairs: int  # pairs matched in total
    statistic: float | None
    method: str

    def describe(self) -> str:
        if self.p is None:
            return f"— (n={self.n}/{self.n_pairs}, {self.method})"
        return f"p={self.p:.3g} (n={self.n}/{self.n_pairs}, {self.method})"


def _check_alt(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")


def _matched(run: Sequence, baseline: Sequence, dtype, what: str) -> tuple[np.ndarray, np.ndarray]:
    """The two samples as arrays of ``dtype``; they must pair up one to one."""
    a = np.asarray(list(run), dtype=dtype)
    b = np.asarray(list(baseline), dtype=dtype)
    if a.shape != b.shape:
        raise ValueError(f"{what} samples differ in length: {a.size} vs {b.size}")
    return a, b


def wilcoxon_paired(
    run: Sequence[float], baseline: Sequence[float], alternative: str = "greater"
) -> TestResult:
    """Paired Wilcoxon signed-rank test of ``run`` vs ``baseline`` (same length, matched order)."""
    from scipy import stats as st

    _check_alt(alternative)
    a, b = _matched(run, baseline, float, "paired")
    d = a - b
    # Rates are multiples of 1/episodes; snap float noise so equal rates count as ties/zeros.
    d = np.round(d, 12)
    nonzero = d[d != 0]
    n = int(nonzero.size)
    if n == 0:
        return TestResult(None, 0, int(d.size), None, "no test: all differences are zero")
    if n == 1:
        method = "exact"  # one non-zero pair: no ties possible; p = 1/2 at best
        label = "exact"
    elif n <= EXACT_MAX_N:
        method = st.PermutationMethod(n_resamples=2**n)
        label = "exact"
    else:
        method = "asymptotic"
        label = "normal approx."
    res = st.wilcoxon(nonzero, alternative=alternative, zero_method="wilcox", method=method)
    return TestResult(float(res.pvalue), n, int(d.size), float(res.statistic), label)


def mcnemar_exact(
    run: Sequence[bool], baseline: Sequence[bool], alternative: str = "greater"
) -> TestResult:
    """Exact McNemar test on matched binary outcomes (episode successes)."""
    from scipy import stats as st

    _check_alt(alternative)
    a, c_ = _matched(run, baseline, bool, "matched")
    b = int(np.sum(a & ~c_))  # success only in this run
    c = int(np.sum(~a & c_))  # success only in the baseline
    n = b + c
    if n == 0:
        return TestResult(None, 0, int(a.size), None, "no test: no discordant episodes")
    p = st.binomtest(b, n, 0.5, alternative=alternative).pvalue
    return TestResult(float(p), n, int(a.size), float(b), "exact binomial")


ADJUSTMENTS = ("holm", "bh")
ADJUST_LABEL = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def adjust(pvalues: Sequence[float | None], method: str = "holm") -> list[float]:
    """Adjusted p-values in input order; ``None``/nan entries stay nan and are left out of ``m``.

    Holm: with p sorted ascending, ``adj_(i) = max_{j<=i} min(1, (m-j+1) p_(j))`` (controls the
    family-wise error). BH: ``adj_(i) = min_{j>=i} min(1, m p_(j) / j)`` (controls the false
    discovery rate; valid for independent or positively dependent tests).
    """
    if method not in ADJUSTMENTS:
        raise ValueError(f"adjustment must be one of {ADJUSTMENTS}, got {method!r}")
    p = np.array([math.nan if x is None else float(x) for x in pvalues], dtype=float)
    out = np.full(p.shape, math.nan)
    known = np.flatnonzero(~np.isnan(p))
    m = known.size
    if m == 0:
        return out.tolist()
    order = known[np.argsort(p[known], kind="stable")]
    ranked = p[order]
    j = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - j + 1) * ranked))
    else:
        adj = np.minimum.accumulate(np.minimum(1.0, m * ranked / j)[::-1])[::-1]
    out[order] = adj
    return out.tolist()


@dataclass(frozen=True)
class Difference:
    """An estimated difference (this run minus the baseline) with its interval."""

    diff: float
    low: float
    high: float
    method: str


NEWCOMBE = "Newcombe hybrid score (paired)"


def paired_difference(run: Sequence[bool], baseline: Sequence[bool], z: float = Z95) -> Difference:
    """Paired success difference of matched episodes with Newcombe's method-10 interval."""
    x, y = _matched(run, baseline, bool, "matched")
    a, b = int(np.sum(x & y)), int(np.sum(x & ~y))
    c, d = int(np.sum(~x & y)), int(np.sum(~x & ~y))
    return newcombe_paired(a, b, c, d, z)


def newcombe_paired(a: int, b: int, c: int, d: int, z: float = Z95) -> Difference:
    """Newcombe's hybrid score interval (1998, method 10) for ``p1 - p2`` of a paired 2x2 table.

    ``a`` both succeed, ``b`` only this run, ``c`` only the baseline, ``d`` neither; ``n`` their
    sum. ``p1 = (a+b)/n``, ``p2 = (a+c)/n``, ``[l1, u1]``, ``[l2, u2]`` their Wilson intervals.
    The correlation of the two margins, with Newcombe's correction towards 0: ``A = ad - bc``;
    ``phi = (A - n/2) / sqrt((a+b)(c+d)(a+c)(b+d))`` if ``A > n/2``, 0 if ``0 <= A <= n/2``,
    ``A / sqrt(...)`` if ``A < 0``, and 0 when a margin is empty. Then
    ``low = diff - sqrt((p1-l1)^2 - 2 phi (p1-l1)(u2-p2) + (u2-p2)^2)`` and
    ``high = diff + sqrt((u1-p1)^2 - 2 phi (u1-p1)(p2-l2) + (p2-l2)^2)``.
    """
    n = a + b + c + d
    if min(a, b, c, d) < 0:
        raise ValueError(f"counts must be >= 0, got {(a, b, c, d)}")
    if n == 0:
        return Difference(math.nan, math.nan, math.nan, NEWCOMBE)
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, z)
    l2, u2 = wilson(a + c, n, z)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    shrunk = cross - n / 2 if cross > n / 2 else min(cross, 0)
    phi = shrunk / math.sqrt(margins) if margins > 0 else 0.0
    dl = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    du = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    diff = p1 - p2
    low = max(-1.0, diff - math.sqrt(max(dl, 0.0)))
    high = min(1.0, diff + math.sqrt(max(du, 0.0)))
    return Difference(diff, low, high, NEWCOMBE)


BOOTSTRAP = "seed bootstrap (percentile)"
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 20250  # fixed: the same rows always give the same interval


def cluster_bootstrap(
    differences: Sequence[float],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> Difference:
    """Mean of per-seed differences with a percentile bootstrap interval over seeds.

    Each entry is one seed's difference (this run's rate minus the baseline's, over the same
    envs and episodes); whole seeds are resampled with replacement, so episodes of one seed stay
    together. Fewer than two seeds give no interval (nan bounds).
    """
    d = np.asarray(list(differences), dtype=float)
    if d.size == 0:
        return Difference(math.nan, math.nan, math.nan, BOOTSTRAP)
    mean = float(d.mean())
    if d.size < 2:
        return Difference(mean, math.nan, math.nan, BOOTSTRAP)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(resamples, d.size))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Difference(mean, float(low), float(high), BOOTSTRAP)
