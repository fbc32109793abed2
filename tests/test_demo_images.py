"""The demo newsroom's pictures are real files in the media library, served with their renditions."""

from __future__ import annotations

import io

from PIL import Image as PILImage

from service import demo_content, demo_images, media, models, seed
from tests.conftest import truncate

SUMMIT = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
PICTURES = """query($p: String!) {
  page(urlPath: $p) {
    ogImage { url width height }
    ... on ArticlePage {
      heroImage { id url width height alt caption credit focalPoint { x y }
                  card: rendition(width: 640, height: 480, fill: true) { url width height }
                  small: rendition(width: 320, format: WEBP) { url width height }
                  srcSet(widths: [320, 640, 1024, 1600]) }
      authors { avatar { url width height square: rendition(width: 160, height: 160, fill: true) { url width height } } }
    }
  }
  site { logo { url width height alt src: rendition(width: 320) { url width height } } }
}"""
TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


async def fetch(client, url: str) -> PILImage.Image:
    """GET an image from the API as a reader does; the decoded picture, its format checked against its content type."""
    response = await client.get(url)
    assert response.status_code == 200, (url, response.text)
    picture = PILImage.open(io.BytesIO(response.content))
    assert response.headers["content-type"] == TYPES[picture.format]
    assert response.headers["cache-control"].startswith("public")
    return picture


async def test_a_demo_articles_pictures_are_served_at_their_sizes_with_renditions(demo_site, gql):
    data = await gql(PICTURES, {"p": SUMMIT})
    hero = data["page"]["heroImage"]
    spec = next(i for i in demo_content.IMAGES if i["key"] == "summit-handshake")
    assert hero["url"].startswith("/media/original/")  # a file in the library, as an upload is
    assert (hero["alt"], hero["caption"], hero["credit"]) == (spec["alt"], spec["caption"], spec["credit"])
    assert hero["focalPoint"] is not None

    original = await fetch(demo_site, hero["url"])
    assert original.format == "JPEG" and original.size == (hero["width"], hero["height"]) == (spec["width"], spec["height"])
    card = await fetch(demo_site, hero["card"]["url"])
    assert card.size == (hero["card"]["width"], hero["card"]["height"]) == (640, 480)
    small = await fetch(demo_site, hero["small"]["url"])
    assert small.format == "WEBP" and small.size == (hero["small"]["width"], hero["small"]["height"])
    assert small.size == (320, round(320 * spec["height"] / spec["width"]))
    og = data["page"]["ogImage"]
    assert og["url"].startswith("/media/renditions/")
    assert (await fetch(demo_site, og["url"])).size == (og["width"], og["height"]) == (1200, 630)
    # The srcset names four real renditions, each as wide as it says.
    candidates = [part.split(" ") for part in hero["srcSet"].split(", ")]
    assert len(candidates) == 4
    for url, width in candidates:
        assert (await fetch(demo_site, url)).width == int(width.removesuffix("w"))

    avatars = [a["avatar"] for a in data["page"]["authors"] if a["avatar"]]
    assert avatars
    for avatar in avatars:
        assert (await fetch(demo_site, avatar["url"])).size == (avatar["width"], avatar["height"]) == (400, 400)
        assert (await fetch(demo_site, avatar["square"]["url"])).size == (160, 160)
    logo = data["site"]["logo"]
    assert logo["alt"] == demo_content.SITE["name"]
    shown = await fetch(demo_site, logo["url"])
    assert shown.format == "PNG" and shown.size == (logo["width"], logo["height"]) == (600, 160)
    assert (await fetch(demo_site, logo["src"]["url"])).size == (logo["src"]["width"], logo["src"]["height"]) == (320, 85)


async def test_every_demo_image_is_a_stored_file_and_reseeding_stores_the_same_ones(demo_site, media_dir):
    first = {i.title: (i.file, i.width, i.height, i.focal_x, i.focal_y) for i in await models.Image.all()}
    assert len(first) == len(demo_content.IMAGES)
    for spec in demo_content.IMAGES:
        file, width, height, *_ = first[spec["title"]]
        assert (media_dir / file).is_file() and (width, height) == (spec["width"], spec["height"])
    await truncate()
    await seed.seed_demo(media.LocalStorage(media_dir))
    again = {i.title: (i.file, i.width, i.height, i.focal_x, i.focal_y) for i in await models.Image.all()}
    assert again == first  # the same content hashes: the same bytes


def test_pictures_are_drawn_the_same_every_time():
    """Not only remembered: drawing again from nothing gives the same bytes (what another process seeds)."""
    for spec in demo_content.IMAGES[:2] + [i for i in demo_content.IMAGES if i["art"]["kind"] != "scene"][:2]:
        art = spec["art"]
        drawn = [demo_images.draw(art["kind"], spec["key"], (spec["width"], spec["height"]), tuple(art["palette"]),
                                  art.get("motif", ""), art.get("text", "")) for _ in range(2)]
        assert drawn[0] == drawn[1] == demo_images.artwork(spec)
