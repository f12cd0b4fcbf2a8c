"""The cart: adding variants, changing quantities, quick order from pasted lines or a CSV,
reorder, and the cart as the clinician sees it, with every line that cannot be bought as it
stands flagged (unavailable, short of stock, or a price that changed since it was seen)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop import clock
from shop.errors import NotEligible, NotFound, OutOfStock, ShopError
from shop.extensions import db
from shop.models.accounts import User
from shop.models.cart import CartLine
from shop.models.catalogue import Product, Variant
from shop.models.orders import Order
from shop.pricing import PriceRules, Totals, line_total, totals

MAX_QUICK_ORDER_LINES = 200


def find_variant(sku: str) -> Variant | None:
    sku = (sku or "").strip().upper()
    if not sku or len(sku) > 40:
        return None
    return db.session.scalar(
        select(Variant)
        .where(Variant.sku == sku)
        .options(
            selectinload(Variant.product).selectinload(Product.regulatory_statuses), selectinload(Variant.price_breaks)
        )
    )


def sale_problem(variant: Variant, user: User) -> str | None:
    """Why `user` cannot buy `variant` at all, in words for them; None when they can."""
    product = variant.product
    if not variant.sellable:
        return "is no longer sold"
    market = current_app.config["SHOP_MARKET"]
    if not product.sale_permitted_in(market):
        return f"is not cleared for sale in our market ({market})"
    if product.prescription_only:
        application = user.application
        if application is None or not application.profession.is_prescriber:
            return "is prescription-only and can be ordered by prescribers only"
    return None


def _check_quantity(quantity: int) -> None:
    maximum = current_app.config["MAX_LINE_QUANTITY"]
    if quantity < 1 or quantity > maximum:
        raise NotEligible(f"Enter a quantity between 1 and {maximum}.", field="quantity")


def _line(user: User, variant: Variant) -> CartLine | None:
    return db.session.scalar(select(CartLine).where(CartLine.user_id == user.id, CartLine.variant_id == variant.id))


def _put(user: User, variant: Variant, quantity: int, *, add: bool) -> CartLine:
    """Add to (or set) the quantity of a variant in the cart, checking everything first."""
    problem = sale_problem(variant, user)
    if problem:
        raise NotEligible(f"{variant.product.name} ({variant.sku}) {problem}.", field="sku")
    line = _line(user, variant)
    new_quantity = quantity + (line.quantity if line and add else 0)
    _check_quantity(new_quantity)
    if new_quantity > variant.stock_on_hand:
        available = max(variant.stock_on_hand, 0)
        in_cart = f" (you already have {line.quantity} in your cart)" if line and add else ""
        raise OutOfStock(
            f"Only {available} of {variant.sku} {'is' if available == 1 else 'are'} in stock{in_cart}."
            if available
            else f"{variant.sku} is out of stock.",
            field="quantity",
        )
    price = variant.unit_price_for(new_quantity)
    if line is None:
        line = CartLine(
            user_id=user.id, variant=variant, quantity=new_quantity, seen_unit_price_cents=price, added_at=clock.now()
        )
        db.session.add(line)
    else:
        line.quantity = new_quantity
        line.seen_unit_price_cents = price
    return line


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        # The same variant was added from another tab at the same moment.
        db.session.rollback()
        raise ShopError("Your cart changed in another window. Please try again.") from None


def add_to_cart(user: User, sku: str, quantity: int) -> CartLine:
    """Add `quantity` packs of `sku`. Raises NotFound, NotEligible or OutOfStock."""
    variant = find_variant(sku)
    if variant is None:
        raise NotFound(f"There is no product with the SKU {sku!r}.", field="sku")
    line = _put(user, variant, quantity, add=True)
    _commit()
    return line


def set_quantity(user: User, line_id: int, quantity: int) -> None:
    line = _own_line(user, line_id)
    if quantity == 0:
        db.session.delete(line)
    else:
        _put(user, line.variant, quantity, add=False)
    _commit()


def remove_line(user: User, line_id: int) -> None:
    db.session.delete(_own_line(user, line_id))
    db.session.commit()


def _own_line(user: User, line_id: int) -> CartLine:
    line = db.session.get(CartLine, line_id)
    if line is None or line.user_id != user.id:
        raise NotFound("That line is no longer in your cart.")
    return line


def empty_cart(user: User) -> None:
    """Remove every line; the caller commits."""
    db.session.execute(delete(CartLine).where(CartLine.user_id == user.id))


def accept_current_prices(user: User) -> None:
    """The clinician has seen the new prices: they become the prices of the cart."""
    for line in lines_of(user):
        line.seen_unit_price_cents = line.variant.unit_price_for(line.quantity)
    db.session.commit()


def remove_unavailable(user: User) -> int:
    removed = 0
    for line in lines_of(user):
        if sale_problem(line.variant, user) or line.variant.stock_on_hand <= 0:
            db.session.delete(line)
            removed += 1
    db.session.commit()
    return removed


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

    @property
    def variant(self) -> Variant:
        return self.line.variant

    @property
    def ok(self) -> bool:
        return not self.problems and not self.price_changed


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
    for line in lines_of(user):
        variant = line.variant
        price = variant.unit_price_for(line.quantity)
        row = CartRow(line=line, unit_price_cents=price, line_total_cents=line_total(price, line.quantity))
        problem = sale_problem(variant, user)
        if problem:
            row.problems.append(f"This product {problem}.")
        elif variant.stock_on_hand <= 0:
            row.problems.append("Out of stock.")
        elif line.quantity > variant.stock_on_hand:
            row.problems.append(f"Only {variant.stock_on_hand} in stock; lower the quantity.")
        row.price_changed = price != line.seen_unit_price_cents
        rows.append(row)
    return CartView(rows=rows, totals=totals([row.line_total_cents for row in rows], PriceRules.from_config()))


# --- quick order and reorder -------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    line_number: int
    text: str
    added: bool
    message: str


LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-/]*)\s*[,;\t ]\s*(\d{1,6})\s*$")


def parse_quick_order(text: str) -> list[tuple[int, str, str | None, int | None]]:
    """(line number, raw text, sku, quantity) for each non-empty line of `SKU quantity` text.

    Accepts spaces, tabs, commas or semicolons between SKU and quantity (so a CSV export or a
    spreadsheet paste works); a header line such as `sku,quantity` is skipped."""
    parsed = []
    rows = list(csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n"))))
    for number, row in enumerate(rows, start=1):
        raw = ",".join(row).strip()
        if not raw or raw.startswith("#"):
            continue
        if number == 1 and raw.lower().replace(" ", "") in {"sku,quantity", "sku,qty", "sku;quantity"}:
            continue
        match = LINE.match(raw)
        if match is None:
            parsed.append((number, raw[:120], None, None))
        else:
            parsed.append((number, raw[:120], match.group(1).upper(), int(match.group(2))))
    return parsed


def quick_order(user: User, text: str) -> list[ReportLine]:
    """Add every understood, available line to the cart; report on each line."""
    report: list[ReportLine] = []
    parsed = parse_quick_order(text)
    if len(parsed) > MAX_QUICK_ORDER_LINES:
        raise NotEligible(f"Paste at most {MAX_QUICK_ORDER_LINES} lines at a time.", field="lines")
    for number, raw, sku, quantity in parsed:
        if sku is None:
            report.append(ReportLine(number, raw, False, "Not understood: write the SKU, then the quantity."))
            continue
        report.append(_try_add(user, number, raw, sku, quantity))
    return report


def _try_add(user: User, number: int, raw: str, sku: str, quantity: int) -> ReportLine:
    try:
        line = add_to_cart(user, sku, quantity)
    except ShopError as error:
        db.session.rollback()
        return ReportLine(number, raw, False, error.message)
    return ReportLine(number, raw, True, f"Added {quantity} × {line.variant.product.name} ({line.variant.sku}).")


def reorder(user: User, order: Order) -> list[ReportLine]:
    """Put the lines of a past order back in the cart, reporting what is no longer available."""
    return [
        _try_add(user, index, f"{line.sku} × {line.quantity}", line.sku, line.quantity)
        for index, line in enumerate(order.lines, start=1)
    ]
