"""The dashboard's pages, in navigation order. Each page module has `build(ctx) -> Page`,
`OPTIONS` (the URL parameters of its own controls) and `METRICS` (the catalog metrics it
shows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from sextant.web.context import PageContext
from sextant.web.pages import experiments, features, funnels, overview, retention, sessions
from sextant.web.panels import Page


@dataclass(frozen=True)
class PageSpec:
    slug: str
    path: str
    title: str
    build: Callable[[PageContext], Page]
    options: tuple[str, ...]  # URL parameters of the page's own controls
    metrics: tuple[str, ...]  # catalog metrics it shows, for the catalog's "shown on"


def _spec(slug: str, path: str, title: str, module: ModuleType) -> PageSpec:
    return PageSpec(slug, path, title, module.build, module.OPTIONS, module.METRICS)


PAGES = {
    spec.slug: spec
    for spec in (
        _spec("overview", "/", "Overview", overview),
        _spec("sessions", "/sessions", "Sessions", sessions),
        _spec("funnels", "/funnels", "Funnels", funnels),
        _spec("retention", "/retention", "Retention", retention),
        _spec("features", "/features", "Features", features),
        _spec("experiments", "/experiments", "Experiments", experiments),
    )
}


def shown_on(metric: str) -> list[tuple[str, str]]:
    """The pages that show `metric`: (slug, title)."""
    return [(s.slug, s.title) for s in PAGES.values() if metric in s.metrics]
