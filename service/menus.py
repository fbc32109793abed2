"""Named menus (`main`, `footer` ...): ordered links to pages or external URLs, nested one level.

Editors replace a menu as a whole (`set_menu`): its items are deleted and written
again in one transaction, behind a lock on the menu's name, so readers see the old
menu or the new one, never a mix, and two editors saving at once never interleave.
A page item stores the page's id, not its URL: the URL and title are read with the
menu, so a rename or a move never breaks the link, and readers get the item only
while the page is public (the GraphQL layer loads the pages through the public page
loader, which leaves out what readers may not see). Changes purge `menu:<name>`
after they commit; an answer showing a page item is also keyed `p:<id>`, which
every change to that page purges (service/purges.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError

from service import db, fields, menu_models, models, purges
from service.errors import ErrorCode, UserError

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_ITEMS = 100  # in all, children included
URL_SCHEMES = ("http", "https", "mailto")


@dataclass
class Item:
    """A menu item as stored: a page id or an external URL, and its own label ("" on a page item: the page's title)."""

    page_id: int | None
    url: str
    label: str
    children: list[Item] = field(default_factory=list)


@dataclass
class Menu:
    name: str
    items: list[Item]

    def page_ids(self) -> list[int]:
        """Ids of the pages its items point at, in menu order, each once."""
        return list(dict.fromkeys(item.page_id for item in walk(self.items) if item.page_id is not None))


def walk(items: Sequence[Item]) -> Iterator[Item]:
    """Every item, each followed by its children."""
    for item in items:
        yield item
        yield from item.children


def is_name(name: str) -> bool:
    """Whether `name` can name a menu: lower-case letters, digits, `-` and `_`, at most 64."""
    return NAME.fullmatch(name) is not None


def key(name: str) -> str:
    """The surrogate key of answers that show this menu."""
    return f"menu:{name}"


# -- validation ---------------------------------------------------------------------


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not is_name(name):
        raise UserError("A menu name is 1 to 64 lower-case letters, digits, '-' or '_' (main, footer).",
                        ErrorCode.INVALID, field="name")
    return name


def clean_url(value: Any, field: str) -> str:
    """An external link: http(s) with a host, or mailto with an address; INVALID_URL otherwise."""
    url = fields.text(value, field, 1024)
    refused = UserError("A menu link is an http(s) URL with a host or a mailto: address.", ErrorCode.INVALID_URL, field=field)
    if any(char.isspace() or not char.isprintable() for char in url):
        raise refused
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise refused from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and host:
        return url
    if scheme == "mailto" and "@" in parts.path.strip("@"):
        return url
    raise refused


def _clean_items(raw: Any, prefix: str, nested: bool, count: list[int]) -> list[Item]:
    if not isinstance(raw, (list, tuple)):
        raise UserError("Menu items come as a list.", ErrorCode.INVALID, field=prefix)
    items = []
    for index, value in enumerate(raw):
        at = f"{prefix}.{index}"
        count[0] += 1
        if count[0] > MAX_ITEMS:
            raise UserError(f"A menu holds at most {MAX_ITEMS} items, children included.", ErrorCode.INVALID, field="items")
        if not isinstance(value, Mapping):
            raise UserError("A menu item is an object.", ErrorCode.INVALID, field=at)
        page_id, url = value.get("page_id"), value.get("url") or None
        if (page_id is None) == (url is None):
            raise UserError("A menu item links to a page or to a URL: give one of pageId and url.", ErrorCode.INVALID, field=at)
        if page_id is not None and (isinstance(page_id, bool) or not isinstance(page_id, int)):
            raise UserError("pageId is not the id of a page.", ErrorCode.NOT_FOUND, field=f"{at}.page_id")
        label = fields.text(value.get("label"), f"{at}.label", 255)
        if url is not None:
            url = clean_url(url, f"{at}.url")
            if not label:
                raise UserError("A link to a URL needs a label.", ErrorCode.REQUIRED, field=f"{at}.label")
        children = value.get("children") or []
        if nested and children:
            raise UserError("Menus nest one level: a child item cannot have children of its own.", ErrorCode.INVALID,
                            field=f"{at}.children")
        items.append(Item(page_id, url or "", label, _clean_items(children, f"{at}.children", True, count)))
    return items


def _field_of(items: Sequence[Item], page_id: int) -> str:
    """The input field of the first item pointing at `page_id`."""
    for index, item in enumerate(items):
        if item.page_id == page_id:
            return f"items.{index}.page_id"
        for sub, child in enumerate(item.children):
            if child.page_id == page_id:
                return f"items.{index}.children.{sub}.page_id"
    return "items"


# -- changes ------------------------------------------------------------------------


async def set_menu(name: Any, items: Any) -> Menu:
    """Replace a menu's items with `items` (created when new); purge `menu:<name>` once committed.

    Each item is a dict: `page_id` (a page in any state) or `url` (http, https or
    mailto), `label` (required with a URL; "" shows the page's title) and
    `children` (items of their own, which may not have children).
    """
    name = _clean_name(name)
    clean = _clean_items(items, "items", False, [0])
    menu = Menu(name, clean)
    wanted = menu.page_ids()
    rows = []
    for position, item in enumerate(clean):
        rows.append((None, position, item))
        rows.extend((position, sub, child) for sub, child in enumerate(item.children))
    async with db.serialised(key(name)):
        found = set(await models.Page.filter(id__in=wanted).values_list("id", flat=True)) if wanted else set()
        if missing := [page_id for page_id in wanted if page_id not in found]:
            raise UserError("pageId is not the id of a page.", ErrorCode.NOT_FOUND, field=_field_of(clean, missing[0]))
        stored = await menu_models.Menu.get_or_none(name=name)
        if stored is None:
            stored = await menu_models.Menu.create(name=name)
        else:
            await menu_models.MenuItem.filter(menu_id=stored.id).delete()
            await stored.save(update_fields=["updated_at"])
        try:
            if rows:
                await menu_models.MenuItem.bulk_create([
                    menu_models.MenuItem(menu_id=stored.id, parent_position=parent, position=position,
                                         page_id=item.page_id, url=item.url, label=item.label)
                    for parent, position, item in rows
                ])
        except IntegrityError:  # PostgreSQL: a page deleted since the check above (SQLite has one writer)
            raise UserError("A page of the menu was deleted meanwhile; reload and try again.", ErrorCode.NOT_FOUND,
                            field="items") from None
    await purges.purge([key(name)])
    return menu


async def delete_menu(name: Any) -> None:
    """Delete a menu and its items; NOT_FOUND when there is none of that name."""
    if not isinstance(name, str) or not is_name(name):
        raise UserError("There is no menu of that name.", ErrorCode.NOT_FOUND, field="name")
    async with db.serialised(key(name)):
        deleted = await menu_models.Menu.filter(name=name).delete()
    if not deleted:
        raise UserError("There is no menu of that name.", ErrorCode.NOT_FOUND, field="name")
    await purges.purge([key(name)])


# -- reads --------------------------------------------------------------------------

_READ = (
    "SELECT m.name AS menu_name, i.parent_position, i.position, i.page_id, i.url, i.label "
    "FROM menu m LEFT JOIN menu_item i ON i.menu_id = m.id"
)


def _assemble(rows: Sequence[dict]) -> dict[str, Menu]:
    """Menus from their rows (one per item, one with no item for an empty menu), items in order."""
    menus: dict[str, Menu] = {}
    tops: dict[tuple[str, int], Item] = {}
    ordered = sorted(rows, key=lambda r: (r["parent_position"] is not None, r["parent_position"] or 0, r["position"] or 0))
    for row in ordered:
        menu = menus.setdefault(row["menu_name"], Menu(row["menu_name"], []))
        if row["position"] is None:
            continue
        item = Item(row["page_id"], row["url"], row["label"])
        if row["parent_position"] is None:
            menu.items.append(item)
            tops[(menu.name, row["position"])] = item
        elif (parent := tops.get((menu.name, row["parent_position"]))) is not None:
            parent.children.append(item)
    return menus


async def menus_by_names(names: Sequence[str]) -> dict[str, Menu]:
    """The menus of these names that exist, with every item (readers' visibility is the caller's); one statement."""
    wanted = [name for name in dict.fromkeys(names) if is_name(name)]
    if not wanted:
        return {}
    marks = ", ".join(f"${n}" for n in range(1, len(wanted) + 1))
    return _assemble(await db.read(f"{_READ} WHERE m.name IN ({marks})", *wanted))


async def all_menus() -> list[Menu]:
    """Every menu, by name, with every item (for editors); one statement."""
    found = _assemble(await db.fetch(_READ))
    return [found[name] for name in sorted(found)]
