"""What the views share: the site's state, the reader's address, and the API's answers checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from examples.newsroom.api import ApiUnavailable, Masthead, Result
from examples.newsroom.settings import Settings

PUBLIC = "public, max-age=30"


@dataclass
class Newsroom:
    """What every view needs: settings, the API client, the templates, the last chrome seen."""

    settings: Settings
    api: Masthead
    templates: Any
    chrome: dict[str, Any] | None = None  # site and sections from the last good answer, for the 503 page

    def render(self, request: Request, template: str, context: dict[str, Any], *, status: int = 200,
               cache: str = PUBLIC, headers: dict[str, str] | None = None) -> HTMLResponse:
        chrome = context.get("chrome") or self.chrome
        site = (chrome or {}).get("site") or {}
        values = {
            "request": request,
            "chrome": chrome,
            "site": site,
            "lang": site.get("locale") or "en",
            "canonical": None,
            "og_image": None,
            "api_url": self.settings.browser_api_url,
            **context,
        }
        body = self.templates.get_template(template).render(values)
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": cache, **(headers or {})})

    def remember(self, data: dict[str, Any]) -> dict[str, Any]:
        self.chrome = {"site": data["site"], "sections": data["sections"]}
        return self.chrome

    def absolute(self, url: str | None) -> str | None:
        """A URL the API gave, made absolute against the API (images) when it is a path."""
        return urljoin(self.settings.browser_api_url + "/", url) if url else None


def reader(request: Request) -> str | None:
    return request.client.host if request.client else None


def checked(result: Result, *allowed: str) -> dict[str, Any]:
    """The data of a result whose errors, if any, all have an allowed code; else the API failed us."""
    unexpected = result.codes - set(allowed)
    if result.data is None or unexpected:
        raise ApiUnavailable(f"the API answered errors {sorted(unexpected) or result.codes}")
    return result.data


async def redirect_or_404(request: Request, newsroom: Newsroom, path: str) -> Response:
    result = await newsroom.api.query("Redirect", {"path": path}, reader=reader(request))
    target = (checked(result, "BAD_USER_INPUT").get("redirect") or {})
    if not target:
        raise HTTPException(404)
    query = request.url.query
    return RedirectResponse(target["target"] + (f"?{query}" if query else ""),
                            status_code=301 if target["isPermanent"] else 302)
