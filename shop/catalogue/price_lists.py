"""What a practice pays: the one rule for the price of a variant to a practice, which the
catalogue, the cart, quick order, quotes and checkout (web, accepted quotes and the desk's
orders) all use.

A variant's list price for a quantity is its price, or the volume price that quantity reaches.
A practice with a price agreed for the variant pays that, unless the list price for the
quantity is lower still (a practice never pays more than the list); any other variant costs it
the list price less its practice discount, rounded half up to the cent. Staff (and a clinician
without a practice) see list prices.

The customers desk agrees prices per variant; each change is an event of the practice (before
→ after) and an audit entry, in the same unit of work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Select, UniqueConstraint, and_, bindparam, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shop import clock
from shop.catalogue.models import Product, Variant
from shop.catalogue.options import find_variant, no_such_sku
from shop.core import events
from shop.core.db import UTCDateTime, hold, unit_of_work
from shop.core.formatting import money
from shop.core.pricing import discounted
from shop.errors import CatalogueRefusal, NotEligible, NotFound
from shop.extensions import db
from shop.practices.models import Practice
from shop.practices.terms import may_change_terms

if TYPE_CHECKING:
    from shop.accounts.models import User

MAX_AGREEMENTS = 2_000  # per practice: beyond that, a discount or a quote is the better tool


class PriceAgreement(db.Model):
    """A unit price a practice and the shop agreed for one variant."""

    __tablename__ = "price_agreements"
    __table_args__ = (UniqueConstraint("practice_id", "variant_id", name="uq_price_agreements_practice_variant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"), index=True)
    unit_price_cents: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    variant: Mapped[Variant] = relationship()


@dataclass(frozen=True)
class PriceList:
    """The prices of one practice (or the list prices, with nothing agreed and no discount)."""

    discount_bps: int = 0
    agreed: Mapping[int, int] = field(default_factory=dict)  # variant id -> unit price

    @property
    def is_list(self) -> bool:
        return not self.discount_bps and not self.agreed

    def unit_price(self, variant: Variant, quantity: int = 1) -> int:
        return self.price_of(variant.id, variant.unit_price_for(quantity))

    def price_of(self, variant_id: int, listed: int) -> int:
        """The practice's price for the variant `variant_id` where its list price is `listed`."""
        agreed = self.agreed.get(variant_id)
        if agreed is not None:
            return min(agreed, listed)
        return discounted(listed, self.discount_bps)

    def differs(self, variant: Variant, quantity: int = 1) -> bool:
        """Whether the practice pays other than the list price for this quantity."""
        return self.unit_price(variant, quantity) != variant.unit_price_for(quantity)

    def volume_prices(self, variant: Variant) -> list[tuple[int, int]]:
        """The variant's volume breaks as (from quantity, unit price) at this practice's prices,
        leaving out those that would not lower its price."""
        single = self.unit_price(variant, 1)
        breaks = ((b.min_quantity, self.unit_price(variant, b.min_quantity)) for b in variant.price_breaks)
        return [(minimum, price) for minimum, price in breaks if price < single]


LIST_PRICES = PriceList()


def price_list_for(practice: Practice | None) -> PriceList:
    """The prices `practice` pays (one query for its agreed prices), or the list prices."""
    if practice is None:
        return LIST_PRICES
    agreed = dict(
        db.session.execute(
            select(PriceAgreement.variant_id, PriceAgreement.unit_price_cents).where(
                PriceAgreement.practice_id == practice.id
            )
        ).all()
    )
    return PriceList(discount_bps=practice.discount_bps, agreed=agreed)


def prices_agreed(practice: Practice | None, agreed: Mapping[int, int]) -> PriceList:
    """What `practice` pays given its `agreed` prices (variant id -> unit price) for the variants
    at hand (list prices for no practice)."""
    return LIST_PRICES if practice is None else PriceList(discount_bps=practice.discount_bps, agreed=agreed)


def price_list_of(user: User | None) -> PriceList:
    """What `user` pays: their practice's prices for a clinician, list prices for anyone else."""
    if user is None or not user.is_clinician:
        return LIST_PRICES
    return price_list_for(user.practice)


def with_agreed_price(query: Select, variant_id, practice_id) -> Select:
    """`query` with one more column: the unit price the practice `practice_id` (an id, or a
    parameter) agreed for the row's variant (`variant_id`), None where it agreed none (always
    None for no practice: `practice_id` None)."""
    if practice_id is None:
        return query.add_columns(literal(None))
    return query.add_columns(PriceAgreement.unit_price_cents).outerjoin(
        PriceAgreement, and_(PriceAgreement.variant_id == variant_id, PriceAgreement.practice_id == practice_id)
    )


def priced_options(products: Sequence[Product], user: User | None) -> PriceList:
    """Load the options of `products` with their volume prices, and the prices the user's
    practice agreed for them, in one statement; return what the user pays for them (see
    `price_list_of`). For a product page: it never reads the practice's other agreements (a
    listing's cards read theirs as rows: catalogue.cards)."""
    practice = user.practice if user is not None and user.is_clinician else None
    if not products:
        return prices_agreed(practice, {})
    options: dict[int, list[Variant]] = {p.id: [] for p in products}
    agreed = {}
    params = {"products": list(options), "practice": practice.id if practice is not None else None}
    for variant, price in db.session.execute(_options_query(practice is not None), params).unique():
        options[variant.product_id].append(variant)
        if price is not None:
            agreed[variant.id] = price
    for product in products:
        set_committed_value(product, "variants", options[product.id])
        for variant in options[product.id]:
            set_committed_value(variant, "product", product)
    return prices_agreed(practice, agreed)


@lru_cache(maxsize=2)
def _options_query(agreed: bool) -> Select:
    """The options of the products (parameter PRODUCTS, a list of ids) with their volume prices
    and the price the practice (parameter PRACTICE) agreed for each if `agreed`: one statement
    made once, as making it (and its cache key) costs more than running it."""
    query = with_agreed_price(
        select(Variant)
        .where(Variant.product_id.in_(bindparam("products", expanding=True)))
        .order_by(Variant.product_id, Variant.position, Variant.id),
        Variant.id,
        bindparam("practice") if agreed else None,
    )
    return query.options(joinedload(Variant.price_breaks))


def agreements_of(practice: Practice) -> list[PriceAgreement]:
    return list(
        db.session.scalars(
            select(PriceAgreement)
            .where(PriceAgreement.practice_id == practice.id)
            .options(selectinload(PriceAgreement.variant).selectinload(Variant.product))
            .options(selectinload(PriceAgreement.variant).selectinload(Variant.price_breaks))
            .join(Variant, Variant.id == PriceAgreement.variant_id)
            .order_by(Variant.sku)
        )
    )


# --- the customers desk agrees prices -----------------------------------------------------------


def _require_desk(staff: User) -> None:
    if not may_change_terms(staff):
        raise NotEligible("Only the customers desk can agree prices with a practice.")


def set_agreed_price(staff: User, practice: Practice, sku: str, unit_price_cents: int) -> PriceAgreement:
    """Agree (or change) the unit price of `sku` for `practice`. Raises NotEligible (not the
    customers desk), CatalogueRefusal (an unknown SKU, a price not below the list price or not
    above zero, too many agreements)."""
    _require_desk(staff)
    variant = find_variant(sku)
    if variant is None:
        raise CatalogueRefusal(no_such_sku(sku), field="sku")
    if unit_price_cents <= 0:
        raise CatalogueRefusal("An agreed price is more than zero.", field="unit_price")
    if unit_price_cents >= variant.price_cents:
        raise CatalogueRefusal(
            f"The list price of {variant.sku} is {money(variant.price_cents)}: an agreed price is lower.",
            field="unit_price",
        )
    try:
        with unit_of_work():
            hold(Practice.name, practice.id)
            agreement = db.session.scalar(
                select(PriceAgreement).where(
                    PriceAgreement.practice_id == practice.id, PriceAgreement.variant_id == variant.id
                )
            )
            before = agreement.unit_price_cents if agreement else None
            if agreement is None:
                if _count(practice) >= MAX_AGREEMENTS:
                    raise CatalogueRefusal(f"A practice can have at most {MAX_AGREEMENTS:,} agreed prices.")
                agreement = PriceAgreement(practice_id=practice.id, variant_id=variant.id)
                db.session.add(agreement)
            agreement.unit_price_cents = unit_price_cents
            agreement.updated_at = clock.now()
            if before != unit_price_cents:
                _record(staff, practice, variant, before, unit_price_cents)
    except IntegrityError:  # the same variant agreed by someone else at the same moment
        raise CatalogueRefusal(f"A price for {variant.sku} was agreed a moment ago; reload the page.") from None
    return agreement


def remove_agreed_price(staff: User, practice: Practice, agreement_id: int) -> None:
    """The practice pays the list price (less its discount) for the variant again."""
    _require_desk(staff)
    agreement = db.session.get(PriceAgreement, agreement_id)
    if agreement is None or agreement.practice_id != practice.id:
        raise NotFound("There is no such agreed price.")
    with unit_of_work():
        _record(staff, practice, agreement.variant, agreement.unit_price_cents, None)
        db.session.delete(agreement)


def _count(practice: Practice) -> int:
    return db.session.scalar(
        select(db.func.count()).select_from(PriceAgreement).where(PriceAgreement.practice_id == practice.id)
    )


def _record(staff: User, practice: Practice, variant: Variant, before: int | None, after: int | None) -> None:
    shown = {None: "list price"}
    note = (
        f"Agreed price of {variant.sku} ({variant.product.name}, list {money(variant.price_cents)}): "
        f"{shown.get(before) or money(before)} → {shown.get(after) or money(after)}"
    )
    events.record_note(practice, staff, "price_agreed", note, changes={f"price:{variant.sku}": (before, after)})
