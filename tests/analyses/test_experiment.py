"""The experiment readout from sufficient statistics: verdicts for each situation (a clear
winner, a clear loser, no clear difference, a sample-ratio mismatch, nobody exposed, one
variant), degenerate inputs (a variant with nobody, no variance) answered with empty values
and warnings, A/B/n with corrected p-values, numbers equal to `stats` on the same sums;
golden SQL; refusals."""

from __future__ import annotations

from datetime import date

import pytest

from sextant import stats
from sextant.analyses.experiment import ExperimentQuery, resolve
from sextant.catalog import load_catalog
from sextant.errors import InvalidInput
from sextant.experiments.readout import compose
from tests.analyses import reference_activity as ref

TODAY = date(2024, 11, 15)
DAY1, DAY2 = date(2024, 3, 4), date(2024, 3, 5)
METRIC = {"name": "bought", "label": "Purchase", "type": "conversion", "event": "purchase"}


def query(**options) -> ExperimentQuery:
    body = {"from": "2024-03-04", "to": "2024-03-24", "experiment": "x", "metrics": [METRIC]}
    return resolve(ExperimentQuery.parse(body | options, today=TODAY), load_catalog())


def day(variant: str, when: date, n: int, converted: int) -> dict:
    return {
        "variant": variant,
        "day": when,
        "n": n,
        "post_sum": converted,
        "post_squares": converted,
        "den_sum": 0,
        "den_squares": 0,
        "post_den": 0,
        "pre_sum": 0,
        "pre_squares": 0,
        "post_pre": 0,
    }


def readout(groups: dict[str, tuple[int, int]], excluded: int = 0, **options) -> dict:
    """`groups`: variant -> (persons, converted), split over two exposure days."""
    rows = [
        day(v, d, n // 2 + (n % 2 if d == DAY2 else 0), c // 2 + (c % 2 if d == DAY2 else 0))
        for v, (n, c) in groups.items()
        for d in (DAY1, DAY2)
    ]
    exposures = [{"variant": v, "persons": n} for v, (n, _) in groups.items()]
    if excluded:
        exposures.append({"variant": None, "persons": excluded})
    return compose(query(**options), {"exposures": exposures, "metric_0": rows}, TODAY)


def test_clear_winner_gets_a_ship_verdict_with_lift_interval_and_persons():
    result = readout({"control": (4000, 400), "test": (4000, 480)})
    verdict = result["verdict"]
    assert verdict["decision"] == "ship" and verdict["variant"] == "test"
    test = result["metrics"][0]["variants"][1]
    want = stats.compare(stats.Proportion(4000, 400), stats.Proportion(4000, 480))
    assert test["lift"] == pytest.approx(want.lift) and test["p_value"] == pytest.approx(
        want.p_value
    )
    assert verdict["text"] == (
        f"test is better: +20.0% purchase, 95% CI {want.ci_low * 100:+.1f}% to "
        f"{want.ci_high * 100:+.1f}%, 8,000 persons."
    )


def test_clear_loser_keeps_control():
    result = readout({"control": (4000, 480), "test": (4000, 400)})
    assert result["verdict"]["decision"] == "keep_control"
    assert result["verdict"]["text"].startswith("test is worse: -16.7% purchase")


def test_no_clear_difference_says_what_the_sample_can_detect():
    result = readout({"control": (1000, 100), "test": (1000, 104)})
    verdict = result["verdict"]
    assert verdict["decision"] == "keep_running"
    assert "No clear difference yet" in verdict["text"] and "would show" in verdict["text"]
    power = result["metrics"][0]["power"]
    want = stats.minimum_detectable_effect(0.1, 0.09, 1000)
    assert power["mde"] == pytest.approx(want.effect)
    assert (
        power["needed_per_variant"] == stats.sample_size_per_variant(0.05, 0.1, 0.09).n_per_variant
    )


def test_sample_ratio_mismatch_comes_first_in_plain_words():
    result = readout({"control": (5000, 500), "test": (5600, 600)})
    assert result["srm"]["mismatch"] and result["srm"]["p_value"] < 0.001
    assert result["verdict"]["decision"] == "check_data"
    assert result["warnings"][0]["code"] == "sample_ratio_mismatch"


def test_persons_in_two_variants_are_counted_in_a_warning():
    result = readout({"control": (100, 10), "test": (100, 12)}, excluded=7)
    assert result["excluded"] == 7
    assert any(
        w["code"] == "multiple_variants" and "7 persons" in w["message"] for w in result["warnings"]
    )


def test_nobody_exposed_is_an_empty_readout_with_a_reason():
    result = compose(query(), {"exposures": [], "metric_0": []}, TODAY)
    assert result["empty"] and result["verdict"]["decision"] == "no_data"
    assert "No one has been exposed" in result["verdict"]["text"]


def test_a_configured_variant_with_nobody_gets_empty_values_not_zeros():
    result = readout(
        {"control": (500, 50), "test": (500, 60)},
        variants=[{"key": "control"}, {"key": "test"}, {"key": "other"}],
    )
    assert [v["key"] for v in result["variants"]] == ["control", "other", "test"]
    assert result["variants"][1]["persons"] == 0
    metric_variants = [v["key"] for v in result["metrics"][0]["variants"]]
    assert "other" not in metric_variants  # no statistics at all, so no made-up numbers


def test_zero_variance_gives_none_and_a_warning():
    result = readout({"control": (500, 0), "test": (500, 0)})
    test = result["metrics"][0]["variants"][1]
    assert test["ci_low"] is None and test["p_value"] is None
    assert "zero_control_mean" in test["warnings"] or "zero_variance" in test["warnings"]
    assert result["verdict"]["decision"] == "keep_running"


def test_one_variant_seen_is_said_so_and_not_compared():
    result = readout({"control": (500, 50)})
    assert result["srm"] is None
    assert result["warnings"][0]["code"] == "one_variant"
    assert result["verdict"]["decision"] == "keep_running"


@pytest.mark.parametrize(
    ("correction", "adjust"), [("holm", stats.holm_bonferroni), ("bh", stats.benjamini_hochberg)]
)
def test_several_treatments_get_corrected_p_values(correction, adjust):
    groups = {"control": (3000, 300), "b": (3000, 345), "c": (3000, 330)}
    result = readout(groups, correction=correction)
    rows = result["metrics"][0]["variants"][1:]
    assert [r["p_adjusted"] for r in rows] == pytest.approx(
        list(adjust([r["p_value"] for r in rows]))
    )
    uncorrected = readout(groups, correction="none")["metrics"][0]["variants"][1:]
    assert [r["p_adjusted"] for r in uncorrected] == [r["p_value"] for r in uncorrected]


def test_cumulative_lift_ends_at_the_whole_readout():
    result = readout({"control": (4000, 400), "test": (4000, 480)})
    metric = result["metrics"][0]
    last = metric["cumulative"][-1]
    assert last["day"] == DAY2 and last["persons"] == 8000
    assert last["lift"] == pytest.approx(metric["variants"][1]["lift"])
    first = metric["cumulative"][0]
    assert first["persons"] == 4000


def test_definitions_fill_a_readout_by_name():
    resolved = resolve(
        ExperimentQuery.parse({"range": "last_30_days", "experiment": "onboarding-checklist"}),
        load_catalog(),
    )
    assert resolved.metrics[0].name == "activation" and resolved.control == "control"
    default = resolve(
        ExperimentQuery.parse({"range": "last_30_days", "experiment": "other"}), load_catalog()
    )
    assert [m.name for m in default.metrics] == ["active_week_1", "active_week_2"]


def test_bad_metrics_and_breakdowns_are_refused_with_their_field():
    with pytest.raises(InvalidInput) as caught:
        ExperimentQuery.parse(
            {
                "range": "last_30_days",
                "experiment": "x",
                "metrics": [{"name": "m", "type": "sum", "event": "purchase"}],
            }
        )
    assert "a sum metric needs property" in caught.value.message


CASES = {
    "defined": {"from": "2024-03-04", "to": "2024-03-24", "experiment": "onboarding-checklist"},
    "every_type": {
        "from": "2024-03-04",
        "to": "2024-03-24",
        "experiment": "checkout-test",
        "timezone": "Europe/Paris",
        "metrics": [
            METRIC | {"window_days": 3, "where": ["properties.amount > 1"]},
            {
                "name": "per_order",
                "type": "ratio",
                "event": "purchase",
                "property": "amount",
                "denominator": "purchase",
            },
            {"name": "back", "type": "retention", "week": 2, "cuped": False},
        ],
    },
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dialect", ["duckdb", "clickhouse"])
def test_sql_matches_golden_file_when_compiled(case, dialect, golden):
    text = ref.golden_sql("experiment", case, CASES[case], dialect)
    golden.check(f"analyses/experiment/{case}.{dialect}.sql", text)
