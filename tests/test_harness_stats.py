"""The harness statistics against values computed by hand (the arithmetic is in the comments)."""

import itertools
import math

import numpy as np
import pytest

from vlthink.harness import stats


def test_wilson_8_of_10():
    # p = 0.8, z = 1.96, z² = 3.8415; denom = 1 + 3.8415/10 = 1.38415
    # center = (0.8 + 3.8415/20) / 1.38415 = 0.99207 / 1.38415 = 0.71674
    # half = 1.96 * sqrt(0.8*0.2/10 + 3.8415/400) / 1.38415 = 1.96 * sqrt(0.0256037) / 1.38415
    #      = 1.96 * 0.160012 / 1.38415 = 0.22658  ->  [0.4902, 0.9433]
    lo, hi = stats.wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=5e-5)
    assert hi == pytest.approx(0.9433, abs=5e-5)


def test_wilson_edges():
    # k = 0, n = 10: center = (z²/20)/1.38415 = 0.19208/1.38415 = 0.13877,
    # half = 1.96*sqrt(3.8415/400)/1.38415 = 1.96*0.098000/1.38415 = 0.13877 -> [0, 0.2775]
    lo, hi = stats.wilson(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.2775, abs=5e-5)
    lo, hi = stats.wilson(10, 10)
    assert hi == pytest.approx(1.0) and lo == pytest.approx(1 - 0.2775, abs=5e-5)
    assert all(math.isnan(x) for x in stats.wilson(0, 0))
    with pytest.raises(ValueError):
        stats.wilson(11, 10)


def test_mean_sd_over_seeds():
    # rates 0.5, 0.7, 0.9: mean 0.7; squared deviations 0.04+0+0.04 = 0.08; /(3-1) = 0.04 -> SD 0.2
    mean, sd = stats.mean_sd([0.5, 0.7, 0.9])
    assert mean == pytest.approx(0.7) and sd == pytest.approx(0.2)
    mean, sd = stats.mean_sd([0.25])
    assert mean == 0.25 and sd is None  # one seed: SD undefined, not 0


def test_wilcoxon_all_positive_is_one_over_two_to_the_n():
    # d = 1..5 all positive: W+ = 15 = the maximum; only 1 of 2^5 sign patterns reaches it
    r = stats.wilcoxon_paired([1, 2, 3, 4, 5], [0] * 5)
    assert r.p == pytest.approx(1 / 32) and r.n == 5 and r.statistic == 15 and r.method == "exact"


def test_wilcoxon_one_negative():
    # d = -1, 2, 3, 4, 5: W+ = 14. Sign patterns with W+ >= 14: {1..5} (15), {2,3,4,5} (14) -> 2/32
    r = stats.wilcoxon_paired([0, 2, 3, 4, 5], [1, 0, 0, 0, 0])
    assert r.p == pytest.approx(0.0625)
    assert r.statistic == 14


def test_wilcoxon_ties_exact_by_enumeration():
    # d = -1, 1, 2, 3, 3, 0.5, -0.5; |d| sorted 0.5,0.5,1,1,2,3,3
    # -> midranks 1.5,1.5,3.5,3.5,5,6.5,6.5
    # W+ = 1.5 + 3.5 + 5 + 6.5 + 6.5 = 23 of total 28, so W+ >= 23  <=>  W- <= 5.
    # Subsets of the ranks with sum <= 5:
    # {} ; {1.5}x2 ; {3.5}x2 ; {5} ; {1.5,1.5} ; {1.5,3.5}x4 = 11
    # p = 11 / 2^7 = 0.0859375
    r = stats.wilcoxon_paired([-1, 1, 2, 3, 3, 0.5, -0.5], [0] * 7)
    assert r.p == pytest.approx(11 / 128)
    assert r.statistic == 23


def test_wilcoxon_zero_differences_dropped_and_counted():
    # d = 0, 0, 0.25: zeros dropped (Wilcoxon's convention) -> n = 1,
    # p = 1/2 (the smallest possible)
    r = stats.wilcoxon_paired([0.5, 0.5, 0.75], [0.5, 0.5, 0.5])
    assert r.n == 1 and r.n_pairs == 3 and r.p == pytest.approx(0.5)
    # all differences zero: no test, p is None (not 1.0, not NaN)
    r = stats.wilcoxon_paired([0.5, 0.25], [0.5, 0.25])
    assert r.p is None and r.n == 0 and "zero" in r.method


def test_wilcoxon_direction():
    r = stats.wilcoxon_paired([0, 0, 0, 0, 0], [1, 2, 3, 4, 5], alternative="less")
    assert r.p == pytest.approx(1 / 32)
    r = stats.wilcoxon_paired([0, 0, 0, 0, 0], [1, 2, 3, 4, 5], alternative="greater")
    assert r.p == pytest.approx(1.0)


def test_wilcoxon_float_noise_counts_as_tie():
    # 0.1 + 0.2 - 0.3 is 5.6e-17, not 0; the harness snaps it to a zero difference
    r = stats.wilcoxon_paired([0.1 + 0.2, 0.5], [0.3, 0.5])
    assert r.p is None


def test_mcnemar_exact():
    # b = 8 (only this run succeeds), c = 2: P(X >= 8 | X ~ Bin(10, 1/2))
    #   = (C(10,8) + C(10,9) + C(10,10)) / 1024 = (45 + 10 + 1) / 1024 = 0.0546875
    run = [True] * 8 + [False] * 2 + [True] * 5 + [False] * 3
    base = [False] * 8 + [True] * 2 + [True] * 5 + [False] * 3
    r = stats.mcnemar_exact(run, base)
    assert r.p == pytest.approx(56 / 1024) and r.n == 10 and r.n_pairs == 18
    r = stats.mcnemar_exact([True, False], [True, False])
    assert r.p is None and r.n == 0


# --- multiplicity: adjusted p-values against statsmodels' multipletests -------------------------

_SM_METHOD = {"holm": "holm", "bh": "fdr_bh"}


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_adjusted_p_values_equal_statsmodels_on_40_random_families(method):
    from statsmodels.stats import multitest  # a test dependency (pyproject's test extra)

    rng = np.random.default_rng(33)
    for _ in range(40):
        m = int(rng.integers(1, 30))
        # a mix of tiny, moderate and tied p-values (ties: equal cells give equal p)
        p = np.concatenate([rng.uniform(0, 1, m) ** 3, rng.choice([0.5, 0.04], 3)])
        ours = stats.adjust(p.tolist(), method)
        ref = multitest.multipletests(p, alpha=0.05, method=_SM_METHOD[method])[1]
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)


def test_holm_by_hand_and_missing_p_values_stay_out_of_the_family():
    # p = .01, .04, .03 (m = 3): sorted .01, .03, .04 -> 3*.01 = .03, 2*.03 = .06, 1*.04 -> max(.06, .04)
    # = .06. The None (a cell with no test) is not counted in m and stays missing.
    adj = stats.adjust([0.01, None, 0.04, 0.03], "holm")
    assert adj[0] == pytest.approx(0.03) and math.isnan(adj[1])
    assert adj[2] == pytest.approx(0.06) and adj[3] == pytest.approx(0.06)
    # BH: sorted .01, .03, .04 -> 3/1*.01 = .03, 3/2*.03 = .045, 3/3*.04 = .04 -> step-up min .04
    bh = stats.adjust([0.01, None, 0.04, 0.03], "bh")
    assert bh[0] == pytest.approx(0.03) and bh[3] == pytest.approx(0.04)
    with pytest.raises(ValueError, match="adjustment"):
        stats.adjust([0.1], "bonferroni-ish")


# --- paired difference: Newcombe's method 10 against an independent reference ---------------------


def _newcombe_reference(table: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Newcombe (1998) method 10 written from the paper's recipe, on its own: Wilson limits from
    statsmodels, the correlation of the margins as the Pearson correlation of the expanded 0/1
    outcomes (the phi coefficient), shrunk towards 0 by n/2 in its numerator as Newcombe does."""
    from statsmodels.stats.proportion import proportion_confint

    (a, b), (c, d) = table
    n = table.sum()
    first = np.repeat([1, 1, 0, 0], [a, b, c, d])  # this run's outcome per episode
    second = np.repeat([1, 0, 1, 0], [a, b, c, d])  # the baseline's
    p1, p2 = first.mean(), second.mean()
    lo1, hi1 = proportion_confint(first.sum(), n, alpha=1 - level, method="wilson")
    lo2, hi2 = proportion_confint(second.sum(), n, alpha=1 - level, method="wilson")
    if first.std() == 0 or second.std() == 0:
        phi = 0.0
    else:
        r = np.corrcoef(first, second)[0, 1]
        # r = (ad - bc) / sqrt(margins); Newcombe replaces ad - bc by ad - bc - n/2 when that is
        # positive, by 0 when 0 <= ad - bc <= n/2, and keeps it when negative.
        scale = r / (a * d - b * c) if a * d != b * c else 0.0
        num = a * d - b * c
        phi = (num - n / 2) * scale if num > n / 2 else (num * scale if num < 0 else 0.0)
    diff = p1 - p2
    low = diff - math.sqrt(
        max((p1 - lo1) ** 2 + (hi2 - p2) ** 2 - 2 * phi * (p1 - lo1) * (hi2 - p2), 0)
    )
    high = diff + math.sqrt(
        max((hi1 - p1) ** 2 + (p2 - lo2) ** 2 - 2 * phi * (hi1 - p1) * (p2 - lo2), 0)
    )
    return diff, max(low, -1.0), min(high, 1.0)


def test_newcombe_interval_equals_the_reference_on_60_random_tables():
    rng = np.random.default_rng(1998)
    tables = [
        rng.multinomial(int(rng.integers(5, 200)), rng.dirichlet([1, 1, 1, 1])) for _ in range(56)
    ]
    # and the edges: no discordant pair, one empty margin, all discordant one way, n = 1
    tables += [np.array(t) for t in ([10, 0, 0, 10], [0, 7, 0, 3], [0, 12, 0, 0], [0, 0, 1, 0])]
    for t in tables:
        a, b, c, d = (int(x) for x in t)
        ours = stats.newcombe_paired(a, b, c, d)
        ref = _newcombe_reference(np.array([[a, b], [c, d]]))
        assert (ours.diff, ours.low, ours.high) == pytest.approx(ref, abs=1e-12), (a, b, c, d)
        assert ours.low <= ours.diff <= ours.high


def test_newcombe_interval_covers_about_95_percent_by_exact_enumeration():
    # Every paired table of n = 30 episodes with its exact multinomial probability: the share of
    # probability whose interval contains the true difference. Newcombe reports method 10 close to
    # nominal; a wrong sign on phi or a swapped limit falls well below.
    from scipy.stats import multinomial

    n = 30
    tables = [
        (a, b, c, n - a - b - c)
        for a in range(n + 1)
        for b in range(n + 1 - a)
        for c in range(n + 1 - a - b)
    ]
    intervals = [stats.newcombe_paired(*t) for t in tables]
    for probs in ([0.3, 0.2, 0.1, 0.4], [0.6, 0.05, 0.15, 0.2], [0.25, 0.25, 0.25, 0.25]):
        truth = (probs[0] + probs[1]) - (probs[0] + probs[2])
        weight = multinomial.pmf(np.array(tables), n, probs)
        covered = np.array([i.low <= truth + 1e-12 and truth - 1e-12 <= i.high for i in intervals])
        assert 0.93 <= float(weight[covered].sum()) <= 0.99, probs


def test_paired_difference_counts_matched_episodes():
    # a = 2 (both), b = 3 (run only), c = 1 (baseline only), d = 4 (neither): diff = (3 - 1)/10
    run = [True, True, True, True, True, False, False, False, False, False]
    base = [True, True, False, False, False, True, False, False, False, False]
    d = stats.paired_difference(run, base)
    assert d.diff == pytest.approx(0.2)
    assert d == stats.newcombe_paired(2, 3, 1, 4)


# --- seed-level (cluster) bootstrap -------------------------------------------------------------


def test_cluster_bootstrap_is_reproducible_and_brackets_the_mean():
    d = [0.10, 0.25, 0.05, 0.30, 0.15]
    first, again = stats.cluster_bootstrap(d), stats.cluster_bootstrap(d)
    assert first == again  # seeded: the same rows always give the same interval
    assert first.diff == pytest.approx(0.17)
    # the percentile interval lies within the range of seed means and contains the mean
    assert 0.05 <= first.low < 0.17 < first.high <= 0.30
    # against the exact bootstrap distribution: all 5^5 equally likely ordered resamples
    exact = np.array(list(itertools.product(d, repeat=len(d)))).mean(axis=1)
    lo, hi = np.quantile(exact, [0.025, 0.975])
    assert first.low == pytest.approx(lo, abs=0.011) and first.high == pytest.approx(hi, abs=0.011)


def test_cluster_bootstrap_of_one_seed_has_no_interval():
    d = stats.cluster_bootstrap([0.2])
    assert d.diff == pytest.approx(0.2) and math.isnan(d.low) and math.isnan(d.high)
