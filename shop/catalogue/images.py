"""Product images: uploaded by the catalogue desk, checked by their content, and re-encoded with
Pillow to the two sizes the pages use, so that nothing of the uploaded file (metadata, a payload
after the image data) survives. The encoded images are kept in the database with their product,
so every web worker serves them and a backup holds them; they are served only behind the gate.

The image at position 0 is the product's main image (its catalogue card shows it)."""

from __future__ import annotations

import hashlib
import io
import warnings
from datetime import datetime

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ForeignKey, LargeBinary, String, select
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship
from werkzeug.datastructures import FileStorage

from shop import clock
from shop.accounts.models import User
from shop.catalogue.editing import require_desk
from shop.catalogue.models import Product
from shop.core import audit
from shop.core.db import UTCDateTime, unit_of_work
from shop.errors import CatalogueRefusal
from shop.extensions import db

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # far beyond any product photo; a larger image is refused, not decoded
ACCEPTED = {"image/jpeg", "image/png", "image/webp"}
SIZES = {"card": (480, 480), "large": (1200, 1200)}
MAX_IMAGES = 12
QUALITY = 82


class ProductImage(db.Model):
    """A product photo as the shop re-encoded it (WebP), at the two sizes the pages use."""

    __tablename__ = "product_images"
    audit_type = "product_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    width: Mapped[int]  # of the large image
    height: Mapped[int]
    card_width: Mapped[int]
    card_height: Mapped[int]
    digest: Mapped[str] = mapped_column(String(16))  # of the encoded images, for ETags and URLs
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    card: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    large: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))

    product: Mapped[Product] = relationship(back_populates="images")

    @property
    def audit_label(self) -> str:
        return f"Image {self.original_filename or self.id} of {self.product.name}"


def encoded(data: bytes) -> dict:
    """The image as WebP at each size, with its dimensions; CatalogueRefusal when it is not a
    JPEG, PNG or WebP image Pillow can read, or is absurdly large."""
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ACCEPTED:
        raise CatalogueRefusal("Upload a JPEG, PNG or WebP image.", field="image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise CatalogueRefusal("The image is too large in pixels; save it smaller.", field="image")
                probe.verify()
            with Image.open(io.BytesIO(data)) as source:
                source.load()
                picture = _flattened(ImageOps.exif_transpose(source))
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise CatalogueRefusal(
            "This image cannot be read: it is damaged or not really an image.", field="image"
        ) from None
    result = {}
    for size, box in SIZES.items():
        copy = picture.copy()
        copy.thumbnail(box, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        copy.save(out, "WEBP", quality=QUALITY, method=4)
        result[size] = (out.getvalue(), copy.width, copy.height)
    return result


def _flattened(picture: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white (as the pages show it)."""
    if picture.mode in ("RGBA", "LA", "P"):
        picture = picture.convert("RGBA")
        background = Image.new("RGB", picture.size, (255, 255, 255))
        background.paste(picture, mask=picture.getchannel("A"))
        return background
    return picture.convert("RGB")


def read_upload(upload: FileStorage | None) -> tuple[bytes, str]:
    if upload is None or not upload.filename:
        raise CatalogueRefusal("Choose an image to upload.", field="image")
    data = upload.stream.read(MAX_BYTES + 1)
    if not data:
        raise CatalogueRefusal("The file is empty.", field="image")
    if len(data) > MAX_BYTES:
        raise CatalogueRefusal("The image is larger than 10 MB; save it smaller.", field="image")
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    return data, "".join(ch for ch in name if ch.isprintable())[:255]


def add_image(staff: User | None, product: Product, data: bytes, filename: str = "") -> ProductImage:
    """Add an image after the product's others (the first one becomes its main image).
    `staff` is None only when the shop adds images itself (the demo catalogue)."""
    if staff is not None:
        require_desk(staff)
    if len(product.images) >= MAX_IMAGES:
        raise CatalogueRefusal(f"A product has at most {MAX_IMAGES} images; remove one first.", field="image")
    sizes = encoded(data)
    (card, card_w, card_h), (large, width, height) = sizes["card"], sizes["large"]
    with unit_of_work():
        image = ProductImage(
            product_id=product.id,
            position=max((i.position for i in product.images), default=-1) + 1,
            width=width,
            height=height,
            card_width=card_w,
            card_height=card_h,
            digest=hashlib.sha256(card + large).hexdigest()[:16],
            original_filename=filename,
            created_at=clock.now(),
            card=card,
            large=large,
        )
        db.session.add(image)
        db.session.flush()
        if staff is not None:
            audit.record(
                staff,
                "product.image_added",
                product,
                {"images": (len(product.images), len(product.images) + 1)},
                note=filename,
            )
    db.session.expire(product, ["images"])
    return image


def arrange(staff: User, image: ProductImage, action: str) -> None:
    """Make an image the main one, move it up or down, or remove it."""
    require_desk(staff)
    product = image.product
    order = list(product.images)
    index = order.index(image)
    before = [i.id for i in order]
    if action == "main":
        order.insert(0, order.pop(index))
    elif action == "up" and index > 0:
        order[index - 1], order[index] = order[index], order[index - 1]
    elif action == "down" and index < len(order) - 1:
        order[index + 1], order[index] = order[index], order[index + 1]
    elif action == "remove":
        order.pop(index)
    elif action not in ("up", "down"):
        raise CatalogueRefusal("Choose what to do with the image.")
    with unit_of_work():
        if action == "remove":
            db.session.delete(image)
        for position, each in enumerate(order):
            each.position = position
        audit.record(
            staff,
            "product.image_removed" if action == "remove" else "product.images_reordered",
            product,
            {"image order": (before, [i.id for i in order])},
            note=image.original_filename,
        )
    db.session.expire(product, ["images"])


def image_of(image_id: int) -> ProductImage | None:
    return db.session.scalar(select(ProductImage).where(ProductImage.id == image_id))
