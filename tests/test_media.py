"""Image uploads (GraphQL multipart request spec), renditions under /media/, and their limits."""

from __future__ import annotations

import io
import json

from PIL import Image as PILImage

from service import auth
from service.models import Role
from tests.conftest import run_cli

UPLOAD = """
mutation($file: Upload!, $alt: String!) {
  uploadImage(file: $file, alt: $alt, credit: "Desk", focalX: 0.25, focalY: 0.5) {
    image { id url width height alt credit focalPoint { x y }
            small: rendition(width: 320) { url width height }
            big: rendition(width: 640) { url }
            square: rendition(width: 160, height: 160, fill: true, format: WEBP) { url width height }
            srcSet(widths: [320, 640]) }
    errors { field code message }
  }
}"""


def picture(width: int = 1200, height: int = 800, fmt: str = "PNG") -> bytes:
    image = PILImage.new("RGB", (width, height), (200, 30, 30))
    for x in range(width // 4):  # a blue stripe on the left quarter, where the focal point is
        for y in range(0, height, 4):
            image.putpixel((x, y), (20, 20, 220))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


async def _upload(client, data: bytes, filename: str, token: str | None, alt: str = "Harbour at dawn", preflight: bool = False):
    operations = {"query": UPLOAD, "variables": {"file": None, "alt": alt}}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if preflight:
        headers["GraphQL-Require-Preflight"] = "1"
    return await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, data, "application/octet-stream")},
        headers=headers,
    )


async def _editor() -> str:
    raw, _ = await auth.create_token(name="photo-desk", role=Role.EDITOR)
    return raw


async def test_upload_and_renditions(client):
    token = await _editor()
    response = await _upload(client, picture(), "anything.bin", token)
    assert response.status_code == 200, response.text
    result = response.json()["data"]["uploadImage"]
    assert result["errors"] == []
    image = result["image"]
    assert (image["width"], image["height"], image["alt"], image["credit"]) == (1200, 800, "Harbour at dawn", "Desk")
    assert image["focalPoint"] == {"x": 0.25, "y": 0.5}
    assert image["small"]["width"] == 320 and image["small"]["height"] == 213
    assert image["square"] == {"url": image["square"]["url"], "width": 160, "height": 160}
    assert image["srcSet"] == f"{image['small']['url']} 320w, {image['big']['url']} 640w"

    # In no published page yet: the editor's token fetches it (see test_media_access for readers).
    editor = {"Authorization": f"Bearer {token}"}
    original = await client.get(image["url"], headers=editor)
    assert original.status_code == 200 and original.headers["content-type"] == "image/png"
    small = await client.get(image["small"]["url"], headers=editor)
    assert small.status_code == 200 and small.headers["cache-control"] == "private, no-store"
    assert PILImage.open(io.BytesIO(small.content)).size == (320, 213)
    square = await client.get(image["square"]["url"], headers=editor)
    rendered = PILImage.open(io.BytesIO(square.content))
    assert rendered.format == "WEBP" and rendered.size == (160, 160)
    # Cropped around the focal point (left quarter): the crop holds the blue stripe.
    assert rendered.convert("RGB").getpixel((20, 80))[2] > 60
    again = await client.get(image["square"]["url"], headers=editor)  # served from the cache, identical
    assert again.content == square.content

    canonical = image["small"]["url"]
    padded = canonical.replace("/320x0-", "/0320x00-")
    assert (await client.get(padded, headers=editor)).status_code == 404  # one URL per rendition
    for bad in ("/media/renditions/1/333x0-max.jpg", "/media/renditions/999999/320x0-max.jpg",
                "/media/../../etc/passwd", "/media/original/zz/nothing.png", "/media/renditions/1/160x0-fill.jpg",
                "/media/renditions/99999999999/320x0-max-" + "0" * 32 + ".jpg"):
        assert (await client.get(bad, headers=editor)).status_code == 404, bad



async def test_uploads_are_checked_by_content_and_size(client):
    token = await _editor()
    not_image = (await _upload(client, b"GIF89a but not really an image" * 10, "photo.png", token)).json()
    assert not_image["data"]["uploadImage"]["errors"][0]["code"] == "UNSUPPORTED_MEDIA"
    svg = (await _upload(client, b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.jpg", token)).json()
    assert svg["data"]["uploadImage"]["errors"][0]["code"] == "UNSUPPORTED_MEDIA"
    big = (await _upload(client, b"\xff" * (10 * 1024 * 1024 + 1), "big.jpg", token)).json()
    assert big["data"]["uploadImage"]["errors"][0]["code"] == "TOO_LARGE"
    huge_request = await _upload(client, b"\x00" * (11 * 1024 * 1024), "huge.jpg", token)
    assert huge_request.status_code == 413
    cross_site = await _upload(client, picture(), "a.png", None)  # what an HTML form could send
    assert cross_site.status_code == 400 and "Preflight" in cross_site.text
    anonymous = (await _upload(client, picture(), "a.png", None, preflight=True)).json()
    assert anonymous["data"]["uploadImage"]["errors"][0]["code"] == "UNAUTHENTICATED"
    long_alt = (await _upload(client, picture(), "a.png", token, alt="x" * 600)).json()
    assert long_alt["data"]["uploadImage"]["errors"][0]["field"] == "alt"


async def test_the_same_file_is_stored_once(client, app):
    from service import models

    token = await _editor()
    data = picture(400, 300, "JPEG")
    first = (await _upload(client, data, "a.jpg", token)).json()["data"]["uploadImage"]["image"]
    second = (await _upload(client, data, "b.jpg", token)).json()["data"]["uploadImage"]["image"]
    assert first["id"] != second["id"] and first["url"] == second["url"]
    stored = await models.Image.get(id=int(first["id"]))
    assert stored.format == "jpg" and stored.file.startswith("original/") and stored.file_size == len(data)
    editor = {"Authorization": f"Bearer {token}"}
    assert first["url"].split("?")[0].endswith(".jpg") and (await client.get(first["url"], headers=editor)).content == data


async def test_a_new_image_never_inherits_the_renditions_cached_for_its_id(client):
    """A database made afresh beside the old media directory gives image ids out again."""
    from tests.conftest import truncate

    shown = []
    for colour in ((200, 30, 30), (20, 160, 60)):
        token = await _editor()
        plain = PILImage.new("RGB", (1200, 800), colour)
        out = io.BytesIO()
        plain.save(out, "PNG")
        image = (await _upload(client, out.getvalue(), "plain.png", token)).json()["data"]["uploadImage"]["image"]
        served = await client.get(image["square"]["url"], headers={"Authorization": f"Bearer {token}"})
        assert served.status_code == 200
        shown.append((image["id"], image["square"]["url"].split("?")[0],
                      PILImage.open(io.BytesIO(served.content)).convert("RGB").getpixel((80, 80))))
        await truncate()  # ids start again at 1, the media directory stays
    (red_id, red_url, red), (green_id, green_url, green) = shown
    assert (red_id, red_url) == (green_id, green_url)  # the same id, the same rendition URL ...
    assert red[0] > 150 and green[1] > 120 and green[0] < 60  # ... but each image's own pixels


async def test_renditions_through_an_article_and_refusals(demo_site, gql):
    raw, _ = await auth.create_token(name="photo", role=Role.PUBLISHER)
    upload = (await _upload(demo_site, picture(2000, 1000), "wide.png", raw)).json()["data"]["uploadImage"]["image"]
    section = (await gql('{ page(urlPath: "/world-news/") { id } }'))["page"]["id"]
    create = """mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id } errors { code field } } }"""
    made = await demo_site.post("/graphql", json={"query": create, "variables": {"input": {
        "sectionId": section, "title": "Pictures of the harbour", "heroImageId": upload["id"],
        "body": [{"paragraph": {"html": "<p>Look.</p>"}}, {"image": {"imageId": upload["id"], "caption": "Wide"}}],
    }}}, headers={"Authorization": f"Bearer {raw}"})
    article = made.json()["data"]["createArticle"]
    assert article["errors"] == []
    await demo_site.post("/graphql", json={"query": "mutation($id: ID!) { publishPage(id: $id) { errors { code } } }",
                                           "variables": {"id": article["article"]["id"]}}, headers={"Authorization": f"Bearer {raw}"})
    page = (await gql(
        '{ page(urlPath: "/world-news/pictures-of-the-harbour/") { ... on ArticlePage { heroImage { width '
        "wide: rendition(width: 1920) { width height } small: rendition(width: 800, height: 800) { width height } } "
        "body { ... on ImageBlock { caption image { srcSet(widths: [480, 1024]) } } } } } }"
    ))
    hero = page["page"]["heroImage"]
    assert hero["wide"] == {"width": 1920, "height": 960} and hero["small"] == {"width": 800, "height": 400}
    refused = await gql('{ page(urlPath: "/world-news/pictures-of-the-harbour/") { ... on ArticlePage { heroImage { rendition(width: 5000) { url } } } } }', errors=True)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "1920" in refused["errors"][0]["message"]
    srcset = await gql('{ page(urlPath: "/world-news/pictures-of-the-harbour/") { ... on ArticlePage { heroImage { srcSet(widths: [480, 961]) } } } }', errors=True)
    assert srcset["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_cli_adds_images(database_url, tmp_path, client):
    path = tmp_path / "photo.jpg"
    path.write_bytes(picture(640, 480, "JPEG"))
    result = run_cli("images", "add", str(path), "--alt", "A photo", "--focal", "0.3,0.6", database_url=database_url,
                     MASTHEAD_MEDIA_DIR=str(tmp_path / "media"))
    assert "640x480 jpg" in result.stdout
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    refused = run_cli("images", "add", str(bad), database_url=database_url, check=False, MASTHEAD_MEDIA_DIR=str(tmp_path / "media"))
    assert refused.returncode == 1 and "not an image" in refused.stderr
