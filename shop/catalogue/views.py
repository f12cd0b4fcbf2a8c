"""The catalogue, open to verified clinicians and staff only."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from shop.access import Policy, protect
from shop.catalogue import images, lookup
from shop.catalogue import search as catalogue
from shop.catalogue.cards import cards, product_badges
from shop.catalogue.compliance import product_refusals, variant_refusal
from shop.catalogue.corrections import corrected_search
from shop.catalogue.facets import facets
from shop.catalogue.forms import filter_from_args
from shop.catalogue.price_lists import priced_options
from shop.catalogue.search import SORTS
from shop.catalogue.suggestions import suggestions
from shop.core.paging import requested_page
from shop.forms import clean_text

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")
protect(bp, Policy.CATALOGUE)


@bp.route("")
def index():
    filters = filter_from_args(request.args)
    coded = lookup.product_with_code(filters.q) if lookup.looks_like_a_code(filters.q) else None
    if coded is not None:  # an exact SKU or GTIN goes straight to its product
        return redirect(url_for("catalogue.product", slug=coded.slug))
    page = catalogue.search_products(filters, requested_page(), current_app.config["CATALOGUE_PAGE_SIZE"])
    meant = None
    if not page.items and page.page == 1:  # a misspelt name? what it most likely means, said so
        corrected = corrected_search(filters, current_app.config["CATALOGUE_PAGE_SIZE"])
        if corrected:
            meant, page = corrected
    buyer = _buyer()
    return render_template(
        "catalogue/index.html",
        page=page,
        cards=cards(page.items, buyer),
        filters=filters,
        facets=facets(),
        sorts=SORTS,
        meant=meant,
        may_ask_quote=buyer is not None,
    )


@bp.route("/suggest")
def suggest():
    """Suggestions for the header search box as a person types (JSON): label, what it is, and
    where it leads."""
    typed = clean_text(request.args.get("q", ""))
    offered = [
        {
            "label": s.label,
            "kind": s.kind,
            "url": url_for("catalogue.index", brand=s.slug)
            if s.kind == "Brand"
            else url_for("catalogue.product", slug=s.slug),
        }
        for s in suggestions(typed)
    ]
    return jsonify(query=typed, suggestions=offered)


def _buyer():
    """The clinician looking, who may buy; staff look without buying."""
    return current_user if current_user.is_clinician else None


@bp.route("/images/<id:image_id>-<digest>-<any(card, large):size>.webp")
def image(image_id: int, digest: str, size: str):
    """A product image, for those who may see the catalogue only: private to their browser's
    cache (never a shared one), and cached for long, since a changed image has a new address."""
    found = images.image_of(image_id)
    if found is None or found.digest != digest:
        abort(404)
    response = make_response(getattr(found, size))
    response.headers["Content-Type"] = "image/webp"
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<slug:slug>")
def product(slug: str):
    item = lookup.product_by_slug(slug)
    if item is None:
        abort(404)
    buyer = _buyer()
    prices = priced_options([item], buyer)
    refusals = product_refusals(item, buyer)
    return render_template(
        "catalogue/product.html",
        product=item,
        market=current_app.config["SHOP_MARKET"],
        refusals=refusals,
        badges=product_badges(item, refusals),
        buyer=buyer is not None,
        buy_problems={v.id: variant_refusal(v, buyer, refusals) for v in item.variants} if buyer else {},
        prices=prices,
    )
