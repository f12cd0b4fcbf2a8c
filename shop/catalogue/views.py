"""The catalogue, open to verified clinicians and staff only."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from shop.access import Policy, protect
from shop.catalogue.forms import filter_from_args
from shop.paging import requested_page
from shop.services import catalogue
from shop.services.cart import sale_problem
from shop.services.catalogue import SORTS

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")
protect(bp, Policy.CATALOGUE)


@bp.route("")
def index():
    filters = filter_from_args(request.args)
    page = catalogue.search_products(filters, requested_page(), current_app.config["CATALOGUE_PAGE_SIZE"])
    orderable = {}
    if current_user.is_clinician:
        orderable = {
            product.id: [
                v for v in product.sellable_variants if v.stock_on_hand > 0 and sale_problem(v, current_user) is None
            ]
            for product in page.items
        }
    return render_template(
        "catalogue/index.html", page=page, filters=filters, facets=catalogue.facets(), sorts=SORTS, orderable=orderable
    )


@bp.route("/<slug:slug>")
def product(slug: str):
    item = catalogue.product_by_slug(slug)
    if item is None:
        abort(404)
    profession = current_user.application.profession if current_user.is_clinician and current_user.application else None
    buyer = current_user.is_clinician
    return render_template(
        "catalogue/product.html",
        product=item,
        market=current_app.config["SHOP_MARKET"],
        prescriber=profession is None or profession.is_prescriber,
        buyer=buyer,
        buy_problems={v.id: sale_problem(v, current_user) for v in item.variants} if buyer else {},
    )
