"""Images: uploads checked by content, stored behind a storage interface, and renditions.

Originals are stored under content-addressed keys (`original/ab/<sha256>.jpg`), so
the same file uploaded twice is stored once. Renditions are made with Pillow on
the first GET of their URL, cached in storage (`renditions/<id>/<w>x<h>-<mode>.<fmt>`)
and served from it afterwards. A rendition's URL carries an HMAC of what it asks
for (`.../<w>x<h>-<mode>-<signature>.<fmt>`), made only by the API for the sizes in
RENDITION_SIZES: nobody can make the service resize to other dimensions, or walk
through the images by id. Readers get an image only while published content shows
it (service.content.image_is_public); editors get any.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from service import content, models
from service.errors import ErrorCode, UserError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 MP: a decompressed bomb never gets past this
RENDITION_SIZES = (160, 320, 480, 640, 800, 1024, 1200, 1280, 1600, 1920)
# Heights may also be 630: 1200x630 is the Open Graph card (Page.ogImage).
RENDITION_HEIGHTS = (*RENDITION_SIZES, 630)
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
RENDITION_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
_RENDITION = re.compile(r"^renditions/(\d{1,12})/(\d{1,5})x(\d{1,5})-(fill|max)-([0-9a-f]{32})\.(jpg|png|webp)$")
_ORIGINAL = re.compile(r"original/[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|webp|gif)")
_GRANT = re.compile(r"([0-9]{1,12})\.([0-9a-f]{32})")

PILImage.MAX_IMAGE_PIXELS = MAX_PIXELS
_RENDERING = asyncio.Semaphore(2)


class Storage(Protocol):
    """Where files live: the local filesystem here; an S3-compatible store fits the same five calls."""

    def save(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def path(self, key: str) -> Path | None: ...
    def remove_folder(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _file(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if self.root.resolve() not in target.parents:
            raise ValueError(f"storage key outside the media root: {key!r}")
        return target

    def save(self, key: str, data: bytes) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, target)  # atomic: readers never see half a file

    def read(self, key: str) -> bytes:
        return self._file(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._file(key).is_file()

    def path(self, key: str) -> Path | None:
        return self._file(key)

    def remove_folder(self, key: str) -> None:
        shutil.rmtree(self._file(key), ignore_errors=True)


@dataclass
class Probe:
    format: str
    width: int
    height: int


def probe(data: bytes) -> Probe:
    """What the bytes are, by content: UNSUPPORTED_MEDIA for anything but JPEG, PNG, WebP, GIF."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UserError(f"The file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB.", ErrorCode.TOO_LARGE, field="file")
    if not data:
        raise UserError("The file is empty.", ErrorCode.UNSUPPORTED_MEDIA, field="file")
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
            if width * height > MAX_PIXELS:
                raise UserError(f"The image has more than {MAX_PIXELS // 1_000_000} megapixels.", ErrorCode.TOO_LARGE, field="file")
            image.verify()
    except UserError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, PILImage.DecompressionBombError):
        raise UserError("The file is not an image (JPEG, PNG, WebP or GIF).", ErrorCode.UNSUPPORTED_MEDIA, field="file") from None
    if fmt not in FORMATS:
        raise UserError(f"{fmt} images are not accepted; use JPEG, PNG, WebP or GIF.", ErrorCode.UNSUPPORTED_MEDIA, field="file")
    return Probe(fmt, width, height)


def _focal(value: float | None, field: str) -> float | None:
    if value is None:
        return None
    if not 0.0 <= value <= 1.0:
        raise UserError("A focal point is between 0 and 1 (from the left, from the top).", ErrorCode.INVALID, field=field)
    return float(value)


def check_text(values: dict[str, str | None]) -> dict[str, str]:
    """An image's text fields (title, alt, credit, caption), stripped; TOO_LONG past their limits."""
    out = {}
    for field, value in values.items():
        value = (value or "").strip()
        if len(value) > TEXT_LIMITS[field]:
            raise UserError(f"{field} is longer than {TEXT_LIMITS[field]} characters.", ErrorCode.TOO_LONG, field=field)
        out[field] = value
    return out


def check_focal(focal_x: float | None, focal_y: float | None) -> tuple[float | None, float | None]:
    """A focal point's coordinates, each 0..1 or None; INVALID otherwise."""
    return _focal(focal_x, "focal_x"), _focal(focal_y, "focal_y")


TEXT_LIMITS = {"title": 255, "alt": 512, "credit": 255, "caption": 1000}


async def add_image(storage: Storage, data: bytes, *, title: str = "", alt: str = "", credit: str = "",
                    caption: str = "", focal_x: float | None = None, focal_y: float | None = None) -> models.Image:
    """Check and store an uploaded original; returns the new library image."""
    found = probe(data)
    text = check_text({"title": title, "alt": alt, "credit": credit, "caption": caption})
    fx, fy = check_focal(focal_x, focal_y)
    digest = hashlib.sha256(data).hexdigest()
    key = f"original/{digest[:2]}/{digest}.{FORMATS[found.format]}"
    if not storage.exists(key):
        storage.save(key, data)
    image = await models.Image.create(
        url=f"/media/{key}", file=key, format=FORMATS[found.format], file_size=len(data), width=found.width,
        height=found.height, **text, focal_x=fx, focal_y=fy,
    )
    # A database made afresh beside an old media directory gives its ids out again (a reset
    # development site, the demo seeded anew): the new image must not inherit the renditions
    # cached for the last one with its id.
    storage.remove_folder(f"renditions/{image.id}")
    return image


@dataclass
class Rendition:
    url: str
    width: int
    height: int


def check_size(width: int, height: int | None) -> None:
    allowed = ", ".join(map(str, RENDITION_SIZES))
    if width not in RENDITION_SIZES:
        raise UserError(f"Rendition sizes are {allowed} pixels.", ErrorCode.INVALID, field="width")
    if height is not None and height not in RENDITION_HEIGHTS:
        raise UserError(f"Rendition heights are {allowed} or 630 pixels.", ErrorCode.INVALID, field="height")


def signature(secret: str, stored: str) -> str:
    """The HMAC that makes a rendition's URL: only the API, which holds the secret, can issue one."""
    return hmac.new(secret.encode(), b"rendition:" + stored.encode(), hashlib.sha256).hexdigest()[:32]


def rendition(image: models.Image, width: int, height: int | None, fill: bool, fmt: str | None, *,
              secret: str) -> Rendition:
    """The signed URL and size of a rendition; the file itself is made on its first request."""
    check_size(width, height)
    if fill and height is None:
        raise UserError("A fill rendition needs a height.", ErrorCode.INVALID, field="height")
    if not image.file:  # known by URL only: nothing to resize
        return Rendition(image.url, image.width, image.height)
    ext = fmt or (image.format if image.format in RENDITION_FORMATS else "jpg")
    if ext not in RENDITION_FORMATS:
        raise UserError("Rendition formats are jpg, png and webp.", ErrorCode.INVALID, field="format")
    box_h = height or RENDITION_SIZES[-1] * 10
    if fill:
        out_w, out_h = width, height
    else:  # fit inside the box, never upscale
        scale = min(width / image.width, box_h / image.height, 1.0)
        out_w, out_h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    mode = "fill" if fill else "max"
    stored = f"renditions/{image.id}/{width}x{height or 0}-{mode}.{ext}"
    url = f"/media/{stored[:-len(ext) - 1]}-{signature(secret, stored)}.{ext}"
    return Rendition(url, out_w, out_h)


def _render(original: bytes, width: int, height: int, fill: bool, ext: str, focal: tuple[float, float]) -> bytes:
    with PILImage.open(io.BytesIO(original)) as source:
        source = ImageOps.exif_transpose(source)
        if fill:
            # Crop to the box's aspect around the focal point, then scale.
            ratio = width / height
            src_w, src_h = source.size
            crop_w, crop_h = (src_w, round(src_w / ratio)) if src_w / src_h < ratio else (round(src_h * ratio), src_h)
            left = min(max(0, round(focal[0] * src_w - crop_w / 2)), src_w - crop_w)
            top = min(max(0, round(focal[1] * src_h - crop_h / 2)), src_h - crop_h)
            result = source.crop((left, top, left + crop_w, top + crop_h)).resize((width, height), PILImage.LANCZOS)
        else:
            result = source.copy()
            result.thumbnail((width, height or 10**6), PILImage.LANCZOS)
        fmt = RENDITION_FORMATS[ext]
        if fmt == "JPEG" and result.mode not in ("RGB", "L"):
            result = result.convert("RGB")
        out = io.BytesIO()
        result.save(out, fmt, **({"quality": 82, "optimize": True} if fmt in ("JPEG", "WEBP") else {}))
        return out.getvalue()


GRANT_SECONDS = 3600


def grant_expiry(now: float | None = None) -> int:
    """When a grant made now ends: one to two hours on, on the hour, so an editor's
    URLs stay the same (and cached by the browser) for an hour at a time."""
    now = time.time() if now is None else now
    return (int(now) // GRANT_SECONDS + 2) * GRANT_SECONDS


def with_grant(url: str, secret: str, expires: int) -> str:
    """A /media/ URL that also works for a file readers may not have, until `expires`:
    what an editor's screen or a preview puts in <img>, which sends no token."""
    if not url.startswith("/media/"):
        return url  # images known by URL only live elsewhere
    return f"{url}?grant={expires}.{_grant_signature(secret, url[len('/media/'):], expires)}"


def _grant_signature(secret: str, key: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"grant:{expires}:{key}".encode(), hashlib.sha256).hexdigest()[:32]


def granted(secret: str, key: str, value: str | None, now: float | None = None) -> bool:
    """Whether a `grant` query parameter opens this /media/ key now."""
    match = _GRANT.fullmatch(value or "")
    if match is None:
        return False
    expires = int(match[1])
    if expires <= (time.time() if now is None else now) or expires > grant_expiry(now) + GRANT_SECONDS:
        return False
    return hmac.compare_digest(match[2], _grant_signature(secret, key, expires))


@dataclass(frozen=True)
class Wanted:
    """A /media/ key that names a file this service may serve: an original or a signed rendition."""

    stored: str  # the storage key
    image_id: int | None = None  # renditions only
    width: int = 0
    height: int = 0
    fill: bool = False
    ext: str = ""


def parse_key(key: str, secret: str) -> Wanted | None:
    """What a /media/ key asks for, or None when it is malformed, unsigned, wrongly signed or
    of a size the API never offers. Costs no I/O: refusals reach neither the database nor Pillow."""
    if key.startswith("original/"):
        return Wanted(key) if _ORIGINAL.fullmatch(key) else None
    match = _RENDITION.match(key)
    if not match:
        return None
    image_id, width, height, mode, given, ext = int(match[1]), int(match[2]), int(match[3]), match[4], match[5], match[6]
    stored = f"renditions/{image_id}/{width}x{height}-{mode}.{ext}"
    if image_id > 2**31 - 1 or key != f"{stored[:-len(ext) - 1]}-{given}.{ext}":
        return None  # one URL per rendition: "0160x0" must not make a second copy
    if not hmac.compare_digest(given, signature(secret, stored)):
        return None
    try:
        check_size(width, height or None)
    except UserError:
        return None
    if mode == "fill" and not height:
        return None
    return Wanted(stored, image_id, width, height, mode == "fill", ext)


async def is_public(wanted: Wanted) -> bool:
    """Whether readers may have this file: published content now shows its image."""
    if wanted.image_id is None:
        return await content.file_is_public(wanted.stored)
    return await content.image_is_public(wanted.image_id)


class RenderRefused(Exception):
    """The client spent its render budget; cached files are still served to it."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"render budget spent; retry in {retry_after} s")
        self.retry_after = retry_after


async def serve(storage: Storage, wanted: Wanted, charge=None) -> tuple[bytes, str] | None:
    """The bytes and content type of a file, making a rendition on first request.

    `await charge()` is asked before a render (not for a stored file): it returns 0 to go on or
    the seconds to wait, which raise RenderRefused."""
    if wanted.image_id is None:
        if not storage.exists(wanted.stored):
            return None
        return storage.read(wanted.stored), CONTENT_TYPES[wanted.stored.rsplit(".", 1)[1]]
    key, ext = wanted.stored, wanted.ext
    if storage.exists(key):
        return storage.read(key), CONTENT_TYPES[ext]
    image = await models.Image.get_or_none(id=wanted.image_id)
    if image is None or not image.file or not storage.exists(image.file):
        return None
    wait = await charge() if charge is not None else 0
    if wait:
        raise RenderRefused(wait)
    focal = (image.focal_x if image.focal_x is not None else 0.5, image.focal_y if image.focal_y is not None else 0.5)
    async with _RENDERING:  # resizing is CPU-bound: a few at a time, off the event loop
        if storage.exists(key):  # made by another request while this one waited
            return storage.read(key), CONTENT_TYPES[ext]
        data = await asyncio.to_thread(_render, storage.read(image.file), wanted.width, wanted.height, wanted.fill, ext, focal)
        storage.save(key, data)
    return data, CONTENT_TYPES[ext]


async def library(first: int, before_id: int | None = None) -> list[models.Image]:
    """The image library, newest first, images older than `before_id` when given."""
    query = models.Image.all()
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(first)
