"""Set-up shared by the tests of accepting, declining and expiring quotes: a quote that the
quotes desk has priced and sent (through the shop's own services, as the desk would), a
revision of it, and the accept form posted back as the page shows it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from shop.accounts.models import User
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from shop.ordering.models import Order
from shop.quoting import builder as quote_builder
from shop.quoting import quotes
from shop.quoting.builder import DraftEdit, LineEdit
from shop.quoting.models import Quote, QuoteEvent
from shop.quoting.quotes import RequestedItem
from tests.factories import make_clinician, make_product, make_staff
from tests.helpers import WebClient, text
from tests.order_support import allow_account

VERSION_FIELD = re.compile(r'name="version" type="hidden" value="(\d+)"')
TOTAL_FIELD = re.compile(r'name="expected_total" type="hidden" value="(-?\d+)"')
ADDRESS_FIELD = re.compile(r'name="address_id" required type="radio" value="(\d+)"')


@dataclass(frozen=True)
class Priced:
    """One line as the desk prices it: a catalogue SKU (with a discount in basis points or a
    unit price typed by the desk), or a custom item (description and unit price)."""

    quantity: int
    sku: str = ""
    description: str = ""
    discount_bps: int = 0
    unit_price_cents: int | None = None


@dataclass
class QuoteSetup:
    clinician: User
    staff: User
    quote: Quote
    variants: dict[str, int] = field(default_factory=dict)  # SKU -> variant id

    @property
    def number(self) -> str:
        return self.quote.number


def desk() -> User:
    return make_staff(full_name="Quinn Byrne")


def clinician_on_account(credit_limit_cents: int = 10_000_000, **kwargs) -> User:
    clinician = make_clinician(**kwargs)
    allow_account(clinician, credit_limit_cents)
    return clinician


def booster(sku: str, *, price_cents: int = 12_500, stock: int = 100, name: str | None = None) -> int:
    """A catalogue product; returns its variant's id."""
    return make_product(sku=sku, price_cents=price_cents, stock=stock, name=name or f"Booster {sku}").variants[0].id


def send(
    staff: User,
    quote: Quote,
    lines: list[Priced] | None = None,
    *,
    shipping_cents: int = 900,
    valid_until: date | None = None,
    note: str = "Volume price for the practice.",
) -> Quote:
    """The desk opens the draft (v1 from the request, or a revision), prices its lines in the
    order they stand (`lines` matched by position; None keeps a line as it is) and sends it."""
    version = quote_builder.open_draft(staff, quote)
    edits = []
    for index, line in enumerate(version.lines):
        priced = lines[index] if lines and index < len(lines) else None
        edits.append(
            LineEdit(
                line_id=line.id,
                quantity=priced.quantity if priced else line.quantity,
                unit_price_cents=priced.unit_price_cents if priced else line.unit_price_cents,
                discount_bps=priced.discount_bps if priced else line.discount_bps,
            )
        )
    quote_builder.save_draft(
        staff,
        quote,
        DraftEdit(
            lines=edits,
            shipping_cents=shipping_cents,
            valid_until=valid_until or version.valid_until,
            terms="Net 30 days.",
            note=note,
        ),
    )
    quote_builder.send_quote(staff, quote)
    return reload_quote(quote.number)


def sent_quote(
    clinician: User,
    staff: User,
    lines: list[Priced],
    *,
    shipping_cents: int = 900,
    valid_until: date | None = None,
) -> Quote:
    """The clinician asks for `lines`; the desk prices them as given and sends v1."""
    items = [RequestedItem(quantity=p.quantity, sku=p.sku, description=p.description) for p in lines]
    quote = quotes.request_quote(clinician, items, message="For next month's clinics.")
    return send(staff, quote, lines, shipping_cents=shipping_cents, valid_until=valid_until)


def simple_quote(
    clinician: User | None = None,
    staff: User | None = None,
    *,
    sku: str = "VIT-Q1",
    quantity: int = 10,
    price_cents: int = 12_500,
    stock: int = 100,
    discount_bps: int = 1_000,
    valid_until: date | None = None,
) -> QuoteSetup:
    """A clinician on account with a sent v1: `quantity` boxes of one product at a discount."""
    clinician = clinician or clinician_on_account()
    staff = staff or desk()
    variant_id = booster(sku, price_cents=price_cents, stock=stock)
    quote = sent_quote(
        clinician, staff, [Priced(quantity, sku=sku, discount_bps=discount_bps)], valid_until=valid_until
    )
    return QuoteSetup(clinician, staff, quote, {sku: variant_id})


def reload_quote(number: str) -> Quote:
    db.session.rollback()
    db.session.expire_all()
    return quotes.quote_by_number(number)


def orders_of(clinician_id: int) -> list[Order]:
    db.session.rollback()
    return list(db.session.scalars(select(Order).where(Order.placed_by_id == clinician_id).order_by(Order.id)))


def quote_events(quote_id: int, action: str) -> list[QuoteEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(QuoteEvent)
            .where(QuoteEvent.quote_id == quote_id, QuoteEvent.action == action)
            .order_by(QuoteEvent.id)
        )
    )


def queued(kind: str, to: str | None = None) -> list[OutboxMessage]:
    """The messages of one kind in the outbox, optionally to one address."""
    db.session.rollback()
    query = select(OutboxMessage).where(OutboxMessage.kind == kind)
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def order_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Order))


def accept_form(browser: WebClient, number: str) -> dict[str, str]:
    """The accept page's form as the page fills it in (version, total, first address)."""
    page = browser.get(f"/quotes/{number}/accept")
    assert page.status_code == 200, (page.status_code, text(page)[:400])
    html = page.get_data(as_text=True)
    version, total, address = VERSION_FIELD.search(html), TOTAL_FIELD.search(html), ADDRESS_FIELD.search(html)
    assert version and total and address, "the accept page carries no version, total or address"
    return {"version": version.group(1), "expected_total": total.group(1), "address_id": address.group(1)}


def post_accept(browser: WebClient, number: str, method: str = "account", **fields):
    """Open the accept page, then post it back as shown, with `fields` on top."""
    data = {**accept_form(browser, number), "payment_method": method, **fields}
    return browser.post(f"/quotes/{number}/accept", {k: v for k, v in data.items() if v is not None})
