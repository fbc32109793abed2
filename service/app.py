"""The ASGI application: GraphQL on /graphql, health probes, GraphiQL's assets."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from service import db, events
from service.http import BodyLimit, SecurityHeaders
from service.transport import MastheadGraphQL
from service.settings import Settings

log = logging.getLogger("masthead")
MAX_UPLOAD_REQUEST = 10 * 1024 * 1024 + 64 * 1024  # one image (service.media) and its form fields

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
        await db.within(db.connection().execute_query("SELECT 1"), 2)
    except Exception as error:  # any failure to reach the database means "not ready"
        log.warning("readiness check failed: %s", error)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def _background_jobs(settings: Settings) -> list:
    """Webhook deliveries (woken when one is queued) and schedule transitions (every five seconds)."""
    if not settings.background_jobs:
        return []
    from service import editorial, webhooks

    async def deliveries() -> None:
        await webhooks.run_forever(settings.webhook_allow_private, settings.webhook_idle_seconds)

    async def transitions() -> None:
        while True:
            try:
                await editorial.record_transitions()
            except Exception:  # noqa: BLE001 - logged, tried again next tick
                log.exception("recording schedule transitions failed")
            await asyncio.sleep(5)

    return [deliveries, transitions]


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application for the given settings (from the environment by default)."""
    settings = settings or Settings.from_env()
    problem = settings.secret_problem()
    if problem:
        # Preview tokens and comment form tokens would be forgeable by anyone who read this code.
        raise SystemExit(problem)
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
        middleware=[
            Middleware(SecurityHeaders, production=settings.production),
            *([Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                          allow_headers=["Authorization", "Content-Type", "GraphQL-Require-Preflight", "X-Request-Id"],
                          expose_headers=["X-Request-Id", "Retry-After"], max_age=600)]
              if settings.cors_origins else []),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes, upload_bytes=MAX_UPLOAD_REQUEST),
        ],
        lifespan=lifespan,
    )
