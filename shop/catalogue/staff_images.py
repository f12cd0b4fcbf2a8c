"""A product's images in the back office: upload, make main, reorder, remove."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.catalogue import images
from shop.catalogue.models import Product
from shop.extensions import db
from shop.forms import EmptyForm, posted

desk_pages(__name__, Desk.CATALOGUE)

DONE = {
    "main": "The main image is changed.",
    "up": "The images are reordered.",
    "down": "The images are reordered.",
    "remove": "The image is removed.",
}


def _back(product_id: int):
    return redirect(url_for("staff.catalogue_product", product_id=product_id, _anchor="images-title"), code=303)


@bp.route("/catalogue/<id:product_id>/images", methods=["POST"])
def catalogue_image_add(product_id: int):
    product = db.get_or_404(Product, product_id)

    def upload() -> None:
        data, filename = images.read_upload(request.files.get("image"))
        images.add_image(current_user, product, data, filename)

    posted(EmptyForm(), upload, "The image is added.")
    return _back(product_id)


@bp.route("/catalogue/<id:product_id>/images/<id:image_id>/<any(main, up, down, remove):action>", methods=["POST"])
def catalogue_image_arrange(product_id: int, image_id: int, action: str):
    image = images.image_of(image_id)
    if image is None or image.product_id != product_id:
        abort(404)
    posted(EmptyForm(), lambda: images.arrange(current_user, image, action), DONE[action])
    return _back(product_id)
