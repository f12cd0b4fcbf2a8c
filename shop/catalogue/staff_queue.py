"""The catalogue desk's share of the dashboard: variants on sale at or under their reorder level."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from shop.access import Desk, desk_pages
from shop.backoffice.dashboard import QueueCount, queue
from shop.catalogue.staff_search import low_stock_variants
from shop.extensions import db

desk_pages(__name__, Desk.CATALOGUE)


@queue(position=40, desk=Desk.CATALOGUE)
def _low_stock_queue() -> list[QueueCount]:
    count = db.session.scalar(select(func.count()).select_from(low_stock_variants().order_by(None).subquery()))
    return [
        QueueCount(
            count,
            "variant at or under its reorder level",
            "variants at or under their reorder level",
            url_for("staff.catalogue_low_stock"),
        )
    ]
