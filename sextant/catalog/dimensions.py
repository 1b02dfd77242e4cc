"""Dimensions (ways to slice a number) and event flags (inactive, feature, collaboration)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from sextant.catalog.expressions import ExpressionError, Source, parse_source
from sextant.catalog.models import SNAKE_CASE, Definition, check_columns, refusal

EventFlag = Literal["inactive", "feature", "collaboration"]


class Dimension(Definition):
    """A way to slice: a column of events, `person.<column>`, `tenant.<column>`, or a JSON
    property path (`properties.$browser`, `person.properties.role`)."""

    name: str = Field(pattern=SNAKE_CASE, description="a snake_case name such as plan")
    label: str = Field(min_length=1, description="a short title such as 'Plan'")
    description: str = Field(min_length=10, description="what the values mean")
    source: str = Field(description="a column or property path, such as person.segment")
    aliases: tuple[str, ...] = Field(default=(), description="other names, such as [source]")

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        try:
            source = parse_source(value)
        except ExpressionError as exc:
            raise refusal(exc.code, exc.message) from None
        table = {"row": "events", "person": "persons", "tenant": "tenants"}[source.entity]
        check_columns(table, [source.column])
        return value

    @property
    def parsed_source(self) -> Source:
        return parse_source(self.source)


class EventFlags(Definition):
    """Flags per event name: inactive (does not make a person active), feature, collaboration."""

    flags: dict[str, frozenset[EventFlag]] = Field(default_factory=dict)

    def of(self, event: str) -> frozenset[str]:
        return self.flags.get(event, frozenset())

    def flagged(self, flag: EventFlag) -> tuple[str, ...]:
        """Event names carrying `flag`, sorted."""
        return tuple(sorted(e for e, f in self.flags.items() if flag in f))

    def is_active(self, event: str) -> bool:
        return "inactive" not in self.of(event)
