"""What a page builder works with: the view, and the same functions the API routes call
(`run_analysis`, `run_batch`, the catalog) over the server's engine and result cache. Pages
never build SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sextant.analyses import run_analysis
from sextant.analyses.run import AnalysisResult, known_events
from sextant.catalog.batch import run_batch
from sextant.catalog.definitions import Catalog
from sextant.catalog.describe import parse_query
from sextant.catalog.results import MetricResult, ResultCache
from sextant.config import Settings
from sextant.store.engine import Engine
from sextant.web.panels import Page
from sextant.web.state import ViewState


@dataclass
class PageContext:
    engine: Engine
    catalog: Catalog
    settings: Settings
    cache: ResultCache
    state: ViewState
    page: Page | None = field(default=None, init=False)  # as far as built, for error pages

    def start(self, page: Page) -> Page:
        """The page being built: if its queries are refused, the route still shows its own
        controls (a funnel's steps) beside the message, so the user can fix them there."""
        self.page = page
        return page

    def analysis(self, kind: str, **options: Any) -> AnalysisResult:
        """`kind` over the view's range and filters, as `POST /api/v1/analyses/{kind}`."""
        return run_analysis(
            self.engine,
            self.catalog,
            kind,
            self.state.body() | options,
            settings=self.settings,
            cache=self.cache,
            today=self.state.today,
        )

    def metrics(
        self, names: Sequence[str], *, state: ViewState | None = None, **options: Any
    ) -> list[MetricResult]:
        """Catalog metrics over one range, batched as `POST /api/v1/query` with `metrics`."""
        state = state or self.state
        queries = [
            parse_query(state.body() | options | {"metric": name}, self.settings) for name in names
        ]
        return run_batch(self.engine, self.catalog, queries, cache=self.cache, today=state.today)

    def describe(self, metric: str) -> str:
        return self.catalog.metric(metric).description

    def events(self) -> list[str]:
        return sorted(known_events(self.engine))
