"""Writes `tests/stats/gbstats_cases.json`: per-variant sufficient statistics and what
GrowthBook's stats engine, gbstats 0.8.0, answers for them (frequentist `TwoSidedTTest` and
Bayesian `EffectBayesianABTest`, relative and absolute; `check_srm`).

gbstats pins numpy<2 and pandas<2, so it runs in a venv of its own, never Sextant's:

    python3.11 -m venv /tmp/gbvenv
    /tmp/gbvenv/bin/pip install gbstats==0.8.0
    /tmp/gbvenv/bin/python tests/stats/gbstats_reference.py

The inputs are fixed and the file is written with sorted keys, so a rerun gives the same
bytes; read the diff before committing it. gbstats 0.8.0 has no power or multiple-testing
functions (those are checked against closed forms in `test_against_scipy.py`).
gbstats is imported inside `main()` so that pytest's doctest collection can import this
module in Sextant's venv.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("gbstats_cases.json")


# Sufficient statistics, built from a mean, a standard deviation and a correlation so that
# the sums are consistent (sum_squares >= sum**2 / n); rounded to keep the JSON readable.
def proportion(n: int, conversions: int) -> dict:
    return {"kind": "proportion", "n": n, "sum": conversions}


def sample_mean(n: int, mean: float, sd: float) -> dict:
    total = n * mean
    squares = (n - 1) * sd**2 + total**2 / n if n else 0.0
    return {"kind": "sample_mean", "n": n, "sum": round(total, 4), "sum_squares": round(squares, 4)}


def from_values(values: list[float]) -> dict:
    return {
        "kind": "sample_mean",
        "n": len(values),
        "sum": sum(values),
        "sum_squares": sum(v * v for v in values),
    }


def _products(a: dict, b: dict, sd_a: float, sd_b: float, corr: float) -> float:
    n = a["n"]
    return round((n - 1) * corr * sd_a * sd_b + a["sum"] * b["sum"] / n, 4)


def ratio(n: int, num: tuple[float, float], den: tuple[float, float], corr: float) -> dict:
    a, b = sample_mean(n, *num), sample_mean(n, *den)
    sop = _products(a, b, num[1], den[1], corr)
    return {"kind": "ratio", "numerator": a, "denominator": b, "sum_of_products": sop}


def cuped(n: int, post: tuple[float, float], pre: tuple[float, float], corr: float) -> dict:
    a, b = sample_mean(n, *post), sample_mean(n, *pre)
    sop = _products(a, b, post[1], pre[1], corr)
    return {"kind": "regression_adjusted", "post": a, "pre": b, "sum_of_products": sop}


def cuped_binomial(n: int, post: int, pre: int, both: int) -> dict:
    return {
        "kind": "regression_adjusted",
        "post": proportion(n, post),
        "pre": proportion(n, pre),
        "sum_of_products": both,
    }


def case(name: str, about: str, variants: list[dict], **options: Any) -> dict:
    weights = options.pop("weights", [1] * len(variants))
    return {"name": name, "about": about, "variants": variants, "weights": weights} | {
        "alpha": 0.05,
        "prior": None,
        "inverse": False,
        **options,
    }


CASES = [
    case(
        "binomial",
        "conversion, two variants",
        [proportion(10_000, 1_000), proportion(10_100, 1_090)],
    ),
    case(
        "continuous",
        "revenue per person, two variants",
        [sample_mean(5_000, 25.0, 40.0), sample_mean(5_050, 26.5, 41.0)],
    ),
    case(
        "ratio",
        "revenue per order (delta method with covariance)",
        [
            ratio(4_000, (30.0, 50.0), (1.2, 0.9), 0.7),
            ratio(4_100, (32.0, 52.0), (1.22, 0.92), 0.7),
        ],
    ),
    case(
        "ratio_binomial_denominator",
        "revenue per converted person: a 0/1 denominator",
        [
            {
                "kind": "ratio",
                "numerator": sample_mean(8_000, 12.0, 40.0),
                "denominator": proportion(8_000, 2_000),
                "sum_of_products": 96_000.0,
            },
            {
                "kind": "ratio",
                "numerator": sample_mean(8_050, 13.0, 42.0),
                "denominator": proportion(8_050, 2_050),
                "sum_of_products": 104_650.0,
            },
        ],
    ),
    case(
        "cuped",
        "revenue with the pre-exposure revenue as covariate (CUPED)",
        [
            cuped(5_000, (25.0, 40.0), (24.0, 38.0), 0.6),
            cuped(5_050, (26.0, 41.0), (24.2, 38.5), 0.6),
        ],
    ),
    case(
        "cuped_binomial",
        "conversion with pre-exposure conversion as covariate",
        [cuped_binomial(10_000, 1_000, 900, 500), cuped_binomial(10_000, 1_080, 910, 520)],
    ),
    case(
        "cuped_no_pre_variance",
        "CUPED where no one has pre-exposure data: theta 0, plain test",
        [
            {
                "kind": "regression_adjusted",
                "post": sample_mean(3_000, 5.0, 9.0),
                "pre": sample_mean(3_000, 0.0, 0.0),
                "sum_of_products": 0.0,
            },
            {
                "kind": "regression_adjusted",
                "post": sample_mean(3_000, 5.4, 9.5),
                "pre": sample_mean(3_000, 0.0, 0.0),
                "sum_of_products": 0.0,
            },
        ],
    ),
    case(
        "three_variants_binomial",
        "A/B/C conversion, each treatment against control",
        [proportion(10_000, 1_000), proportion(10_050, 1_040), proportion(9_980, 1_100)],
    ),
    case(
        "three_variants_continuous",
        "A/B/C revenue, weights 50/25/25",
        [
            sample_mean(20_000, 25.0, 40.0),
            sample_mean(10_100, 24.0, 39.0),
            sample_mean(9_950, 27.0, 44.0),
        ],
        weights=[0.5, 0.25, 0.25],
    ),
    case(
        "three_variants_cuped",
        "A/B/C with CUPED: theta is pooled per pair, so it differs per treatment",
        [
            cuped(5_000, (25.0, 40.0), (24.0, 38.0), 0.6),
            cuped(5_000, (26.0, 41.0), (24.2, 38.5), 0.5),
            cuped(5_000, (24.0, 39.0), (23.8, 37.0), 0.7),
        ],
    ),
    case(
        "tiny_continuous",
        "five persons per variant",
        [from_values([0.0, 10.0, 25.0, 5.0, 0.0]), from_values([12.0, 0.0, 30.0, 8.0, 20.0])],
    ),
    case("tiny_binomial", "five persons per variant", [proportion(5, 1), proportion(5, 3)]),
    case(
        "huge_binomial",
        "ten million persons per variant",
        [proportion(10_000_000, 500_000), proportion(10_000_000, 502_000)],
    ),
    case(
        "huge_continuous",
        "ten million persons per variant",
        [sample_mean(10_000_000, 25.0, 40.0), sample_mean(10_000_000, 25.05, 40.0)],
    ),
    case(
        "huge_clear_effect",
        "ten million persons, a lift so clear that p underflows",
        [proportion(10_000_000, 500_000), proportion(10_000_000, 520_000)],
    ),
    case(
        "large_small_p",
        "p around 1e-12, where 1 - cdf loses digits",
        [proportion(200_000, 20_000), proportion(200_000, 21_500)],
    ),
    case(
        "zero_conversions",
        "nobody converted in either variant",
        [proportion(1_000, 0), proportion(1_000, 0)],
    ),
    case(
        "zero_conversions_treatment",
        "nobody converted in the treatment",
        [proportion(1_000, 50), proportion(1_000, 0)],
    ),
    case(
        "everyone_converted",
        "everyone converted in both: no variance",
        [proportion(100, 100), proportion(100, 100)],
    ),
    case(
        "identical_binomial",
        "identical variants",
        [proportion(5_000, 600), proportion(5_000, 600)],
    ),
    case(
        "identical_continuous",
        "identical variants",
        [sample_mean(3_000, 10.0, 5.0), sample_mean(3_000, 10.0, 5.0)],
    ),
    case(
        "srm",
        "sample-ratio mismatch: 10,000 vs 10,600 on a 50/50 split",
        [proportion(10_000, 1_000), proportion(10_600, 1_100)],
    ),
    case(
        "srm_three_variants",
        "sample-ratio mismatch on a 40/30/30 split",
        [proportion(8_000, 800), proportion(6_300, 640), proportion(5_700, 560)],
        weights=[0.4, 0.3, 0.3],
    ),
    case(
        "zero_control_mean",
        "net revenue whose control mean is exactly 0 (refunds balance sales)",
        [
            {"kind": "sample_mean", "n": 1_000, "sum": 0.0, "sum_squares": 50_000.0},
            {"kind": "sample_mean", "n": 1_000, "sum": 500.0, "sum_squares": 60_000.0},
        ],
    ),
    case(
        "zero_variance",
        "every control person has exactly one order",
        [
            {"kind": "sample_mean", "n": 100, "sum": 100.0, "sum_squares": 100.0},
            {"kind": "sample_mean", "n": 100, "sum": 120.0, "sum_squares": 160.0},
        ],
    ),
    case(
        "one_person",
        "a treatment with a single person",
        [sample_mean(100, 5.0, 3.0), from_values([7.0])],
    ),
    case(
        "empty_treatment",
        "a treatment nobody was exposed to",
        [sample_mean(100, 5.0, 3.0), from_values([])],
    ),
    case(
        "ratio_zero_denominator",
        "a ratio whose control denominator sums to 0 (no orders)",
        [
            {
                "kind": "ratio",
                "numerator": from_values([0.0, 0.0, 0.0]),
                "denominator": from_values([0.0, 0.0, 0.0]),
                "sum_of_products": 0.0,
            },
            ratio(3, (30.0, 5.0), (1.0, 0.5), 0.5),
        ],
    ),
    case(
        "negative_control_mean",
        "profit per person below zero in control",
        [sample_mean(2_000, -3.0, 10.0), sample_mean(2_000, -2.5, 10.0)],
    ),
    case(
        "proper_prior",
        "Bayesian with GrowthBook's proper prior (mean 0, stddev 0.1)",
        [proportion(2_000, 200), proportion(2_000, 240)],
        prior={"mean": 0.0, "stddev": 0.1},
    ),
    case(
        "proper_prior_shifted",
        "Bayesian with a proper prior centred on +2 %",
        [sample_mean(800, 25.0, 40.0), sample_mean(820, 27.0, 41.0)],
        prior={"mean": 0.02, "stddev": 0.05},
    ),
    case(
        "inverse",
        "a metric where lower is better (page load seconds)",
        [sample_mean(4_000, 2.5, 1.5), sample_mean(4_000, 2.4, 1.5)],
        inverse=True,
    ),
    case(
        "alpha_10",
        "90 % intervals",
        [proportion(10_000, 1_000), proportion(10_100, 1_090)],
        alpha=0.1,
    ),
    case(
        "srm_zero_weight",
        "a variant switched off (weight 0) and empty",
        [proportion(5_000, 500), proportion(5_100, 520), proportion(0, 0)],
        weights=[0.5, 0.5, 0.0],
    ),
]


def _number(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite gbstats output {x}")
    return x


def main() -> None:
    from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
    from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
    from gbstats.models.statistics import (
        ProportionStatistic,
        RatioStatistic,
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
    )
    from gbstats.utils import check_srm

    def statistic(d: dict):  # a fresh object each time: gbstats sets theta in place
        kind = d["kind"]
        if kind == "proportion":
            return ProportionStatistic(n=d["n"], sum=d["sum"])
        if kind == "sample_mean":
            return SampleMeanStatistic(n=d["n"], sum=d["sum"], sum_squares=d["sum_squares"])
        if kind == "ratio":
            return RatioStatistic(
                n=d["numerator"]["n"],
                m_statistic=statistic(d["numerator"]),
                d_statistic=statistic(d["denominator"]),
                m_d_sum_of_products=d["sum_of_products"],
            )
        return RegressionAdjustedStatistic(
            n=d["post"]["n"],
            post_statistic=statistic(d["post"]),
            pre_statistic=statistic(d["pre"]),
            post_pre_sum_of_products=d["sum_of_products"],
            theta=0,
        )

    def theta_of(test) -> float | None:
        return _number(getattr(test.stat_a, "theta", None))

    def frequentist(c: dict, control: dict, treatment: dict, difference: str) -> dict:
        config = FrequentistConfig(alpha=c["alpha"], difference_type=difference)
        test = TwoSidedTTest(statistic(control), statistic(treatment), config)
        res = test.compute_result()
        ok = res.error_message is None
        return {
            "expected": _number(res.expected),
            "ci": [_number(x) for x in res.ci],
            "p_value": _number(res.p_value),
            "se": _number(res.uplift.stddev),
            "dof": _number(test.dof) if ok else None,
            "theta": theta_of(test),
            "error_message": res.error_message,
        }

    def bayesian(c: dict, control: dict, treatment: dict, difference: str) -> dict:
        prior = c["prior"]
        effect = (
            GaussianPrior(mean=prior["mean"], variance=prior["stddev"] ** 2, proper=True)
            if prior
            else GaussianPrior()  # proper=False: flat, GrowthBook's default
        )
        config = EffectBayesianConfig(
            alpha=c["alpha"],
            difference_type=difference,
            inverse=c["inverse"],
            prior_effect=effect,
            prior_type="relative",
        )
        test = EffectBayesianABTest(statistic(control), statistic(treatment), config)
        try:
            res = test.compute_result()
        except ZeroDivisionError:  # flat prior, absolute, control mean 0: 0 / 0 in gbstats
            return {"raised": "ZeroDivisionError"}
        return {
            "expected": _number(res.expected),
            "ci": [_number(x) for x in res.ci],
            "chance_to_win": _number(res.chance_to_win),
            "risk": [_number(x) for x in res.risk],
            "se": _number(res.uplift.stddev),
            "error_message": res.error_message,
        }

    out = []
    for c in CASES:
        control = c["variants"][0]
        comparisons = []
        for i, treatment in enumerate(c["variants"][1:], start=1):
            comparisons.append(
                {
                    "treatment": i,
                    "frequentist": {
                        d: frequentist(c, control, treatment, d) for d in ("relative", "absolute")
                    },
                    "bayesian": {
                        d: bayesian(c, control, treatment, d) for d in ("relative", "absolute")
                    },
                }
            )
        counts = [
            v["n"] if "n" in v else (v.get("numerator") or v["post"])["n"] for v in c["variants"]
        ]
        out.append(
            c | {"comparisons": comparisons, "srm_p": _number(check_srm(counts, c["weights"]))}
        )
    doc = {
        "generator": "tests/stats/gbstats_reference.py",
        "gbstats": importlib.metadata.version("gbstats"),
        "cases": out,
    }
    OUT.write_text(json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main()
