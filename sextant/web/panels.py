"""What a page is made of: headline numbers (KPIs) and panels. A panel is one chart with
everything the issue asks of it: a title, the catalog definition for its tooltip, the SQL
that computed it, its data as a table (the accessible alternative and exactly what its CSV
holds) and an empty state that says what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sextant.web import charts
from sextant.web.charts import Figure
from sextant.web.formatting import number


@dataclass(frozen=True)
class Column:
    key: str  # the key in each row: the name the API result uses, and the CSV header
    label: str
    unit: str | None = None


@dataclass
class Panel:
    id: str
    title: str
    definition: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    figure: Figure | None = None
    sql: dict[str, str] = field(default_factory=dict)
    summary: str = ""  # one sentence on what the chart shows, for screen readers
    empty: str | None = None  # why there is nothing to show and what to do
    note: str | None = None
    wide: bool = False

    @property
    def figure_json(self) -> str | None:
        return None if self.figure is None or self.empty else charts.to_json(self.figure)

    def cells(self) -> list[list[str]]:
        """The table as the page shows it: each value formatted by its column's unit."""
        return [[number(row.get(c.key), c.unit) for c in self.columns] for row in self.rows]


@dataclass
class Kpi:
    id: str
    label: str
    value: Any
    unit: str
    basis: str  # how the range's value is formed: "total", "average per day", "on 2026-11-22"
    definition: str
    metric: str  # catalog name, linked to its definition page
    change: dict[str, Any] | None = None
    sparkline: Figure | None = None

    @property
    def text(self) -> str:
        return number(self.value, self.unit)

    @property
    def sparkline_json(self) -> str | None:
        return None if self.sparkline is None else charts.to_json(self.sparkline)


@dataclass
class Page:
    slug: str
    title: str
    intro: str
    panels: list[Panel] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    message: str | None = None  # a page-wide empty state or error
    controls: str | None = None  # the template of the page's own controls
    extra: dict[str, Any] = field(default_factory=dict)  # what those controls need

    def panel(self, panel_id: str) -> Panel | None:
        return next((p for p in self.panels if p.id == panel_id), None)
