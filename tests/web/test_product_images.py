"""Product images: uploaded by the catalogue desk, checked by content, re-encoded so that no
metadata or payload survives, arranged, removed, shown on the catalogue's cards and pages, and
served only to those who may see the catalogue, never to a shared cache."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from shop.access import Desk
from shop.catalogue.images import ProductImage
from shop.core.audit import AuditEntry
from shop.extensions import db
from tests.factories import make_applicant, make_product, make_staff
from tests.helpers import flashes, redirect_path, statements_during, text


@pytest.fixture
def desk(signed_in):
    return signed_in(make_staff(desks=[Desk.CATALOGUE]))


def photo(kind: str = "JPEG", size=(1600, 1000), colour=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB" if kind != "PNG" else "RGBA", size, colour).save(out, kind, **save)
    return out.getvalue()


def exif_photo() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "Firmware 1.0"  # Software
    return photo(exif=exif.tobytes()) + b"<?php system($_GET['c']); ?>"


def upload(desk, product, data: bytes, name: str = "pack.jpg"):
    return desk.post(f"/staff/catalogue/{product.id}/images", {"image": (data, name)})


def images_of(product) -> list[ProductImage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ProductImage).where(ProductImage.product_id == product.id).order_by(ProductImage.position)
        )
    )


def url(image: ProductImage, size: str = "card") -> str:
    return f"/catalogue/images/{image.id}-{image.digest}-{size}.webp"


def test_an_upload_is_re_encoded_so_no_metadata_or_payload_survives(desk, signed_in):
    product = make_product(name="Glow Serum")
    response = upload(desk, product, exif_photo())
    assert ("success", "The image is added.") in flashes(desk.get(redirect_path(response)))

    (image,) = images_of(product)
    for stored, box in ((image.card, 480), (image.large, 1200)):
        assert stored[:4] == b"RIFF" and stored[8:12] == b"WEBP"
        assert b"SecretCam" not in stored and b"php" not in stored
        decoded = Image.open(io.BytesIO(stored))
        assert max(decoded.size) == box and not decoded.getexif()
    assert (image.width, image.height) == (1200, 750)

    served = signed_in(make_product_viewer()).get(url(image, "large"))
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert served.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert served.data == image.large
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "product.image_added")).one()
    assert entry.note == "pack.jpg"


def make_product_viewer():
    from tests.factories import make_clinician

    return make_clinician()


def test_images_are_served_only_to_those_who_may_see_the_catalogue(desk, client, signed_in):
    product = make_product()
    upload(desk, product, photo("PNG"))
    (image,) = images_of(product)

    anonymous = client.get(url(image))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    applicant = signed_in(make_applicant())
    assert applicant.get(url(image)).status_code in (302, 303)
    assert desk.get(url(image)).status_code == 200
    assert desk.get(f"/catalogue/images/{image.id}-0000000000000000-card.webp").status_code == 404
    assert desk.get(f"/catalogue/images/{image.id}-{image.digest}-huge.webp").status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.4 not an image", "pack.jpg", "Upload a JPEG, PNG or WebP image."),
        (b"GIF89a" + b"\0" * 100, "pack.gif", "Upload a JPEG, PNG or WebP image."),
        (photo()[:300], "cut.jpg", "This image cannot be read"),
        (b"", "empty.png", "The file is empty."),
        (b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024), "big.jpg", "larger than 10 MB"),
    ],
)
def test_a_file_that_is_not_a_usable_image_is_refused_with_a_reason(desk, data, name, message):
    product = make_product()
    response = upload(desk, product, data, name)
    assert any(message in shown for _, shown in flashes(desk.get(redirect_path(response)))), message
    assert images_of(product) == []


def test_no_file_at_all_is_a_message_too(desk):
    product = make_product()
    response = desk.post(f"/staff/catalogue/{product.id}/images", {})
    assert ("error", "Choose an image to upload.") in flashes(desk.get(redirect_path(response)))


def test_the_desk_sets_the_main_image_reorders_and_removes_and_the_catalogue_follows(desk, signed_in):
    product = make_product(name="Layered Gel", slug="layered-gel")
    for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255)):
        upload(desk, product, photo(colour=colour))
    first, second, third = (image.id for image in images_of(product))
    urls = {image.id: (url(image), url(image, "large")) for image in images_of(product)}
    clinician = signed_in(make_product_viewer())
    assert urls[first][0] in clinician.get("/catalogue").get_data(as_text=True)

    desk.post(f"/staff/catalogue/{product.id}/images/{third}/main")
    assert [i.id for i in images_of(product)] == [third, first, second]
    desk.post(f"/staff/catalogue/{product.id}/images/{second}/up")
    assert [i.id for i in images_of(product)] == [third, second, first]
    desk.post(f"/staff/catalogue/{product.id}/images/{third}/remove")
    assert [i.id for i in images_of(product)] == [second, first]
    listing = clinician.get("/catalogue").get_data(as_text=True)
    assert urls[second][0] in listing and urls[third][0] not in listing
    page = clinician.get("/catalogue/layered-gel").get_data(as_text=True)
    assert urls[second][1] in page and urls[first][0] in page
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("product.image%"))).all()
    assert actions.count("product.images_reordered") == 2 and actions.count("product.image_removed") == 1
    other = make_product()
    assert desk.post(f"/staff/catalogue/{other.id}/images/{first}/main").status_code == 404


def test_a_product_without_an_image_shows_the_placeholder(signed_in):
    make_product(name="Plain Vial", slug="plain-vial")
    clinician = signed_in(make_product_viewer())
    assert "img/product-placeholder.svg" in clinician.get("/catalogue/plain-vial").get_data(as_text=True)
    assert "Plain Vial" in text(clinician.get("/catalogue"))


def test_images_on_the_catalogue_cost_the_same_statements_for_many_products_as_for_few(desk, signed_in):
    clinician = signed_in(make_product_viewer())
    product = make_product()
    upload(desk, product, photo())
    clinician.get("/catalogue")  # the filter panel's choices, read once a while
    few = statements_during(lambda: clinician.get("/catalogue"))
    for _ in range(6):
        more = make_product()
        upload(desk, more, photo())
    clinician.get("/catalogue")
    assert statements_during(lambda: clinician.get("/catalogue")) == few
