"""The catalogue desk in the back office: the product list, a product's page (its details,
clearances, status, variants and history) and a variant's page."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.catalogue import editing, variant_editing
from shop.catalogue.editing import NEXT_STATUSES
from shop.catalogue.models import Brand, Category, Ingredient, Product, ProductStatus, TreatmentArea, Variant
from shop.catalogue.staff_forms import ProductForm, VariantForm
from shop.catalogue.staff_search import filter_from_args, low_stock_variants, staff_products
from shop.core import audit
from shop.core.paging import paginate
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import EmptyForm, posted, show_error

desk_pages(__name__, Desk.CATALOGUE)


def _choices() -> dict:
    return {
        "brands": list(db.session.scalars(select(Brand).order_by(Brand.name))),
        "categories": list(db.session.scalars(select(Category).order_by(Category.position, Category.name))),
    }


def _product_form() -> ProductForm:
    form = ProductForm()
    choices = _choices()
    form.offer(
        choices["brands"],
        choices["categories"],
        db.session.scalars(select(Ingredient).order_by(Ingredient.name)),
        db.session.scalars(select(TreatmentArea).order_by(TreatmentArea.position, TreatmentArea.name)),
    )
    return form


@bp.route("/catalogue")
def catalogue_list():
    filters = filter_from_args(request.args)
    market = current_app.config["SHOP_MARKET"]
    page = paginate(staff_products(filters, market))
    return render_template(
        "staff/catalogue/list.html", page=page, filters=filters, statuses=ProductStatus, market=market, **_choices()
    )


@bp.route("/catalogue/new", methods=["GET", "POST"])
def catalogue_new():
    form = _product_form()
    refused = False
    if form.validate_on_submit():
        try:
            product = editing.create_product(current_user, form.details())
        except ShopError as error:
            show_error(form, error)
            refused = True
        else:
            flash(f"{product.name} is saved as a draft. Add its variants, then put it on sale.", "success")
            return redirect(url_for("staff.catalogue_product", product_id=product.id), code=303)
    return render_template("staff/catalogue/new.html", form=form), 422 if refused or form.errors else 200


def _product_or_404(product_id: int) -> Product:
    return db.get_or_404(Product, product_id)


@bp.route("/catalogue/<id:product_id>", methods=["GET", "POST"])
def catalogue_product(product_id: int):
    product = _product_or_404(product_id)
    form = _product_form()
    refused = False
    if not form.is_submitted():
        form.fill_from(product)
        form.seen.data = editing.version_of(product)
    elif form.validate():
        try:
            editing.update_product(current_user, product, form.details(), seen=form.seen.data or "")
        except ShopError as error:
            show_error(form, error)
            refused = True
            form.seen.data = editing.version_of(product)  # a second save overwrites, knowingly
        else:
            flash(f"{product.name} is saved.", "success")
            return redirect(url_for("staff.catalogue_product", product_id=product.id), code=303)
    failed = refused or (form.is_submitted() and bool(form.errors))
    return (
        render_template(
            "staff/catalogue/product.html",
            product=product,
            form=form,
            next_statuses=NEXT_STATUSES[product.status],
            button=EmptyForm(),
            history=audit.history(product, *product.variants),
        ),
        422 if failed else 200,
    )


@bp.route("/catalogue/<id:product_id>/status", methods=["POST"])
def catalogue_status(product_id: int):
    product = _product_or_404(product_id)
    wanted = request.form.get("status", "")
    if wanted not in {s.value for s in ProductStatus}:
        flash("Choose a status.", "error")
    else:
        status = ProductStatus(wanted)
        done = {
            ProductStatus.ACTIVE: f"{product.name} is on sale.",
            ProductStatus.RETIRED: f"{product.name} is retired: it has left the catalogue.",
            ProductStatus.DRAFT: f"{product.name} is a draft.",
        }[status]
        posted(EmptyForm(), lambda: editing.set_status(current_user, product, status), done)
    return redirect(url_for("staff.catalogue_product", product_id=product.id), code=303)


@bp.route("/catalogue/<id:product_id>/variants/new", methods=["GET", "POST"])
def catalogue_variant_new(product_id: int):
    product = _product_or_404(product_id)
    form = VariantForm()
    refused = False
    if form.validate_on_submit():
        try:
            variant = variant_editing.add_variant(current_user, product, form.details())
        except ShopError as error:
            show_error(form, error)
            refused = True
        else:
            flash(f"{variant.sku} is added to {product.name}.", "success")
            return redirect(url_for("staff.catalogue_product", product_id=product.id), code=303)
    return _variant_page(product, None, form, refused)


@bp.route("/catalogue/<id:product_id>/variants/<id:variant_id>", methods=["GET", "POST"])
def catalogue_variant(product_id: int, variant_id: int):
    product = _product_or_404(product_id)
    variant = db.session.get(Variant, variant_id)
    if variant is None or variant.product_id != product.id:
        abort(404)
    form = VariantForm()
    refused = False
    if not form.is_submitted():
        form.fill_from(variant)
        form.seen.data = variant_editing.version_of(variant)
    elif form.validate():
        try:
            variant_editing.update_variant(current_user, variant, form.details(), seen=form.seen.data or "")
        except ShopError as error:
            show_error(form, error)
            refused = True
            form.seen.data = variant_editing.version_of(variant)
        else:
            flash(f"{variant.sku} is saved.", "success")
            return redirect(url_for("staff.catalogue_product", product_id=product.id), code=303)
    return _variant_page(product, variant, form, refused)


def _variant_page(product: Product, variant: Variant | None, form: VariantForm, refused: bool = False):
    return (
        render_template("staff/catalogue/variant.html", product=product, variant=variant, form=form),
        422 if refused or form.errors else 200,
    )


@bp.route("/catalogue/low-stock")
def catalogue_low_stock():
    return render_template("staff/catalogue/low_stock.html", page=paginate(low_stock_variants()))
