"""The cart: adding variants, changing quantities, and the cart as the clinician sees it, with
every line that cannot be bought as it stands flagged (unavailable, short of stock, or a price
that changed since it was seen and not yet accepted). Quick order and reorder, which fill the
cart in bulk, are in shop.cart.quick_order."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop import clock
from shop.accounts.models import User
from shop.cart.loading import priced_lines
from shop.cart.models import CartLine
from shop.catalogue.compliance import variant_refusal
from shop.catalogue.models import Product, Variant
from shop.catalogue.options import find_variant, no_such_sku
from shop.catalogue.price_lists import PriceList, price_list_of
from shop.core.db import unit_of_work
from shop.core.limits import QUANTITY_RANGE, quantity_in_range
from shop.core.pricing import PriceRules, Totals, line_total, totals
from shop.errors import CartChanged, NotEligible, NotFound, OutOfStock
from shop.extensions import db


def _check_quantity(quantity: int) -> None:
    if not quantity_in_range(quantity):
        raise NotEligible(f"Enter a quantity {QUANTITY_RANGE}.", field="quantity")


def _line(user: User, variant: Variant) -> CartLine | None:
    return db.session.scalar(select(CartLine).where(CartLine.user_id == user.id, CartLine.variant_id == variant.id))


def require_buyer(user: User) -> None:
    if not user.is_clinician or not user.is_verified(clock.today()):
        raise NotEligible("Only clinicians whose licence we have verified can order.")


def _put(user: User, variant: Variant, quantity: int, *, add: bool) -> CartLine:
    """Add to (or set) the quantity of a variant in the cart, checking everything first, in the
    caller's unit of work.

    Adding to an existing line is one UPDATE, so two tabs adding at the same moment both count.
    A volume price that the new quantity reaches is taken at once; a price change that the
    clinician has not accepted yet stays flagged (changing the quantity does not accept it)."""
    require_buyer(user)
    refusal = variant_refusal(variant, user)
    if refusal:
        raise NotEligible(refusal.about(variant), field="sku")
    _check_quantity(quantity)
    line = _line(user, variant)
    old_quantity = line.quantity if line else 0
    if line is not None and add:
        db.session.execute(
            update(CartLine)
            .where(CartLine.id == line.id)
            .values(quantity=CartLine.quantity + quantity)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(line)
        old_quantity = line.quantity - quantity
    new_quantity = old_quantity + quantity if add else quantity
    _check_quantity(new_quantity)
    if new_quantity > variant.stock_on_hand:
        available = max(variant.stock_on_hand, 0)
        in_cart = f" (you already have {old_quantity} in your cart)" if old_quantity and add else ""
        raise OutOfStock(
            f"Only {available} of {variant.sku} {'is' if available == 1 else 'are'} in stock{in_cart}."
            if available
            else f"{variant.sku} is out of stock.",
            field="quantity",
        )
    prices = price_list_of(user)
    price = prices.unit_price(variant, new_quantity)
    if line is None:
        line = CartLine(
            user_id=user.id, variant=variant, quantity=new_quantity, seen_unit_price_cents=price, added_at=clock.now()
        )
        db.session.add(line)
    else:
        pending = line.seen_unit_price_cents != prices.unit_price(variant, old_quantity)
        line.quantity = new_quantity
        if not pending:
            line.seen_unit_price_cents = price
    return line


CHANGED_ELSEWHERE = "Your cart changed in another window. Please try again."


def add_to_cart(user: User, sku: str, quantity: int) -> CartLine:
    """Add `quantity` packs of `sku`. Raises NotFound, NotEligible or OutOfStock (and then
    leaves the cart as it was)."""
    variant = find_variant(sku)
    if variant is None:
        raise NotFound(no_such_sku(sku), field="sku")
    for _attempt in range(3):
        try:
            with unit_of_work():
                return _put(user, variant, quantity, add=True)
        except IntegrityError:
            continue  # another tab created the line at the same moment: add to it instead
    raise CartChanged(CHANGED_ELSEWHERE)


def set_quantity(user: User, line_id: int, quantity: int) -> None:
    with unit_of_work(conflict=CartChanged(CHANGED_ELSEWHERE)):
        line = _own_line(user, line_id)
        if quantity == 0:
            db.session.delete(line)
        else:
            _put(user, line.variant, quantity, add=False)


def remove_line(user: User, line_id: int) -> None:
    with unit_of_work():
        db.session.delete(_own_line(user, line_id))


def _own_line(user: User, line_id: int) -> CartLine:
    line = db.session.get(CartLine, line_id)
    if line is None or line.user_id != user.id:
        raise NotFound("That line is no longer in your cart.")
    return line


def take_lines(user: User, lines: list[CartLine]) -> None:
    """Remove the lines being ordered, as they were read; the caller commits. Raises
    CartChanged when any of them is gone or has another quantity now: the same cart was ordered
    a moment ago (a second click, another tab) or changed, and the caller rolls back instead of
    placing it twice or at the old quantity."""
    removed = db.session.execute(
        delete(CartLine).where(
            CartLine.user_id == user.id,
            tuple_(CartLine.id, CartLine.quantity).in_([(line.id, line.quantity) for line in lines]),
        )
    ).rowcount
    if removed != len(lines):
        raise CartChanged(
            "This cart was ordered, or changed, a moment ago in another window. "
            "Check your orders before ordering again."
        )


def accept_current_prices(user: User, shown: dict[int, int] | None = None) -> int:
    """The clinician has seen the new prices: they become the prices of the cart.

    `shown` maps line ids to the unit prices the page showed; a line whose price moved again
    since then is not accepted (it stays flagged). Returns how many lines stay flagged."""
    still_changed = 0
    prices = price_list_of(user)
    with unit_of_work():
        for line in lines_of(user):
            price = prices.unit_price(line.variant, line.quantity)
            if shown is not None and shown.get(line.id) != price:
                still_changed += price != line.seen_unit_price_cents
                continue
            line.seen_unit_price_cents = price
    return still_changed


def remove_unavailable(user: User) -> int:
    """Remove every line that cannot be ordered as it stands (not sold to this clinician, out
    of stock, or more than is in stock). Returns how many were removed."""
    removed = 0
    with unit_of_work():
        for line in lines_of(user):
            if _availability_problem(line, user):
                db.session.delete(line)
                removed += 1
    return removed


def _availability_problem(line: CartLine, user: User) -> str | None:
    variant = line.variant
    refusal = variant_refusal(variant, user)
    if refusal:
        return f"This product {refusal.phrase}."
    if variant.stock_on_hand <= 0:
        return "Out of stock."
    if line.quantity > variant.stock_on_hand:
        return f"Only {variant.stock_on_hand} in stock; lower the quantity."
    return None


def lines_of(user: User) -> list[CartLine]:
    return list(
        db.session.scalars(
            select(CartLine)
            .where(CartLine.user_id == user.id)
            .order_by(CartLine.added_at, CartLine.id)
            .options(
                selectinload(CartLine.variant).selectinload(Variant.product).selectinload(Product.regulatory_statuses),
                selectinload(CartLine.variant).selectinload(Variant.price_breaks),
            )
        )
    )


# --- the cart as the clinician sees it ---------------------------------------------------


@dataclass
class CartRow:
    line: CartLine
    unit_price_cents: int
    line_total_cents: int
    problems: list[str] = field(default_factory=list)
    price_changed: bool = False
    # The next volume price this line could reach at the practice's prices: (from quantity, unit price).
    next_break: tuple[int, int] | None = None
    # The list price, when the practice pays another (an agreed price, its discount).
    list_price_cents: int | None = None

    @property
    def variant(self) -> Variant:
        return self.line.variant

    @property
    def ok(self) -> bool:
        return not self.problems and not self.price_changed

    @property
    def availability(self) -> str:
        """What the availability column says for this line."""
        variant = self.variant
        if not variant.sellable:
            return "Discontinued"
        if self.problems and variant.stock_on_hand > 0 and self.line.quantity <= variant.stock_on_hand:
            return "Not available"
        if 0 < variant.stock_on_hand < self.line.quantity:
            return f"Only {variant.stock_on_hand} left"
        return variant.availability


@dataclass
class CartView:
    rows: list[CartRow]
    totals: Totals

    @property
    def is_empty(self) -> bool:
        return not self.rows

    @property
    def can_check_out(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def has_price_changes(self) -> bool:
        return any(row.price_changed for row in self.rows)

    @property
    def has_unavailable(self) -> bool:
        return any(row.problems for row in self.rows)

    @property
    def item_count(self) -> int:
        return sum(row.line.quantity for row in self.rows)


def view_cart(user: User) -> CartView:
    rows = []
    lines, prices = priced_lines(user)
    for line in lines:
        variant = line.variant
        price = prices.unit_price(variant, line.quantity)
        row = CartRow(
            line=line,
            unit_price_cents=price,
            line_total_cents=line_total(price, line.quantity),
            next_break=_next_break(prices, variant, line.quantity, price),
            list_price_cents=variant.unit_price_for(line.quantity) if prices.differs(variant, line.quantity) else None,
        )
        problem = _availability_problem(line, user)
        if problem:
            row.problems.append(problem)
        row.price_changed = price != line.seen_unit_price_cents
        rows.append(row)
    return CartView(rows=rows, totals=totals([row.line_total_cents for row in rows], PriceRules.from_config()))


def _next_break(prices: PriceList, variant: Variant, quantity: int, price: int) -> tuple[int, int] | None:
    above = [(minimum, unit) for minimum, unit in prices.volume_prices(variant) if minimum > quantity and unit < price]
    return min(above) if above else None
