"""Per-request DataLoaders: every relation a query touches costs one batch query."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from schema.caching import Surrogate
from service import content, menus, models, related, revisions, threads, webhooks


def _by_key(fetch, default=None):
    """Wrap a fetch(keys) -> {key: value} into a DataLoader batch function."""

    async def load(keys: Sequence) -> list:
        found = await fetch(list(keys))
        return [found.get(key, default() if callable(default) else default) for key in keys]

    return load


def load_now(loader: DataLoader, key):
    """The value itself when the loader already holds it, else the loader's future.

    A resolved future still costs graphql-core a coroutine and a task to read; an
    article page reads ~25 primed values (replies, the related articles' sections).
    """
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return loader.load(key)


def then(value: Any, use: Callable[[Any], Any]) -> Any:
    """use(value) now when `value` is already loaded (load_now gave the value), else an awaitable of it."""
    if isinstance(value, asyncio.Future):
        async def later() -> Any:
            return use(await value)

        return later()
    return use(value)


async def load_related(keys: Sequence[tuple[models.Page, int]]) -> list[tuple[list[models.Page], list[models.Page]]]:
    # One article (its page): the cached ranking. Several (a list asking each for its
    # related): one batch per distinct limit, two statements each.
    if len(keys) == 1:
        return [await related.related_articles(*keys[0])]
    found: dict[tuple[int, int], tuple] = {}
    for limit in {limit for _, limit in keys}:
        ranked = await related.related_articles_for_many([article for article, n in keys if n == limit], limit)
        found.update({(pk, limit): value for pk, value in ranked.items()})
    return [found[(article.id, limit)] for article, limit in keys]


class PageLoader(DataLoader):
    """Public pages by id, each one recorded as a surrogate key when loaded or primed (`pages` for one not found)."""

    def __init__(self, surrogate: Surrogate) -> None:
        async def load(keys: Sequence[int]) -> list[models.Page | None]:
            found = await content.pages_by_ids(list(keys))
            pages = [found.get(key) for key in keys]
            surrogate.add(*(f"p:{key}" for key in keys))  # a page not public yet: its publish purges p:<id>
            surrogate.pages(page for page in pages if page is not None)
            return pages

        super().__init__(load)
        self.surrogate = surrogate

    def prime_many(self, data, force: bool = False) -> None:
        self.surrogate.pages(data.values())
        super().prime_many(data, force)


def _recording(fetch, record):
    """A fetch(keys) -> {key: value} that records what it found: record(key, value) for each."""

    async def load(keys: list) -> dict:
        found = await fetch(keys)
        for key, value in found.items():
            record(key, value)
        return found

    return load


async def load_deliveries(keys: Sequence[tuple[int, int]]) -> list[list[models.WebhookDelivery]]:
    """Keys are (webhook id, first): one statement per distinct `first` in the batch."""
    found: dict[tuple[int, int], list] = {}
    for first in {first for _, first in keys}:
        by_hook = await webhooks.deliveries_by_webhook_ids([pk for pk, f in keys if f == first], first)
        found.update({(pk, first): rows for pk, rows in by_hook.items()})
    return [found.get(key, []) for key in keys]


@dataclass
class Loaders:
    # What the request read, as surrogate keys (schema/caching.py): the public loaders record it.
    surrogate: Surrogate = field(default_factory=Surrogate)
    page_by_id: DataLoader = field(init=False)
    navigation_children: DataLoader = field(init=False)
    menu_children: DataLoader = field(init=False)
    # Named menus as stored (every item): the `menu` field keeps the public ones.
    menu_by_name: DataLoader = field(default_factory=lambda: DataLoader(_by_key(menus.menus_by_names)))
    authors_by_article_id: DataLoader = field(init=False)
    tags_by_article_id: DataLoader = field(init=False)
    comment_by_id: DataLoader = field(init=False)
    # The site settings: one key (0), read once a request by whatever needs them (URLs, the logo).
    site: DataLoader = field(init=False)
    tag_by_id: DataLoader = field(init=False)
    image_by_id: DataLoader = field(init=False)
    body_by_page_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(content.bodies_by_page_ids, list)))
    replies_by_comment_id: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(threads.replies_by_comment_ids, list))
    )
    related: DataLoader = field(
        default_factory=lambda: DataLoader(load_related, cache_key_fn=lambda key: (key[0].id, key[1]))
    )
    # Editorial reads (editors see pages in any state, so these are not the public loaders above).
    revision_by_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(revisions.revisions_by_ids)))
    editable_page_by_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(revisions.pages_by_ids)))
    previous_content_by_revision_id: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(revisions.previous_contents, dict))
    )
    redirect_target_by_page_id: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(revisions.redirect_targets, str))
    )
    deliveries_by_webhook_id: DataLoader = field(default_factory=lambda: DataLoader(load_deliveries))

    def __post_init__(self) -> None:
        surrogate = self.surrogate

        def children(parent_id: int, pages: list) -> None:
            surrogate.add("sections")  # navigation: a section published or moved anywhere purges it
            surrogate.pages(pages)

        def people(kind: str):
            return lambda article_id, found: surrogate.add(*(f"{kind}:{item.id}" for item in found))

        self.page_by_id = PageLoader(surrogate)
        self.navigation_children = DataLoader(
            _by_key(_recording(content.navigation_children, children), list))
        self.menu_children = DataLoader(self._menu_children)
        self.authors_by_article_id = DataLoader(
            _by_key(_recording(content.authors_by_article_ids, people("author")), list))
        self.tags_by_article_id = DataLoader(_by_key(_recording(content.tags_by_article_ids, people("tag")), list))
        self.comment_by_id = DataLoader(_by_key(self._comments))
        self.site = DataLoader(self._site)
        self.tag_by_id = DataLoader(_by_key(self._tags))
        # An image's caption, credit or alt text may change (updateImage purges img:<id>).
        self.image_by_id = DataLoader(
            _by_key(_recording(content.images_by_ids, lambda pk, image: surrogate.add(f"img:{pk}"))))

    async def _site(self, keys: Sequence[int]) -> list[models.SiteSettings]:
        self.surrogate.add("site")
        found = await content.site_settings()
        return [found for _ in keys]

    async def _tags(self, ids: list[int]) -> dict[int, models.Tag]:
        # A tag no public page carries yet: the publish that makes it public purges tag:<id>.
        self.surrogate.add(*(f"tag:{pk}" for pk in ids))
        found = await content.public_tags_by_ids(ids)
        if len(found) < len(ids):
            self.surrogate.add("pages")
        return found

    async def _menu_children(self, parent_ids: Sequence[int]) -> list[list[models.Page]]:
        found = await content.menu_children(list(parent_ids))
        # Navigation (a section published or moved anywhere purges `sections`), and the articles an
        # editor may flag for menus (publishing one purges its sections' `articles:s:` keys).
        self.surrogate.add("sections", *(f"articles:s:{pk}" for pk in parent_ids))
        for pages in found.values():
            self.surrogate.pages(pages)
        return [found.get(pk, []) for pk in parent_ids]

    async def _comments(self, ids: list[int]) -> dict[int, models.Comment]:
        found = await threads.comments_by_ids(ids)
        # A comment belongs to its article's thread; one not approved (yet) could be any article's.
        self.surrogate.add(*(f"c:{comment.article_id}" for comment in found.values()))
        if len(found) < len(ids):
            self.surrogate.add("pages")
        return found
