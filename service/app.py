"""The ASGI application: GraphQL on /graphql, health probes, GraphiQL's assets."""

from __future__ import annotations

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
from tortoise.contrib.starlette import RegisterTortoise

from schema import schema as graphql_schema
from schema.context import Context
from service import db, events
from service.http import BodyLimit
from service.settings import Settings

log = logging.getLogger("masthead")

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
        super().__init__(graphql_schema, graphql_ide="graphiql")
        self.settings = settings
        self._ide_html = GRAPHIQL_HTML.read_text() if GRAPHIQL_HTML.exists() else ""

    async def get_context(self, request, response) -> Context:
        return Context(request=request, response=response, settings=self.settings)

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html, headers={"Content-Security-Policy": GRAPHIQL_CSP})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await db.connection().execute_query("SELECT 1")
    except Exception as error:  # any failure to reach the database means "not ready"
        log.warning("readiness check failed: %s", error)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


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
            try:
                yield
            finally:
                if listener is not None:
                    await listener.stop()
                db.close_readers()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Mount("/static", StaticFiles(directory=settings.static_dir), name="static"),
        ],
        middleware=[Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        lifespan=lifespan,
    )
