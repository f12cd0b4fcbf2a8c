"""The record of supply: every pack that left, with the order, the practice, the clinician and
licence on record, the parcel and the lot. Recalls read it for the lots they recall; an
inspector's export reads it for a practice, a product, a lot or a period.

One query, driven by the index that fits the question (shipment lines by lot for a recall,
found first on their own; shipments by date or practice otherwise), joined to the rest by
primary keys, so its cost follows what is found, not how many orders there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ARRAY, Integer, any_, cast, select

from shop.catalogue.models import Variant
from shop.extensions import db
from shop.lots.models import Lot
from shop.ordering.models import Order, OrderLine
from shop.shipping.models import Shipment, ShipmentLine


@dataclass(frozen=True)
class Supply:
    practice_id: int
    practice_name: str
    order_number: str
    placed_at: datetime
    clinician_name: str
    profession: str
    licence_number: str
    licence_region: str
    sequence: int
    shipped_at: datetime
    carrier: str
    tracking_number: str
    sku: str
    product_name: str
    lot_id: int
    lot_number: str
    expires_on: date
    quantity: int

    @property
    def parcel(self) -> str:
        return f"{self.order_number}/{self.sequence}"


@dataclass(frozen=True)
class SupplyFilter:
    """Which supplies: any combination; every field empty means all of them."""

    practice_id: int | None = None
    product_id: int | None = None
    lot_ids: tuple[int, ...] = ()
    shipped_from: datetime | None = None  # inclusive, UTC
    shipped_before: datetime | None = None  # exclusive, UTC


def supply_query(which: SupplyFilter):
    query = (
        select(
            Shipment.practice_id,
            Order.practice_name,
            Order.number.label("order_number"),
            Order.placed_at,
            Order.clinician_name,
            Order.profession,
            Order.licence_number,
            Order.licence_region,
            Shipment.sequence,
            Shipment.shipped_at,
            Shipment.carrier,
            Shipment.tracking_number,
            OrderLine.sku,
            OrderLine.product_name,
            ShipmentLine.lot_id,
            ShipmentLine.lot_number,
            ShipmentLine.expires_on,
            ShipmentLine.quantity,
        )
        .select_from(ShipmentLine)
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .join(Order, Order.id == Shipment.order_id)
        .join(OrderLine, OrderLine.id == ShipmentLine.order_line_id)
    )
    if which.lot_ids:
        # The lots' lines first, by their index, then the rest by primary key: told only "these
        # lots", PostgreSQL's planner reads every shipment once the table is large.
        found = db.session.execute(
            select(ShipmentLine.id, ShipmentLine.shipment_id).where(ShipmentLine.lot_id.in_(which.lot_ids))
        ).all()
        query = query.where(
            _one_of(ShipmentLine.id, [line for line, _ in found]),
            _one_of(Shipment.id, sorted({shipment for _, shipment in found})),
        )
    if which.practice_id is not None:
        query = query.where(Shipment.practice_id == which.practice_id)
    if which.product_id is not None:
        query = query.where(ShipmentLine.lot_id.in_(_lot_ids_of_product(which.product_id)))
    if which.shipped_from is not None:
        query = query.where(Shipment.shipped_at >= which.shipped_from)
    if which.shipped_before is not None:
        query = query.where(Shipment.shipped_at < which.shipped_before)
    return query.order_by(Order.practice_name, Shipment.shipped_at, Shipment.id, ShipmentLine.id)


def supplies(which: SupplyFilter, limit: int | None = None) -> list[Supply]:
    query = supply_query(which)
    if limit is not None:
        query = query.limit(limit)
    return [Supply(**row._mapping) for row in db.session.execute(query)]


def _one_of(column, ids: list[int]):
    """`column IN ids`: on PostgreSQL as `= ANY(array)`, one parameter however many ids (a list
    of a thousand constants costs more to plan than to run)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(ids or [0], ARRAY(Integer)))
    return column.in_(ids or [0])


def _lot_ids_of_product(product_id: int):
    from_variants = select(Variant.id).where(Variant.product_id == product_id)
    return select(Lot.id).where(Lot.variant_id.in_(from_variants))
