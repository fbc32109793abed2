"""Per-request DataLoaders: every relation a query touches costs one batch query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from service import content, models, related, revisions, threads, webhooks


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


async def load_deliveries(keys: Sequence[tuple[int, int]]) -> list[list[models.WebhookDelivery]]:
    """Keys are (webhook id, first): one statement per distinct `first` in the batch."""
    found: dict[tuple[int, int], list] = {}
    for first in {first for _, first in keys}:
        by_hook = await webhooks.deliveries_by_webhook_ids([pk for pk, f in keys if f == first], first)
        found.update({(pk, first): rows for pk, rows in by_hook.items()})
    return [found.get(key, []) for key in keys]


@dataclass
class Loaders:
    page_by_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(content.pages_by_ids)))
    navigation_children: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(content.navigation_children, list))
    )
    authors_by_article_id: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(content.authors_by_article_ids, list))
    )
    tags_by_article_id: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(content.tags_by_article_ids, list))
    )
    body_by_page_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(content.bodies_by_page_ids, list)))
    image_by_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(content.images_by_ids)))
    replies_by_comment_id: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(threads.replies_by_comment_ids, list))
    )
    comment_by_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(threads.comments_by_ids)))
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
