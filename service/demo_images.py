"""The demo newsroom's pictures: abstract artwork drawn with Pillow when the demo is seeded.

Each image of service/demo_content.py says what to draw in its `art`: a scene (a sky, a
horizon and geometric shapes in the colours its title suggests), a portrait or the logo.
Shapes come from a random generator seeded with the image's key, so every seed draws the
same bytes, which the media library stores once (its keys are content hashes). A process
draws each picture once: the tests seed the demo hundreds of times.
"""

from __future__ import annotations

import functools
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageColor, ImageDraw, ImageFont

Colour = tuple[int, int, int]
Box = tuple[int, int]


@dataclass(frozen=True)
class Artwork:
    data: bytes
    focal: tuple[float, float] | None  # where the subject is, 0..1: crops keep it in frame

    def __post_init__(self) -> None:
        if self.focal is not None:
            object.__setattr__(self, "focal", (round(self.focal[0], 3), round(self.focal[1], 3)))


def artwork(spec: dict) -> Artwork:
    """The file of one demo image (drawn on its first use in this process, then remembered)."""
    art = spec["art"]
    return _drawn(art["kind"], spec["key"], spec["width"], spec["height"], tuple(art["palette"]),
                  art.get("motif", ""), art.get("text", ""))


@functools.lru_cache(maxsize=64)
def _drawn(kind: str, key: str, width: int, height: int, palette: tuple[str, ...], motif: str, text: str) -> Artwork:
    return draw(kind, key, (width, height), palette, motif, text)


def draw(kind: str, key: str, size: Box, palette: tuple[str, ...], motif: str = "", text: str = "") -> Artwork:
    """Draw one picture: the same arguments give the same bytes."""
    rng = random.Random(key)
    colours = [ImageColor.getrgb(c)[:3] for c in palette]
    if kind == "logo":
        return Artwork(_png(_logo(size, colours, text)), None)
    if kind == "portrait":
        image, focal = _portrait(rng, size, colours)
    else:
        image, focal = _scene(rng, size, colours, MOTIFS[motif])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return Artwork(out.getvalue(), focal)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _gradient(size: Box, top: Colour, bottom: Colour) -> Image.Image:
    """A vertical gradient: one column of pixels, stretched sideways (fast at any size)."""
    width, height = size
    column = bytes(c for row in range(height) for c in _mix(top, bottom, row / max(1, height - 1)))
    return Image.frombytes("RGB", (1, height), column).resize(size, Image.Resampling.NEAREST)


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


# -- scenes -----------------------------------------------------------------------------------

Motif = Callable[[ImageDraw.ImageDraw, random.Random, Box, int, list[Colour]], tuple[float, float]]


def _scene(rng: random.Random, size: Box, colours: list[Colour], motif: Motif) -> tuple[Image.Image, tuple[float, float]]:
    """Sky, a light low over the horizon, its reflection, and the motif's shapes standing on the horizon."""
    width, height = size
    sky_top, sky_low, ground_high, ground_low, light, *shapes = colours
    horizon = round(height * rng.uniform(0.58, 0.68))
    image = Image.new("RGB", size)
    image.paste(_gradient((width, horizon), sky_top, sky_low), (0, 0))
    image.paste(_gradient((width, height - horizon), ground_high, ground_low), (0, horizon))
    pen = ImageDraw.Draw(image)
    sun_x, radius = rng.uniform(0.2, 0.8) * width, height * rng.uniform(0.05, 0.08)
    sun_y = horizon - radius * rng.uniform(1.2, 2.6)
    for ring in range(4, 0, -1):  # a soft halo: rings ever closer to the light's colour
        r = radius * (1 + ring * 0.45)
        pen.ellipse((sun_x - r, sun_y - r, sun_x + r, sun_y + r), fill=_mix(sky_low, light, 0.5 / ring))
    pen.ellipse((sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius), fill=light)
    for row in range(horizon + 6, height, max(6, height // 60)):  # its reflection, broken by ripples
        half = radius * rng.uniform(0.3, 1.4) * (1 - (row - horizon) / (height - horizon))
        pen.line((sun_x - half, row, sun_x + half, row), fill=_mix(ground_high, light, 0.45), width=2)
    return image, motif(pen, rng, size, horizon, shapes)


def _cranes(pen, rng, size, horizon, shapes):
    width, height = size
    steel, *boxes = shapes
    for _ in range(60):  # stacked containers along the quay
        w, h = rng.randint(width // 22, width // 12), height // 30
        x, tier = rng.randint(0, width - w), rng.randint(0, 3)
        pen.rectangle((x, horizon - h * (tier + 1), x + w, horizon - h * tier - 2), fill=rng.choice(boxes))
    for n in range(4):
        x, top = round(width * (0.18 + n * 0.19)), round(horizon - height * rng.uniform(0.38, 0.48))
        legs = width // 30
        pen.polygon([(x - legs, horizon), (x - 4, top), (x + 4, top), (x + legs, horizon)], outline=steel, width=6)
        pen.line((x - legs * 2, top + 12, x + legs * 5, top + 12), fill=steel, width=10)  # the boom
        pen.line((x + legs * 4, top + 12, x + legs * 4, top + height // 6), fill=steel, width=3)  # the hoist
    return 0.5, 0.45


def _arches(pen, rng, size, horizon, shapes):
    """Tiers of seats in a horseshoe, as a chamber or an auditorium seen from above."""
    width, height = size
    cx, cy = width / 2, height * 1.05
    for tier in range(9, 0, -1):
        r = height * (0.18 + tier * 0.09)
        pen.pieslice((cx - r * 1.3, cy - r, cx + r * 1.3, cy + r), 180, 360, fill=shapes[tier % len(shapes)])
    for _ in range(140):  # people in their seats
        angle, reach = rng.uniform(math.pi * 1.05, math.pi * 1.95), height * rng.uniform(0.3, 0.95)
        x, y = cx + math.cos(angle) * reach * 1.3, cy + math.sin(angle) * reach
        pen.ellipse((x - 7, y - 7, x + 7, y + 7), fill=shapes[0])
    return 0.5, 0.7


def _flags(pen, rng, size, horizon, shapes):
    width, height = size
    pole, *cloth = shapes
    for n in range(9):
        x, top = round(width * (0.1 + n * 0.1)), round(horizon - height * 0.45)
        pen.line((x, horizon, x, top), fill=pole, width=6)
        stripes = rng.sample(cloth, 3)
        for i, colour in enumerate(stripes):  # a tricolour, waving
            y = top + i * 30
            pen.polygon([(x, y), (x + 110, y + 12), (x + 110, y + 42), (x, y + 30)], fill=colour)
    for side in (-1, 1):  # two figures meeting in the middle
        x = width / 2 + side * width * 0.06
        pen.ellipse((x - 34, horizon - height * 0.36, x + 34, horizon - height * 0.36 + 68), fill=pole)
        pen.rounded_rectangle((x - 60, horizon - height * 0.28, x + 60, horizon + 40), radius=40, fill=pole)
    pen.line((width / 2 - width * 0.04, horizon - height * 0.14, width / 2 + width * 0.04, horizon - height * 0.14),
             fill=pole, width=26)
    return 0.5, 0.5


def _turbines(pen, rng, size, horizon, shapes):
    width, height = size
    white = shapes[0]
    for n in range(6):
        scale = 0.5 + n * 0.12
        x, hub = width * (0.08 + n * 0.17), horizon - height * 0.5 * scale
        pen.line((x, horizon + 10 * scale, x, hub), fill=white, width=max(3, round(10 * scale)))
        start = rng.uniform(0, 120)
        for blade in range(3):
            angle = math.radians(start + blade * 120)
            reach = height * 0.22 * scale
            pen.line((x, hub, x + math.cos(angle) * reach, hub + math.sin(angle) * reach), fill=white,
                     width=max(2, round(7 * scale)))
    return 0.6, 0.45


def _bridge(pen, rng, size, horizon, shapes):
    width, height = size
    steel, tram, stripe = shapes
    deck = horizon - height * 0.08
    pen.arc((-width * 0.1, deck - height * 0.5, width * 1.1, deck + height * 0.5), 180, 360, fill=steel, width=14)
    for n in range(1, 24):  # hangers from the arch to the deck
        x = width * n / 24
        rise = math.sqrt(max(0.0, 1 - ((x - width / 2) / (width * 0.6)) ** 2)) * height * 0.5
        pen.line((x, deck - rise, x, deck), fill=steel, width=4)
    pen.rectangle((0, deck, width, deck + 18), fill=steel)
    left = width * rng.uniform(0.3, 0.45)
    pen.rounded_rectangle((left, deck - 90, left + width * 0.3, deck - 4), radius=18, fill=tram)
    pen.rectangle((left, deck - 40, left + width * 0.3, deck - 28), fill=stripe)
    for n in range(8):  # windows
        x = left + 20 + n * (width * 0.3 - 40) / 8
        pen.rectangle((x, deck - 78, x + (width * 0.3 - 60) / 8, deck - 50), fill=stripe)
    return (left + width * 0.15) / width, (deck - 45) / height


def _dishes(pen, rng, size, horizon, shapes):
    width, height = size
    glass, *cultures = shapes
    for _ in range(14):
        r = rng.randint(height // 16, height // 9)
        x, y = rng.randint(r, width - r), rng.randint(horizon + r // 3, height - r // 2)
        pen.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=glass, outline=cultures[0], width=3)
        for _ in range(6):  # colonies
            c = rng.randint(4, max(5, r // 6))
            cx, cy = x + rng.uniform(-0.6, 0.6) * r, y + rng.uniform(-0.25, 0.25) * r
            pen.ellipse((cx - c, cy - c // 2, cx + c, cy + c // 2), fill=rng.choice(cultures))
    return 0.5, 0.75


def _floodlights(pen, rng, size, horizon, shapes):
    width, height = size
    steel, lamp, *crowd = shapes
    stand = horizon - height * 0.16
    pen.polygon([(0, horizon), (width * 0.1, stand), (width * 0.9, stand), (width, horizon)], fill=steel)
    for _ in range(400):  # the stand, full
        x, y = rng.uniform(0.08, 0.92) * width, horizon - rng.uniform(0.01, 0.15) * height
        pen.ellipse((x - 4, y - 4, x + 4, y + 4), fill=rng.choice(crowd))
    for x in (width * 0.06, width * 0.94):
        top = horizon - height * 0.55
        pen.line((x, horizon, x, top), fill=steel, width=10)
        for row in range(3):
            for col in range(4):
                lx, ly = x - 50 + col * 26, top - 40 + row * 20
                pen.rectangle((lx, ly, lx + 20, ly + 14), fill=lamp)
    return 0.5, 0.6


def _organ(pen, rng, size, horizon, shapes):
    width, height = size
    gold, *wood = shapes
    for n in range(31):  # pipes rising to the middle
        x, rise = width * (0.25 + n * 0.5 / 31), height * (0.2 + 0.25 * math.sin(math.pi * n / 30))
        pen.rectangle((x, horizon - rise, x + width * 0.011, horizon), fill=gold)
    for tier in range(5):  # boxes and circles on either side
        for side in (0.08, 0.78):
            y = horizon - height * (0.1 + tier * 0.09)
            pen.arc((width * side, y - 40, width * (side + 0.14), y + 40), 0, 180, fill=gold, width=6)
    for _ in range(220):  # the red seats of the stalls
        x, y = rng.uniform(0, width), rng.uniform(horizon + 10, height)
        pen.rounded_rectangle((x, y, x + 22, y + 14), radius=4, fill=rng.choice(wood))
    return 0.5, 0.45


def _screens(pen, rng, size, horizon, shapes):
    width, height = size
    frame, *lines = shapes
    cols, rows = 4, 3
    w, h = width * 0.8 / cols, horizon * 0.8 / rows
    for col in range(cols):
        for row in range(rows):
            x, y = width * 0.1 + col * w, horizon * 0.12 + row * h
            pen.rectangle((x + 6, y + 6, x + w - 6, y + h - 6), fill=frame)
            points, level = [], rng.uniform(0.3, 0.7)
            for step in range(16):  # a price chart
                level = min(0.9, max(0.1, level + rng.uniform(-0.12, 0.12)))
                points.append((x + 14 + step * (w - 28) / 15, y + 14 + level * (h - 28)))
            pen.line(points, fill=lines[(col + row) % len(lines)], width=4)
    return 0.5, 0.35


def _lighthouse(pen, rng, size, horizon, shapes):
    width, height = size
    tower, band, *grass = shapes
    for _ in range(70):  # seagrass meadows on the mud
        x, y = rng.uniform(0, width), rng.uniform(horizon + 12, height)
        w = rng.uniform(width * 0.03, width * 0.12)
        pen.ellipse((x, y, x + w, y + w / 7), fill=rng.choice(grass))
    x, top = width * 0.78, horizon - height * 0.3
    pen.polygon([(x - 22, horizon), (x - 12, top), (x + 12, top), (x + 22, horizon)], fill=tower)
    for n in range(3):
        y = top + (horizon - top) * (0.2 + n * 0.28)
        pen.rectangle((x - 20, y, x + 20, y + 14), fill=band)
    pen.rectangle((x - 16, top - 26, x + 16, top), fill=band)
    return 0.72, 0.55


def _satellite(pen, rng, size, horizon, shapes):
    width, height = size
    body, panel, suit = shapes
    cx, cy, s = width / 2, horizon - height * 0.18, height * 0.14
    pen.rectangle((cx - s, cy - s, cx + s, cy + s), fill=body, outline=suit, width=4)
    for side in (-1, 1):  # unfolded solar panels, in cells
        for cell in range(3):
            x = cx + side * (s + 10 + cell * s * 0.8)
            pen.rectangle((min(x, x + side * s * 0.75), cy - s * 0.7, max(x, x + side * s * 0.75), cy + s * 0.7), fill=panel)
    pen.rectangle((cx - s * 1.3, cy + s, cx + s * 1.3, horizon), fill=suit)  # the test stand
    for x in (width * 0.2, width * 0.8):  # two people in cleanroom suits
        pen.ellipse((x - 40, horizon - height * 0.45, x + 40, horizon - height * 0.45 + 80), fill=suit)
        pen.rounded_rectangle((x - 70, horizon - height * 0.36, x + 70, horizon + 60), radius=50, fill=suit)
    return 0.5, (cy / height)


def _crowd(pen, rng, size, horizon, shapes):
    width, height = size
    carpet, marquee, *people = shapes
    pen.rectangle((width * 0.3, horizon - height * 0.38, width * 0.7, horizon - height * 0.26), fill=marquee)
    for n in range(28):  # bulbs round the marquee
        x = width * (0.3 + 0.4 * n / 27)
        pen.ellipse((x - 5, horizon - height * 0.4 - 5, x + 5, horizon - height * 0.4 + 5), fill=marquee)
    pen.polygon([(width * 0.45, horizon), (width * 0.55, horizon), (width * 0.68, height), (width * 0.32, height)],
                fill=carpet)
    for _ in range(260):
        x, y = rng.uniform(0, width), rng.uniform(horizon - 20, height)
        if width * 0.3 < x < width * 0.7 and y > horizon:
            continue  # nobody on the carpet
        r = 8 + (y - horizon) / height * 30
        pen.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(people))
    return 0.5, 0.55


def _train(pen, rng, size, horizon, shapes):
    width, height = size
    carriage, window, edge = shapes
    pen.rectangle((0, horizon + 30, width, horizon + 46), fill=edge)  # the platform's edge
    for n in range(3):
        left = n * width * 0.36 - width * 0.05
        pen.rounded_rectangle((left, horizon - height * 0.3, left + width * 0.34, horizon + 24), radius=20, fill=carriage)
        for w in range(6):
            x = left + 24 + w * width * 0.053
            if rng.random() < 0.8:  # most compartments lit
                pen.rectangle((x, horizon - height * 0.24, x + width * 0.035, horizon - height * 0.15), fill=window)
    for x in (width * 0.2, width * 0.5, width * 0.8):  # lamps along the platform
        pen.line((x, horizon + 30, x, horizon - height * 0.45), fill=edge, width=6)
        pen.ellipse((x - 14, horizon - height * 0.45 - 14, x + 14, horizon - height * 0.45 + 14), fill=window)
    return 0.45, 0.55


def _customs_house(pen, rng, size, horizon, shapes):
    width, height = size
    stone, roof, *people = shapes
    left, right, top = width * 0.25, width * 0.75, horizon - height * 0.36
    pen.rectangle((left, top, right, horizon), fill=stone)
    pen.polygon([(left - 20, top), (width / 2, top - height * 0.12), (right + 20, top)], fill=roof)
    for n in range(7):  # tall windows
        x = left + 30 + n * (right - left - 60) / 7
        pen.rectangle((x, top + 30, x + 26, horizon - 40), fill=roof)
    for _ in range(220):  # spectators lining the road
        x, y = rng.uniform(0, width), horizon + rng.uniform(10, height * 0.12)
        pen.ellipse((x - 9, y - 9, x + 9, y + 9), fill=rng.choice(people))
    return 0.5, 0.55


MOTIFS: dict[str, Motif] = {
    "cranes": _cranes, "arches": _arches, "flags": _flags, "turbines": _turbines, "bridge": _bridge,
    "dishes": _dishes, "floodlights": _floodlights, "organ": _organ, "screens": _screens, "lighthouse": _lighthouse,
    "satellite": _satellite, "crowd": _crowd, "train": _train, "customs-house": _customs_house,
}


# -- portraits and the logo -------------------------------------------------------------------

def _portrait(rng: random.Random, size: Box, colours: list[Colour]) -> tuple[Image.Image, tuple[float, float]]:
    """A head and shoulders in flat colour before a background split on a slant."""
    width, height = size
    back, slant, figure, collar = colours
    image = Image.new("RGB", size, back)
    pen = ImageDraw.Draw(image)
    tilt = rng.uniform(0.2, 0.6) * height
    pen.polygon([(0, height), (0, tilt), (width, tilt + height * 0.35), (width, height)], fill=slant)
    cx = width * rng.uniform(0.45, 0.55)
    pen.ellipse((cx - width * 0.36, height * 0.68, cx + width * 0.36, height * 1.4), fill=figure)  # shoulders
    pen.polygon([(cx - width * 0.08, height * 0.68), (cx + width * 0.08, height * 0.68), (cx, height * 0.82)], fill=collar)
    pen.ellipse((cx - width * 0.16, height * 0.24, cx + width * 0.16, height * 0.64), fill=figure)  # head
    return image, (cx / width, 0.42)


def _logo(size: Box, colours: list[Colour], text: str) -> Image.Image:
    """The name beside an emblem (waves in a ring, for a paper on an estuary), on the site's white."""
    width, height = size
    paper, ink, accent = colours
    image = Image.new("RGB", size, paper)
    pen = ImageDraw.Draw(image)
    d, margin = height * 0.7, height * 0.15
    pen.ellipse((margin, margin, margin + d, margin + d), outline=accent, width=max(3, height // 24))
    for n in range(3):
        y = margin + d * (0.38 + n * 0.16)
        points = [(margin + d * (0.18 + i / 20 * 0.64), y + math.sin(i / 20 * math.tau) * d * 0.05) for i in range(21)]
        pen.line(points, fill=accent, width=max(2, height // 32))
    left = margin * 2 + d
    size_pt = round(height * 0.34)
    font = ImageFont.load_default(size=size_pt)
    while size_pt > 8 and pen.textlength(text, font=font) > width - left - margin:
        size_pt -= 2
        font = ImageFont.load_default(size=size_pt)
    pen.text((left, height / 2), text, font=font, fill=ink, anchor="lm")
    pen.line((left, height - margin, width - margin, height - margin), fill=accent, width=max(2, height // 40))
    return image
