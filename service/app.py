"""The ASGI application: GraphQL on /graphql, feeds and sitemaps, health probes, GraphiQL's assets.

The one module of service/ that imports schema/ (the GraphQL layer): it mounts
its view, and gives the CLI the SDL and the parser trusted documents need.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from schema import document
from schema import schema as graphql_schema
from schema.http import MastheadGraphQL
from service import db, events, feeds, operations, purges, sitemaps, syndication
from service.http import BodyLimit, Door, SecurityHeaders, budget_key, client_address
from service.cache_stores import store_for
from service.response_cache import Hits, ResponseCache
from service.settings import Settings

log = logging.getLogger("masthead")
MAX_UPLOAD_REQUEST = 10 * 1024 * 1024 + 64 * 1024  # one image (service.media) and its form fields


def export_sdl() -> str:
    """The schema's SDL, as committed in schema/schema.graphql."""
    return graphql_schema.as_str() + "\n"


async def register_operations(paths: list[Path]) -> operations.Registered:
    """Register the trusted documents the paths hold, each read by the GraphQL parser first."""
    return await operations.register(paths, document.operation_label)


def media_endpoint(settings: Settings):
    """GET /media/<key>: originals and signed renditions (made on first request).

    Readers get an image only while published content shows it; an editor's token
    gets any. Everything else is the same 404 as a missing file, so the answer says
    nothing about what exists. New renditions are charged to the client's budget.
    """
    from service import auth, media
    from service.limits import budget_for
    from service.models import Role

    storage = media.LocalStorage(settings.media_dir)
    renders = budget_for(settings.media_renders_per_minute, settings.redis_url, prefix="masthead:renders:")
    public_cache = f"public, max-age={settings.media_max_age}"

    async def editor(request: Request) -> bool:
        scheme, _, raw = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        token = await auth.authenticate(raw.strip())
        return token is not None and auth.allows(token.role, Role.EDITOR)

    async def serve(request: Request) -> Response:
        try:
            return await answer(request)
        except Exception as error:
            if not db.database_unavailable(error):
                raise
            return JSONResponse({"error": "temporarily unavailable; try again shortly"}, status_code=503,
                                headers={"Retry-After": "1", "Cache-Control": "no-store"})

    async def answer(request: Request) -> Response:
        key = request.path_params["key"]
        wanted = media.parse_key(key, settings.secret_key)
        cache, by_editor = public_cache, None
        if wanted is not None and not await media.is_public(wanted):
            cache = "private, no-store"  # an editor's look at a draft's image stays out of shared caches
            if not media.granted(settings.secret_key, key, request.query_params.get("grant")):
                by_editor = await editor(request)
                if not by_editor:
                    wanted = None
        found = None
        if wanted is not None:
            if by_editor is None and "authorization" in request.headers:
                by_editor = await editor(request)
            client = budget_key(client_address(request, settings.trusted_proxies))
            charge = None if by_editor else (lambda: renders.take(client, 1))  # editors' own requests are not charged
            try:
                found = await media.serve(storage, wanted, charge=charge)
            except media.RenderRefused as refused:
                return JSONResponse({"error": "too many new renditions; try again later"}, status_code=429,
                                    headers={"Retry-After": str(refused.retry_after), "Cache-Control": "no-store"})
        if found is None:
            return JSONResponse({"error": "not found"}, status_code=404, headers={"Cache-Control": "no-store"})
        data, content_type = found
        # Images are for embedding: a decoupled frontend on another site shows them with <img>,
        # which the same-site policy every other response carries would block.
        return Response(data, media_type=content_type, headers={
            "Cache-Control": cache, "X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "cross-origin"})

    serve.renders = renders  # the lifespan closes it (a Redis client when shared)
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
    """Webhook deliveries (woken when one is queued), Varnish purges to retry (when one is due)
    and schedule transitions (every five seconds)."""
    if not settings.background_jobs:
        return []
    from service import publishing, varnish, webhooks

    async def deliveries() -> None:
        await webhooks.run_forever(settings.webhook_allow_private, settings.webhook_idle_seconds)

    async def purges_to_retry() -> None:
        await varnish.run_forever(settings.purge_attempts, settings.webhook_idle_seconds)

    async def transitions() -> None:
        while True:
            try:
                await publishing.record_transitions()
            except Exception:  # noqa: BLE001 - logged, tried again next tick
                log.exception("recording schedule transitions failed")
            await asyncio.sleep(5)

    return [deliveries, purges_to_retry, transitions]


async def last_resort(request: Request, error: Exception) -> Response:
    """What escaped every layer (a middleware, a route): a coded JSON answer, never a bare text 500.

    Starlette's outermost middleware calls this, then logs the exception with its traceback.
    """
    if db.database_unavailable(error):
        return JSONResponse({"errors": [{"message": "The database is not reachable right now; try again shortly.",
                                         "extensions": {"code": "DATABASE_UNAVAILABLE"}}]},
                            status_code=503, headers={"Retry-After": "5", "Cache-Control": "private, no-store"})
    return JSONResponse({"errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]},
                        status_code=500, headers={"Cache-Control": "private, no-store"})


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application for the given settings (from the environment by default)."""
    settings = settings or Settings.from_env()
    problem = settings.secret_problem()
    if problem:
        # Preview tokens and comment form tokens would be forgeable by anyone who read this code.
        raise SystemExit(problem)
    graphql = MastheadGraphQL(settings)
    media_view = media_endpoint(settings)
    response_cache = store_for(settings)

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
            purges.configure(settings, background=True)
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
                await graphql.budget.aclose()
                await media_view.renders.aclose()
                await purges.close()
                if response_cache is not None:
                    await response_cache.aclose()

    application = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/media/{key:path}", media_view, methods=["GET", "HEAD"]),
            *feeds.routes(settings),
            *sitemaps.routes(settings),
            Mount("/static", StaticFiles(directory=settings.static_dir), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders, production=settings.production),
            *([Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                          allow_headers=["Authorization", "Content-Type", "GraphQL-Require-Preflight", "X-Request-Id"],
                          expose_headers=["X-Request-Id", "Retry-After"], max_age=600)]
              if settings.cors_origins else []),
            # Every request pays its point here; a GET the response cache holds is answered here too,
            # its point and its entry fetched in one step.
            Middleware(Door, budget=graphql.budget, refuse=graphql.refusal, trusted_proxies=settings.trusted_proxies,
                       hits=Hits(response_cache) if response_cache is not None else None),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes, upload_bytes=MAX_UPLOAD_REQUEST,
                       anonymous_bytes=settings.anonymous_body_bytes),
            # POSTs the cache holds, feeds and sitemaps, and what it stores (MISS) or lets by (BYPASS).
            *([Middleware(ResponseCache, store=response_cache, documents=syndication.PATHS)]
              if response_cache is not None else []),
        ],
        lifespan=lifespan,
        exception_handlers={Exception: last_resort},
    )
    application.state.budget = graphql.budget  # the cost buckets (a Redis client when shared)
    application.state.render_budget = media_view.renders
    application.state.response_cache = response_cache  # the store (a Redis client when shared)
    return application
