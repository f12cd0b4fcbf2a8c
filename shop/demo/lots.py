"""The demo's stock by lot: each demo variant gets a GTIN (a made-up GS1 company prefix) and its
stock on the shelf in two lots, the first expiring within a year, as a distributor's shelf
looks. Stock already counted is only attributed to lots, not received again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from stdnum import ean

from shop import clock
from shop.catalogue.models import Variant
from shop.extensions import db
from shop.lots.models import Lot, LotEvent, LotStatus

DEMO_GTIN_PREFIX = "0764999"  # 7 digits + 5-digit item + check digit: a GTIN-13, stored as 14


def demo_gtin(index: int) -> str:
    body = f"{DEMO_GTIN_PREFIX}{index:05d}"[1:]  # 12 digits of the GTIN-13
    return "0" + body + ean.calc_check_digit(body)


def seed_lots() -> None:
    now, today = clock.now(), clock.today()
    taken = set(db.session.scalars(select(Variant.gtin).where(Variant.gtin.is_not(None))))
    lotted = set(db.session.scalars(select(Lot.variant_id).distinct()))
    for index, variant in enumerate(db.session.scalars(select(Variant).order_by(Variant.id)), start=1):
        if variant.gtin is None and demo_gtin(index) not in taken:
            variant.gtin = demo_gtin(index)
        if variant.id in lotted or variant.stock_on_hand <= 0:
            continue
        first = variant.stock_on_hand // 3
        for letter, packs, months in (
            ("A", first, 7 + index % 4),
            ("B", variant.stock_on_hand - first, 18 + index % 6),
        ):
            if packs <= 0:
                continue
            lot = Lot(
                variant_id=variant.id,
                lot_number=f"{variant.sku[:4]}{index:03d}{letter}".upper(),
                expires_on=today + timedelta(days=30 * months),
                status=LotStatus.AVAILABLE,
                on_hand=packs,
                received=packs,
                supplier_reference=f"DN-{24000 + index}",
                created_at=now,
            )
            db.session.add(lot)
            db.session.flush()
            db.session.add(
                LotEvent(
                    lot_id=lot.id,
                    action="created",
                    from_status=None,
                    to_status="available",
                    note=f"{packs} packs on the shelf when the demo opened",
                    created_at=now,
                )
            )
    db.session.commit()
