"""The ASGI application: GraphQL on /graphql, health probes, GraphiQL's assets."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from cross_web import HTTPException
from tortoise.contrib.starlette import RegisterTortoise

from schema import schema as graphql_schema
from schema.context import Context
from service import db, events
from service.http import BodyLimit
from service.settings import Settings

log = logging.getLogger("masthead")
MAX_UPLOAD_REQUEST = 10 * 1024 * 1024 + 64 * 1024  # one image (service.media) and its form fields

GRAPHIQL_HTML = Path(__file__).parent / "graphiql.html"
# GraphiQL's page and assets come from this service only; nothing inline, no CDN.
# The one style hash is the constant <style> GraphiQL's dialogs insert while open.
GRAPHIQL_CSP = (
    "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class MastheadGraphQL(GraphQL):
    def __init__(self, settings: Settings) -> None:
        # Multipart requests carry image uploads; they need an editor's bearer token,
        # which a cross-site form cannot send, so they are no CSRF channel.
        super().__init__(graphql_schema, graphql_ide="graphiql", multipart_uploads_enabled=True)
        self.settings = settings
        self._ide_html = GRAPHIQL_HTML.read_text() if GRAPHIQL_HTML.exists() else ""

    async def run(self, request, *args, **kwargs):
        try:
            return await super().run(request, *args, **kwargs)
        finally:
            if isinstance(request, Request):
                await request.close()  # a multipart request's uploaded files are temporary files

    async def parse_http_body(self, request):
        content_type = (request.content_type or "").lower()
        if content_type.startswith("multipart/form-data") and not _preflighted(request.headers):
            # A cross-site HTML form can send multipart bodies; it cannot set these headers.
            raise HTTPException(400, "Multipart requests need an Authorization or GraphQL-Require-Preflight header.")
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            if _has_nul(item.query) or _has_nul(item.variables) or _has_nul(item.operation_name):
                raise HTTPException(400, "The request contains a NUL character, which no field accepts.")
        return data

    async def get_context(self, request, response) -> Context:
        return Context(request=request, response=response, settings=self.settings)

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html, headers={"Content-Security-Policy": GRAPHIQL_CSP})


PREFLIGHT_HEADERS = ("authorization", "graphql-require-preflight", "apollo-require-preflight", "x-apollo-operation-name")


def _preflighted(headers) -> bool:
    return any(headers.get(name) for name in PREFLIGHT_HEADERS)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def media_endpoint(settings: Settings):
    """GET /media/<key>: originals and renditions (made on first request), cached for a year."""
    from service import media

    storage = media.LocalStorage(settings.media_dir)

    async def serve(request: Request) -> Response:
        found = await media.serve_key(storage, request.path_params["key"])
        if found is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        data, content_type = found
        return Response(data, media_type=content_type, headers={
            "Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff",
        })

    return serve


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await db.connection().execute_query("SELECT 1")
    except Exception as error:  # any failure to reach the database means "not ready"
        log.warning("readiness check failed: %s", error)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def _background_jobs(settings: Settings) -> list:
    """Webhook deliveries (every second) and schedule transitions (every five)."""
    if not settings.background_jobs:
        return []
    from service import editorial, webhooks

    async def transitions() -> None:
        while True:
            try:
                await editorial.record_transitions()
            except Exception:  # noqa: BLE001 - logged, tried again next tick
                log.exception("recording schedule transitions failed")
            await asyncio.sleep(5)

    return [webhooks.run_forever, transitions]


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application for the given settings (from the environment by default)."""
    settings = settings or Settings.from_env()
    graphql = MastheadGraphQL(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.is_sqlite:
            db.ensure_sqlite_directory(settings.database_url)
        async with RegisterTortoise(app, config=db.tortoise_config(settings)):
            # What startup built lives as long as the process: keep it out of the full
            # collections that free each request's reference cycles (graphql-core's).
            gc.collect()
            gc.freeze()
            events.configure(settings.redis_url)
            listener = events.listener_for(settings)
            if listener is not None:
                listener.start()
            jobs = [asyncio.create_task(job()) for job in _background_jobs(settings)]
            try:
                yield
            finally:
                for job in jobs:
                    job.cancel()
                await asyncio.gather(*jobs, return_exceptions=True)
                if listener is not None:
                    await listener.stop()
                db.close_readers()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/media/{key:path}", media_endpoint(settings), methods=["GET", "HEAD"]),
            Mount("/static", StaticFiles(directory=settings.static_dir), name="static"),
        ],
        middleware=[Middleware(BodyLimit, max_bytes=settings.max_body_bytes, upload_bytes=MAX_UPLOAD_REQUEST)],
        lifespan=lifespan,
    )
