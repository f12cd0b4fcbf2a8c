"""What the card-payment tests share: a clinician's card order placed through the real
checkout, webhook deliveries signed as Stripe signs them, and reading back what an order went
through (its status, event rows, stock and mail)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from shop import clock
from shop.catalogue.models import Variant
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from shop.ordering.models import Order, OrderEvent
from shop.payments.models import StripeEvent
from tests.factories import make_clinician, make_product
from tests.helpers import WebClient, reload

PRICE = 12_500  # cents a box
STOCK = 10


def checkout(browser: WebClient, method: str = "card", **extra):
    """Fill in the checkout form as the page offers it, and place the order."""
    page = browser.get("/checkout").get_data(as_text=True)
    total = re.search(r'name="expected_total" type="hidden" value="(\d+)"', page).group(1)
    address = re.search(r'name="address_id" required type="radio" value="(\d+)"', page).group(1)
    return browser.post(
        "/checkout", {"address_id": address, "payment_method": method, "expected_total": total, **extra}
    )


@dataclass
class CardOrder:
    browser: WebClient
    clinician: object
    variant_id: int
    number: str
    response: object

    @property
    def order(self) -> Order:
        return reload_order(self.number)

    def stock(self) -> int:
        return reload(Variant, self.variant_id).stock_on_hand


def place_card_order(signed_in, *, quantity: int = 2, price: int = PRICE, stock: int = STOCK) -> CardOrder:
    """A verified clinician buys `quantity` boxes of a new product by card; the checkout's
    redirect (to Stripe, or back to the order when Stripe failed) is in `response`."""
    product = make_product(price_cents=price, stock=stock)
    variant_id = product.variants[0].id
    clinician = make_clinician()
    browser = signed_in(clinician)
    added = browser.post("/cart/add", {"sku": product.variants[0].sku, "quantity": str(quantity)})
    assert added.status_code == 303, added.status_code
    response = checkout(browser)
    number = db.session.scalar(select(Order.number).where(Order.placed_by_id == clinician.id))
    assert number, f"no order was placed (checkout answered {response.status_code})"
    return CardOrder(browser, clinician, variant_id, number, response)


def reload_order(number: str) -> Order:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.number == number))


def post_event(client: WebClient, stripe, event_type: str, session: dict, *, event_id: str | None = None):
    """Stripe delivering one signed event to the shop's webhook."""
    payload = stripe.event(event_type, session, event_id=event_id)
    return client.raw.post("/stripe/webhook", data=payload, headers=stripe.signed(payload))


def events(number: str, action: str) -> list[OrderEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(OrderEvent)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(Order.number == number, OrderEvent.action == action)
        )
    )


def outbox(kind: str, to: str | None = None) -> list[OutboxMessage]:
    """The queued messages of one kind (e.g. "order.paid"), optionally to one address."""
    db.session.rollback()
    query = select(OutboxMessage).where(OutboxMessage.kind == kind)
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.scalars(query))


def stripe_event_rows() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(StripeEvent))


def run_out_the_clock(number: str) -> None:
    """The time to pay passes: the order's pay-by moment is now a minute ago."""
    db.session.execute(update(Order).where(Order.number == number).values(pay_by=clock.now() - timedelta(minutes=1)))
    db.session.commit()
