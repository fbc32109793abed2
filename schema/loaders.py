"""Per-request DataLoaders: every relation a query touches costs one batch query."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import cached_property, partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.caching import Surrogate
from service import content, menus, models, references, related, revisions, threads, webhooks


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


class Loaders:
    """A request's DataLoaders, each made the first time the request asks for it.

    An article page uses about half of them; making the rest (and their caches)
    on every request cost more than some of the queries they batch.
    """

    def __init__(self, surrogate: Surrogate | None = None) -> None:
        # What the request read, as surrogate keys (schema/caching.py): the public loaders record it.
        self.surrogate = surrogate if surrogate is not None else Surrogate()

    @cached_property
    def page_by_id(self) -> DataLoader:
        return PageLoader(self.surrogate)

    @cached_property
    def navigation_children(self) -> DataLoader:
        surrogate = self.surrogate

        def children(parent_id: int, pages: list) -> None:
            surrogate.add("sections")  # navigation: a section published or moved anywhere purges it
            surrogate.pages(pages)

        return DataLoader(_by_key(_recording(content.navigation_children, children), list))

    @cached_property
    def translations_by_key(self) -> DataLoader:
        """Live pages by translation key; `tr:<key>` is purged when one of them changes (service/purges.py)."""
        surrogate = self.surrogate

        def record(key: str, pages: list) -> None:
            surrogate.pages(pages)

        async def load(keys: list[str]) -> dict:
            surrogate.add(*(f"tr:{key}" for key in keys))
            return await _recording(content.translations_by_keys, record)(keys)

        return DataLoader(_by_key(load, list))

    @cached_property
    def menu_children(self) -> DataLoader:
        return DataLoader(partial(_menu_children, self.surrogate))

    @cached_property
    def menu_by_name(self) -> DataLoader:
        """Named menus as stored (every item): the `menu` field keeps the public ones."""
        return DataLoader(_by_key(menus.menus_by_names))

    @cached_property
    def authors_by_article_id(self) -> DataLoader:
        return DataLoader(_by_key(_recording(content.authors_by_article_ids, _people(self.surrogate, "author")), list))

    @cached_property
    def tags_by_article_id(self) -> DataLoader:
        return DataLoader(_by_key(_recording(content.tags_by_article_ids, _people(self.surrogate, "tag")), list))

    @cached_property
    def comment_by_id(self) -> DataLoader:
        return DataLoader(_by_key(_comments_recorded(self.surrogate)))

    @cached_property
    def site(self) -> DataLoader:
        """The site settings: one key (0), read once a request by whatever needs them (URLs, the logo)."""
        return DataLoader(partial(_site, self.surrogate))

    @cached_property
    def tag_by_id(self) -> DataLoader:
        return DataLoader(_by_key(partial(_tags, self.surrogate)))

    @cached_property
    def image_by_id(self) -> DataLoader:
        # An image's caption, credit or alt text may change (updateImage purges img:<id>).
        surrogate = self.surrogate
        return DataLoader(_by_key(_recording(content.images_by_ids, lambda pk, image: surrogate.add(f"img:{pk}"))))

    @cached_property
    def body_by_page_id(self) -> DataLoader:
        return DataLoader(_by_key(content.bodies_by_page_ids, list))

    @cached_property
    def replies_by_comment_id(self) -> DataLoader:
        return DataLoader(_by_key(threads.replies_by_comment_ids, list))

    @cached_property
    def related(self) -> DataLoader:
        return DataLoader(load_related, cache_key_fn=lambda key: (key[0].id, key[1]))

    # Editorial reads (editors see pages in any state, so these are not the public loaders above).
    @cached_property
    def revision_by_id(self) -> DataLoader:
        return DataLoader(_by_key(revisions.revisions_by_ids))

    @cached_property
    def editable_page_by_id(self) -> DataLoader:
        return DataLoader(_by_key(revisions.pages_by_ids))

    @cached_property
    def previous_content_by_revision_id(self) -> DataLoader:
        return DataLoader(_by_key(revisions.previous_contents, dict))

    @cached_property
    def redirect_target_by_page_id(self) -> DataLoader:
        return DataLoader(_by_key(revisions.redirect_targets, str))

    @cached_property
    def references_by_page_id(self) -> DataLoader:
        return DataLoader(_by_key(references.references_from, list))

    @cached_property
    def links_by_page_id(self) -> DataLoader:
        return DataLoader(_by_key(references.links_to, list))

    @cached_property
    def usage_by_image_id(self) -> DataLoader:
        return DataLoader(_by_key(references.image_usage, list))

    @cached_property
    def deliveries_by_webhook_id(self) -> DataLoader:
        return DataLoader(load_deliveries)


# Batch functions that record on the request's surrogate keys. Module functions bound to the
# surrogate, never the Loaders' own methods: a loader holding a method of the Loaders that holds
# it is a reference cycle, which kept each request's rows alive until a full collection.
async def _site(surrogate: Surrogate, keys: Sequence[int]) -> list[models.SiteSettings]:
    surrogate.add("site")
    found = await content.site_settings()
    return [found for _ in keys]


async def _tags(surrogate: Surrogate, ids: list[int]) -> dict[int, models.Tag]:
    # A tag no public page carries yet: the publish that makes it public purges tag:<id>.
    surrogate.add(*(f"tag:{pk}" for pk in ids))
    found = await content.public_tags_by_ids(ids)
    if len(found) < len(ids):
        surrogate.add("pages")
    return found


async def _menu_children(surrogate: Surrogate, parent_ids: Sequence[int]) -> list[list[models.Page]]:
    found = await content.menu_children(list(parent_ids))
    # Navigation (a section published or moved anywhere purges `sections`), and the articles an
    # editor may flag for menus (publishing one purges its sections' `articles:s:` keys).
    surrogate.add("sections", *(f"articles:s:{pk}" for pk in parent_ids))
    for pages in found.values():
        surrogate.pages(pages)
    return [found.get(pk, []) for pk in parent_ids]


def _people(surrogate: Surrogate, kind: str):
    return lambda article_id, found: surrogate.add(*(f"{kind}:{item.id}" for item in found))


def _comments_recorded(surrogate: Surrogate):
    async def load(ids: list[int]) -> dict[int, models.Comment]:
        found = await threads.comments_by_ids(ids)
        # A comment belongs to its article's thread; one not approved (yet) could be any article's.
        surrogate.add(*(f"c:{comment.article_id}" for comment in found.values()))
        if len(found) < len(ids):
            surrogate.add("pages")
        return found

    return load
