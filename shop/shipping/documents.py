"""The lots delivered, written on the invoice of the order they left for (for the clinic's
records, as the order page and the shipping email give them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shop.core.formatting import long_date
from shop.extensions import db
from shop.invoicing.documents import invoice_note
from shop.invoicing.models import Invoice
from shop.shipping.models import Shipment, ShipmentLine


@invoice_note
def lots_delivered(invoice: Invoice) -> tuple[str, str] | None:
    lines = db.session.scalars(
        select(ShipmentLine)
        .join(Shipment)
        .where(Shipment.order_id == invoice.order_id)
        .options(joinedload(ShipmentLine.order_line), joinedload(ShipmentLine.shipment))
        .order_by(Shipment.sequence, ShipmentLine.id)
    ).all()
    if not lines:
        return None
    return (
        "Lots delivered",
        "\n".join(
            f"{line.order_line.sku}: {line.quantity} × lot {line.lot_number}, expires "
            f"{long_date(line.expires_on)} (parcel {line.shipment.reference})"
            for line in lines
        ),
    )
