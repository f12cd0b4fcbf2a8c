"""The traceability part of `make bench` (issue 13): practices, lots, shipments and recalls
beside the bench's orders, and the recall look-up timed on them.

What it builds, in bulk (core inserts with their ids given, in batches), from a seeded random
generator so that every run has the same data:
- BENCH_PRACTICES practices (2,000 by default: the bench clinician's and one owner each for the
  others) that order unevenly, as a few large clinics order far more than the many small ones;
- one to five lines per order (three on average), 60% of them for the bestsellers (the three
  variants of BESTSELLER_PRODUCTS products), the rest spread over the whole catalogue;
- LOTS_PER_VARIANT lots per variant with their expiry dates, shipped first expiry first: a
  variant's k-th lot is the one that leaves in the k-th part of the period the orders span, so a
  bestseller's lot reaches a few hundred practices and a slow variant's lot a handful;
- for every shipped or delivered order its parcel (two for a few orders), a shipment line per
  order line (two when the packs came from two lots), `order_lines.shipped_quantity` equal to
  what the lines shipped, and each lot's `received` equal to what it shipped and what is left;
- two open recalls, one of the lot that reached the most practices and one of three lots of
  another bestseller, each with its lots recalled, a notice per practice (most notified, half
  acknowledged) and its event rows.

`time_lookups` times `supplies(SupplyFilter(lot_ids=...))`, the one query a recall runs, outside
any request; the recall pages go through `bench.measure` with the other staff pages.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import tracemalloc
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, insert, select, text, update

from shop import clock
from shop.accounts.models import Role, User
from shop.catalogue.models import Product, Variant
from shop.extensions import db
from shop.lots.models import Lot, LotStatus
from shop.ordering.models import Order, OrderLine, OrderStatus
from shop.practices.models import Practice, PracticeRole
from shop.recalls.models import Recall, RecallEvent, RecallLot, RecallNotice, RecallStatus
from shop.shipping.models import Shipment, ShipmentLine
from shop.shipping.records import SupplyFilter, supplies, supply_query

PRACTICES = int(os.environ.get("BENCH_PRACTICES", "2000"))
LOOKUP_ROUNDS = int(os.environ.get("BENCH_LOOKUP_ROUNDS", "100"))
LOOKUP_TARGET_MS = 100
LOTS_PER_VARIANT = 4
BESTSELLER_PRODUCTS = 50
BESTSELLER_SHARE = 0.6  # of the order lines
SPLIT_SHARE = 0.03  # of the shipped lines of two packs or more: taken from two lots
TWO_PARCELS_SHARE = 0.04  # of the shipped orders of two lines or more: the last line a day later
QUANTITIES = (1, 1, 1, 2, 2, 3, 4, 5, 6, 10)
CARRIERS = ("DHL Express", "UPS", "DPD", "An Post")
BATCH = 5000
SHIPPED = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
LOOKUP_LABELS = ("recall look-up, 1 lot", "recall look-up, 3 lots")
PAGE_LABELS = ("desk: recall page, 1 lot", "desk: recall page, 3 lots")


@dataclass(frozen=True)
class BenchPractice:
    id: int
    name: str
    phone: str
    owner_id: int
    owner_name: str
    owner_email: str


@dataclass
class Traceability:
    """What was built, and what the timings look up."""

    lots: int = 0
    order_lines: int = 0
    shipments: int = 0
    shipment_lines: int = 0
    bestseller_lots: int = 0
    bestseller_lines: int = 0
    bestseller_reach: tuple[float, int] = (0.0, 0)  # practices a bestseller's lot reached: mean, most
    recall_ids: tuple[int, ...] = ()
    recall_lots: tuple[tuple[int, ...], ...] = ()
    reach: dict[tuple[int, ...], tuple[int, int]] = field(default_factory=dict)  # lines, practices


# --- building -------------------------------------------------------------------------------


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _reset_sequences(*models) -> None:
    """Rows inserted with their ids leave PostgreSQL's sequences behind; move them on."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )


def build_practices(clinician: User) -> list[BenchPractice]:
    """The bench clinician's practice and PRACTICES - 1 more, each with its owner."""
    now = clock.now()
    own = clinician.practice
    practices = [
        BenchPractice(own.id, own.name, own.phone, clinician.id, clinician.full_name, clinician.email),
    ]
    first_practice, first_user = _next_id(Practice), _next_id(User)
    rows, owners = [], []
    for i in range(1, PRACTICES):
        practice = BenchPractice(
            id=first_practice + i - 1,
            name=f"Clinic {i:04d} Aesthetics",
            phone=f"+353 1 555 {i:04d}",
            owner_id=first_user + i - 1,
            owner_name=f"Dr Owner {i:04d}",
            owner_email=f"owner{i:04d}@clinic{i:04d}.example",
        )
        practices.append(practice)
        rows.append({"id": practice.id, "name": practice.name, "phone": practice.phone, "created_at": now})
        owners.append(
            {
                "id": practice.owner_id,
                "email": practice.owner_email,
                "password_hash": clinician.password_hash,
                "full_name": practice.owner_name,
                "role": Role.CLINICIAN,
                "active": True,
                "practice_id": practice.id,
                "practice_role": PracticeRole.OWNER,
                "created_at": now,
                "password_changed_at": now,
                "email_confirmed_at": now,
                "desk_codes": "",
            }
        )
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(Practice), rows[start : start + BATCH])
        db.session.execute(insert(User), owners[start : start + BATCH])
    _reset_sequences(Practice, User)
    db.session.commit()
    return practices


def practice_picker(practices: list[BenchPractice]):
    """Which practice places the next order: the first practices order far more than the last."""
    rng = random.Random(13)
    return lambda: practices[int(len(practices) * rng.random() ** 2)]


def _lot_number(variant_id: int, k: int) -> str:
    return f"L{variant_id:06d}{'ABCDEFGHJK'[k]}"


def _expiry(today, variant_id: int, k: int):
    """The k-th lot of a variant expires three months after the one before it; the first lot,
    which left at the start of the orders' period, still has five months to go."""
    return today + timedelta(days=150 + 90 * k + variant_id % 30)


def build_shipments(staff_id: int) -> Traceability:
    """Lots for every variant, lines for every order, parcels for the shipped ones (packed by
    `staff_id`), and the two recalls; returns what was built."""
    rng = random.Random(1313)
    now, today = clock.now(), clock.today()
    built = Traceability()
    variants = db.session.execute(
        select(
            Variant.id,
            Variant.product_id,
            Variant.sku,
            Variant.label,
            Variant.pack_size,
            Variant.price_cents,
            Variant.stock_on_hand,
            Product.name,
        )
        .join(Product)
        .order_by(Variant.id)
    ).all()
    product_ids = sorted({v.product_id for v in variants})
    step = max(1, len(product_ids) // BESTSELLER_PRODUCTS)
    bestseller_products = set(product_ids[::step][:BESTSELLER_PRODUCTS])
    bestsellers = [i for i, v in enumerate(variants) if v.product_id in bestseller_products]

    # Lots: LOTS_PER_VARIANT per variant, the last one on the shelf with the variant's stock.
    first_lot = _next_id(Lot)

    def lot_id(variant_index: int, k: int) -> int:
        return first_lot + variant_index * LOTS_PER_VARIANT + k

    batch = []
    for i, v in enumerate(variants):
        for k in range(LOTS_PER_VARIANT):
            on_hand = v.stock_on_hand if k == LOTS_PER_VARIANT - 1 else 0
            batch.append(
                {
                    "id": lot_id(i, k),
                    "variant_id": v.id,
                    "lot_number": _lot_number(v.id, k),
                    "expires_on": _expiry(today, v.id, k),
                    "status": LotStatus.AVAILABLE,
                    "on_hand": on_hand,
                    "received": on_hand,  # plus what shipped, counted once the lines are in
                    "supplier_reference": f"PO-{v.id % 997:03d}-{k}",
                    "created_at": now - timedelta(days=120 - 30 * k),
                }
            )
            if len(batch) == BATCH:
                db.session.execute(insert(Lot), batch)
                batch = []
    if batch:
        db.session.execute(insert(Lot), batch)
    built.lots = len(variants) * LOTS_PER_VARIANT

    # Order lines for every order; parcels and shipment lines for the shipped ones.
    orders = db.session.execute(
        select(Order.id, Order.status, Order.placed_at, Order.practice_id).order_by(Order.id)
    ).all()
    next_line, next_shipment, next_shipment_line = _next_id(OrderLine), _next_id(Shipment), _next_id(ShipmentLine)
    reached: dict[int, set[int]] = defaultdict(set)  # bestseller lots: the practices they reached
    lines, shipments, shipment_lines = [], [], []

    def flush() -> None:
        for model, rows in ((OrderLine, lines), (Shipment, shipments), (ShipmentLine, shipment_lines)):
            if rows:
                db.session.execute(insert(model), rows)
                rows.clear()

    bestseller_set = set(bestsellers)
    for n, order in enumerate(orders):
        window = min(LOTS_PER_VARIANT - 1, n * LOTS_PER_VARIANT // len(orders))
        chosen: list[int] = []
        for _ in range(rng.randint(1, 5)):
            pool = bestsellers if rng.random() < BESTSELLER_SHARE else None
            index = rng.choice(pool) if pool else rng.randrange(len(variants))
            if index not in chosen:
                chosen.append(index)
        shipped = order.status in SHIPPED
        parcels: list[int] = []
        if shipped:
            two = len(chosen) > 1 and rng.random() < TWO_PARCELS_SHARE
            for sequence in range(1, 3 if two else 2):
                parcels.append(next_shipment)
                shipments.append(
                    {
                        "id": next_shipment,
                        "order_id": order.id,
                        "practice_id": order.practice_id,
                        "sequence": sequence,
                        "carrier": CARRIERS[next_shipment % len(CARRIERS)],
                        "tracking_number": f"TRK{next_shipment:010d}",
                        "shipped_at": min(now, order.placed_at + timedelta(hours=4 + 24 * (sequence - 1))),
                        "shipped_by_id": staff_id,
                    }
                )
                next_shipment += 1
        for position, index in enumerate(chosen):
            v = variants[index]
            quantity = rng.choice(QUANTITIES)
            lines.append(
                {
                    "id": next_line,
                    "order_id": order.id,
                    "variant_id": v.id,
                    "sku": v.sku,
                    "product_name": v.name,
                    "variant_label": v.label,
                    "pack_size": v.pack_size,
                    "quantity": quantity,
                    "unit_price_cents": v.price_cents,
                    "line_total_cents": quantity * v.price_cents,
                    "tax_rate_bps": 2300,
                    "shipped_quantity": quantity if shipped else 0,
                }
            )
            if shipped:
                parcel = parcels[-1] if position == len(chosen) - 1 else parcels[0]
                takes = [(window, quantity)]
                if quantity > 1 and rng.random() < SPLIT_SHARE:
                    other = window + 1 if window + 1 < LOTS_PER_VARIANT else window - 1
                    takes = [(window, quantity // 2), (other, quantity - quantity // 2)]
                for k, packs in takes:
                    shipment_lines.append(
                        {
                            "id": next_shipment_line,
                            "shipment_id": parcel,
                            "order_line_id": next_line,
                            "lot_id": lot_id(index, k),
                            "quantity": packs,
                            "lot_number": _lot_number(v.id, k),
                            "expires_on": _expiry(today, v.id, k),
                        }
                    )
                    next_shipment_line += 1
                    built.shipment_lines += 1
                    if index in bestseller_set:
                        reached[lot_id(index, k)].add(order.practice_id)
                        built.bestseller_lines += 1
            next_line += 1
            built.order_lines += 1
        built.shipments += len(parcels)
        if len(lines) >= BATCH:
            flush()
    flush()
    reach = [len(practices) for practices in reached.values()]
    built.bestseller_lots, built.bestseller_reach = len(reach), (statistics.mean(reach), max(reach))

    # What each order and lot adds up to, now that the lines are in.
    db.session.execute(
        update(Order).values(
            subtotal_cents=select(func.coalesce(func.sum(OrderLine.line_total_cents), 0))
            .where(OrderLine.order_id == Order.id)
            .scalar_subquery()
        )
    )
    db.session.execute(
        update(Order).values(
            tax_cents=Order.subtotal_cents * (Order.tax_rate_bps // 100) // 100,
            total_cents=Order.subtotal_cents
            + Order.shipping_cents
            + Order.subtotal_cents * (Order.tax_rate_bps // 100) // 100,
        )
    )
    db.session.execute(
        update(Lot).values(
            received=Lot.on_hand
            + select(func.coalesce(func.sum(ShipmentLine.quantity), 0))
            .where(ShipmentLine.lot_id == Lot.id)
            .scalar_subquery()
        )
    )
    _reset_sequences(Lot, OrderLine, Shipment, ShipmentLine)
    db.session.commit()
    _build_recalls(built, staff_id, reached, variants, lot_id)
    return built


def _build_recalls(built: Traceability, staff_id: int, reached, variants, lot_id) -> None:
    """A recall of the lot that reached the most practices, and one of three lots (one per
    variant, from the same window) of the bestseller whose lots reached the most after it."""
    busiest = max(reached, key=lambda lot: (len(reached[lot]), -lot))
    by_product: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, v in enumerate(variants):
        for k in range(LOTS_PER_VARIANT):
            if lot_id(index, k) in reached:
                by_product[(v.product_id, k)].append(lot_id(index, k))
    busiest_product = db.session.scalar(select(Variant.product_id).join(Lot).where(Lot.id == busiest))
    three = max(
        (lots for (product, _), lots in by_product.items() if product != busiest_product and len(lots) == 3),
        key=lambda lots: (len(set().union(*(reached[lot] for lot in lots))), -lots[0]),
    )
    owners = dict(
        db.session.execute(select(User.practice_id, User.id).where(User.practice_role == PracticeRole.OWNER)).all()
    )
    emails = dict(db.session.execute(select(User.id, User.email)).all())
    now = clock.now()
    opened = now - timedelta(days=2)
    first_recall, first_notice, first_event = _next_id(Recall), _next_id(RecallNotice), _next_id(RecallEvent)
    recalls, recall_lots, notices, events = [], [], [], []
    for r, lots in enumerate(((busiest,), tuple(three))):
        recall_id = first_recall + r
        product_id = db.session.scalar(select(Variant.product_id).join(Lot).where(Lot.id == lots[0]))
        practices = sorted(set().union(*(reached[lot] for lot in lots)))
        recalls.append(
            {
                "id": recall_id,
                "product_id": product_id,
                "status": RecallStatus.OPEN,
                "reason": "Particulate matter found in retained samples of these lots.",
                "manufacturer_reference": f"FSCA-2026-{recall_id:04d}",
                "opened_at": opened,
                "opened_by_id": staff_id,
                "closing_note": "",
            }
        )
        recall_lots += [{"recall_id": recall_id, "lot_id": lot} for lot in lots]
        for i, practice_id in enumerate(practices):
            notified = i % 10 < 8
            owner = owners[practice_id]
            notices.append(
                {
                    "id": first_notice + len(notices),
                    "recall_id": recall_id,
                    "practice_id": practice_id,
                    "first_notified_at": opened + timedelta(hours=1) if notified else None,
                    "last_notified_at": opened + timedelta(hours=1 + 24 * (i % 10 == 7)) if notified else None,
                    "times_notified": (2 if i % 10 == 7 else 1) if notified else 0,
                    "notified_to": emails[owner] if notified else "",
                    "acknowledged_at": opened + timedelta(hours=5) if i % 10 < 5 else None,
                    "acknowledged_by_id": owner if i % 10 < 5 else None,
                }
            )
        for action, to_status, hours in (
            ("opened", RecallStatus.OPEN.value, 0),
            ("notified", RecallStatus.OPEN.value, 1),
        ):
            events.append(
                {
                    "id": first_event + len(events),
                    "recall_id": recall_id,
                    "actor_id": staff_id,
                    "action": action,
                    "from_status": None if action == "opened" else RecallStatus.OPEN.value,
                    "to_status": to_status,
                    "note": f"{len(practices)} practices affected",
                    "created_at": opened + timedelta(hours=hours),
                }
            )
        lines = db.session.scalar(select(func.count()).select_from(ShipmentLine).where(ShipmentLine.lot_id.in_(lots)))
        built.reach[lots] = (lines, len(practices))
    db.session.execute(insert(Recall), recalls)
    db.session.execute(insert(RecallLot), recall_lots)
    db.session.execute(insert(RecallNotice), notices)
    db.session.execute(insert(RecallEvent), events)
    # The recalled lots leave the stock; what is left of them on the shelf stays there, held.
    recalled = [lot for lots in built.reach for lot in lots]
    held = (
        select(func.coalesce(func.sum(Lot.on_hand), 0))
        .where(Lot.variant_id == Variant.id, Lot.id.in_(recalled))
        .scalar_subquery()
    )
    affected = select(Lot.variant_id).where(Lot.id.in_(recalled))
    db.session.execute(
        update(Variant).where(Variant.id.in_(affected)).values(stock_on_hand=Variant.stock_on_hand - held)
    )
    db.session.execute(update(Lot).where(Lot.id.in_(recalled)).values(status=LotStatus.RECALLED))
    _reset_sequences(Recall, RecallNotice, RecallEvent)
    db.session.commit()
    built.recall_ids = tuple(r["id"] for r in recalls)
    built.recall_lots = tuple(built.reach)


# --- timing ---------------------------------------------------------------------------------


def recall_pages(built: Traceability) -> dict[str, str]:
    return {
        label: f"/staff/recalls/{recall_id}" for label, recall_id in zip(PAGE_LABELS, built.recall_ids, strict=True)
    }


def time_lookups(app, built: Traceability) -> dict[str, tuple[float, float, float]]:
    """The recall's query, as a recall page runs it, LOOKUP_ROUNDS times per recall."""
    results = {}
    with app.app_context():
        for label, lots in zip(LOOKUP_LABELS, built.recall_lots, strict=True):
            which = SupplyFilter(lot_ids=lots)
            assert len(supplies(which)) == built.reach[lots][0]
            db.session.remove()
            timings = []
            for _ in range(LOOKUP_ROUNDS):
                start = time.perf_counter()
                supplies(which)
                timings.append((time.perf_counter() - start) * 1000)
                db.session.remove()  # each round takes its connection from the pool, as a request does
            tracemalloc.start()
            supplies(which)
            peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            tracemalloc.stop()
            db.session.remove()
            timings.sort()
            results[label] = (statistics.median(timings), timings[int(len(timings) * 0.95) - 1], peak)
    return results


def query_plan(app, lots: tuple[int, ...]) -> list[str]:
    """The database's plan for the look-up of these lots (PostgreSQL's as it ran it, with rows
    and times)."""
    with app.app_context():
        sql = str(
            supply_query(SupplyFilter(lot_ids=lots)).compile(
                dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}
            )
        )
        if db.engine.dialect.name == "postgresql":
            plan = [row[0] for row in db.session.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}"))]
        else:
            plan = [row[3] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
        db.session.remove()
    return plan


def plan_summary(plan: list[str]) -> tuple[str, list[str]]:
    """How a plan reads each table, in one line, and the tables it reads whole (a sequential
    scan: the look-up is then no longer an indexed query, and its cost grows with the table)."""
    reads, whole = [], []
    for line in plan:
        node = line.strip().removeprefix("->").strip().split(" (actual")[0]
        if node.startswith(("SCAN ", "SEARCH ")) or ("Scan" in node and "Bitmap Heap" not in node):
            reads.append(node)
        if node.startswith("SCAN ") or "Seq Scan" in node:
            whole.append(node)
        if node.startswith("Execution Time:"):
            reads.append(f"executed in {node.split(':')[1].strip()}")
    return "; ".join(reads), whole


def describe(built: Traceability) -> list[str]:
    other_lines = built.shipment_lines - built.bestseller_lines
    lines = [
        f"{PRACTICES} practices, {built.order_lines} order lines, {built.lots} lots, "
        f"{built.shipments} shipments, {built.shipment_lines} shipment lines",
        f"a bestseller's lot reached {built.bestseller_reach[0]:.0f} practices on average "
        f"(at most {built.bestseller_reach[1]}); any other lot, "
        f"{other_lines / (built.lots - built.bestseller_lots):.1f} shipment lines",
    ]
    for label, lots in zip(("1 lot", "3 lots"), built.recall_lots, strict=True):
        shipped, practices = built.reach[lots]
        lines.append(f"recall of {label}: {shipped} shipment lines to {practices} practices")
    return lines
