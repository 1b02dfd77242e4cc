"""Static files: the pages' CSS and JavaScript and the plotly.min.js that ships in the plotly
package, all served from this server (no CDN: the app works offline). Each URL carries a
hash of the content, so a file is cached for a year and never revalidated; each file is
compressed once, when first asked for.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import plotly
from fastapi import APIRouter, Request, Response

from sextant.errors import NotFound

STATIC_DIR = Path(__file__).with_name("static")
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
FOREVER = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Asset:
    name: str  # as the templates ask for it: app.css, plotly.min.js
    path: Path

    @cached_property
    def body(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:16]

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, compresslevel=9, mtime=0)

    @property
    def url(self) -> str:
        stem, dot, suffix = self.name.partition(".")
        return f"/static/{stem}.{self.digest}{dot}{suffix}"


class Assets:
    """The files by versioned URL name. Files are read again when they change on disk, so
    an edited stylesheet shows without a restart during development."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, tuple[int, Asset]] = {}

    def get(self, name: str) -> Asset:
        path = PLOTLY_JS if name == "plotly.min.js" else STATIC_DIR / name
        if path.parent not in (STATIC_DIR, PLOTLY_JS.parent) or not path.is_file():
            raise NotFound("asset_not_found", f"no static file {name!r}", field="path")
        stamp = path.stat().st_mtime_ns
        with self._lock:
            held = self._held.get(name)
            if held is None or held[0] != stamp:
                held = (stamp, Asset(name, path))
                self._held[name] = held
        return held[1]

    def url(self, name: str) -> str:
        return self.get(name).url


ASSETS = Assets()


@router.get("/static/{file}")
def static_file(file: str, request: Request) -> Response:
    """`name.<hash>.ext`: the file if the hash is current (else 404, so a stale page never
    caches the wrong content for a year)."""
    stem, _, rest = file.partition(".")
    digest, _, suffix = rest.partition(".")
    asset = ASSETS.get(f"{stem}.{suffix}")
    if digest != asset.digest:
        raise NotFound("asset_not_found", f"no static file {file!r}", field="path")
    etag = f'"{asset.digest}"'
    headers = {"Cache-Control": FOREVER, "ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    media = TYPES.get(Path(file).suffix, "application/octet-stream")
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            asset.gzipped, media_type=media, headers=headers | {"Content-Encoding": "gzip"}
        )
    return Response(asset.body, media_type=media, headers=headers)
