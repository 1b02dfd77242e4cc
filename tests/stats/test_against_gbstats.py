"""Every case in `gbstats_cases.json` (written by `gbstats_reference.py` from GrowthBook's
gbstats 0.8.0) gives the same numbers here, to 1e-4 relative (1e-9 absolute near zero).

Where gbstats answers placeholder zeros, we answer None and a warning code (PLACEHOLDERS);
where we answer on purpose differently, DIFFERENCES says why and what we check instead.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy import stats as st

from sextant.stats import (
    GaussianPrior,
    Proportion,
    Ratio,
    RegressionAdjusted,
    SampleMean,
    Statistic,
    check_srm,
    compare,
)

DOC = json.loads(Path(__file__).with_name("gbstats_cases.json").read_text())
CASES = {c["name"]: c for c in DOC["cases"]}
REL, ABS = 1e-4, 1e-9

# (case, treatment, difference) -> (our warnings, our lift). gbstats returns expected 0,
# ci [0, 0], p 1, chance to win 0.5 and risk [0, 0] for these; we return None for every
# inferential value (se, df, intervals, p, chance to win, risks) and these codes. The lift
# is kept where both means exist and it is defined (zero variance still has a difference).
PLACEHOLDERS: dict[tuple[str, int, str], tuple[tuple[str, ...], float | None]] = {
    ("zero_conversions", 1, "relative"): (("zero_control_mean", "zero_variance"), None),
    ("zero_conversions", 1, "absolute"): (("zero_variance",), 0.0),
    ("zero_conversions_treatment", 1, "relative"): (("zero_variance",), -1.0),
    ("zero_conversions_treatment", 1, "absolute"): (("zero_variance",), -0.05),
    ("everyone_converted", 1, "relative"): (("zero_variance",), 0.0),
    ("everyone_converted", 1, "absolute"): (("zero_variance",), 0.0),
    ("zero_control_mean", 1, "relative"): (("zero_control_mean",), None),
    ("zero_variance", 1, "relative"): (("zero_variance",), 0.2),
    ("zero_variance", 1, "absolute"): (("zero_variance",), 0.2),
    ("one_person", 1, "relative"): (("too_few_persons",), 0.4),
    ("one_person", 1, "absolute"): (("too_few_persons",), 2.0),
    ("empty_treatment", 1, "relative"): (("too_few_persons",), None),
    ("empty_treatment", 1, "absolute"): (("too_few_persons",), None),
    ("ratio_zero_denominator", 1, "relative"): (("zero_denominator",), None),
    ("ratio_zero_denominator", 1, "absolute"): (("zero_denominator",), None),
    ("srm_zero_weight", 2, "relative"): (("too_few_persons",), None),
    ("srm_zero_weight", 2, "absolute"): (("too_few_persons",), None),
}

# Deliberate differences from gbstats 0.8.0.
DIFFERENCES = {
    # gbstats' t-test refuses an absolute difference when the control mean is 0 (a check
    # meant for the relative lift), and its Bayesian test divides 0 by 0 rescaling even
    # the flat prior. The difference in means is well defined: we answer it, checked
    # against scipy's Welch test below.
    ("zero_control_mean", 1, "absolute"),
}
# gbstats leaves zero-weight variants out of the chi-squared sum but counts them in the
# degrees of freedom; we leave them out of both (checked against scipy's chisquare).
SRM_DIFFERENCES = {"srm_zero_weight"}

# Warnings on comparisons gbstats answers normally.
WARNINGS = {
    "negative_control_mean": {"relative": ("negative_control_mean",), "absolute": ()},
    "cuped_no_pre_variance": {d: ("no_covariate_variance",) for d in ("relative", "absolute")},
}


def statistic(d: dict) -> Statistic:
    kind = d["kind"]
    if kind == "proportion":
        return Proportion(d["n"], d["sum"])
    if kind == "sample_mean":
        return SampleMean(d["n"], d["sum"], d["sum_squares"])
    if kind == "ratio":
        return Ratio(statistic(d["numerator"]), statistic(d["denominator"]), d["sum_of_products"])
    return RegressionAdjusted(statistic(d["post"]), statistic(d["pre"]), d["sum_of_products"])


def run(case: dict, treatment: int, difference: str):
    prior = GaussianPrior(**case["prior"]) if case["prior"] else None
    return compare(
        statistic(case["variants"][0]),
        statistic(case["variants"][treatment]),
        difference=difference,
        alpha=case["alpha"],
        prior=prior,
        inverse=case["inverse"],
    )


def close(ours: float | None, theirs: float | None) -> bool:
    return (
        ours is not None
        and theirs is not None
        and math.isclose(ours, theirs, rel_tol=REL, abs_tol=ABS)
    )


def pairs(ours, freq: dict, bayes: dict, flat_prior: bool) -> dict[str, tuple]:
    """Our field -> (ours, gbstats') for every number gbstats gives."""
    out = {
        "lift": (ours.lift, freq["expected"]),
        "se": (ours.se, freq["se"]),
        "df": (ours.df, freq["dof"]),
        "ci_low": (ours.ci_low, freq["ci"][0]),
        "ci_high": (ours.ci_high, freq["ci"][1]),
        "p_value": (ours.p_value, freq["p_value"]),
        "posterior_mean": (ours.posterior_mean, bayes["expected"]),
        "credible_low": (ours.credible_low, bayes["ci"][0]),
        "credible_high": (ours.credible_high, bayes["ci"][1]),
        "chance_to_win": (ours.chance_to_win, bayes["chance_to_win"]),
        "risk_control": (ours.risk_control, bayes["risk"][0]),
        "risk_treatment": (ours.risk_treatment, bayes["risk"][1]),
    }
    if flat_prior:  # gbstats' Bayesian stddev is the posterior's; ours is the data's se
        out["se (bayesian)"] = (ours.se, bayes["se"])
    if ours.theta is not None:  # gbstats drops to the plain statistic when theta is 0
        out["theta"] = (ours.theta, freq["theta"] if freq["theta"] is not None else 0.0)
    return out


COMPARISONS = [
    pytest.param(name, cmp["treatment"], difference, id=f"{name}-v{cmp['treatment']}-{difference}")
    for name, case in CASES.items()
    for cmp in case["comparisons"]
    for difference in ("relative", "absolute")
    if (name, cmp["treatment"], difference) not in PLACEHOLDERS.keys() | DIFFERENCES
]
INFERENCE = (
    "se", "df", "ci_low", "ci_high", "p_value", "chance_to_win", "credible_low",
    "credible_high", "posterior_mean", "risk_control", "risk_treatment",
)  # fmt: skip


def gbstats_answer(name: str, treatment: int, difference: str) -> tuple[dict, dict]:
    cmp = CASES[name]["comparisons"][treatment - 1]
    return cmp["frequentist"][difference], cmp["bayesian"][difference]


@pytest.mark.parametrize(("name", "treatment", "difference"), COMPARISONS)
def test_comparison_matches_gbstats_when_gbstats_answers(name, treatment, difference):
    freq, bayes = gbstats_answer(name, treatment, difference)
    assert freq["error_message"] is None and bayes["error_message"] is None
    case = CASES[name]
    ours = run(case, treatment, difference)
    wrong = {
        field: pair
        for field, pair in pairs(ours, freq, bayes, case["prior"] is None).items()
        if not close(*pair)
    }
    assert not wrong, f"ours vs gbstats: {wrong}"
    assert ours.warnings == WARNINGS.get(name, {}).get(difference, ())


@pytest.mark.parametrize(
    ("name", "treatment", "difference"),
    [pytest.param(*k, id="-".join(map(str, k))) for k in PLACEHOLDERS],
)
def test_none_and_a_warning_when_gbstats_answers_placeholders(name, treatment, difference):
    freq, bayes = gbstats_answer(name, treatment, difference)
    assert freq["error_message"] and bayes["error_message"]  # the list is gbstats' own
    assert (freq["expected"], freq["ci"], freq["p_value"]) == (0, [0, 0], 1)
    ours = run(CASES[name], treatment, difference)
    codes, lift = PLACEHOLDERS[(name, treatment, difference)]
    assert ours.warnings == codes
    assert all(getattr(ours, field) is None for field in INFERENCE)
    if lift is None:
        assert ours.lift is None
    else:
        assert ours.lift == pytest.approx(lift)


def test_every_gbstats_placeholder_is_listed():
    flagged = {
        (name, cmp["treatment"], d)
        for name, case in CASES.items()
        for cmp in case["comparisons"]
        for d in ("relative", "absolute")
        if cmp["frequentist"][d]["error_message"] or cmp["bayesian"][d].get("error_message")
    }
    assert flagged == set(PLACEHOLDERS) | DIFFERENCES


def test_absolute_difference_is_answered_when_control_mean_is_zero():
    case = CASES["zero_control_mean"]
    freq, bayes = gbstats_answer("zero_control_mean", 1, "absolute")
    assert freq["error_message"] == "ZERO_NEGATIVE_BASELINE_VARIATION"
    assert bayes == {"raised": "ZeroDivisionError"}
    ours = run(case, 1, "absolute")
    c, t = (statistic(v) for v in case["variants"])
    welch = st.ttest_ind_from_stats(
        t.mean, math.sqrt(t.variance), t.n, c.mean, math.sqrt(c.variance), c.n, equal_var=False
    )
    assert ours.warnings == ()
    assert ours.lift == pytest.approx(0.5)
    assert ours.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    assert ours.chance_to_win == pytest.approx(st.norm.cdf(ours.lift / ours.se), rel=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_srm_matches_gbstats(name):
    case = CASES[name]
    counts = [statistic(v).n for v in case["variants"]]
    ours = check_srm(counts, case["weights"])
    if name in SRM_DIFFERENCES:
        kept = [(c, w) for c, w in zip(counts, case["weights"], strict=True) if w > 0]
        total, weight = sum(c for c, _ in kept), sum(w for _, w in kept)
        expected = [w / weight * total for _, w in kept]
        assert ours.p_value == pytest.approx(
            st.chisquare([c for c, _ in kept], expected).pvalue, rel=1e-12
        )
        assert not close(ours.p_value, case["srm_p"])
    else:
        assert close(ours.p_value, case["srm_p"]), (ours.p_value, case["srm_p"])
    assert ours.mismatch == (name in {"srm", "srm_three_variants", "one_person", "empty_treatment"})


def test_reference_file_is_from_gbstats_0_8_0_and_covers_the_brief():
    assert DOC["gbstats"] == "0.8.0"
    kinds = {v["kind"] for c in CASES.values() for v in c["variants"]}
    assert kinds == {"proportion", "sample_mean", "ratio", "regression_adjusted"}
    assert any(len(c["variants"]) == 3 for c in CASES.values())
    sizes = {statistic(v).n for c in CASES.values() for v in c["variants"]}
    assert {5, 10_000_000} <= sizes
