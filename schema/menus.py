"""Named menus: the public `menu(name:)`, the editors' `menus`, and `setMenu` / `deleteMenu`.

A menu read costs two statements whatever its size: the menus asked for (one
batch, service.menus.menus_by_names) and their pages (one batch of the page
loader). Readers get the public items only: a page item whose page is not public
(a draft, unpublished, outside its window, below a hidden section, deleted) is left
out, and its children with it (they belong under its heading; promoting them would
reshape the menu without an editor deciding so). Answers are keyed `menu:<name>`
and `p:<id>` of each page item, so a rename, move or unpublish of a page purges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry

from schema import ids
from schema.context import Info
from schema.pages import Page
from schema.payloads import UserError, mutation
from schema.permissions import IsEditor
from service import menus, visibility

PAGE_TYPES = set(ids.PAGE_TYPE_NAMES.values())


@strawberry.type(description="A link in a menu: to a page of the site (it follows the page's renames and moves) "
                             "or to an external URL.")
class MenuItem:
    label: str = strawberry.field(description="The text to show: the editor's label, or the page's current title "
                                              "when the item has none.")
    url: str = strawberry.field(description="Where the link goes: the page's URL path (`/world-news/`), or the "
                                            "external URL (http, https or mailto). Empty for an item whose page was deleted.")
    page_id: strawberry.ID | None = strawberry.field(description="Global id of the page the item points at (pass it "
                                                                 "back in MenuItemInput); null for an external link.")
    page: Page | None = strawberry.field(description="The page the item points at; null for an external link.")
    visible: bool = strawberry.field(description="Whether readers get this item: always true in `menu`. In `menus` "
                                                 "(editors), false while its page is not public or after it was deleted "
                                                 "(readers' menu leaves the item out, and its children with it).")
    children: list[MenuItem] = strawberry.field(description="Items under this one, in order (one level: a child has none).")


@strawberry.type(description="A named menu (`main`, `footer` ...) editors keep, its items in order.")
class Menu:
    name: str = strawberry.field(description="The menu's name.")
    items: list[MenuItem] = strawberry.field(description="Top-level items, in order, each with its children.")


@strawberry.input(description="One menu item: set `pageId` (the link follows the page) or `url` (an external link), not both.")
class MenuItemInput:
    page_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of a page, in any state: readers see the item while the page is public.")
    url: str | None = strawberry.field(
        default=None, description="An external link: http or https with a host, or mailto (anything else is INVALID_URL).")
    label: str | None = strawberry.field(
        default=None, description="The text to show (255 characters). Leave it out on a page item to show the page's "
                                  "current title; required with `url`.")
    children: list[MenuItemInput] | None = strawberry.field(
        default=None, description="Items under this one, in order. Menus nest one level: a child with children is INVALID.")


@strawberry.type(description="The result of setMenu.")
class MenuPayload:
    menu: Menu | None = strawberry.field(default=None, description="The menu as saved, every item (as `menus` shows it).")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type(description="The result of deleteMenu.")
class DeleteMenuPayload:
    name: str | None = strawberry.field(default=None, description="The name of the menu deleted.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


def _public_items(items: Sequence[menus.Item], pages: dict[int, Any]) -> list[MenuItem]:
    shown = []
    for item in items:
        page = pages.get(item.page_id) if item.page_id is not None else None
        if (item.page_id is not None and page is None) or not (page or item.url):
            continue  # not public (or deleted): left out, with its children
        shown.append(MenuItem(
            label=item.label or (page.title if page is not None else ""), url=page.url_path if page is not None else item.url,
            page_id=_page_id(page), page=page, visible=True, children=_public_items(item.children, pages),
        ))
    return shown


def _editor_items(items: Sequence[menus.Item], pages: dict[int, Any], shown: bool = True) -> list[MenuItem]:
    out = []
    for item in items:
        page = pages.get(item.page_id) if item.page_id is not None else None
        visible = shown and (visibility.is_public(page.__dict__) if page is not None else bool(item.url))
        out.append(MenuItem(
            label=item.label or (page.title if page is not None else ""), url=page.url_path if page is not None else item.url,
            page_id=_page_id(page), page=page, visible=visible, children=_editor_items(item.children, pages, visible),
        ))
    return out


def _page_id(page: Any) -> strawberry.ID | None:
    return strawberry.ID(ids.global_id(page)) if page is not None else None


async def _editor_view(info: Info, found: Sequence[menus.Menu]) -> list[Menu]:
    """Menus with every item, their pages read in any state (one batch)."""
    wanted = [pk for menu in found for pk in menu.page_ids()]
    loaded = await info.context.loaders.editable_page_by_id.load_many(wanted)
    pages = {pk: page for pk, page in zip(wanted, loaded) if page is not None}
    return [Menu(name=menu.name, items=_editor_items(menu.items, pages)) for menu in found]


def _item_changes(inputs: Sequence[MenuItemInput], prefix: str, depth: int = 0) -> list[dict]:
    """Service-side items from the inputs (ids decoded); the service checks the rest, nesting included."""
    out = []
    for index, item in enumerate(inputs):
        at = f"{prefix}.{index}"
        children = item.children or []
        out.append({
            "page_id": ids.global_pk(item.page_id, PAGE_TYPES, f"{at}.page_id", "page"),
            "url": item.url, "label": item.label,
            # A child's own children are refused by the service (one level): passed on undecoded.
            "children": _item_changes(children, f"{at}.children", depth + 1) if depth == 0 else [{}] * len(children),
        })
    return out


@strawberry.type
class MenuQuery:
    @strawberry.field(
        description="A named menu (`main`, `footer` ...) with the items readers may see, in order: a page item whose "
        "page is not public is left out, and its children with it. Null when there is no menu of that name."
    )
    async def menu(
        self, info: Info, name: Annotated[str, strawberry.argument(description="The menu's name: `main`, `footer` ...")]
    ) -> Menu | None:
        loaders = info.context.loaders
        if menus.is_name(name):  # a name that cannot exist needs no key: setMenu refuses it
            info.context.surrogate.add(menus.key(name))
        found = await loaders.menu_by_name.load(name)
        if found is None:
            return None
        wanted = found.page_ids()
        loaded = await loaders.page_by_id.load_many(wanted)  # keys every page p:<id>, public or not
        return Menu(name=found.name, items=_public_items(found.items, dict(zip(wanted, loaded))))

    @strawberry.field(
        description="Every menu with all its items, pages in any state, by name (editor): what setMenu replaces. "
        "`visible` says which items readers get.",
        permission_classes=[IsEditor],
    )
    async def menus(self, info: Info) -> list[Menu]:
        return await _editor_view(info, await menus.all_menus())


@strawberry.type
class MenuMutation:
    @mutation(
        permission_classes=[IsEditor],
        description="Replace a menu's items, all at once (editor); a new name creates the menu. Readers see the change "
        "at once: menus have no drafts. Items point at a page (any state; shown while public) or an external URL, "
        "and nest one level.",
    )
    async def set_menu(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="The menu's name: 1 to 64 lower-case letters, digits, `-` or `_`.")],
        items: Annotated[list[MenuItemInput], strawberry.argument(description="Every item, in order (at most 100, children included).")],
    ) -> MenuPayload:
        saved = await menus.set_menu(name, _item_changes(items, "items"))
        return MenuPayload(menu=(await _editor_view(info, [saved]))[0])

    @mutation(permission_classes=[IsEditor], description="Delete a menu and its items (editor).")
    async def delete_menu(
        self, info: Info, name: Annotated[str, strawberry.argument(description="The menu's name.")]
    ) -> DeleteMenuPayload:
        await menus.delete_menu(name)
        return DeleteMenuPayload(name=name)


MENU_TYPES = [Menu, MenuItem]

__all__ = ["MENU_TYPES", "MenuMutation", "MenuQuery"]
