"""What the statistics answer for degenerate data (None and a warning code) and what they
reject (InvalidInput with a stable code)."""

from __future__ import annotations

import pytest

from sextant.errors import InvalidInput
from sextant.stats import (
    GaussianPrior,
    Proportion,
    Ratio,
    RegressionAdjusted,
    SampleMean,
    check_srm,
    compare,
    compare_variants,
    minimum_detectable_effect,
    power_for_effect,
    sample_size_per_variant,
)
from sextant.stats.srm import SRM_WARNING


def test_kind_mismatch_is_rejected_when_variants_differ():
    with pytest.raises(InvalidInput) as e:
        compare(Proportion(10, 1), SampleMean(10, 1.0, 1.0))
    assert e.value.code == "stats_kind_mismatch"


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: Proportion(10, 11), "stats_proportion_out_of_range"),
        (lambda: SampleMean(-1, 0.0, 0.0), "stats_negative_count"),
        (lambda: Ratio(SampleMean(3, 1.0, 1.0), SampleMean(4, 1.0, 1.0), 1.0), "stats_n_mismatch"),
        (lambda: RegressionAdjusted(Proportion(3, 1), Proportion(2, 1), 1.0), "stats_n_mismatch"),
        (lambda: GaussianPrior(0.0, 0.0), "stats_bad_prior"),
    ],
)
def test_bad_sufficient_statistics_are_rejected_when_built(build, code):
    with pytest.raises(InvalidInput) as e:
        build()
    assert e.value.code == code


@pytest.mark.parametrize(
    ("options", "code", "field"),
    [
        ({"alpha": 1.5}, "stats_bad_alpha", "alpha"),
        ({"difference": "x"}, "stats_bad_difference", "difference"),
    ],
)
def test_bad_options_are_rejected_when_comparing(options, code, field):
    with pytest.raises(InvalidInput) as e:
        compare(Proportion(10, 1), Proportion(10, 2), **options)
    assert (e.value.code, e.value.field) == (code, field)


def test_relative_lift_is_kept_with_a_warning_when_control_mean_is_negative():
    r = compare(SampleMean(100, -300.0, 10_000.0), SampleMean(100, -250.0, 10_000.0))
    assert r.warnings == ("negative_control_mean",)
    assert r.lift == pytest.approx(-1 / 6) and r.p_value is not None


def test_bayesian_values_are_none_when_an_absolute_prior_cannot_be_scaled():
    c, t = SampleMean(1000, 0.0, 50_000.0), SampleMean(1000, 500.0, 60_000.0)
    r = compare(c, t, difference="absolute", prior=GaussianPrior())
    assert r.warnings == ("prior_needs_control_mean",)
    assert r.p_value is not None and r.chance_to_win is None and r.credible_low is None


def test_inverse_metric_flips_chance_to_win_and_risks():
    c, t = SampleMean(500, 1250.0, 5_000.0), SampleMean(500, 1200.0, 4_800.0)
    up, down = compare(c, t), compare(c, t, inverse=True)
    assert down.chance_to_win == pytest.approx(1 - up.chance_to_win)
    assert (down.risk_control, down.risk_treatment) == (up.risk_treatment, up.risk_control)


def test_each_treatment_gets_its_own_pooled_theta_when_there_are_three_variants():
    def ra(n, post, pre, both):
        return RegressionAdjusted(Proportion(n, post), Proportion(n, pre), both)

    results = compare_variants([ra(1000, 100, 90, 50), ra(1000, 120, 95, 70), ra(1000, 90, 80, 30)])
    assert results[0] is None
    assert results[1].theta != results[2].theta


def test_srm_has_no_p_value_and_a_warning_when_nobody_is_exposed():
    r = check_srm([0, 0], [1, 1])
    assert (r.p_value, r.warnings, r.mismatch, r.message) == (None, ("no_exposures",), False, None)


def test_srm_warns_in_plain_words_when_the_split_is_off():
    r = check_srm([10_000, 10_600], [1, 1])
    assert r.mismatch and r.warnings == ("sample_ratio_mismatch",) and r.message == SRM_WARNING


def test_srm_flags_exposures_in_a_switched_off_variant():
    r = check_srm([5000, 5010, 40], [1, 1, 0])
    assert r.warnings == ("exposures_in_zero_weight_variant",)


def test_srm_reports_every_bad_input_at_once():
    with pytest.raises(InvalidInput) as e:
        check_srm([-1], [0.5, -0.5])
    codes = [p.code for p in e.value.problems]
    assert codes == [
        "srm_weights_length",
        "srm_needs_two_variants",
        "stats_negative_count",
        "srm_bad_weights",
    ]


@pytest.mark.parametrize(
    ("mean", "variance", "n", "codes"),
    [
        (0.0, 1.0, 1000, ("zero_control_mean",)),
        (0.1, 0.0, 1000, ("zero_variance",)),
        (None, None, 1, ("too_few_persons",)),
        (0.1, 0.09, 20, ("too_few_persons",)),  # no positive lift is detectable
    ],
)
def test_mde_is_none_with_a_warning_when_it_cannot_be_computed(mean, variance, n, codes):
    mde = minimum_detectable_effect(mean, variance, n)
    assert (mde.effect, mde.warnings) == (None, codes)


def test_power_inputs_are_rejected_when_meaningless():
    with pytest.raises(InvalidInput) as e:
        sample_size_per_variant(0.0, 0.1, 0.09, power=0.01)
    assert [p.code for p in e.value.problems] == ["power_bad_target", "power_effect_zero"]
    assert power_for_effect(0.1, 0.0, 1.0, 100) is None
    assert sample_size_per_variant(0.1, 0.1, 0.0).warnings == ("zero_variance",)
