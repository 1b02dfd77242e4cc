"""The metric catalog: built-in definitions, user overrides, and every load error path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sextant.catalog import METRIC_TYPES, load_catalog
from sextant.catalog.models import ActiveUsersMetric, ConversionMetric, RatioMetric
from sextant.errors import InvalidInput, NotFound

BUILTIN_OWNERS = {"product", "growth", "commerce"}
UNITS = {"persons", "tenants", "sessions", "orders", "count", "ratio", "seconds", "currency"}
REQUIRED = {
    "dau", "wau", "mau", "stickiness", "signups", "activation_rate", "active_tenants",
    "retention_m1", "sessions", "session_duration_avg", "session_duration_p50",
    "session_duration_p95", "bounce_rate", "feature_adoption", "power_users", "north_star",
    "orders", "revenue", "aov", "refunds",
}  # fmt: skip
GOOD = """\
  - name: {name}
    label: Custom
    description: A custom metric with a description long enough.
    owner: data
    unit: persons
    type: count
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(directory: Path) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        load_catalog(directory)
    assert info.value.code == "catalog_invalid"
    return info.value


def only_problem(error: InvalidInput, code: str):
    matching = [p for p in error.problems if p.code == code]
    assert len(matching) == 1, error.message
    return matching[0]


def test_builtin_catalog_loads_with_every_required_metric():
    catalog = load_catalog()
    assert set(catalog.metrics) >= REQUIRED
    assert {"tenant", "plan", "country", "channel", "segment", "device", "path"} <= set(
        catalog.dimensions
    )


def test_builtin_metrics_have_description_known_owner_and_unit():
    for metric in load_catalog().metrics.values():
        assert len(metric.description) > 60, metric.name
        assert metric.owner in BUILTIN_OWNERS, metric.name
        assert metric.unit in UNITS, metric.name
        assert metric.type in METRIC_TYPES


def test_builtin_references_resolve_in_compile_order():
    catalog = load_catalog()
    assert catalog.problems() == []
    assert catalog.dependencies("aov") == ("revenue", "orders")
    assert catalog.dependencies("bounce_rate") == ("bounced_sessions", "sessions")
    assert isinstance(catalog.metric("stickiness"), RatioMetric)


def test_builtin_definitions_follow_semantics():
    catalog = load_catalog()
    windows = {n: catalog.metric(n).window_days for n in ("dau", "wau", "mau")}
    assert windows == {"dau": 1, "wau": 7, "mau": 30}
    assert all(catalog.metric(n).window == "rolling" for n in windows)
    activation = catalog.metric("activation_rate")
    assert isinstance(activation, ConversionMetric)
    assert activation.start.events == ("signed_up",)
    assert activation.target.events == ("page_created",)
    assert activation.within_days == 7
    north = catalog.metric("north_star")
    assert isinstance(north, ActiveUsersMetric)
    assert (north.of, north.event_flag, north.min_persons, north.window_days) == (
        "tenant_id", "collaboration", 2, 7,
    )  # fmt: skip
    flags = catalog.event_flags
    assert not flags.is_active("$pageleave") and not flags.is_active("$feature_flag_called")
    assert flags.is_active("$pageview") and flags.is_active("signed_up")
    assert flags.flagged("collaboration") == ("comment_added", "member_invited", "page_shared")
    assert "page_edited" in flags.flagged("feature")


def test_metric_parameters_are_set_per_query_when_declared():
    power = load_catalog().metric("power_users")
    assert power.with_parameters({"min_days": 20}).min_days == 20
    with pytest.raises(InvalidInput) as info:
        power.with_parameters({"window_days": 3})
    assert info.value.code == "metric_parameter_unknown"
    with pytest.raises(InvalidInput) as info:
        power.with_parameters({"min_days": 40})
    assert info.value.code == "metric_parameter_invalid"


def test_user_dir_adds_and_overrides_when_names_match(tmp_path):
    write(tmp_path, "extra.yaml", "metrics:\n" + GOOD.format(name="my_metric"))
    override = write(tmp_path, "dau.yaml", "metrics:\n" + GOOD.format(name="dau"))
    catalog = load_catalog(tmp_path)
    assert catalog.metric("my_metric").owner == "data"
    assert catalog.metric("dau").type == "count"
    assert catalog.origin("metric", "dau").file == str(override)
    assert catalog.origin("metric", "dau").line == 1 + 1
    assert catalog.metric("wau").type == "active_users"


def test_user_dir_overrides_event_flags_and_adds_dimensions(tmp_path):
    write(
        tmp_path,
        "more.yaml",
        """\
        events:
          page_created: [feature]
        dimensions:
          - name: os
            label: Operating system
            description: Operating system from the SDK.
            source: properties.$os
        """,
    )
    catalog = load_catalog(tmp_path)
    assert "page_created" in catalog.event_flags.flagged("feature")
    assert catalog.dimension("os").parsed_source.path == ("$os",)


def test_yaml_syntax_error_reports_file_and_line(tmp_path):
    path = write(tmp_path, "broken.yaml", "metrics:\n  - name: x\n    label: [unclosed\n")
    problem = only_problem(load_error(tmp_path), "catalog_yaml_syntax")
    assert str(path) in problem.message
    assert "line 4" in problem.message or "line 3" in problem.message


def test_unknown_type_reports_file_line_field_and_choices(tmp_path):
    text = "metrics:\n" + GOOD.format(name="dau").replace("type: count", "type: cnt")
    path = write(tmp_path, "metrics.yaml", text)
    problem = only_problem(load_error(tmp_path), "catalog_unknown_type")
    assert f"{path} line 7, metric 'dau', field 'type': unknown type 'cnt'" in problem.message
    assert "expected one of count, count_distinct" in problem.message
    assert problem.field == "metrics.dau.type"


def test_missing_required_field_reports_what_is_expected(tmp_path):
    text = "metrics:\n" + GOOD.format(name="x").replace("type: count", "type: active_users")
    path = write(tmp_path, "m.yaml", text)
    problem = only_problem(load_error(tmp_path), "catalog_missing_field")
    assert f"{path} line 2, metric 'x', field 'window_days': missing required field" in (
        problem.message
    )
    assert "expected days in the window" in problem.message


@pytest.mark.parametrize(
    ("expression", "code"),
    [
        ("SELECT 1", "catalog_filter_not_predicate"),
        ("plan", "catalog_filter_not_predicate"),
        ("DROP TABLE x", "catalog_filter_not_predicate"),
        ("lower(plan)", "catalog_filter_not_predicate"),
        ("a = 1; b = 2", "catalog_sql_several_statements"),
        ("plan = (SELECT max(plan) FROM events)", "catalog_filter_subquery"),
        ("count(*) > 1", "catalog_filter_aggregate"),
        ("plan =", "catalog_sql_syntax"),
    ],
)
def test_filter_is_refused_when_not_a_predicate(tmp_path, expression, code):
    text = "metrics:\n" + GOOD.format(name="x") + f'    filter: "{expression}"\n'
    path = write(tmp_path, "f.yaml", text)
    problem = only_problem(load_error(tmp_path), code)
    assert f"{path} line 8, metric 'x', field 'filter'" in problem.message
    assert problem.field == "metrics.x.filter"


def test_filter_naming_an_unknown_column_is_refused(tmp_path):
    text = "metrics:\n" + GOOD.format(name="x") + "    filter: \"plann = 'free'\"\n"
    write(tmp_path, "f.yaml", text)
    problem = only_problem(load_error(tmp_path), "catalog_unknown_column")
    assert "has no column 'plann'" in problem.message


def test_unknown_referenced_metric_is_reported_with_close_name(tmp_path):
    path = write(
        tmp_path,
        "r.yaml",
        """\
        metrics:
          - name: dau_per_signup
            label: DAU per sign-up
            description: Daily active users per sign-up, for a quick look.
            owner: data
            unit: ratio
            type: ratio
            numerator: daux
            denominator: signups
        """,
    )
    problem = only_problem(load_error(tmp_path), "catalog_unknown_metric")
    assert f"{path} line 2, metric 'dau_per_signup'" in problem.message
    assert "unknown metric 'daux' (did you mean 'dau'?)" in problem.message
    assert problem.field == "metrics.dau_per_signup.numerator/denominator"


def test_cycle_in_derived_metrics_reports_the_path(tmp_path):
    entry = (
        "  - name: {name}\n"
        "    label: Cyclic\n"
        "    description: A derived metric that refers to another one.\n"
        "    owner: data\n"
        "    unit: count\n"
        "    type: derived\n"
        "    expression: {other} * 2\n"
    )
    text = "metrics:\n" + entry.format(name="a", other="b") + entry.format(name="b", other="a")
    path = write(tmp_path, "c.yaml", text)
    problem = only_problem(load_error(tmp_path), "catalog_metric_cycle")
    assert f"{path} line 2, metric 'a', field 'references'" in problem.message
    assert "a -> b -> a" in problem.message


def test_duplicate_name_in_one_file_reports_both_lines(tmp_path):
    text = "metrics:\n" + GOOD.format(name="x") + GOOD.format(name="x")
    path = write(tmp_path, "d.yaml", text)
    problem = only_problem(load_error(tmp_path), "catalog_duplicate_name")
    assert f"{path} line 8, metric 'x', field 'name'" in problem.message
    assert "already defined at line 2" in problem.message


def test_every_problem_is_reported_at_once(tmp_path):
    write(tmp_path, "a.yaml", "metrics:\n" + GOOD.format(name="x").replace("count", "cnt"))
    write(tmp_path, "b.yaml", "metrics:\n" + GOOD.format(name="y") + "    filter: plan\n")
    codes = {p.code for p in load_error(tmp_path).problems}
    assert codes == {"catalog_unknown_type", "catalog_filter_not_predicate"}


def test_unknown_field_suggests_the_close_one(tmp_path):
    write(tmp_path, "u.yaml", "metrics:\n" + GOOD.format(name="x") + "    fliter: plan = 'a'\n")
    problem = only_problem(load_error(tmp_path), "catalog_unknown_field")
    assert "field 'fliter': unknown field (did you mean 'filter'?)" in problem.message


def test_missing_user_dir_is_refused(tmp_path):
    with pytest.raises(InvalidInput) as info:
        load_catalog(tmp_path / "nope")
    assert info.value.code == "catalog_dir_missing"


def test_lookup_of_unknown_metric_suggests_close_name():
    with pytest.raises(NotFound) as info:
        load_catalog().metric("daus")
    assert info.value.code == "unknown_metric"
    assert "did you mean 'dau'" in info.value.message


def test_dimension_lookup_by_alias_and_property_path():
    catalog = load_catalog()
    assert catalog.dimension("source").name == "channel"
    assert catalog.dimension("person.properties.role").parsed_source.entity == "person"
    with pytest.raises(NotFound) as info:
        catalog.dimension("countyr")
    assert "did you mean 'country'" in info.value.message
