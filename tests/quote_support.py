"""Set-up shared by the quote tests: products with volume prices, quote requests and issued
quotes made through the shop's services (as the pages would make them), the form values the
request page and the desk's builder post, and readers for the mail and PDFs that come out.

Other quote tests import these; keep their names and meanings stable."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from email.message import EmailMessage

from flask import current_app
from pypdf import PdfReader

from shop.accounts.models import Profession, User
from shop.catalogue.models import PriceBreak, Variant
from shop.core import mailer
from shop.core.pricing import percent
from shop.extensions import db
from shop.quoting import builder as quote_builder
from shop.quoting import quotes
from shop.quoting.builder import DraftEdit, LineEdit
from shop.quoting.models import Quote, QuoteVersion
from shop.quoting.quotes import RequestedItem
from tests.factories import make_clinician, make_product
from tests.helpers import reload

REQUEST_URL = "/quotes/new"


# --- catalogue and people ------------------------------------------------------------------


def quote_product(
    sku: str,
    *,
    price_cents: int = 10_000,
    breaks: tuple[tuple[int, int], ...] = (),
    name: str | None = None,
    stock: int = 50,
    **product,
) -> Variant:
    """A sellable variant at `price_cents`, with volume `breaks` ((from quantity, unit price))."""
    variant = make_product(sku=sku, price_cents=price_cents, stock=stock, name=name or f"Booster {sku}", **product)
    variant = variant.variants[0]
    for minimum, price in breaks:
        variant.price_breaks.append(PriceBreak(min_quantity=minimum, unit_price_cents=price))
    db.session.commit()
    return variant


def colleague_of(user: User, **clinician) -> User:
    """Another verified clinician of the same practice."""
    colleague = make_clinician(**clinician)
    colleague.practice_id = user.practice_id
    db.session.commit()
    return colleague


def as_profession(user: User, profession: Profession) -> User:
    user.application.profession = profession
    db.session.commit()
    return user


# --- requests and quotes through the services -----------------------------------------------


def ask(
    clinician: User,
    *products: tuple[str, int],
    others: tuple[tuple[str, int], ...] = (),
    target_date: date | None = None,
    message: str = "",
) -> Quote:
    """The clinician asks for `products` ((SKU, quantity)) and `others` ((description, quantity))."""
    items = [RequestedItem(quantity=quantity, sku=sku) for sku, quantity in products]
    items += [RequestedItem(quantity=quantity, description=text) for text, quantity in others]
    return quotes.request_quote(clinician, items, target_date=target_date, message=message)


def fresh(quote: Quote) -> Quote:
    """The quote as the database holds it now."""
    return reload(Quote, quote.id)


def line_for(version: QuoteVersion, sku_or_name: str):
    """The line of `version` with this SKU (or, for a custom item, this name)."""
    return next(line for line in version.lines if sku_or_name in (line.sku, line.product_name))


def edit_draft(
    staff: User,
    quote: Quote,
    *,
    prices: dict[str, tuple[int | None, int]] | None = None,
    quantities: dict[str, int] | None = None,
    remove: tuple[str, ...] = (),
    shipping_cents: int | None = None,
    valid_until: date | None = None,
    terms: str | None = None,
    note: str | None = None,
) -> QuoteVersion:
    """Open (or reuse) the draft and save it with these changes, as the builder would.
    `prices` maps a line's SKU (or custom name) to (unit price in cents or None, discount bps)."""
    version = quote_builder.open_draft(staff, fresh(quote))
    prices, quantities = prices or {}, quantities or {}
    edits = []
    for line in version.lines:
        key = line.sku or line.product_name
        unit, discount = prices.get(key, (line.unit_price_cents, line.discount_bps))
        edits.append(
            LineEdit(
                line_id=line.id,
                quantity=quantities.get(key, line.quantity),
                unit_price_cents=unit,
                discount_bps=discount,
                remove=key in remove,
            )
        )
    return quote_builder.save_draft(
        staff,
        fresh(quote),
        DraftEdit(
            lines=edits,
            shipping_cents=version.shipping_cents if shipping_cents is None else shipping_cents,
            valid_until=valid_until or version.valid_until,
            terms=version.terms if terms is None else terms,
            note=version.note if note is None else note,
        ),
    )


def issue(staff: User, quote: Quote, **changes) -> QuoteVersion:
    """Prepare the draft (with `edit_draft` changes) and send it; returns the sent version."""
    edit_draft(staff, quote, **changes)
    return quote_builder.send_quote(staff, fresh(quote))


def issued_quote(
    clinician: User, staff: User, *products: tuple[str, int], others: tuple[tuple[str, int], ...] = (), **changes
) -> Quote:
    """A quote the clinician asked for and the desk sent (custom items priced at 50.00 unless
    `prices` says otherwise)."""
    quote = ask(clinician, *products, others=others)
    prices = {text: (5_000, 0) for text, _ in others}
    prices.update(changes.pop("prices", {}))
    issue(staff, quote, prices=prices, **changes)
    return fresh(quote)


# --- what the pages post -------------------------------------------------------------------


def request_form(
    *products: tuple[str, int | str],
    others: tuple[tuple[str, int | str], ...] = (),
    target_date: date | str | None = None,
    message: str | None = None,
) -> dict[str, str]:
    """The request page's fields, filled in row by row."""
    form: dict[str, str] = {}
    for index, (sku, quantity) in enumerate(products):
        form[f"products-{index}-sku"] = sku
        form[f"products-{index}-quantity"] = str(quantity)
    for index, (text, quantity) in enumerate(others):
        form[f"others-{index}-item"] = text
        form[f"others-{index}-quantity"] = str(quantity)
    if target_date is not None:
        form["target_date"] = target_date.isoformat() if isinstance(target_date, date) else target_date
    if message is not None:
        form["message"] = message
    return form


def amount(cents: int) -> str:
    """Cents as the builder's inputs show them: 12345 -> '123.45'."""
    return f"{Decimal(cents) / 100:.2f}"


def builder_form(version: QuoteVersion, lines: dict[int, dict[str, str]] | None = None, **fields: str) -> dict:
    """The builder's form as the page fills it for `version`, with `lines` overriding fields of
    the line at that position ({"quantity": "5", "discount": "10", "remove": "y"}...) and
    `fields` overriding shipping, valid_until, terms, note or adding then="send"."""
    form: dict[str, str] = {}
    for index, line in enumerate(version.lines):
        form[f"lines-{index}-line_id"] = str(line.id)
        form[f"lines-{index}-quantity"] = str(line.quantity)
        form[f"lines-{index}-unit_price"] = amount(line.unit_price_cents)
        form[f"lines-{index}-discount"] = percent(line.discount_bps) if line.discount_bps else ""
        for name, value in (lines or {}).get(index, {}).items():
            form[f"lines-{index}-{name}"] = value
    form.update(
        shipping=amount(version.shipping_cents),
        valid_until=version.valid_until.isoformat(),
        terms=version.terms,
        note=version.note,
    )
    form.update(fields)
    return form


# --- what comes out: mail and PDFs -----------------------------------------------------------


def desk_address() -> str:
    return current_app.config["QUOTES_DESK_EMAIL"]


def delivered(mailbox, address: str, about: str = "") -> list[EmailMessage]:
    """Deliver what is due through the real SMTP server, then the messages that reached
    `address` whose subject contains `about`."""
    mailer.deliver_due()
    return [message for message in mailbox.to(address) if about in message["Subject"]]


def pdf_attachment(message: EmailMessage) -> tuple[str, bytes]:
    part = next(part for part in message.iter_attachments() if part.get_content_type() == "application/pdf")
    return part.get_filename(), part.get_content()


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, spaces collapsed."""
    assert data.startswith(b"%PDF-"), data[:40]
    pages = PdfReader(io.BytesIO(data)).pages
    return re.sub(r"[ \t]+", " ", "\n".join(page.extract_text() for page in pages))


def pdf_page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def version_snapshot(version: QuoteVersion) -> tuple:
    """Everything a version says: its lines, prices, totals, validity, terms and note."""
    return (
        version.number,
        tuple(
            (
                line.sku,
                line.product_name,
                line.description,
                line.quantity,
                line.list_price_cents,
                line.discount_bps,
                line.unit_price_cents,
                line.line_total_cents,
            )
            for line in version.lines
        ),
        version.subtotal_cents,
        version.shipping_cents,
        version.tax_rate_bps,
        version.tax_cents,
        version.total_cents,
        version.valid_until,
        version.expires_at,
        version.sent_at,
        version.terms,
        version.note,
    )


def accept_on_account(clinician: User, quote: Quote):
    """The clinician accepts the latest version, paying on account; returns the order."""
    from shop.ordering import checkout
    from shop.ordering.models import PaymentMethod
    from shop.quoting import acceptance as quote_orders

    clinician.practice.on_account = True
    clinician.practice.credit_limit_cents = 100_000_000
    db.session.commit()
    quote = fresh(quote)
    version = quote.latest_sent
    return quote_orders.accept_quote(
        clinician,
        quote,
        version.number,
        checkout.CheckoutRequest(
            address_id=clinician.practice.default_address.id,
            payment_method=PaymentMethod.ACCOUNT,
            expected_total_cents=version.total_cents,
        ),
    )
