"""The catalogue desk's files: the catalogue (the import's own format) and the stock ledger for
a period."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.catalogue.csv_format import COLUMNS, export_rows
from shop.catalogue.models import Variant
from shop.catalogue.staff_search import filter_from_args, staff_products
from shop.catalogue.stock import StockMovement
from shop.core.formatting import local_datetime
from shop.core.periods import period_asked, within
from shop.core.spreadsheet import csv_download
from shop.extensions import db

desk_pages(__name__, Desk.CATALOGUE)

LEDGER_COLUMNS = ("when", "sku", "product", "movement", "change", "balance", "reference", "reason", "who")


@bp.route("/catalogue.csv")
def catalogue_csv():
    """The products of the list's filters (all of them without), a row per variant."""
    query = staff_products(filter_from_args(request.args), current_app.config["SHOP_MARKET"])
    return csv_download("catalogue", COLUMNS, export_rows(query))


@bp.route("/catalogue/stock.csv")
def stock_ledger_csv():
    since, until, problem = period_asked(request.args)
    if problem:
        flash(problem, "error")
        return redirect(url_for("staff.catalogue_low_stock"), code=303)
    query = (
        select(StockMovement)
        .where(*within(StockMovement.created_at, since, until))
        .options(selectinload(StockMovement.variant).selectinload(Variant.product), selectinload(StockMovement.actor))
        .order_by(StockMovement.created_at, StockMovement.id)
    )
    rows = (
        [
            local_datetime(m.created_at, "%Y-%m-%d %H:%M:%S"),
            m.variant.sku,
            m.variant.product.name,
            m.kind.label,
            m.quantity,
            m.balance_after,
            m.reference,
            m.reason,
            m.actor.email if m.actor else "the shop",
        ]
        for m in db.session.scalars(query.execution_options(yield_per=1000))
    )
    return csv_download("stock-ledger", LEDGER_COLUMNS, rows)
