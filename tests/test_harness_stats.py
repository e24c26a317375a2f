"""The harness statistics against values computed by hand (the arithmetic is in the comments)."""

import math

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
