"""The quotes desk's builder: starting a quote for a practice that called, opening a draft (v1
from the request, or a revision copied from the last sent version), its lines (priced by
shop.quoting.lines), shipping, validity to the end of a day in the shop's time zone, and sending
it: the version becomes immutable and goes to the clinician with its PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from shop import clock
from shop.accounts.models import User
from shop.catalogue.price_lists import price_list_for
from shop.core import audit
from shop.core.db import unit_of_work
from shop.core.formatting import long_date
from shop.core.limits import MAX_QUOTE_LINES, QUANTITY_RANGE, quantity_in_range
from shop.core.pricing import PriceRules, shipping_for
from shop.errors import InvalidTransition, NotEligible
from shop.extensions import db
from shop.payments import gateway
from shop.quoting.lines import catalogue_line, copy_line, custom_line, line_from_request, recalculate, reprice
from shop.quoting.mail import email_quote_sent
from shop.quoting.models import Quote, QuoteAction, QuoteLine, QuoteStatus, QuoteVersion
from shop.quoting.quotes import change_status, new_quote, product_asked_for, record_event


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise NotEligible("Only the quotes desk can prepare quotes.")


def start_quote(staff: User, contact: User) -> Quote:
    """The desk starts a quote for a practice that called or faxed."""
    _require_staff(staff)
    if not contact.is_clinician or contact.practice is None or not contact.is_verified(clock.today()):
        raise NotEligible("Quotes are for verified clinicians of a practice.", field="contact_id")
    with unit_of_work():
        quote = new_quote(contact.practice, contact, staff, QuoteStatus.DRAFT)
        record_event(quote, staff, "started", None, QuoteStatus.DRAFT.value, f"For {contact.full_name}.")
        _new_version(quote, staff, lines=[])
    return quote


def open_draft(staff: User, quote: Quote) -> QuoteVersion:
    """The version to edit: the existing draft, or a new one (v1 from the request, or a
    revision that starts as a copy of the latest sent version)."""
    _require_staff(staff)
    if QuoteAction.EDIT in quote.available_actions(clock.now()):
        return quote.draft
    quote.require(QuoteAction.PREPARE, clock.now())
    try:
        with unit_of_work():
            version = _open_version(staff, quote)
    except IntegrityError:
        # A second click, or a colleague, opened it at the same moment: theirs is the draft.
        if quote.draft is None:
            raise
        raise InvalidTransition(f"A draft of quote {quote.number} was opened a moment ago; it is below.") from None
    return version


def _open_version(staff: User, quote: Quote) -> QuoteVersion:
    previous = quote.latest_sent
    if previous is None:
        prices = price_list_for(quote.practice)
        lines = [line_from_request(r, prices) for r in quote.request_lines]
        version = _new_version(quote, staff, lines=lines)
        if quote.status == QuoteStatus.REQUESTED:
            change_status(quote, QuoteStatus.DRAFT, staff, "drafted")
    else:
        version = _new_version(quote, staff, lines=[copy_line(line) for line in previous.lines], previous=previous)
        record_event(
            quote, staff, "revision_started", quote.status.value, quote.status.value, f"Preparing v{version.number}."
        )
    return version


def default_terms() -> str:
    """The terms a new quote starts with: QUOTE_DEFAULT_TERMS, or the shop's standard ones,
    which promise card payment only when the shop takes cards."""
    configured = current_app.config["QUOTE_DEFAULT_TERMS"]
    if configured:
        return configured
    payment = "Payment by card, or on account" if gateway.enabled() else "Payment on account"
    return (
        f"Prices in the quote's currency, per pack. {payment} for approved practices. "
        "Delivery in 2-4 working days from acceptance, subject to stock. Products are sold to licensed "
        "professionals only."
    )


def _new_version(
    quote: Quote, staff: User, *, lines: list[QuoteLine], previous: QuoteVersion | None = None
) -> QuoteVersion:
    config = current_app.config
    rules = PriceRules.from_config()
    version = QuoteVersion(
        quote_id=quote.id,
        number=len(quote.versions) + 1,
        created_by_id=staff.id,
        created_at=clock.now(),
        valid_until=clock.today() + timedelta(days=config["QUOTE_VALIDITY_DAYS"]),
        currency=config["SHOP_CURRENCY"],
        tax_rate_bps=rules.tax_rate_bps,
        shipping_cents=previous.shipping_cents if previous else 0,
        terms=previous.terms if previous else default_terms(),
        note=previous.note if previous else "",
        lines=lines,
    )
    db.session.add(version)
    db.session.flush()
    if previous is None:
        version.shipping_cents = shipping_for(sum(line.line_total_cents for line in lines), rules)
    recalculate(version)
    return version


@dataclass(frozen=True)
class LineEdit:
    line_id: int
    quantity: int
    unit_price_cents: int | None
    discount_bps: int
    remove: bool = False


@dataclass(frozen=True)
class DraftEdit:
    lines: list[LineEdit]
    shipping_cents: int
    valid_until: date
    terms: str
    note: str


def _editable(staff: User, quote: Quote) -> QuoteVersion:
    _require_staff(staff)
    quote.require(QuoteAction.EDIT, clock.now())
    return quote.draft


MAX_VALIDITY_DAYS = 366


def validity_problem(valid_until: date) -> str | None:
    """Why a quote cannot be valid until this day (past, or more than a year ahead)."""
    today = clock.today()
    if valid_until < today:
        return "The quote must be valid until today or later."
    if valid_until > today + timedelta(days=MAX_VALIDITY_DAYS):
        return "A quote can be valid for a year at most."
    return None


def _check_validity(valid_until: date) -> None:
    problem = validity_problem(valid_until)
    if problem:
        raise NotEligible(problem, field="valid_until")


def save_draft(staff: User, quote: Quote, edit: DraftEdit) -> QuoteVersion:
    """Apply the builder's changes to the draft. Raises NotEligible for impossible values.

    A catalogue line whose quantity changes takes the list price of the new quantity (volume
    breaks) and, unless staff typed another price, its unit price follows. A custom line has no
    catalogue price: the price staff type for it is its list price."""
    version = _editable(staff, quote)
    _check_validity(edit.valid_until)
    by_id = {line.id: line for line in version.lines}
    before = _draft_figures(version)
    with unit_of_work():
        # No flush half-way: a line priced beyond what a quote may total is refused by
        # recalculate() below, before anything reaches the database.
        with db.session.no_autoflush:
            _apply_lines(version, by_id, edit.lines)
        version.shipping_cents = max(edit.shipping_cents, 0)
        version.valid_until = edit.valid_until
        version.terms = edit.terms.strip()
        version.note = edit.note.strip()
        recalculate(version)
        quote.updated_at = clock.now()
        audit.record(
            staff,
            "quote.draft_saved",
            quote,
            audit.changed(before, _draft_figures(version)),
            label=f"{quote.described_as}, v{version.number}",
        )
    return version


def _draft_figures(version: QuoteVersion) -> dict:
    return {
        "lines": len(version.lines),
        "shipping_cents": version.shipping_cents,
        "total_cents": version.total_cents,
        "valid_until": version.valid_until,
    }


def _apply_lines(version: QuoteVersion, by_id: dict[int, QuoteLine], changes: list[LineEdit]) -> None:
    prices = price_list_for(version.quote.practice)
    for change in changes:
        line = by_id.pop(change.line_id, None)
        if line is None:
            raise NotEligible("A line of this draft changed in another window. Reload the builder.")
        if change.remove:
            version.lines.remove(line)
            continue
        if not quantity_in_range(change.quantity):
            raise NotEligible(f"Quantities are {QUANTITY_RANGE}.")
        if not 0 <= change.discount_bps <= 10_000:
            raise NotEligible("A discount is between 0 and 100 percent.")
        if change.unit_price_cents is not None and change.unit_price_cents < 0:
            raise NotEligible("Prices cannot be negative.")
        reprice(line, change.quantity, change.unit_price_cents, change.discount_bps, prices)


def add_line(
    staff: User,
    quote: Quote,
    *,
    sku: str = "",
    description: str = "",
    quantity: int = 1,
    unit_price_cents: int | None = None,
) -> QuoteLine:
    """Add a catalogue product (by SKU) or a custom item (description and price) to the draft."""
    version = _editable(staff, quote)
    if not quantity_in_range(quantity):
        raise NotEligible(f"Quantities are {QUANTITY_RANGE}.", field="quantity")
    if len(version.lines) >= MAX_QUOTE_LINES:
        raise NotEligible(f"A quote can have at most {MAX_QUOTE_LINES} lines.")
    position = max((line.position for line in version.lines), default=0) + 1
    if sku.strip():
        try:
            variant = product_asked_for(quote.contact, sku)
        except NotEligible as refused:
            raise NotEligible(refused.message, field="sku") from None
        line = catalogue_line(variant, quantity, price_list_for(quote.practice), unit_price_cents, position)
    else:
        description = (description or "").strip()
        if not description:
            raise NotEligible("Give a SKU, or describe the item.", field="sku")
        if unit_price_cents is None or unit_price_cents < 0:
            raise NotEligible("Give the price of the custom item.", field="unit_price")
        line = custom_line(description, quantity, unit_price_cents, position)
    with unit_of_work():
        version.lines.append(line)
        recalculate(version)
        quote.updated_at = clock.now()
        audit.record(
            staff,
            "quote.line_added",
            quote,
            {"total_cents": (None, version.total_cents)},
            note=f"{line.sku or line.product_name} × {line.quantity} at {line.unit_price_cents}",
            label=f"{quote.described_as}, v{version.number}",
        )
    return line


def expires_at(valid_until: date) -> datetime:
    """The end of the last valid day in the shop's time zone: the moment the next day starts."""
    return datetime.combine(valid_until + timedelta(days=1), time(0), tzinfo=clock.shop_zone())


def send_quote(staff: User, quote: Quote) -> QuoteVersion:
    """Issue the draft: it becomes immutable, supersedes earlier versions, and goes to the
    clinician by email with the PDF."""
    version = _editable(staff, quote)
    if not version.lines:
        raise NotEligible("Add at least one line before sending the quote.")
    if version.valid_until < clock.today():
        raise NotEligible("The validity date has passed; set a new one before sending.", field="valid_until")
    _check_validity(version.valid_until)
    now = clock.now()
    with unit_of_work():
        result = db.session.execute(
            update(QuoteVersion)
            .where(QuoteVersion.id == version.id, QuoteVersion.sent_at.is_(None))
            .values(sent_at=now, sent_by_id=staff.id, expires_at=expires_at(version.valid_until))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise InvalidTransition("This version was sent a moment ago by someone else.")
        change_status(
            quote, QuoteStatus.SENT, staff, "sent", f"v{version.number}, valid until {long_date(version.valid_until)}."
        )
        db.session.expire(version)
        email_quote_sent(quote, version)
    return version
