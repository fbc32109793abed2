"""Links to pages inside paragraph HTML, and what a page's content refers to.

Editors write `<a data-page-id="GLOBAL_ID">text</a>`; a paragraph stores it as
`<a data-page-id="<row id>">text</a>` with no href (service/blocks.py), and readers get
the target's current URL at read time (schema/blocks.py), so a move or a rename
never breaks the link. Everything here works on HTML the sanitiser has already
written (html5ever's serialiser: double-quoted attribute values, `"` escaped), which
is what makes a regular expression over it exact. Plain functions, no database:
migration 0020 uses them too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

ATTRIBUTE = "data-page-id"
LINK, HERO, IMAGE = "link", "hero", "image"  # reference kinds: a page link, a hero image, an image block

# An anchor as the sanitiser writes it: attributes with double-quoted values, then its text up to </a>
# (anchors never nest once parsed, so the first </a> closes it).
_ANCHOR = re.compile(r'<a((?:\s+[^\s=>/"]+(?:="[^"]*")?)*)\s*>(.*?)</a>', re.DOTALL)
_ATTRIBUTE = re.compile(r'([^\s=>/"]+)(?:="([^"]*)")?')


def attributes(text: str) -> dict[str, str]:
    """The attributes of an anchor's start tag (the group _ANCHOR captured), values unescaped."""
    return {name.lower(): html.unescape(value or "") for name, value in _ATTRIBUTE.findall(text)}


def rewrite(value: str, replace: Callable[[dict[str, str], str], str | None]) -> str:
    """The HTML with each anchor replaced by replace(attributes, inner HTML) (None keeps it as it is)."""
    if "<a" not in value:
        return value

    def one(match: re.Match) -> str:
        out = replace(attributes(match[1]), match[2])
        return match[0] if out is None else out

    return _ANCHOR.sub(one, value)


def link_values(value: str) -> list[str]:
    """The data-page-id values of the anchors in sanitised HTML, in order."""
    if ATTRIBUTE not in value:
        return []
    found: list[str] = []
    for match in _ANCHOR.finditer(value):
        target = attributes(match[1]).get(ATTRIBUTE)
        if target is not None:
            found.append(target)
    return found


def stored_ids(value: str) -> list[int]:
    """The row ids stored paragraphs link to (their data-page-id values are row ids)."""
    return [int(v) for v in link_values(value) if v.isascii() and v.isdigit()]


def anchor(attrs: Mapping[str, str], inner: str) -> str:
    """An anchor with these attributes (values escaped) around inner HTML."""
    parts = "".join(f' {name}="{html.escape(str(v), quote=True)}"' for name, v in attrs.items())
    return f"<a{parts}>{inner}</a>"


def references_in(content: Mapping[str, Any]) -> list[tuple[str, int | None, int | None, str]]:
    """What an article's content (a revision, or a page row's fields) refers to:
    (kind, target page id, target image id, field), without repeats."""
    found: dict[tuple, None] = {}
    hero = content.get("hero_image_id")
    if isinstance(hero, int) and not isinstance(hero, bool):
        found[(HERO, None, hero, "hero_image")] = None
    for index, block in enumerate(content.get("body") or []):
        if not isinstance(block, dict) or not isinstance(block.get("value"), dict):
            continue
        value = block["value"]
        if block.get("type") == "image" and isinstance(value.get("image_id"), int):
            found[(IMAGE, None, value["image_id"], f"body.{index}")] = None
        elif block.get("type") == "paragraph" and isinstance(value.get("html"), str):
            for pk in stored_ids(value["html"]):
                found[(LINK, pk, None, f"body.{index}")] = None
    return list(found)
