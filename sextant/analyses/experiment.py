"""Experiment readout: for one experiment (its exposure key), each variant's exposed persons
and, for each metric, the value, relative lift against control with its confidence interval
and p-value, the chance to beat control, CUPED-adjusted where a pre-exposure value helps,
sample-ratio mismatch, power, cumulative lift by exposure day and a verdict in plain words.
Rules in SEMANTICS: Experiments; the SQL in `experiment_sql.py` (sufficient statistics
only); the statistics in `stats/`; the wording in `experiments/readout.py`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from sextant.analyses.base import AnalysisQuery, Facts, Rows, Statements, unknown_event
from sextant.analyses.experiment_sql import exposures, statistics
from sextant.analyses.registry import analysis
from sextant.catalog.definitions import Catalog
from sextant.catalog.rows import Context
from sextant.errors import Problem
from sextant.experiments.definitions import (
    DEFAULT_METRICS,
    MAX_METRICS,
    ExperimentMetric,
    Variant,
    definitions,
)
from sextant.experiments.readout import compose


@analysis(
    "experiment",
    label="Experiment readout",
    summary="For each variant of an experiment: exposed persons and each metric from first "
    "exposure, with the lift against control, its 95% interval, p-value and chance to win.",
    noun="exposed persons",
)
class ExperimentQuery(AnalysisQuery):
    experiment: str = Field(min_length=1, description="the experiment's name or exposure key")
    flag: str | None = Field(default=None, description="the exposure key, if not the name")
    variants: tuple[Variant, ...] = Field(
        default=(), description="variant keys and intended weights (default: those seen, equal)"
    )
    control: str | None = Field(default=None, description="default: 'control', else the first")
    metrics: tuple[ExperimentMetric, ...] = Field(
        default=(), description="the primary metric first, then guardrails (default: defined)"
    )
    correction: Literal["holm", "bh", "none"] = Field(
        default="holm",
        description="multiple-comparison correction of p-values with several treatments: "
        "Holm-Bonferroni, Benjamini-Hochberg or none",
    )
    pre_days: int = Field(
        default=14, ge=1, le=90, description="days before exposure for the CUPED covariate"
    )
    effect: float = Field(
        default=0.05, gt=0, le=10, description="relative effect the power calculator sizes for"
    )

    @property
    def key(self) -> str:
        return self.flag or self.experiment


def resolve(query: ExperimentQuery, catalog: Catalog | None) -> ExperimentQuery:
    """The query with its definition's flag, variants, control and metrics where it leaves
    them out; an experiment defined nowhere gets the default metrics."""
    found = definitions(catalog).get(query.experiment)
    update = {}
    if found is not None:
        update = {
            "flag": query.flag or found.flag,
            "variants": query.variants or found.variants,
            "control": query.control or found.control,
            "metrics": query.metrics or found.metrics,
        }
    if not (update.get("metrics") or query.metrics):
        update["metrics"] = DEFAULT_METRICS
    return query.model_copy(update=update)


def validate(query: ExperimentQuery, facts: Facts) -> list[Problem]:
    problems = []
    if query.breakdown:
        problems.append(
            Problem(
                "experiment_breakdown_unsupported",
                "breakdown: an experiment readout compares variants; filter with where or "
                "tenants to read a segment",
                "breakdown",
            )
        )
    if len(query.metrics) > MAX_METRICS:
        problems.append(
            Problem("experiment_too_many_metrics", f"metrics: at most {MAX_METRICS}", "metrics")
        )
    names = [m.name for m in query.metrics]
    if len(set(names)) != len(names):
        problems.append(
            Problem("experiment_metric_twice", "metrics: a name is used twice", "metrics")
        )
    keys = [v.key for v in query.variants]
    if query.control is not None and keys and query.control not in keys:
        problems.append(
            Problem(
                "experiment_control_unknown",
                f"control: {query.control!r} is not one of the variants {', '.join(keys)}",
                "control",
            )
        )
    for i, metric in enumerate(query.metrics):
        for attr in ("event", "denominator"):
            name = getattr(metric, attr)
            if name is not None and (found := unknown_event(name, f"metrics.{i}.{attr}", facts)):
                problems.append(found)
    return problems


def build(ctx: Context) -> Statements:
    query: ExperimentQuery = ctx.query  # type: ignore[assignment]
    statements = {"exposures": exposures(ctx, query.key)}
    for i, metric in enumerate(query.metrics):
        statements[f"metric_{i}"] = statistics(ctx, query.key, metric, query.pre_days)
    return statements


def shape(query: ExperimentQuery, rows: Rows, today: date) -> dict:
    return compose(query, rows, today)
