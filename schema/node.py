"""Relay object identification and cursor pagination."""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

from schema import ids

T = TypeVar("T")


@strawberry.interface(description="An object with a globally unique id (Relay object identification).")
class Node:
    @strawberry.field(description="Globally unique id; pass it to `node(id:)` to fetch the object again.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.global_id(self))


@strawberry.type(description="Where a page of a connection sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    has_previous_page: bool = strawberry.field(description="Items precede `startCursor`.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item on this page.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item; pass it as `after`.")

    @classmethod
    def of(cls, cursors: list[str], has_next: bool, has_previous: bool) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.type(description="An item of a list and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque cursor; pass it as `after` to continue after this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, with cursor pagination (Relay connection).")
class Connection(Generic[T]):
    """One generic for every connection: `Connection[Comment]` is named `CommentConnection`
    in the schema, its edges `CommentEdge`. A subclass adds fields (totalCount) or a description."""

    edges: list[Edge[T]] = strawberry.field(description="The items on this page.")
    page_info: PageInfo = strawberry.field(description="Pagination state.")

    @classmethod
    def of(cls, cursors: list[str], items: list, has_next: bool, has_previous: bool, **extra):
        """A connection of `items`, each with its cursor."""
        return cls(
            edges=[Edge(cursor=cursor, node=item) for cursor, item in zip(cursors, items)],
            page_info=PageInfo.of(cursors, has_next, has_previous),
            **extra,
        )
