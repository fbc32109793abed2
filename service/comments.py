"""Comments: posting with its defences, moderation, and the approved-comment counts."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError

from service import content, db, events, ids, limits, models, purges, webhooks
from service.clock import now
from service.errors import ErrorCode, UserError, required_text, is_number
from service.models import CommentStatus, PageKind
from service.settings import Settings

MAX_NAME = 80
MAX_BODY = 5_000
MAX_EMAIL = 254
MAX_URL = 1_024
DUPLICATE_WINDOW = timedelta(hours=24)
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


async def refresh_counts(article_ids: Sequence[int]) -> None:
    """Recount approved comments (all, and top-level) on the given articles."""
    for article_id in article_ids:
        await db.execute(
            "UPDATE page SET "
            "comment_count = (SELECT COUNT(*) FROM comment WHERE article_id = $1 AND status = $2), "
            "thread_count = (SELECT COUNT(*) FROM comment WHERE article_id = $1 AND status = $2 AND parent_id IS NULL) "
            "WHERE id = $1",
            article_id,
            CommentStatus.APPROVED.value,
        )


async def store_comment(
    *,
    article: models.Page,
    author_name: str,
    author_email: str,
    body: str,
    parent: models.Comment | None = None,
    status: CommentStatus = CommentStatus.PENDING,
    created_at: datetime | None = None,
) -> models.Comment:
    """Store a comment as given (no moderation rules) and keep the counts right."""
    comment = await models.Comment.create(
        article_id=article.id,
        parent_id=parent.id if parent else None,
        author_name=author_name,
        author_email=author_email,
        body=body,
        status=status,
        created_at=created_at or now(),
    )
    if status == CommentStatus.APPROVED:
        await refresh_counts([article.id])
    return comment


# -- posting ------------------------------------------------------------------


def hash_client(settings: Settings, client_ip: str) -> str:
    """A salted hash of the client's address: enough to rate-limit, not to identify."""
    return hmac.new(settings.secret_key.encode(), client_ip.encode(), hashlib.sha256).hexdigest()


def form_token(settings: Settings, article_id: int, issued: float | None = None) -> str:
    """A signed "form shown at" stamp for one article (the minimum-time-to-submit check)."""
    issued = int(time.time() if issued is None else issued)
    payload = f"{article_id}.{issued}"
    signature = hmac.new(settings.secret_key.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payload}.{signature}"


def _form_token_ok(settings: Settings, token: str, article_id: int) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not all(is_number(part) and len(part) <= 18 for part in parts[:2]):
        return False  # huge numbers are forgeries too (and int() refuses 4,300 digits)
    expected = form_token(settings, int(parts[0]), int(parts[1]))
    if not hmac.compare_digest(expected, token) or int(parts[0]) != article_id:
        return False
    age = time.time() - int(parts[1])
    return settings.comment_min_seconds <= age <= 86_400


def _clean_text(value: str | None, field: str, limit: int) -> str:
    return required_text(value, field, limit, _LABELS[field])


_LABELS = {"author_name": "Your name", "author_email": "Your email", "body": "The comment"}


def _clean_email(value: str | None) -> str:
    email = _clean_text(value, "author_email", MAX_EMAIL)
    if not _EMAIL.match(email):
        # Never echo the address: error messages end up in logs.
        raise UserError("That email address is not valid.", ErrorCode.INVALID_EMAIL, field="author_email")
    return email


def _clean_url(value: str | None) -> str:
    url = (value or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError("The website must be an http:// or https:// address.", ErrorCode.INVALID_URL, field="author_url")
    return url


@dataclass
class Posted:
    comment: models.Comment
    # What the author is told: APPROVED, or PENDING (which spam also reads as).
    status: CommentStatus
    # The secret to send with this commenter's later posts (see commenter_token).
    commenter_token: str | None = None


class _Replay(Exception):
    """This post was stored already (same idempotency key): answer with that one."""

    def __init__(self, posted: Posted) -> None:
        self.posted = posted


async def post_comment(
    settings: Settings,
    *,
    article_id: int,
    author_name: str,
    author_email: str,
    body: str,
    client_ip: str,
    parent_id: int | None = None,
    author_url: str | None = None,
    honeypot: str | None = None,
    form_token_value: str | None = None,
    idempotency_key: str | None = None,
    commenter_token_value: str | None = None,
) -> Posted:
    """Validate and store a reader's comment; raise UserError for what the reader can fix.

    With an idempotency key, a retry (after a timeout, a dropped connection) gets
    the comment the first attempt stored instead of a second one; the same key
    with different content is refused. The rate limits are checked and the comment
    stored as one step (service.limits), so concurrent posts cannot overrun them.
    """
    name = _clean_text(author_name, "author_name", MAX_NAME)
    email = _clean_email(author_email)
    url = _clean_url(author_url)
    text = _clean_text(body, "body", MAX_BODY)
    if not (form_token_value or "").strip():
        # A form that never fetched its token is the frontend's bug: say so (a bad token is not told).
        raise UserError("formToken is missing: fetch commentFormToken(articleId:) when the form is shown and send it "
                        "back.", ErrorCode.REQUIRED, field="form_token")
    key = _clean_key(idempotency_key)
    root = await _commenter_root(settings, commenter_token_value, email)
    if key is not None:
        earlier = await _replayed(key, article_id, email, text)
        if earlier is not None:
            return _with_token(settings, earlier, root)
    if len(_LINK.findall(text)) > settings.comment_max_links:
        raise UserError(
            f"A comment may hold at most {settings.comment_max_links} links.", ErrorCode.SPAM, field="body"
        )
    article = await models.Page.get_or_none(id=article_id, kind=PageKind.ARTICLE, tree_live=True)
    if article is None or not content.is_public(article.__dict__, now()):
        raise UserError("There is no such article.", ErrorCode.NOT_FOUND, field="article_id")
    if not article.comments_enabled:
        raise UserError("Comments are closed on this article.", ErrorCode.COMMENTS_CLOSED, field="article_id")
    if parent_id is not None:
        parent = await models.Comment.get_or_none(id=parent_id, article_id=article.id, status=CommentStatus.APPROVED)
        if parent is None:
            raise UserError("The comment you reply to does not exist.", ErrorCode.NOT_FOUND, field="parent_id")
    # Bot signals are not told: the comment is kept as spam and reads as pending.
    spam = bool(honeypot and honeypot.strip()) or not _form_token_ok(settings, form_token_value.strip(), article.id)
    if spam:
        status = CommentStatus.SPAM
    elif await _auto_approved(root):
        status = CommentStatus.APPROVED
    else:
        status = CommentStatus.PENDING
    client = hash_client(settings, client_ip)
    rules = [limits.Rule("client", client, *settings.comment_rate_client),
             limits.Rule("article", article.id, *settings.comment_rate_article)]
    try:
        async with limits.limiter(settings.redis_url).admit(rules):
            await _refuse_duplicate(key, article_id, email, text)
            comment = await models.Comment.create(
                article_id=article.id,
                parent_id=parent_id,
                author_name=name,
                author_email=email,
                author_url=url,
                body=text,
                status=status,
                ip_hash=client,
                created_at=now(),
                idempotency_key=key,
            )
            if status == CommentStatus.APPROVED:
                await refresh_counts([article.id])
                await webhooks.enqueue("comment.approved", approved_event(comment))
    except limits.Limited as limited:
        raise UserError(f"Too many comments; try again in {limited.wait} seconds.", ErrorCode.RATE_LIMITED,
                        retry_after=limited.wait) from None
    except _Replay as replay:
        return _with_token(settings, replay.posted, root)
    except IntegrityError:
        # The same key, stored a moment ago by a concurrent attempt: that one counts.
        earlier = await _replayed(key, article_id, email, text) if key is not None else None
        if earlier is None:
            raise
        return _with_token(settings, earlier, root)
    if status == CommentStatus.APPROVED:
        await purges.purge(purges.comment_keys(article.id))
        await events.comment_approved(comment)
    posted = Posted(comment, CommentStatus.PENDING if status == CommentStatus.SPAM else status)
    return _with_token(settings, posted, root)


async def _refuse_duplicate(key: str | None, article_id: int, email: str, text: str) -> None:
    normalized = _SPACE.sub(" ", text).casefold()
    recent = await models.Comment.filter(author_email=email, created_at__gt=now() - DUPLICATE_WINDOW).values_list("body", flat=True)
    if any(_SPACE.sub(" ", other).casefold() == normalized for other in recent):
        # With a key, the duplicate may be this very post, stored by a concurrent attempt.
        earlier = await _replayed(key, article_id, email, text) if key is not None else None
        if earlier is not None:
            raise _Replay(earlier)
        raise UserError("You have already posted this comment.", ErrorCode.DUPLICATE, field="body")


def _clean_key(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not 8 <= len(value) <= 80 or not all(c.isascii() and (c.isalnum() or c in "-_.:") for c in value):
        raise UserError("idempotencyKey is 8 to 80 letters, digits, '-', '_', '.' or ':' (a UUID works).",
                        ErrorCode.INVALID, field="idempotency_key")
    return value


async def _replayed(key: str, article_id: int, email: str, text: str) -> Posted | None:
    comment = await models.Comment.get_or_none(idempotency_key=key)
    if comment is None:
        return None
    if (comment.article_id, comment.author_email, comment.body) != (article_id, email, text):
        raise UserError("This idempotencyKey was used for another comment.", ErrorCode.CONFLICT, field="idempotency_key")
    status = CommentStatus.PENDING if comment.status == CommentStatus.SPAM else comment.status
    return Posted(comment, status)


# -- known commenters -------------------------------------------------------------
#
# An email proves nothing: anyone can type it. Every post answers with a commenter
# token, "<comment id>.<HMAC(secret, 'commenter:<id>:<email>')>", which only the
# poster of that comment sees. A later post by the same email that carries it is
# auto-approved (when the site allows it) while the comment the token was issued with
# stays approved by a moderator. Posting under someone's email gets a token rooted in
# one's own comment, worth nothing until a moderator approves that comment.


def commenter_token(settings: Settings, comment_id: int, email: str) -> str:
    """The commenter token rooted in one comment, for the email it was posted with."""
    message = f"commenter:{comment_id}:{email.strip().casefold()}".encode()
    signature = hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]
    return f"{comment_id}.{signature}"


async def _commenter_root(settings: Settings, token: str | None, email: str) -> models.Comment | None:
    """The comment a token was issued with, when the token is genuine and for this email."""
    comment_id, _, _ = (token or "").strip().partition(".")
    if not is_number(comment_id) or len(comment_id) > 18:
        return None
    if not hmac.compare_digest(commenter_token(settings, int(comment_id), email), token.strip()):
        return None
    return await models.Comment.get_or_none(id=int(comment_id))


def _with_token(settings: Settings, posted: Posted, root: models.Comment | None) -> Posted:
    """Keep a commenter's token while its comment is approved or awaiting a decision; else root a new one here."""
    if root is not None and root.status in (CommentStatus.APPROVED, CommentStatus.PENDING):
        posted.commenter_token = commenter_token(settings, root.id, root.author_email)
    else:
        posted.commenter_token = commenter_token(settings, posted.comment.id, posted.comment.author_email)
    return posted


async def _auto_approved(root: models.Comment | None) -> bool:
    if root is None or root.status != CommentStatus.APPROVED:
        return False
    site = await models.SiteSettings.first()
    return site is not None and site.auto_approve_known_commenters


# -- moderation -----------------------------------------------------------------

ACTIONS = {
    "approve": CommentStatus.APPROVED,
    "reject": CommentStatus.REMOVED,
    "spam": CommentStatus.SPAM,
    "remove": CommentStatus.REMOVED,
}


async def _article_public(article_id: int) -> bool:
    article = await models.Page.get_or_none(id=article_id)
    return article is not None and content.is_public(article.__dict__, now())


def approved_event(comment: models.Comment) -> dict:
    """A comment.approved payload: ids as the API gives them, never the email."""
    return {
        "id": ids.to_global_id("Comment", comment.id),
        "articleId": ids.to_global_id("ArticlePage", comment.article_id),
        "parentId": ids.to_global_id("Comment", comment.parent_id) if comment.parent_id else None,
        "authorName": comment.author_name,
        "body": comment.body,
    }


async def moderate(comment_id: int, action: str) -> models.Comment:
    """Apply a moderator's decision; approving publishes the comment to live subscribers."""
    if action not in ACTIONS:
        raise UserError(f"Unknown action {action!r}.", ErrorCode.INVALID, field="action")
    comment = await models.Comment.get_or_none(id=comment_id)
    if comment is None:
        raise UserError("There is no such comment.", ErrorCode.NOT_FOUND, field="id")
    status = ACTIONS[action]
    was_approved = comment.status == CommentStatus.APPROVED
    async with db.serialised():
        await models.Comment.filter(id=comment.id).update(status=status)
        await refresh_counts([comment.article_id])
        comment.status = status
        # A comment on an article readers cannot see (a section embargoed since it
        # was posted) is not announced: the payload would publish it.
        if status == CommentStatus.APPROVED and not was_approved and await _article_public(comment.article_id):
            await webhooks.enqueue("comment.approved", approved_event(comment))
    if was_approved or status == CommentStatus.APPROVED:  # the public thread changed
        await purges.purge(purges.comment_keys(comment.article_id))
    if status == CommentStatus.APPROVED and not was_approved:
        await events.comment_approved(comment)
    return comment


async def queue(status: CommentStatus, first: int, after_id: int | None = None) -> tuple[list[models.Comment], bool]:
    """Comments with a status, oldest first (the moderation queue)."""
    query = models.Comment.filter(status=status)
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    rows = await query.order_by("id").limit(first + 1)
    return rows[:first], len(rows) > first
