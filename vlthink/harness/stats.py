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
