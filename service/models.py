"""Tortoise models: the page tree, snippets, images, comments and site settings.

All page kinds share one table (`Page`, with a `kind`): a page is read with one row,
the tree and full-text index cover every kind, and moving a subtree is one UPDATE.
Kind-specific columns are nullable; the GraphQL layer exposes one type per kind.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import uuid4

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class PageKind(StrEnum):
    HOME = "home"
    SECTION = "section"
    ARTICLE = "article"


class CommentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SPAM = "spam"
    REMOVED = "removed"


class Role(StrEnum):
    """What a token may do; each role includes the ones before it."""

    READER = "reader"
    MODERATOR = "moderator"
    EDITOR = "editor"
    PUBLISHER = "publisher"
    ADMIN = "admin"


class ApiToken(Model):
    """A bearer token. Only the SHA-256 of the secret is stored."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    role = fields.CharEnumField(Role, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class Image(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=255, default="")
    url = fields.CharField(max_length=1024)
    width = fields.IntField()
    height = fields.IntField()
    alt = fields.CharField(max_length=512, default="")
    credit = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    # Uploaded originals: the storage key ("" for images known by URL only), their
    # format and size, and the focal point (0..1 from the left and the top) that
    # crops keep in frame.
    file = fields.CharField(max_length=255, default="", db_default="")
    format = fields.CharField(max_length=16, default="", db_default="")
    file_size = fields.IntField(default=0, db_default=0)
    focal_x = fields.FloatField(null=True)
    focal_y = fields.FloatField(null=True)
    # The library's default caption: where an article shows the image as its hero
    # without a caption of its own (Page.hero_caption), this is shown.
    caption = fields.TextField(default="", db_default="")

    class Meta:
        table = "image"
        indexes = (Index(fields=("file",)),)  # /media/original/<key>: which images share the file


class Author(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255)
    slug = fields.CharField(max_length=255, unique=True)
    bio = fields.TextField(default="")
    avatar = fields.ForeignKeyField("masthead.Image", related_name=False, null=True, on_delete=fields.SET_NULL)

    class Meta:
        table = "author"


class Tag(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255)
    slug = fields.CharField(max_length=255, unique=True)

    class Meta:
        table = "tag"


class Page(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(PageKind, max_length=16)
    parent = fields.ForeignKeyField(
        "masthead.Page", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    # Materialised path of ids, "/1/4/9/": ancestors without a query, subtrees by prefix.
    path = fields.CharField(max_length=255)
    depth = fields.IntField()
    position = fields.IntField(default=0)
    slug = fields.CharField(max_length=255)
    url_path = fields.CharField(max_length=1024)
    title = fields.CharField(max_length=255)
    seo_title = fields.CharField(max_length=255, default="")
    search_description = fields.TextField(default="")
    live = fields.BooleanField(default=True)
    first_published_at = fields.DatetimeField(null=True)
    last_published_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # SectionPage
    description = fields.TextField(default="")
    # ArticlePage
    headline = fields.CharField(max_length=512, default="")
    summary = fields.TextField(default="")
    published_at = fields.DatetimeField(null=True)
    source = fields.CharField(max_length=255, default="")
    reading_time = fields.IntField(default=0)
    comments_enabled = fields.BooleanField(default=True)
    # Wagtail's flag: list the page in navigation built from the tree (sections default to true).
    show_in_menus = fields.BooleanField(default=False, db_default=False)
    hero_image = fields.ForeignKeyField(
        "masthead.Image", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # The article's own caption for its hero image ("" shows the image's library caption).
    hero_caption = fields.TextField(default="", db_default="")
    body = fields.JSONField(default=list)
    body_text = fields.TextField(default="")
    # Approved comments (all, and top-level only), kept by service.comments.
    comment_count = fields.IntField(default=0)
    thread_count = fields.IntField(default=0)
    # Editorial state. `live` is the editor's publish decision and the row holds the
    # published content; drafts live in revisions. Readers see a live page only
    # inside its go_live_at/expire_at window, checked on every read.
    go_live_at = fields.DatetimeField(null=True)
    expire_at = fields.DatetimeField(null=True)
    # What readers see follows the page AND its ancestors (service.visibility keeps
    # these in the same transaction as any change to a live flag, a window or the
    # tree): every one of them live, the latest go_live_at and the earliest expire_at.
    # The intersection of windows is one window, so reads still compare with the clock.
    tree_live = fields.BooleanField(default=False, db_default=False)
    public_from = fields.DatetimeField(null=True)
    public_until = fields.DatetimeField(null=True)
    has_unpublished_changes = fields.BooleanField(default=False, db_default=False)
    latest_revision_id = fields.IntField(null=True)
    live_revision_id = fields.IntField(null=True)
    # Where an imported page came from ("md:slug", "wxr:guid"): re-imports update it.
    external_id = fields.CharField(max_length=255, null=True, unique=True)
    # Its tree's language (BCP 47, the locale home's); translations of one page share a key (service/locales.py).
    locale = fields.CharField(max_length=35, default="en", db_default="en")
    translation_key = fields.CharField(max_length=32, default=lambda: uuid4().hex, db_default="")

    class Meta:
        table = "page"
        unique_together = (("url_path",), ("translation_key", "locale"))
        indexes = (
            Index(fields=("parent_id", "position")),
            Index(fields=("parent_id", "show_in_menus", "position")),  # children(inMenu:) without reading articles
            Index(fields=("path",)),
            Index(fields=("kind", "tree_live", "published_at")),
            Index(fields=("parent_id", "kind", "tree_live", "published_at")),
            Index(fields=("kind", "tree_live", "published_at", "id", "public_from", "public_until", "last_published_at", "url_path")),  # sitemaps (0020)
            # Schedules whose boundary passed (record_transitions), without a scan.
            Index(fields=("go_live_at",)), Index(fields=("expire_at",)),
        )


class ArticleAuthor(Model):
    id = fields.IntField(primary_key=True)
    article = fields.ForeignKeyField("masthead.Page", related_name="author_links", on_delete=fields.CASCADE)
    author = fields.ForeignKeyField("masthead.Author", related_name="article_links", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)

    class Meta:
        table = "article_author"
        unique_together = (("article_id", "author_id"),)
        indexes = (Index(fields=("author_id", "article_id")),)


class ArticleTag(Model):
    id = fields.IntField(primary_key=True)
    article = fields.ForeignKeyField("masthead.Page", related_name="tag_links", on_delete=fields.CASCADE)
    tag = fields.ForeignKeyField("masthead.Tag", related_name="article_links", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    # Copies of the article's effective visibility (tree_live as `live`, public_from,
    # public_until), date and section, kept by triggers (migrations 0006, 0011):
    # related-article ranking reads them from one covering index instead of visiting
    # thousands of wide page rows.
    live = fields.BooleanField(default=False, db_default=False)
    published_at = fields.DatetimeField(null=True)
    section_id = fields.IntField(null=True)
    public_from = fields.DatetimeField(null=True)
    public_until = fields.DatetimeField(null=True)

    class Meta:
        table = "article_tag"
        unique_together = (("article_id", "tag_id"),)
        indexes = (
            Index(fields=("tag_id", "article_id")),
            Index(fields=("tag_id", "live", "article_id", "section_id", "published_at", "public_from", "public_until")),
        )


class PageImage(Model):
    """An image that a page's published content shows (hero or image block).

    Kept by triggers on page (migration 0011): the row holds only published content
    (drafts live in revisions), so a draft never adds one. /media serves an image to
    readers only while a page pointing at it is public."""

    id = fields.IntField(primary_key=True)
    page = fields.ForeignKeyField("masthead.Page", related_name=False, on_delete=fields.CASCADE)
    image = fields.ForeignKeyField("masthead.Image", related_name=False, on_delete=fields.CASCADE)

    class Meta:
        table = "page_image"
        unique_together = (("page_id", "image_id"),)
        indexes = (Index(fields=("image_id", "page_id")),)


class ArticleRelation(Model):
    """An editor's choice of related article, in the editor's order."""

    id = fields.IntField(primary_key=True)
    article = fields.ForeignKeyField("masthead.Page", related_name="related_links", on_delete=fields.CASCADE)
    related = fields.ForeignKeyField("masthead.Page", related_name="related_from", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)

    class Meta:
        table = "article_relation"
        unique_together = (("article_id", "related_id"),)
        indexes = (Index(fields=("related_id",)),)


class Comment(Model):
    id = fields.IntField(primary_key=True)
    article = fields.ForeignKeyField("masthead.Page", related_name="comments", on_delete=fields.CASCADE)
    parent = fields.ForeignKeyField("masthead.Comment", related_name="replies", null=True, on_delete=fields.CASCADE)
    author_name = fields.CharField(max_length=80)
    author_email = fields.CharField(max_length=254)
    author_url = fields.CharField(max_length=1024, default="")
    body = fields.TextField()
    status = fields.CharEnumField(CommentStatus, max_length=16, default=CommentStatus.PENDING)
    ip_hash = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField()
    external_id = fields.CharField(max_length=255, null=True, unique=True)  # imported: "wxr:post:comment"
    # The client's key for this post: a retried request returns this comment instead of adding one.
    idempotency_key = fields.CharField(max_length=80, null=True, unique=True)

    class Meta:
        table = "comment"
        indexes = (
            Index(fields=("article_id", "status", "parent_id", "created_at")),
            Index(fields=("parent_id", "status", "created_at")),
            # Rate limits (per client address) and the duplicate check (per author).
            Index(fields=("ip_hash", "created_at")),
            Index(fields=("author_email", "created_at")),
            Index(fields=("article_id", "created_at")),
            Index(fields=("status", "id")),
        )


class PageRevision(Model):
    """One saved version of a page's editable content, numbered per page."""

    id = fields.IntField(primary_key=True)
    page = fields.ForeignKeyField("masthead.Page", related_name="revisions", on_delete=fields.CASCADE)
    number = fields.IntField()
    content = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    created_by = fields.CharField(max_length=100, default="")
    message = fields.CharField(max_length=255, default="")

    class Meta:
        table = "page_revision"
        unique_together = (("page_id", "number"),)


class Redirect(Model):
    """An old path that now lives elsewhere: at a page (which it follows) or a path."""

    id = fields.IntField(primary_key=True)
    old_path = fields.CharField(max_length=1024, unique=True)
    page = fields.ForeignKeyField("masthead.Page", related_name="redirects_in", null=True, on_delete=fields.CASCADE)
    target_path = fields.CharField(max_length=1024, default="")
    is_permanent = fields.BooleanField(default=True)
    automatic = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "redirect"


class Webhook(Model):
    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=1024)
    events = fields.JSONField()
    secret = fields.CharField(max_length=128)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook"


class WebhookDelivery(Model):
    """One event for one endpoint: queued in the database, retried until delivered."""

    id = fields.IntField(primary_key=True)
    webhook = fields.ForeignKeyField("masthead.Webhook", related_name="deliveries", on_delete=fields.CASCADE)
    delivery_id = fields.CharField(max_length=36, unique=True)
    event = fields.CharField(max_length=64)
    payload = fields.JSONField()
    status = fields.CharField(max_length=16, default="pending")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(default="")
    last_status_code = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (Index(fields=("status", "next_attempt_at")),)


class PersistedOperation(Model):
    """A trusted document: an operation the frontend's build registered, by its SHA-256."""

    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=255, default="")
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    # Registered by a client's automatic persisted query, not by the frontend's build (never trusted).
    automatic = fields.BooleanField(default=False)

    class Meta:
        table = "persisted_operation"


class SiteSettings(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255, default="Masthead")
    tagline = fields.CharField(max_length=255, default="")
    # [{"network": "twitter", "url": "https://..."}], in display order.
    social_links = fields.JSONField(default=list)
    # Publish at once comments from an email that already has an approved comment.
    auto_approve_known_commenters = fields.BooleanField(default=False, db_default=False)
    # The public site's origin ("https://news.example.com"); "" means MASTHEAD_PUBLIC_BASE_URL.
    base_url = fields.CharField(max_length=255, default="", db_default="")
    logo = fields.ForeignKeyField("masthead.Image", related_name=False, null=True, on_delete=fields.SET_NULL)
    locale = fields.CharField(max_length=35, default="en", db_default="en")  # BCP 47: the default locale, at /
    locales = fields.CharField(max_length=255, default="", db_default="")  # the others, space-separated: /fr/ ...
    # Where the public site shows a tag's and an author's page: prefix + slug + "/".
    tag_path_prefix = fields.CharField(max_length=255, default="/tags/", db_default="/tags/")
    author_path_prefix = fields.CharField(max_length=255, default="/authors/", db_default="/authors/")

    class Meta:
        table = "site_settings"
