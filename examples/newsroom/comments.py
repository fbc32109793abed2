"""The article page and its comment form, which works without JavaScript.

The form posts back to the article's own URL; the site calls `addComment` and
renders the page again with the API's typed errors next to their fields, the
"awaiting moderation" message, or a countdown from `retryAfter`. With
JavaScript, static/live-comments.js adds approved comments as they arrive.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from examples.newsroom import render
from examples.newsroom.site import Newsroom, checked, reader, redirect_or_404

# AddCommentInput fields -> the form's inputs; errors on any other field are shown above the form.
INPUTS = {"authorName": "name", "authorEmail": "email", "body": "body"}
COMMENTER_COOKIE = "newsroom_commenter"


@dataclass
class CommentForm:
    token: str  # commentFormToken, fetched when the form is shown
    key: str = field(default_factory=lambda: str(uuid.uuid4()))  # idempotencyKey: a resent form posts once
    values: dict[str, str] = field(default_factory=dict)
    reply_to: dict[str, Any] | None = None
    field_errors: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    retry_after: int | None = None
    posted: dict[str, Any] | None = None  # the comment just stored, shown to its author
    status: str | None = None  # PENDING or APPROVED


def _thread(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in page["comments"]["edges"]]


def _find(thread: list[dict[str, Any]], comment_id: str) -> dict[str, Any] | None:
    for comment in thread:
        if comment["id"] == comment_id:
            return comment
        for reply in comment.get("replies") or []:
            if reply["id"] == comment_id:
                return reply
    return None


async def _token(request: Request, newsroom: Newsroom, article_id: str) -> str:
    result = await newsroom.api.query("CommentForm", {"articleId": article_id}, reader=reader(request))
    return checked(result)["commentFormToken"]


async def fresh_form(request: Request, newsroom: Newsroom, page: dict[str, Any]) -> CommentForm | None:
    """The form as a reader first sees it (None where comments are closed), replying when ?replyTo= names a comment."""
    if not page["commentsEnabled"]:
        return None
    form = CommentForm(token=await _token(request, newsroom, page["id"]))
    reply_to = request.query_params.get("replyTo")
    if reply_to:
        form.reply_to = _find(_thread(page), reply_to)
    return form


def article(request: Request, newsroom: Newsroom, data: dict[str, Any], chrome: dict[str, Any],
            form: CommentForm | None, *, preview: bool = False, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    page = data["page"]
    og, canonical = page["ogImage"], page["canonicalUrl"]
    structured = render.news_article(page, chrome["site"], canonical=canonical,
                                     image=newsroom.absolute((og or {}).get("url")), absolute=newsroom.absolute)
    return newsroom.render(request, "article.html", {
        "chrome": chrome, "page": page, "thread": _thread(page), "latest": [e["node"] for e in data["latest"]["edges"]],
        "form": form, "preview": preview, "canonical": canonical, "og_image": og, "og_type": "article",
        "json_ld": structured, "current": page["section"]["url"],
        "live_url": newsroom.settings.websocket_url,
    }, status=status, cache="private, no-store" if preview else "private, no-cache", headers=headers)


def _commenter_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


async def post(request: Request, newsroom: Newsroom, path: str) -> Response:
    """A comment posted by the form: addComment, then the article again with the outcome."""
    submitted = await request.form()
    values = {name: str(submitted.get(name, "")) for name in ("name", "email", "body")}
    data = checked(await newsroom.api.query("Page", {"urlPath": path, "first": 1}, reader=reader(request)),
                   "BAD_USER_INPUT")
    page = data["page"]
    if page is None:
        return await redirect_or_404(request, newsroom, path)
    if page["__typename"] != "ArticlePage" or page["url"] != path:
        return Response(status_code=405, headers={"Allow": "GET"})
    chrome = newsroom.remember(data)
    form = CommentForm(token=str(submitted.get("form_token", "")), values=values)
    key = str(submitted.get("idempotency_key", ""))
    if key:
        form.key = key
    parent_id = str(submitted.get("parent_id", "")) or None
    if parent_id:
        form.reply_to = _find(_thread(page), parent_id) or {"id": parent_id, "authorName": ""}
    stored_key, _, commenter = request.cookies.get(COMMENTER_COOKIE, "").partition(".")
    payload = {
        "articleId": page["id"], "authorName": values["name"], "authorEmail": values["email"], "body": values["body"],
        "parentId": parent_id, "formToken": form.token or None, "idempotencyKey": form.key,
        # The field hidden from people: a browser sends it empty, a bot that fills every input does not.
        "honeypot": str(submitted.get("website", "")) or None,
        "commenterToken": commenter if commenter and stored_key == _commenter_key(values["email"]) else None,
    }
    result = checked(await newsroom.api.mutate("AddComment", {"input": payload}, reader=reader(request)))["addComment"]
    status, headers = 200, {}
    if result["errors"]:
        for error in result["errors"]:
            name = INPUTS.get(error.get("field") or "")
            if name and name not in form.field_errors:
                form.field_errors[name] = error["message"]
            elif not name:
                form.errors.append(error["message"])
            if error.get("retryAfter"):
                form.retry_after = error["retryAfter"]
        status = 429 if form.retry_after else 422
        if form.retry_after:
            headers["Retry-After"] = str(form.retry_after)
        if not form.token:
            form.token = await _token(request, newsroom, page["id"])
    else:
        form.posted, form.status = result["comment"], result["status"]
        form.values, form.reply_to, form.key = {}, None, str(uuid.uuid4())  # a new, empty form for the next comment
        form.token = await _token(request, newsroom, page["id"])
        # Read the article again: an approved comment is in the thread now.
        data = checked(await newsroom.api.query("Page", {"urlPath": path, "first": 1}, reader=reader(request)))
    response = article(request, newsroom, data, chrome, form, status=status, headers=headers)
    if result.get("commenterToken"):
        response.set_cookie(COMMENTER_COOKIE, f"{_commenter_key(values['email'])}.{result['commenterToken']}",
                            max_age=365 * 86400, httponly=True, samesite="lax", path="/")
    return response
