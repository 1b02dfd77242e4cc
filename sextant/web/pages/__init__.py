"""The dashboard's pages, in navigation order: each a `build(ctx) -> Page` and the URL
parameters of its own controls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sextant.web.context import PageContext
from sextant.web.pages import features, funnels, overview, retention, sessions
from sextant.web.panels import Page


@dataclass(frozen=True)
class PageSpec:
    slug: str
    path: str
    title: str
    build: Callable[[PageContext], Page]
    options: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()  # catalog metrics it shows, for the catalog's "shown on"


PAGES = {
    spec.slug: spec
    for spec in (
        PageSpec(
            "overview", "/", "Overview", overview.build, (), (*overview.CARDS, "dau", "wau", "mau")
        ),
        PageSpec("sessions", "/sessions", "Sessions", sessions.build, (), sessions.METRICS),
        PageSpec("funnels", "/funnels", "Funnels", funnels.build, funnels.OPTIONS),
        PageSpec("retention", "/retention", "Retention", retention.build, retention.OPTIONS),
        PageSpec(
            "features",
            "/features",
            "Features",
            features.build,
            features.OPTIONS,
            ("feature_adoption",),
        ),
    )
}


def shown_on(metric: str) -> list[tuple[str, str]]:
    """The pages that show `metric`: (slug, title)."""
    return [(s.slug, s.title) for s in PAGES.values() if metric in s.metrics]
