"""The catalogue desk's stock pages: a variant's stock with its lots and ledger (where goods are
received by lot, scanned or typed), a lot's page (hold, release, its history) and the list of
lots by number and status."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from shop import clock
from shop.access import Desk, desk_pages, readable_by
from shop.backoffice import bp
from shop.catalogue import stock
from shop.catalogue.models import Variant
from shop.core.paging import paginate
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import posted, show_error
from shop.lots import holds, receiving
from shop.lots.models import Lot, LotEvent, LotStatus
from shop.lots.staff_forms import LotHoldForm, LotSearchForm, LotStockForm

desk_pages(__name__, Desk.CATALOGUE)

DONE = {
    stock.Movement.RECEIVED: "{n} received: {sku} now has {balance} in stock.",
    stock.Movement.LOT_RECORDED: "Lot recorded for {n} on the shelf: {sku} has {balance} in stock.",
    stock.Movement.COUNTED: "Count recorded: {sku} now has {balance} in stock.",
    stock.Movement.WRITTEN_OFF: "{n} written off: {sku} now has {balance} in stock.",
    stock.Movement.RETURNED: "{n} returned to stock: {sku} now has {balance} in stock.",
}


@bp.route("/catalogue/<id:product_id>/variants/<id:variant_id>/stock", methods=["GET", "POST"])
def catalogue_stock(product_id: int, variant_id: int):
    variant = db.session.get(Variant, variant_id)
    if variant is None or variant.product_id != product_id:
        abort(404)
    form = LotStockForm()
    if form.validate_on_submit():
        adjustment = form.adjustment()
        try:
            if form.by_lot:
                lot = receiving.record(current_user, variant, adjustment, form.lot_entry())
            else:
                lot = None
                receiving.adjust_unlotted(current_user, variant, adjustment)
        except ShopError as error:
            show_error(form, error)
        else:
            done = DONE[adjustment.kind].format(n=adjustment.quantity, sku=variant.sku, balance=variant.stock_on_hand)
            flash(f"{done} (lot {lot.lot_number})" if lot else done, "success")
            return redirect(url_for("staff.catalogue_stock", product_id=product_id, variant_id=variant_id), code=303)
    lots = db.session.scalars(select(Lot).where(Lot.variant_id == variant.id).order_by(Lot.expires_on, Lot.id)).all()
    return (
        render_template(
            "staff/lots/stock.html",
            variant=variant,
            product=variant.product,
            form=form,
            lots=lots,
            today=clock.today(),
            page=paginate(stock.ledger_of(variant.id).options(joinedload(stock.StockMovement.lot))),
        ),
        422 if form.errors else 200,
    )


@bp.route("/lots")
@readable_by(Desk.RECALLS, Desk.ORDERS)
def lots():
    form = LotSearchForm(request.args)
    query = select(Lot).options(joinedload(Lot.variant).joinedload(Variant.product))
    if form.validate():
        if form.q.data:
            query = query.where(Lot.lot_number.startswith(form.q.data.strip().upper(), autoescape=True))
        if form.status.data:
            query = query.where(Lot.status == LotStatus(form.status.data))
    page = paginate(query.order_by(Lot.expires_on, Lot.id))
    return render_template("staff/lots/lots.html", form=form, page=page, today=clock.today())


@bp.route("/lots/<id:lot_id>", methods=["GET", "POST"])
@readable_by(Desk.RECALLS, Desk.ORDERS)
def lot(lot_id: int):
    lot = db.session.get(Lot, lot_id, options=[selectinload(Lot.events).joinedload(LotEvent.actor)]) or abort(404)
    form = LotHoldForm()
    if request.method == "POST":
        verb = holds.release if request.form.get("action") == "release" else holds.quarantine
        done = "released: back on sale" if verb is holds.release else "quarantined: no longer sold"
        posted(form, lambda: verb(current_user, lot, form.reason.data), f"Lot {lot.lot_number} {done}.")
        return redirect(url_for("staff.lot", lot_id=lot.id), code=303)
    return render_template(
        "staff/lots/lot.html", lot=lot, form=form, today=clock.today(), may_hold=current_user.works(Desk.CATALOGUE)
    )
