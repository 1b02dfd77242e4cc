"""Rendering a page: the Jinja2 templates (autoescaped), the navigation the user's role
allows, the CSRF token every form carries, security headers and gzip."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from sextant import __version__
from sextant.access import csrf
from sextant.access.roles import ROLE_LABELS, Principal, Role
from sextant.api.auth import SESSION_COOKIE, SignInRequired
from sextant.config import LOOPBACK
from sextant.errors import SextantError
from sextant.web.assets import ASSETS
from sextant.web.pages import PAGES

SECURITY_HEADERS = {
    # Everything comes from this server: no CDN, no request leaves (Plotly needs inline styles).
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
# Pages beyond the dashboards, each shown in the navigation to the roles that may open it.
EXTRA_NAV = [
    ("/metrics", "Metrics", Role.VIEWER),
    ("/playground", "Playground", Role.ANALYST),
    ("/admin/users", "Admin", Role.ADMIN),
]

templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals["asset"] = ASSETS.url
templates.globals["role_labels"] = {r.value: label for r, label in ROLE_LABELS.items()}


def cookie_secure(request: Request) -> bool:
    setting = request.app.state.settings.cookie_secure
    if setting != "auto":
        return setting == "always"
    return request.url.scheme == "https" or request.url.hostname not in LOOPBACK


def csrf_seed(request: Request) -> tuple[str, bool]:
    """This browser's CSRF seed, and whether it is new (and must be set as a cookie)."""
    seed = request.cookies.get(csrf.COOKIE)
    if seed and 16 <= len(seed) <= 64:
        return seed, False
    if not hasattr(request.state, "csrf_seed"):
        request.state.csrf_seed = csrf.new_seed()
    return request.state.csrf_seed, True


def nav_for(request: Request, principal: Principal | None, query: str) -> list[dict[str, Any]]:
    if principal is None:
        return []
    path = request.url.path
    items = [
        {
            "href": f"{s.path}?{query}" if query else s.path,
            "title": s.title,
            "current": path == s.path,
        }
        for s in PAGES.values()
    ]
    items += [
        {"href": href, "title": title, "current": path.startswith(href.rsplit("/", 1)[0] or href)}
        for href, title, role in EXTRA_NAV
        if principal.may(role)
    ]
    return items


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A page, gzipped when the browser accepts it."""
    app = request.app.state
    principal: Principal | None = getattr(request.state, "principal", None)
    state = context.get("state")
    seed, new_seed = csrf_seed(request)
    html = (
        templates.get_template(template)
        .render(
            path=request.url.path,
            nav=nav_for(request, principal, state.shared_query() if state else ""),
            version=__version__,
            data_version=app.engine.data_version,
            settings_timezone=app.settings.timezone,
            principal=principal,
            local_demo=principal is not None and principal.via == "local_demo",
            csrf_field=csrf.FIELD,
            csrf_token=csrf.token_for(app.access.secret, seed),
            **context,
        )
        .encode()
    )
    headers = dict(SECURITY_HEADERS) | {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "") and len(html) > 1024:
        html = gzip.compress(html, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    response = Response(
        html, status_code=status, media_type="text/html; charset=utf-8", headers=headers
    )
    if new_seed:
        response.set_cookie(
            csrf.COOKIE,
            seed,
            httponly=True,
            samesite="strict",
            secure=cookie_secure(request),
            path="/",
        )
    return response


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not a script)."""
    return (
        request.method == "GET"
        and not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


def error_page(request: Request, exc: SextantError) -> Response:
    """A refusal as a page: the sign-in form when signing in would help, else the message."""
    if isinstance(exc, SignInRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = {"next": target}
        if exc.code == "session_invalid":
            query["reason"] = exc.message
        response = RedirectResponse(f"/login?{urlencode(query)}", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    titles = {403: "Not allowed", 404: "Not found"}
    return render(
        request,
        "missing.html",
        status=exc.status,
        title=titles.get(exc.status, "Cannot show this"),
        state=None,
        message=exc.message + (f" ({exc.hint})" if exc.hint else ""),
    )
