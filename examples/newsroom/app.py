"""The newsroom example site: server-rendered pages built from the Masthead API alone.

`create_app(settings)` -> Starlette. Every read is a persisted query sent by GET
(examples/newsroom/api.py); the comment form posts here and the site calls
`addComment`. Nothing here reads a database.
"""

from __future__ import annotations

import logging
import math
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from examples.newsroom import comments, render
from examples.newsroom.api import ApiUnavailable, Masthead
from examples.newsroom.manifest import build
from examples.newsroom.settings import Settings
from examples.newsroom.site import PUBLIC, Newsroom, checked, reader, redirect_or_404

log = logging.getLogger("newsroom")
MAX_PAGE = 1000


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise HTTPException(404)
    return int(raw)


async def start_of_page(newsroom: Newsroom, number: int, fetch) -> str | None:
    """The cursor page `number` starts after, walking (number - 1) x size items 100 at a time; 404 past the end."""
    skip, after = (number - 1) * newsroom.settings.page_size, None
    while skip > 0:
        take = min(skip, 100)
        info = await fetch(take, after)
        if info is None or info["endCursor"] is None:
            raise HTTPException(404)
        skip, after = skip - take, info["endCursor"]
        if skip == 0 and not info["hasNextPage"]:
            raise HTTPException(404)  # the page would be empty
    return after


def pagination(request: Request, number: int, total: int, size: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / size))

    def link(n: int) -> str:
        query = dict(request.query_params)
        query.pop("page", None)
        if n > 1:
            query["page"] = str(n)
        return request.url.path + (f"?{urlencode(query)}" if query else "")

    return {"number": number, "pages": pages, "total": total,
            "previous": link(number - 1) if number > 1 else None,
            "next": link(number + 1) if number < pages else None}


# -- views ---------------------------------------------------------------------------


async def home(request: Request) -> Response:
    newsroom: Newsroom = request.app.state.newsroom
    data = checked(await newsroom.api.query("Home", {"first": 7}, reader=reader(request)))
    chrome = newsroom.remember(data)
    articles = [edge["node"] for edge in data["articles"]["edges"]]
    fronts = {section["id"]: section["articles"] for section in data["sections"]}
    sections = [{**section, "articles": [e["node"] for e in fronts[section["id"]]["edges"]],
                 "count": fronts[section["id"]]["totalCount"]} for section in chrome["sections"]]
    page = data["page"] or {"title": chrome["site"]["name"], "seoTitle": chrome["site"]["name"], "searchDescription": ""}
    return newsroom.render(request, "home.html", {
        "chrome": chrome, "page": page, "lead": articles[:1], "latest": articles[1:], "sections": sections,
        "home": True, "canonical": page.get("canonicalUrl"), "og_image": page.get("ogImage"),
    })


async def article_or_section(request: Request) -> Response:
    newsroom: Newsroom = request.app.state.newsroom
    path = "/" + request.path_params["path"]
    if request.method == "POST":
        return await comments.post(request, newsroom, path)
    number = page_number(request)
    after = None
    if number > 1:
        async def fetch(take: int, cursor: str | None):
            data = checked(await newsroom.api.query("SectionCursor", {"urlPath": path, "first": take, "after": cursor},
                                                    reader=reader(request)))
            if data["page"] is None:
                raise NotInTheTree
            return (data["page"].get("articles") or {}).get("pageInfo")
        try:
            after = await start_of_page(newsroom, number, fetch)
        except NotInTheTree:
            pass  # a tag or author page, an old path or nothing: the Page query below says which
    result = await newsroom.api.query("Page", {"urlPath": path, "first": newsroom.settings.page_size, "after": after},
                                      reader=reader(request))
    data = checked(result, "BAD_USER_INPUT")
    page = data["page"]
    if page is None:
        return await outside_the_tree(request, newsroom, path, data["site"])
    if page["url"] != path:  # /world-news -> /world-news/
        query = request.url.query
        return RedirectResponse(page["url"] + (f"?{query}" if query else ""), status_code=301)
    chrome = newsroom.remember(data)
    if page["__typename"] == "ArticlePage":
        if number > 1:
            raise HTTPException(404)
        form = await comments.fresh_form(request, newsroom, page)
        return comments.article(request, newsroom, data, chrome, form)
    return section(request, newsroom, data, chrome, number)


class NotInTheTree(Exception):
    """No page of the tree has this path."""


async def outside_the_tree(request: Request, newsroom: Newsroom, path: str, site: dict[str, Any]) -> Response:
    """A path no page has: a tag's or an author's page (where the site settings put them), an old path, or 404."""
    for kind, prefix in (("tag", site.get("tagPathPrefix") or "/tags/"),
                         ("author", site.get("authorPathPrefix") or "/authors/")):
        rest = path.removeprefix(prefix) if path.startswith(prefix) else ""
        if rest.endswith("/") and rest.count("/") == 1 and len(rest) > 1:
            return await archive(request, kind=kind, value=rest[:-1])
    return await redirect_or_404(request, newsroom, path)


def section(request: Request, newsroom: Newsroom, data: dict[str, Any], chrome: dict[str, Any], number: int,
            *, preview: bool = False) -> Response:
    page = data["page"]
    articles = page["articles"]
    return newsroom.render(request, "section.html", {
        "chrome": chrome, "page": page, "articles": [edge["node"] for edge in articles["edges"]],
        "pagination": pagination(request, number, articles["totalCount"], newsroom.settings.page_size),
        "canonical": page["canonicalUrl"], "og_image": page["ogImage"], "preview": preview, "current": page["url"],
    }, cache="private, no-store" if preview else PUBLIC)


async def archive(request: Request, *, kind: str, value: str) -> Response:
    """Tag, author and search pages: a page of articles from `articles(tag: | author: | search:)`."""
    newsroom: Newsroom = request.app.state.newsroom
    number = page_number(request)
    filters = {kind: value}
    after = None
    if number > 1:
        async def fetch(take: int, cursor: str | None):
            data = checked(await newsroom.api.query("ArchiveCursor", {**filters, "first": take, "after": cursor},
                                                    reader=reader(request)))
            return data["articles"]["pageInfo"]
        after = await start_of_page(newsroom, number, fetch)
    result = await newsroom.api.query("Archive", {**filters, "first": newsroom.settings.page_size, "after": after,
                                                  "withBody": kind == "search"}, reader=reader(request))
    data = checked(result)
    chrome = newsroom.remember(data)
    articles = [edge["node"] for edge in data["articles"]["edges"]]
    context = {"chrome": chrome, "kind": kind, "value": value, "articles": articles,
               "pagination": pagination(request, number, data["articles"]["totalCount"], newsroom.settings.page_size)}
    if kind == "search":
        pattern = render.search_pattern(value)
        for article in articles:
            paragraphs = [block["html"] for block in article.get("body") or [] if block["__typename"] == "ParagraphBlock"]
            article["snippet"] = render.snippet(paragraphs, pattern)
        return newsroom.render(request, "search.html", {**context, "q": value, "pattern": pattern})
    if not articles:
        raise HTTPException(404)
    found = next((item for item in articles[0][f"{kind}s"] if item["slug"] == value), None)
    if found is None or found["url"] != request.url.path:
        raise HTTPException(404)  # under another prefix than the site settings give
    context[kind] = found
    context["canonical"] = chrome["site"]["baseUrl"] + found["url"]
    return newsroom.render(request, f"{kind}.html", context)


async def search(request: Request) -> Response:
    query = " ".join(request.query_params.get("q", "").split())[:200]
    if not query:
        newsroom: Newsroom = request.app.state.newsroom
        data = checked(await newsroom.api.query("Home", {"first": 0}, reader=reader(request)))
        return newsroom.render(request, "search.html", {"chrome": newsroom.remember(data), "q": "", "articles": []})
    return await archive(request, kind="search", value=query)


async def preview(request: Request) -> Response:
    """A draft, through the token an editor's createPreviewToken gave (Next.js draft mode): never cached."""
    newsroom: Newsroom = request.app.state.newsroom
    token, path = request.query_params.get("token", ""), request.query_params.get("path", "")
    if not token or not path.startswith("/"):
        return error_page(request, 400, "This preview link is incomplete: it needs the token and the page's path.")
    result = await newsroom.api.query("Page", {"urlPath": path, "first": newsroom.settings.page_size,
                                               "previewToken": token}, reader=reader(request))
    codes = result.codes
    if "EXPIRED" in codes:
        return error_page(request, 410, "This preview link has expired. Ask for a new one.")
    if codes & {"BAD_USER_INPUT", "PERMISSION_DENIED", "NOT_FOUND", "UNAUTHENTICATED", "INVALID"}:
        return error_page(request, 403, "This preview link is not valid for this page.")
    data = checked(result)
    if data["page"] is None:
        raise HTTPException(404)
    chrome = newsroom.remember(data)
    if data["page"]["__typename"] == "ArticlePage":
        return comments.article(request, newsroom, data, chrome, None, preview=True)
    return section(request, newsroom, data, chrome, 1, preview=True)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})


# -- errors --------------------------------------------------------------------------

MESSAGES = {
    400: ("Bad request", "That request could not be understood."),
    403: ("Not allowed", "You may not see this page."),
    404: ("Page not found", "There is no page at this address. It may have been moved or taken down."),
    405: ("Not allowed", "This page cannot take that request."),
    410: ("Link expired", "This link has expired."),
    503: ("We'll be right back", "The newsroom cannot reach its content service just now. "
                                "Please try again in a minute."),
}


def error_page(request: Request, status: int, message: str | None = None, headers: dict[str, str] | None = None):
    newsroom: Newsroom = request.app.state.newsroom
    title, default = MESSAGES.get(status, ("Something went wrong", "Something went wrong on our side."))
    return newsroom.render(request, "error.html", {"status": status, "title": title, "message": message or default},
                           status=status, cache="no-store", headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code, headers=exc.headers)


async def api_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiUnavailable)
    log.warning("503 for %s: %s", request.url.path, exc)
    return error_page(request, 503, headers={"Retry-After": str(exc.retry_after or 30)})


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("500 for %s", request.url.path, exc_info=exc)
    return error_page(request, 500)


DOCUMENT_HEADERS = ("content-type", "cache-control", "etag", "vary")


async def documents(request: Request) -> Response:
    """Feeds and sitemaps are the API's, their links on this site: it passes them on (a sitemap
    may list only URLs of the host that serves it)."""
    newsroom: Newsroom = request.app.state.newsroom
    answer = await newsroom.api.document(request.url.path, request.headers.get("if-none-match"))
    headers = {name: answer.headers[name] for name in DOCUMENT_HEADERS if name in answer.headers}
    return Response(answer.content, status_code=answer.status_code, headers=headers)


class SecurityHeaders:
    """A strict CSP that still lets pages load the API's images and open its live-comments socket."""

    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        api, ws = settings.browser_api_url, settings.websocket_url.removesuffix("/graphql")
        self.headers = [
            (b"content-security-policy", (
                f"default-src 'self'; img-src 'self' {api} data:; connect-src 'self' {ws}; script-src 'self'; "
                "style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
            ).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        ]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    if not 1 <= settings.page_size <= 100:
        raise ValueError("NEWSROOM_PAGE_SIZE must be 1 to 100")
    operations = build()
    api = Masthead(settings.api_url, operations, timeout=settings.timeout, transport=transport)
    newsroom = Newsroom(settings, api, render.environment(settings.browser_api_url))
    newsroom.templates.globals["live_document"] = operations["CommentAdded"].document

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await api.aclose()

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/search", search),
            Route("/preview", preview),
            Route("/healthz", healthz),
            Route("/feeds/{rest:path}", documents),
            Route("/sitemap.xml", documents),
            Route("/sitemaps/{rest:path}", documents),
            Mount("/static", StaticFiles(directory=render.HERE / "static"), name="static"),
            Route("/{path:path}", article_or_section, methods=["GET", "POST"]),
        ],
        middleware=[Middleware(SecurityHeaders, settings=settings)],
        exception_handlers={HTTPException: http_error, ApiUnavailable: api_unavailable, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.newsroom = newsroom
    return app
