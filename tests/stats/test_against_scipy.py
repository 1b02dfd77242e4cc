"""The statistics against scipy and closed forms computed from raw per-person values (the
sufficient statistics are built from the same values), plus properties (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_h
from scipy import integrate
from scipy import stats as st

from sextant.stats import (
    Proportion,
    Ratio,
    RegressionAdjusted,
    SampleMean,
    benjamini_hochberg,
    check_srm,
    compare,
    holm_bonferroni,
    minimum_detectable_effect,
    pooled_theta,
    power_for_effect,
    sample_size_per_variant,
)
from sextant.stats.bayesian import risks


def sums(values: np.ndarray) -> SampleMean:
    return SampleMean(len(values), float(values.sum()), float((values**2).sum()))


def rng_values(seed: int, n: int, mean: float, sd: float) -> np.ndarray:
    return np.random.default_rng(seed).normal(mean, sd, n)


@pytest.mark.parametrize(
    ("n_c", "n_t", "sd_c", "sd_t"), [(50, 50, 1.0, 1.0), (30, 400, 2.0, 0.5), (7, 9, 3.0, 8.0)]
)
def test_absolute_welch_test_equals_scipy_on_the_raw_values(n_c, n_t, sd_c, sd_t):
    c, t = rng_values(1, n_c, 10.0, sd_c), rng_values(2, n_t, 10.5, sd_t)
    ours = compare(sums(c), sums(t), difference="absolute")
    ref = st.ttest_ind(t, c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert ours.lift == pytest.approx(t.mean() - c.mean(), rel=1e-9)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-7)
    assert ours.df == pytest.approx(ref.df, rel=1e-9)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-7)
    assert ours.lift / ours.se == pytest.approx(ref.statistic, rel=1e-9)


def test_welch_test_equals_scipy_from_summary_statistics():
    c, t = SampleMean(1200, 3000.0, 19_000.0), SampleMean(1100, 2970.0, 18_500.0)
    ours = compare(c, t, difference="absolute")
    ref = st.ttest_ind_from_stats(
        t.mean, math.sqrt(t.variance), t.n, c.mean, math.sqrt(c.variance), c.n, equal_var=False
    )
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_relative_lift_variance_is_the_delta_method_closed_form():
    c, t = rng_values(3, 400, 20.0, 6.0), rng_values(4, 500, 21.0, 7.0)
    ours = compare(sums(c), sums(t))
    mc, mt = c.mean(), t.mean()
    vc, vt = c.var(ddof=1) / len(c), t.var(ddof=1) / len(t)
    assert ours.lift == pytest.approx(mt / mc - 1, rel=1e-9)
    assert ours.se**2 == pytest.approx(vt / mc**2 + vc * mt**2 / mc**4, rel=1e-9)


def test_proportion_uses_binomial_variance_when_comparing_conversion():
    c, t = Proportion(2000, 300), Proportion(2100, 360)
    ours = compare(c, t, difference="absolute")
    pc, pt = 300 / 2000, 360 / 2100
    assert c.variance == pytest.approx(pc * (1 - pc))
    assert ours.se == pytest.approx(math.sqrt(pc * (1 - pc) / 2000 + pt * (1 - pt) / 2100))
    # with many persons the Welch test is the unpooled two-proportion z-test
    z = (pt - pc) / ours.se
    assert ours.p_value == pytest.approx(2 * st.norm.sf(abs(z)), rel=2e-3)


def test_ratio_variance_is_the_delta_method_from_raw_values():
    rng = np.random.default_rng(5)
    orders = rng.poisson(1.5, 300).astype(float) + 1
    revenue = orders * rng.gamma(2.0, 15.0, 300)
    r = Ratio(sums(revenue), sums(orders), float((revenue * orders).sum()))
    mm, md = revenue.mean(), orders.mean()
    cov = np.cov(revenue, orders, ddof=1)
    expected = (cov[0, 0] - 2 * (mm / md) * cov[0, 1] + (mm / md) ** 2 * cov[1, 1]) / md**2
    assert r.mean == pytest.approx(revenue.sum() / orders.sum())
    assert r.variance == pytest.approx(expected, rel=1e-9)


def test_cuped_theta_is_the_pooled_regression_slope_and_variance_that_of_the_residual():
    rng = np.random.default_rng(6)
    pre_c, pre_t = rng.normal(10, 3, 400), rng.normal(10, 3, 450)
    post_c = 0.8 * pre_c + rng.normal(2, 1, 400)
    post_t = 0.8 * pre_t + rng.normal(2.3, 1, 450)

    def ra(post, pre):
        return RegressionAdjusted(sums(post), sums(pre), float((post * pre).sum()))

    theta = pooled_theta(ra(post_c, pre_c), ra(post_t, pre_t))
    pooled_post, pooled_pre = np.concatenate([post_c, post_t]), np.concatenate([pre_c, pre_t])
    slope = np.cov(pooled_post, pooled_pre, ddof=1)[0, 1] / pooled_pre.var(ddof=1)
    assert theta == pytest.approx(slope, rel=1e-9)
    adjusted = RegressionAdjusted(sums(post_c), sums(pre_c), float((post_c * pre_c).sum()), theta)
    assert adjusted.variance == pytest.approx((post_c - theta * pre_c).var(ddof=1), rel=1e-9)
    result = compare(ra(post_c, pre_c), ra(post_t, pre_t), difference="absolute")
    plain = compare(sums(post_c), sums(post_t), difference="absolute")
    assert result.theta == theta
    assert result.se < plain.se / 2  # the covariate explains most of the variance


@pytest.mark.parametrize(
    ("counts", "weights"),
    [([5000, 5100], [1, 1]), ([1000, 2100, 2900], [0.2, 0.4, 0.4]), ([10, 0, 3], [1, 1, 1])],
)
def test_srm_equals_scipy_chisquare(counts, weights):
    total = sum(counts)
    expected = [w / sum(weights) * total for w in weights]
    ours = check_srm(counts, weights)
    ref = st.chisquare(counts, expected)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert ours.chi_squared == pytest.approx(ref.statistic, rel=1e-9)
    assert ours.expected == pytest.approx(expected)


def test_power_is_the_two_sided_normal_closed_form():
    mean, variance, n, effect = 0.1, 0.09, 20_000, 0.06
    se = math.sqrt(variance / n * (1 + (1 + effect) ** 2)) / mean
    z = st.norm.ppf(0.975)
    expected = st.norm.sf(z - effect / se) + st.norm.cdf(-z - effect / se)
    assert power_for_effect(effect, mean, variance, n) == pytest.approx(expected, rel=1e-12)


def test_mde_and_sample_size_are_inverse_and_reach_the_target_power():
    mean, variance = 25.0, 1600.0
    mde = minimum_detectable_effect(mean, variance, 10_000).effect
    z = st.norm.ppf(0.975) + st.norm.ppf(0.8)
    # effect = z * se(effect): the defining equation of the MDE
    se = math.sqrt(variance / 10_000 * (1 + (1 + mde) ** 2)) / mean
    assert mde == pytest.approx(z * se, rel=1e-9)
    assert sample_size_per_variant(mde, mean, variance).n_per_variant in (10_000, 10_001)
    assert power_for_effect(mde, mean, variance, 10_000) == pytest.approx(0.8, abs=1e-3)
    # small effects: the textbook 2 (z_a + z_b)^2 sigma^2 / delta^2
    needed = sample_size_per_variant(0.01, mean, variance).n_per_variant
    assert needed == pytest.approx(2 * z**2 * variance / (0.01 * mean) ** 2, rel=0.011)


def test_multiple_testing_adjustments_equal_scipy_and_the_textbook():
    p = [0.001, 0.04, 0.03, 0.2, 0.012, None]
    bh = benjamini_hochberg(p)
    assert bh[:5] == pytest.approx(list(st.false_discovery_control(p[:5], method="bh")))
    assert bh[5] is None
    ranked = sorted(p[:5])
    m = len(ranked)
    holm_sorted = [min(1, max((m - j) * ranked[j] for j in range(k + 1))) for k in range(m)]
    assert [holm_bonferroni(p)[p.index(x)] for x in ranked] == pytest.approx(holm_sorted)


@pytest.mark.parametrize(("mean", "sd"), [(0.0, 1.0), (0.3, 0.2), (-0.05, 0.01), (2.0, 0.5)])
def test_risks_are_the_expected_losses_by_integration(mean, sd):
    lo, hi = mean - 12 * sd, mean + 12 * sd
    gain = integrate.quad(lambda x: max(x, 0) * st.norm.pdf(x, mean, sd), lo, hi, points=[0])[0]
    loss = integrate.quad(lambda x: max(-x, 0) * st.norm.pdf(x, mean, sd), lo, hi, points=[0])[0]
    assert risks(mean, sd) == pytest.approx((gain, loss), rel=1e-6, abs=1e-12)


def test_flat_prior_posterior_is_the_normal_on_the_estimate():
    ours = compare(Proportion(5000, 500), Proportion(5000, 550))
    assert ours.posterior_mean == ours.lift
    assert ours.chance_to_win == pytest.approx(st.norm.cdf(ours.lift / ours.se), rel=1e-12)
    z = st.norm.ppf(0.975)
    assert ours.credible_low == pytest.approx(ours.lift - z * ours.se, rel=1e-9)


means = st_h.floats(0.5, 100.0)
sds = st_h.floats(0.1, 50.0)
ns = st_h.integers(2, 100_000)


def sample(n: int, mean: float, sd: float) -> SampleMean:
    total = n * mean
    return SampleMean(n, total, (n - 1) * sd**2 + total**2 / n)


@settings(max_examples=150, deadline=None)
@given(ns, means, sds, ns, means, sds, st_h.sampled_from(["relative", "absolute"]))
def test_intervals_contain_the_estimate_and_probabilities_are_probabilities(
    n_c, m_c, s_c, n_t, m_t, s_t, difference
):
    r = compare(sample(n_c, m_c, s_c), sample(n_t, m_t, s_t), difference=difference)
    assert r.warnings == ()
    assert r.ci_low <= r.lift <= r.ci_high
    assert r.credible_low <= r.posterior_mean <= r.credible_high
    assert 0 <= r.p_value <= 1 and 0 <= r.chance_to_win <= 1
    assert r.risk_control >= 0 and r.risk_treatment >= 0


@settings(max_examples=150, deadline=None)
@given(ns, means, sds, ns, means, sds)
def test_swapping_variants_flips_the_absolute_difference(n_c, m_c, s_c, n_t, m_t, s_t):
    a, b = sample(n_c, m_c, s_c), sample(n_t, m_t, s_t)
    ab, ba = compare(a, b, difference="absolute"), compare(b, a, difference="absolute")
    assert ab.lift == pytest.approx(-ba.lift, rel=1e-9, abs=1e-12)
    assert (ab.ci_low, ab.ci_high) == pytest.approx((-ba.ci_high, -ba.ci_low), rel=1e-9, abs=1e-9)
    assert ab.p_value == pytest.approx(ba.p_value, rel=1e-9, abs=1e-15)
    assert ab.chance_to_win == pytest.approx(1 - ba.chance_to_win, rel=1e-9, abs=1e-12)
    assert ab.risk_control == pytest.approx(ba.risk_treatment, rel=1e-9, abs=1e-15)
