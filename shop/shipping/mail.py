"""The email that goes with each parcel: carrier, tracking, and every pack's lot and expiry, for
the clinic's records. Queued in the caller's transaction."""

from __future__ import annotations

from shop.ordering.mail import correspondence
from shop.shipping.models import Shipment


def email_shipment(shipment: Shipment) -> None:
    order = shipment.order
    complete = not any(line.to_ship for line in order.lines)
    correspondence(order, shipment=shipment, complete=complete).to_clinician(
        "order.shipped",
        "Your order is on its way" if complete else f"Part of your order is on its way (parcel {shipment.sequence})",
        "order_shipment",
    )
