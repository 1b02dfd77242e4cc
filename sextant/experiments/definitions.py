"""What an experiment is: its flag (the exposure key), variants with intended weights, the
control, dates, and the metrics it is judged on (a primary and guardrails), each measured per
exposed person from their first exposure. Built-in definitions sit in `experiments.yaml`
beside this module; a catalog directory adds or replaces them in an `experiments:` section.
An experiment seen in exposure events but defined nowhere gets the default metrics.
"""

from __future__ import annotations

import builtins
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sextant.catalog.definitions import Catalog
from sextant.errors import InvalidInput, Problem

BUILTIN_FILE = Path(__file__).with_name("experiments.yaml")
MetricType = Literal["conversion", "count", "sum", "ratio", "retention"]
MAX_METRICS = 12


class ExperimentMetric(BaseModel):
    """One number per exposed person, counted from their first exposure:

    - conversion: 1 if they did `event` (within `window_days`), else 0;
    - count: how many `event`s;
    - sum: the sum of `property` over their `event`s (revenue per person);
    - ratio: the sum of `property` over `event` divided by the count of `denominator`
      events, over all persons of a variant (revenue per order);
    - retention: 1 if active in week `week` after exposure (days 7*week .. 7*week+6).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="a short id, unique in the experiment")
    label: str | None = Field(default=None, description="the name shown")
    type: MetricType = "conversion"
    event: str | None = Field(default=None, description="the event measured (not retention)")
    where: tuple[str, ...] = Field(default=(), description="conditions on the event")
    property: str | None = Field(default=None, description="numeric property, for sum/ratio")
    denominator: str | None = Field(default=None, description="the event counted below a ratio")
    window_days: float | None = Field(
        default=None,
        gt=0,
        le=366,
        description="count events this long after exposure (None: until the end)",
    )
    week: int = Field(default=1, ge=1, le=52, description="retention: the week after exposure")
    higher_is_better: bool = True
    cuped: bool = Field(default=True, description="reduce variance with the pre-exposure value")

    @model_validator(mode="after")
    def _complete(self) -> ExperimentMetric:
        needs = {
            "conversion": ("event",),
            "count": ("event",),
            "sum": ("event", "property"),
            "ratio": ("event", "property", "denominator"),
            "retention": (),
        }[self.type]
        missing = [f for f in needs if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.type} metric needs {' and '.join(missing)}")
        return self

    @builtins.property  # the field `property` hides the builtin in this class body
    def shown(self) -> str:
        return self.label or self.name.replace("_", " ")


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0, description="intended share (normalised)")


class ExperimentDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="the experiment key (the flag, by default)")
    label: str | None = None
    description: str = ""
    flag: str | None = Field(default=None, description="the exposure key, if not the name")
    variants: tuple[Variant, ...] = Field(default=(), description="keys and intended weights")
    control: str | None = Field(default=None, description="default: 'control', else the first")
    start: date | None = None
    end: date | None = None
    primary: ExperimentMetric | None = None
    guardrails: tuple[ExperimentMetric, ...] = ()

    @property
    def key(self) -> str:
        return self.flag or self.name

    @property
    def metrics(self) -> tuple[ExperimentMetric, ...]:
        return (*((self.primary,) if self.primary else ()), *self.guardrails)


DEFAULT_METRICS = (
    ExperimentMetric(name="active_week_1", label="Active in week 1", type="retention", week=1),
    ExperimentMetric(name="active_week_2", label="Active in week 2", type="retention", week=2),
)


@cache
def _builtin() -> dict[str, dict[str, Any]]:
    entries = yaml.safe_load(BUILTIN_FILE.read_text(encoding="utf-8"))["experiments"]
    return {entry["name"]: entry for entry in entries}


def definitions(catalog: Catalog | None) -> dict[str, ExperimentDefinition]:
    """Every defined experiment by name: built-in, then the catalog directory's (which
    replace them by name). A bad definition is refused with its name and field."""
    raw = dict(_builtin()) | dict(getattr(catalog, "experiments", {}) or {})
    out, problems = {}, []
    for name, entry in sorted(raw.items()):
        try:
            out[name] = ExperimentDefinition.model_validate(entry)
        except ValidationError as exc:
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"])
                problems.append(
                    Problem(
                        "experiment_definition_invalid",
                        f"experiment {name!r}: {where or 'definition'}: {e['msg']}",
                        f"experiments.{name}",
                    )
                )
    if problems:
        raise InvalidInput.from_problems(problems)
    return out
