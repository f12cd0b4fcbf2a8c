"""Orders keyed in by the orders desk for a practice that phoned, faxed or emailed: the desk
chooses the practice and the clinician whose licence goes on the order, types the lines (a SKU
or words of the product's name, then the packs), the delivery address, the channel and the
clinician's PO number, and how it is paid: on account, or by a card payment link emailed to the
clinician. The desk can also order what a clinician has in their cart, when asked to by phone.

Every rule of a web order holds, through the same path (shop.ordering.checkout.create_order):
the clinician's licence (a lapsed one orders nothing), prescription-only products for prescribers
only, the shop's market, stock, the practice's agreed prices and discount, its suspension, its
payment methods, credit limit and overdue invoices. The order says who keyed it, and the
practice gets the same confirmation as for a web order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from shop import clock
from shop.access import Desk
from shop.accounts.models import User
from shop.cart import services as carts
from shop.catalogue.models import Variant
from shop.catalogue.options import option_named
from shop.catalogue.price_lists import price_list_for
from shop.core.db import unit_of_work
from shop.core.limits import QUANTITY_RANGE, quantity_in_range
from shop.core.pricing import PriceRules, Totals, line_total, totals
from shop.errors import NotEligible, OutOfStock, PaymentUnavailable, PriceChanged
from shop.extensions import db
from shop.ordering import card_payments, checkout
from shop.ordering.checkout import CheckoutRequest, Keyed, OrderLineDraft, PlacedOrder
from shop.ordering.mail import email_payment_link
from shop.ordering.models import Order, OrderChannel
from shop.ordering.orders import note_event
from shop.practices.models import Practice

MAX_DESK_LINES = 100
# "RSB-VIT-1 4", "vital light x 2", "Kybella, 3": what names the product, then the packs.
LINE = re.compile(r"^(?P<typed>.+?)(?:\s+[x×]?\s*|\s*[,;]\s*)(?P<quantity>\d{1,6})$")
DESK_CHANNELS = (OrderChannel.PHONE, OrderChannel.FAX, OrderChannel.EMAIL)


@dataclass(frozen=True)
class DeskLine:
    """One line as the desk typed it, priced for the practice, or what is wrong with it."""

    number: int
    typed: str
    quantity: int = 0
    variant: Variant | None = None
    unit_price_cents: int = 0
    problem: str = ""

    @property
    def total_cents(self) -> int:
        return line_total(self.unit_price_cents, self.quantity)


@dataclass(frozen=True)
class DeskCheck:
    lines: list[DeskLine]
    totals: Totals | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.lines) and not self.problems and all(not line.problem for line in self.lines)


def clinicians_of(practice: Practice) -> list[User]:
    """The members who may order now: verified, with a licence that has not lapsed."""
    today = clock.today()
    return [member for member in practice.members if member.is_verified(today)]


def _clinician(practice: Practice, clinician_id: int | None) -> User:
    clinician = next((m for m in practice.members if m.id == clinician_id), None)
    if clinician is None:
        raise NotEligible("Choose the clinician of the practice the order is for.", field="clinician_id")
    if not clinician.is_verified(clock.today()):
        application = clinician.application
        lapsed = application is not None and application.lapsed(clock.today())
        raise NotEligible(
            f"{clinician.full_name}'s licence "
            + ("has lapsed; they cannot order until a renewed one is approved." if lapsed else "is not verified.")
            + " Choose another clinician of the practice.",
            field="clinician_id",
        )
    return clinician


def read_lines(text: str) -> list[tuple[int, str, int | None]]:
    """(line number, what names the product, packs) per non-empty line; packs is None for a line
    that does not end in a number of packs."""
    read = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = " ".join(raw.split())
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if match:
            read.append((number, match["typed"].strip()[:120], int(match["quantity"])))
        else:
            read.append((number, line[:120], None))
    return read


def check_lines(practice: Practice, clinician: User, text: str) -> DeskCheck:
    """Each line found in the catalogue for this clinician, priced for the practice, and the
    totals; or why a line cannot be ordered (not understood, several products match, not for
    this clinician or market, out of stock, asked twice)."""
    read = read_lines(text)
    if not read:
        return DeskCheck([], None, ["Type at least one line: a SKU or product name, then the number of packs."])
    if len(read) > MAX_DESK_LINES:
        return DeskCheck([], None, [f"An order keyed in has at most {MAX_DESK_LINES} lines."])
    prices = price_list_for(practice)
    lines: list[DeskLine] = []
    seen: dict[int, int] = {}
    for number, typed, quantity in read:
        if quantity is None:
            lines.append(DeskLine(number, typed, problem="Write the SKU or product name, then the number of packs."))
            continue
        if not quantity_in_range(quantity):
            lines.append(DeskLine(number, typed, quantity, problem=f"Quantities are {QUANTITY_RANGE}."))
            continue
        try:
            variant = option_named(clinician, typed)
        except NotEligible as refused:
            lines.append(DeskLine(number, typed, quantity, problem=refused.message))
            continue
        if variant.id in seen:
            lines.append(
                DeskLine(
                    number, typed, quantity, variant, problem=f"{variant.sku} is on line {seen[variant.id]} already."
                )
            )
            continue
        seen[variant.id] = number
        problem = ""
        if variant.stock_on_hand < quantity:
            left = max(variant.stock_on_hand, 0)
            problem = f"Only {left} of {variant.sku} in stock." if left else f"{variant.sku} is out of stock."
        lines.append(DeskLine(number, typed, quantity, variant, prices.unit_price(variant, quantity), problem))
    priced = [line for line in lines if line.variant is not None and not line.problem]
    return DeskCheck(lines, totals([line.total_cents for line in priced], PriceRules.from_config()))


def cart_text(clinician: User) -> str:
    """The clinician's cart as lines the desk can place (SKU and packs)."""
    return "\n".join(f"{line.variant.sku} {line.quantity}" for line in carts.lines_of(clinician))


@dataclass(frozen=True)
class DeskOrder:
    practice_id: int
    clinician_id: int | None
    lines: str
    address_id: int | None
    channel: OrderChannel
    checkout: CheckoutRequest
    from_cart: bool = False


def place_desk_order(staff: User, request: DeskOrder) -> PlacedOrder:
    """Place the order keyed in. Raises NotEligible (not the orders desk, the clinician, the lines,
    the address, the payment method), PriceChanged (the total is not the one the desk last saw),
    OutOfStock or CreditLimitExceeded; nothing is placed then."""
    if not staff.works(Desk.ORDERS):
        raise NotEligible("Only the orders desk keys in orders.")
    if request.channel not in DESK_CHANNELS:
        raise NotEligible("Say how the order came in: phone, fax or email.", field="channel")
    practice = db.session.get(Practice, request.practice_id)
    if practice is None:
        raise NotEligible("Choose the practice the order is for.")
    clinician = _clinician(practice, request.clinician_id)
    with unit_of_work():
        return PlacedOrder.of(_place(staff, practice, clinician, request))


def _place(staff: User, practice: Practice, clinician: User, request: DeskOrder):
    text = cart_text(clinician) if request.from_cart else request.lines
    check = check_lines(practice, clinician, text)
    if not check.ok:
        raise NotEligible(_first_problem(check), field="lines")
    if check.totals.total_cents != request.checkout.expected_total_cents:
        raise PriceChanged("The total changed since the lines were checked: check them again, then place the order.")
    address = checkout.delivery_address(clinician, request.address_id)
    drafts = [
        OrderLineDraft(
            variant=line.variant,
            sku=line.variant.sku,
            product_name=line.variant.product.name,
            variant_label=line.variant.label,
            pack_size=line.variant.pack_size,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            line_total_cents=line.total_cents,
        )
        for line in check.lines
    ]
    if request.from_cart:
        carts.take_lines(clinician, carts.lines_of(clinician))
    keyed = Keyed(
        staff=staff,
        channel=request.channel,
        pay_within=timedelta(hours=current_app.config["DESK_PAYMENT_HOURS"]),
    )
    note = f"Keyed in by {staff.full_name} ({request.channel.label.lower()}){' from the clinician’s cart' if request.from_cart else ''}."
    try:
        return checkout.create_order(clinician, request.checkout, address, drafts, check.totals, note=note, keyed=keyed)
    except OutOfStock as error:
        raise OutOfStock(f"{error.message} Nothing was ordered; check the lines again.") from None


def _first_problem(check: DeskCheck) -> str:
    if check.problems:
        return check.problems[0]
    line = next(line for line in check.lines if line.problem)
    return f"Line {line.number} ({line.typed}): {line.problem}"


def send_payment_link(order: Order, staff: User) -> bool:
    """Email the clinician the card payment page of an order keyed in (the Stripe page, or the
    order's own page when Stripe cannot be reached now); True when it is Stripe's page. Raises
    InvalidTransition when the order no longer waits for a card payment."""
    try:
        url = card_payments.start_card_payment(order, staff)
    except PaymentUnavailable:
        url = None
    with unit_of_work():
        db.session.refresh(order)
        email_payment_link(order, url)
        note_event(
            order,
            staff,
            "payment_link_sent",
            f"To {order.clinician_email}"
            + ("" if url else ", to pay from the order's page (Stripe could not be reached)."),
        )
    return url is not None
