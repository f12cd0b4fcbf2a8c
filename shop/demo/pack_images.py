"""The demo catalogue's product images, drawn here: a carton in the category's colour with the
brand and the product's name on it. No photograph from elsewhere is used."""

from __future__ import annotations

import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from shop.catalogue.models import Product
from shop.core.pdf import FONTS

SIZE = 1200
COLOURS = {  # category slug: (carton, band)
    "skin-boosters": ((223, 238, 246), (22, 105, 150)),
    "mesotherapy": ((232, 243, 233), (46, 125, 80)),
    "fat-dissolving": ((246, 238, 226), (166, 96, 28)),
    "dermal-fillers": ((239, 233, 246), (104, 66, 150)),
}
DEFAULT = ((236, 240, 242), (60, 80, 92))


def _font(size: int, bold: bool = False):
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)


def pack_image(product: Product) -> bytes:
    """A PNG of the product's carton."""
    slug = product.category.slug
    carton, band = next((colours for key, colours in COLOURS.items() if slug.startswith(key)), DEFAULT)
    picture = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    # The carton, in perspective: front, side and top.
    front = (260, 300, 860, 1020)
    draw.polygon([(860, 300), (980, 220), (980, 940), (860, 1020)], fill=tuple(max(c - 28, 0) for c in carton))
    draw.polygon([(260, 300), (380, 220), (980, 220), (860, 300)], fill=tuple(min(c + 12, 255) for c in carton))
    draw.rectangle(front, fill=carton)
    draw.rectangle((260, 780, 860, 880), fill=band)
    draw.text((300, 350), product.brand.name.upper(), font=_font(40, bold=True), fill=band)
    lines = textwrap.wrap(product.name, width=16)[:3]
    for number, line in enumerate(lines):
        draw.text((300, 430 + number * 78), line, font=_font(64, bold=True), fill=(28, 38, 45))
    pack = product.variants[0].pack_size if product.variants else ""
    draw.text((300, 800), pack[:28], font=_font(36), fill=(255, 255, 255))
    draw.text((300, 950), "For professional use only", font=_font(28), fill=(70, 84, 92))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()
