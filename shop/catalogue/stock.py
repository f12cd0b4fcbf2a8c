"""The stock ledger: every change to a variant's stock is a row, with who, when, why and how much.

A variant's `stock_on_hand` is the sum of its ledger: the packs of its sellable lots not yet
reserved by an order. Checkouts and clerks never take it below zero; only a lot withdrawn from
sale (quarantined, expired, recalled) can, when orders had reserved its packs (see `book`). Each change is one conditional UPDATE of the variant's row that returns the new
balance, and the ledger row is written in the same transaction, so a checkout and a clerk's
adjustment at the same moment queue on the row and neither is lost. A new variant's stock
begins with an opening-balance row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, case, event, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from shop import clock
from shop.accounts.models import User
from shop.catalogue.models import Variant
from shop.core import audit
from shop.core.db import UTCDateTime, enum_column, hold, unit_of_work
from shop.core.enums import LabelledEnum
from shop.errors import CatalogueRefusal, NotEligible, OutOfStock
from shop.extensions import db

MAX_ADJUSTMENT = 1_000_000


class Movement(LabelledEnum):
    OPENING = "opening", "Opening balance"
    RECEIVED = "received", "Goods received"
    COUNTED = "counted", "Count correction"
    WRITTEN_OFF = "written_off", "Damaged or expired, written off"
    RETURNED = "returned", "Returned to stock"
    RESERVED = "reserved", "Reserved by an order"
    RELEASED = "released", "Released by an order"
    LOT_RECORDED = "lot_recorded", "Lot recorded for stock on the shelf"
    QUARANTINED = "quarantined", "Lot quarantined"
    UNQUARANTINED = "unquarantined", "Lot released from quarantine"
    EXPIRED = "expired", "Lot expired"
    RECALLED = "recalled", "Lot recalled"


# What a clerk may record by hand; the others are the shop's own. Goods received, and stock on
# the shelf recorded by lot, are booked through the lot they belong to (shop.lots).
STAFF_MOVEMENTS = (
    Movement.RECEIVED,
    Movement.LOT_RECORDED,
    Movement.COUNTED,
    Movement.WRITTEN_OFF,
    Movement.RETURNED,
)
BY_LOT_ONLY = frozenset({Movement.RECEIVED, Movement.LOT_RECORDED})


class StockMovement(db.Model):
    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[Movement] = mapped_column(enum_column(Movement, "stock_movement"))
    quantity: Mapped[int]  # signed: what came in (+) or went out (-)
    balance_after: Mapped[int]
    reference: Mapped[str] = mapped_column(String(120), default="")  # supplier's delivery note, order number
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)  # the lot it concerns, if any

    variant: Mapped[Variant] = relationship()
    actor = relationship("User")
    lot = relationship("Lot")


@dataclass(frozen=True)
class Adjustment:
    kind: Movement
    quantity: int  # packs received, written off or returned; for a count, the packs counted
    reason: str = ""
    reference: str = ""


def _write(
    variant_id: int, kind: Movement, quantity: int, balance: int, *, reference="", reason="", actor=None, lot_id=None
) -> StockMovement:
    movement = StockMovement(
        lot_id=lot_id,
        variant_id=variant_id,
        created_at=clock.now(),
        kind=kind,
        quantity=quantity,
        balance_after=balance,
        reference=reference[:120],
        reason=reason,
        actor_id=getattr(actor, "id", None),
    )
    db.session.add(movement)
    return movement


def _move(variant_id: int, quantity: int, *, guard: bool = True) -> int | None:
    """Add `quantity` (negative: take) to the stock, unless (with `guard`) that would go below
    zero; the new balance, or None when there is not enough."""
    statement = update(Variant).where(Variant.id == variant_id)
    if quantity < 0 and guard:
        statement = statement.where(Variant.stock_on_hand >= -quantity)
    return db.session.scalar(
        statement.values(stock_on_hand=Variant.stock_on_hand + quantity)
        .returning(Variant.stock_on_hand)
        .execution_options(synchronize_session=False)
    )


def book(
    variant_id: int, kind: Movement, change: int, *, lot_id: int, reference: str = "", reason: str = "", actor=None
) -> int:
    """A change that a lot makes to its variant's stock (received, quarantined, released, expired,
    recalled, written off or returned), in the caller's unit of work; the new balance.

    A lot leaving the stock takes all of its packs even when orders have already reserved some:
    the balance may then fall below zero, which says how many packs ordered are no longer
    covered by a sellable lot (checkouts, which never take more than is there, wait for stock)."""
    balance = _move(variant_id, change, guard=False)
    _write(variant_id, kind, change, balance, reference=reference, reason=reason, actor=actor, lot_id=lot_id)
    return balance


def reserve(wanted: list[tuple[Variant, int]], reference: str) -> None:
    """Take each (variant, quantity) for order `reference`, or raise OutOfStock if another order
    got there first: one conditional UPDATE for all the variants (a row is taken only if it has
    enough), inside the caller's unit of work as its last write, so the rows stay locked only
    until its commit, which follows. The rows are locked in key order, as every other change of
    several variants' stock is made (a cancellation's release), so two of them holding the same
    products never wait on each other in a circle. The ledger's rows follow."""
    if not wanted:
        return
    quantities: dict[int, int] = {}
    for variant, quantity in wanted:
        quantities[variant.id] = quantities.get(variant.id, 0) + quantity
    needed = case(quantities, value=Variant.id)
    # The rows are locked in key order by the statement that takes them: an UPDATE alone locks
    # them in the order its scan meets them, which is the key's through the primary key's index
    # but not through a scan of the table (a small one), where updated rows move. The lock is the
    # UPDATE's own (FOR NO KEY UPDATE), which the order lines' foreign keys to these rows (KEY
    # SHARE) do not block; one statement, so the rows stay locked no longer than before.
    ids = sorted(quantities)
    locked = select(Variant.id).where(Variant.id.in_(ids)).order_by(Variant.id).with_for_update(key_share=True)
    locked = locked.subquery("locked")
    taken = dict(
        db.session.execute(
            update(Variant)
            .where(Variant.id == locked.c.id, Variant.stock_on_hand >= needed)
            .values(stock_on_hand=Variant.stock_on_hand - needed)
            .returning(Variant.id, Variant.stock_on_hand)
            .execution_options(synchronize_session=False)
        ).all()
    )
    short = next((variant for variant, _quantity in sorted(wanted, key=_by_id) if variant.id not in taken), None)
    if short is not None:
        raise OutOfStock(f"Someone else just ordered the last of {short.product.name} ({short.sku}).")
    for variant_id, quantity in quantities.items():
        _write(variant_id, Movement.RESERVED, -quantity, taken[variant_id], reference=reference)


def _by_id(pair: tuple[Variant, int]) -> int:
    return pair[0].id


def release(variant_id: int, quantity: int, reference: str, reason: str = "") -> None:
    """Put an order's quantity back. Runs inside the caller's unit of work."""
    balance = _move(variant_id, quantity)
    _write(variant_id, Movement.RELEASED, quantity, balance, reference=reference, reason=reason)


def adjust(staff: User, variant: Variant, adjustment: Adjustment) -> StockMovement:
    """A clerk's change: goods received, a count, a write-off or a return."""
    if not staff.is_staff:
        raise NotEligible("Only the catalogue desk can change stock.")
    kind, quantity = adjustment.kind, adjustment.quantity
    if kind not in STAFF_MOVEMENTS:
        raise CatalogueRefusal("Choose what happened to the stock.", field="kind")
    if kind in BY_LOT_ONLY:
        raise CatalogueRefusal("Goods are received by lot: enter the lot number and its expiry.", field="lot_number")
    if not 0 <= quantity <= MAX_ADJUSTMENT or (quantity == 0 and kind != Movement.COUNTED):
        raise CatalogueRefusal(f"Enter a number of packs between 1 and {MAX_ADJUSTMENT:,}.", field="quantity")
    if kind in (Movement.WRITTEN_OFF, Movement.COUNTED) and not adjustment.reason.strip():
        raise CatalogueRefusal("Say why, for the record.", field="reason")
    with unit_of_work():
        if kind == Movement.COUNTED:
            count_in_transaction(staff, variant, quantity, reason=adjustment.reason, reference=adjustment.reference)
        else:
            change = -quantity if kind == Movement.WRITTEN_OFF else quantity
            _record(staff, variant, kind, change, _move(variant.id, change), adjustment.reference, adjustment.reason)
    db.session.refresh(variant)
    return variant


def count_in_transaction(staff: User, variant: Variant, counted: int, *, reason: str, reference: str = "") -> None:
    """The counted figure replaces what the books say, in the caller's transaction; the row lock
    makes the difference exact even while a checkout takes stock."""
    hold(Variant.reorder_level, variant.id)
    change = counted - variant_stock(variant.id)
    _record(staff, variant, Movement.COUNTED, change, _move(variant.id, change), reference, reason)


def _record(staff: User, variant: Variant, kind: Movement, change: int, balance: int | None, reference, reason):
    if balance is None:
        raise CatalogueRefusal(
            f"Only {variant_stock(variant.id)} in stock: you cannot write off more than that.", field="quantity"
        )
    _write(variant.id, kind, change, balance, reference=reference, reason=reason, actor=staff)
    audit.record(
        staff,
        f"stock.{kind.value}",
        variant,
        {"stock_on_hand": (balance - change, balance)},
        note=" · ".join(part for part in (reference, reason) if part),
    )


def variant_stock(variant_id: int) -> int:
    return db.session.scalar(select(Variant.stock_on_hand).where(Variant.id == variant_id)) or 0


def ledger_of(variant_id: int):
    return (
        select(StockMovement)
        .where(StockMovement.variant_id == variant_id)
        .options(selectinload(StockMovement.actor))
        .order_by(StockMovement.created_at.desc(), StockMovement.id.desc())
    )


@event.listens_for(Variant, "after_insert")
def _opening_balance(_mapper, connection, variant: Variant) -> None:
    """A variant made with stock (the demo, an import) starts its ledger with that stock."""
    if variant.stock_on_hand:
        connection.execute(
            insert(StockMovement.__table__).values(
                variant_id=variant.id,
                created_at=clock.now(),
                kind=Movement.OPENING.value,
                quantity=variant.stock_on_hand,
                balance_after=variant.stock_on_hand,
                reference="",
                reason="",
            )
        )
