"""The quote workflow: clinicians ask, the quotes desk prepares and sends versions, both sides
comment, clinicians accept (which places an order at the quoted prices) or decline, and quotes
past their validity expire. Every step checks the status table, writes an event, emails the
other side through the outbox, and is taken at most once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from shop import clock
from shop.errors import InvalidTransition, NotEligible, NotFound
from shop.extensions import db
from shop.models.accounts import Practice, User
from shop.models.catalogue import Variant
from shop.models.quotes import Quote, QuoteComment, QuoteEvent, QuoteLine, QuoteRequestLine, QuoteStatus, QuoteVersion
from shop.pricing import PriceRules, shipping_for, tax_on
from shop.services import cart as carts
from shop.services.quote_mail import (
    email_changes_requested,
    email_comment,
    email_quote_accepted,
    email_quote_declined,
    email_quote_expiring,
    email_quote_requested,
    email_quote_sent,
)
from shop.templating import money

NUMBER_OFFSET = 100_000
MAX_LINES = 100


class QuoteExpired(InvalidTransition):
    """The quote's validity ended; it can no longer be accepted."""


@dataclass(frozen=True)
class RequestedItem:
    """One line of a request: a catalogue SKU, or a description of something else."""

    quantity: int
    sku: str = ""
    description: str = ""


# --- finding quotes ----------------------------------------------------------------------


def quote_by_number(number: str) -> Quote | None:
    if not number or len(number) > 20:
        return None
    return db.session.scalar(
        select(Quote)
        .where(Quote.number == number)
        .options(selectinload(Quote.versions).selectinload(QuoteVersion.lines), selectinload(Quote.events))
    )


def practice_quote(user: User, number: str) -> Quote:
    """A quote of the user's own practice; any other is NotFound (a 404)."""
    quote = quote_by_number(number)
    if quote is None or user.practice_id is None or quote.practice_id != user.practice_id:
        raise NotFound("There is no such quote.")
    return quote


def practice_quotes(user: User):
    return select(Quote).where(Quote.practice_id == user.practice_id).order_by(Quote.created_at.desc(), Quote.id.desc())


# --- status changes ----------------------------------------------------------------------


def _event(
    quote: Quote, actor: User | None, action: str, from_status: str | None, to_status: str, note: str = ""
) -> None:
    db.session.add(
        QuoteEvent(
            quote_id=quote.id,
            actor_id=actor.id if actor else None,
            action=action,
            from_status=from_status,
            to_status=to_status,
            note=note,
            created_at=clock.now(),
        )
    )


def _move(quote: Quote, target: QuoteStatus, actor: User | None, action: str, note: str = "", **values) -> None:
    """Change the status if the table allows it and nobody changed it first; the caller commits."""
    current = quote.status
    if not quote.can_become(target):
        raise InvalidTransition(
            f"Quote {quote.number} is {current.label.lower()}; it cannot be {target.label.lower()} now."
        )
    result = db.session.execute(
        update(Quote)
        .where(Quote.id == quote.id, Quote.status == current)
        .values(status=target, updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition(f"Quote {quote.number} was changed a moment ago. Reload it to see its state.")
    _event(quote, actor, action, current.value, target.value, note)
    db.session.expire(quote)


# --- asking for a quote ------------------------------------------------------------------


def _new_quote(practice: Practice, contact: User, started_by: User, status: QuoteStatus, **values) -> Quote:
    now = clock.now()
    quote = Quote(
        number=f"tmp-{uuid.uuid4().hex[:16]}",
        practice_id=practice.id,
        contact_id=contact.id,
        started_by_id=started_by.id,
        status=status,
        created_at=now,
        updated_at=now,
        **values,
    )
    db.session.add(quote)
    db.session.flush()
    quote.number = f"Q-{NUMBER_OFFSET + quote.id}"
    return quote


def request_quote(
    clinician: User, items: list[RequestedItem], *, target_date: date | None = None, message: str = ""
) -> Quote:
    """A verified clinician asks for a quote. Unknown SKUs are refused; anything not in the
    catalogue belongs in a description line. Raises NotEligible."""
    if not clinician.is_verified(clock.today()):
        raise NotEligible("Your account is not verified to ask for quotes.")
    items = [item for item in items if item.sku.strip() or item.description.strip()]
    if not items:
        raise NotEligible("Add at least one product or describe what you need.", field="items")
    if len(items) > MAX_LINES:
        raise NotEligible(f"A quote request can have at most {MAX_LINES} lines.", field="items")
    if target_date is not None and target_date < clock.today():
        raise NotEligible("The target date is in the past.", field="target_date")
    lines = [_request_line(clinician, item) for item in items]
    quote = _new_quote(
        clinician.practice,
        clinician,
        clinician,
        QuoteStatus.REQUESTED,
        target_date=target_date,
        request_message=(message or "").strip(),
    )
    quote.request_lines = lines
    _event(quote, clinician, "requested", None, QuoteStatus.REQUESTED.value, quote.request_message)
    email_quote_requested(quote)
    db.session.commit()
    return quote


def sku_problem(clinician: User, sku: str) -> str | None:
    """Why `clinician` cannot ask for `sku` (unknown, or a product they could never order: not
    sold any more, not cleared in the shop's market, prescription-only); None when they can."""
    variant = carts.find_variant(sku)
    if variant is None:
        shown = sku.strip() if len(sku.strip()) <= 40 else sku.strip()[:40] + "…"
        return f"There is no product with the SKU {shown!r}. Describe it under the items not in the catalogue."
    problem = carts.sale_problem(variant, clinician)
    return f"{variant.product.name} ({variant.sku}) {problem}." if problem else None


def _request_line(clinician: User, item: RequestedItem) -> QuoteRequestLine:
    maximum = current_app.config["MAX_LINE_QUANTITY"]
    if item.quantity < 1 or item.quantity > maximum:
        raise NotEligible(f"Quantities are between 1 and {maximum}.", field="items")
    if item.sku.strip():
        problem = sku_problem(clinician, item.sku)
        if problem:
            raise NotEligible(problem, field="items")
        variant = carts.find_variant(item.sku)
        return QuoteRequestLine(
            variant_id=variant.id,
            sku=variant.sku,
            description=f"{variant.product.name}, {variant.label}",
            quantity=item.quantity,
        )
    return QuoteRequestLine(sku="", description=item.description.strip()[:300], quantity=item.quantity)


def request_from_cart(clinician: User, *, target_date: date | None = None, message: str = "") -> Quote:
    """'Ask for a quote instead': the cart's lines become the request; the cart is kept."""
    lines = carts.lines_of(clinician)
    if not lines:
        raise NotEligible("Your cart is empty.")
    items = [RequestedItem(quantity=line.quantity, sku=line.variant.sku) for line in lines]
    return request_quote(clinician, items, target_date=target_date, message=message)


# --- the quotes desk ---------------------------------------------------------------------


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise NotEligible("Only the quotes desk can prepare quotes.")


def start_quote(staff: User, contact: User) -> Quote:
    """The desk starts a quote for a practice that called or faxed."""
    _require_staff(staff)
    if not contact.is_clinician or contact.practice is None or not contact.is_verified(clock.today()):
        raise NotEligible("Quotes are for verified clinicians of a practice.", field="contact_id")
    quote = _new_quote(contact.practice, contact, staff, QuoteStatus.DRAFT)
    _event(quote, staff, "started", None, QuoteStatus.DRAFT.value, f"For {contact.full_name}.")
    _new_version(quote, staff, lines=[])
    db.session.commit()
    return quote


def open_draft(staff: User, quote: Quote) -> QuoteVersion:
    """The version to edit: the existing draft, or a new one (v1 from the request, or a
    revision that starts as a copy of the latest sent version)."""
    _require_staff(staff)
    if quote.draft is not None:
        return quote.draft
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED):
        raise InvalidTransition(f"Quote {quote.number} is {quote.status.label.lower()}; it cannot be revised.")
    previous = quote.latest_sent
    if previous is None:
        lines = [_line_from_request(r) for r in quote.request_lines]
        version = _new_version(quote, staff, lines=lines)
        if quote.status == QuoteStatus.REQUESTED:
            _move(quote, QuoteStatus.DRAFT, staff, "drafted")
    else:
        version = _new_version(quote, staff, lines=[_copy_line(line) for line in previous.lines], previous=previous)
        _event(
            quote, staff, "revision_started", quote.status.value, quote.status.value, f"Preparing v{version.number}."
        )
    db.session.commit()
    return version


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
        terms=previous.terms if previous else config["QUOTE_DEFAULT_TERMS"],
        note=previous.note if previous else "",
        lines=lines,
    )
    db.session.add(version)
    db.session.flush()
    if previous is None:
        version.shipping_cents = shipping_for(sum(line.line_total_cents for line in lines), rules)
    recalculate(version)
    return version


def _line_from_request(request: QuoteRequestLine) -> QuoteLine:
    variant = carts.find_variant(request.sku) if request.sku else None
    price = variant.unit_price_for(request.quantity) if variant else 0
    return QuoteLine(
        variant_id=variant.id if variant else None,
        sku=variant.sku if variant else "",
        product_name=variant.product.name if variant else request.description,
        description=variant.label if variant else "",
        quantity=request.quantity,
        list_price_cents=price,
        unit_price_cents=price,
        line_total_cents=price * request.quantity,
    )


def _copy_line(line: QuoteLine) -> QuoteLine:
    return QuoteLine(
        position=line.position,
        variant_id=line.variant_id,
        sku=line.sku,
        product_name=line.product_name,
        description=line.description,
        quantity=line.quantity,
        list_price_cents=line.list_price_cents,
        discount_bps=line.discount_bps,
        unit_price_cents=line.unit_price_cents,
        line_total_cents=line.line_total_cents,
    )


# Larger deals are split into several quotes (and amounts stay within the database's integers).
MAX_QUOTE_TOTAL_CENTS = 1_000_000_000


def recalculate(version: QuoteVersion) -> None:
    """Totals of a version from its lines, shipping and tax rate (tax on goods and shipping).
    Raises NotEligible when the total would pass MAX_QUOTE_TOTAL_CENTS."""
    version.subtotal_cents = sum(line.line_total_cents for line in version.lines)
    version.tax_cents = tax_on(version.subtotal_cents + version.shipping_cents, version.tax_rate_bps)
    version.total_cents = version.subtotal_cents + version.shipping_cents + version.tax_cents
    if version.total_cents > MAX_QUOTE_TOTAL_CENTS:
        raise NotEligible(
            f"A quote can total at most {money(MAX_QUOTE_TOTAL_CENTS, version.currency)}; "
            "split a larger order into several quotes."
        )


def priced_unit(list_price_cents: int, unit_price_cents: int | None, discount_bps: int) -> int:
    """A discount applies to the list price and the discounted price is rounded half up to the
    cent (50% off 9.99 is 5.00); without one, the unit price staff typed stands."""
    if discount_bps:
        return tax_on(list_price_cents, 10_000 - discount_bps)
    return list_price_cents if unit_price_cents is None else unit_price_cents


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
    version = quote.draft
    if version is None:
        raise InvalidTransition("There is no draft to edit; start a revision first.")
    return version


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
    maximum = current_app.config["MAX_LINE_QUANTITY"]
    by_id = {line.id: line for line in version.lines}
    for change in edit.lines:
        line = by_id.pop(change.line_id, None)
        if line is None:
            raise NotEligible("A line of this draft changed in another window. Reload the builder.")
        if change.remove:
            version.lines.remove(line)
            continue
        if change.quantity < 1 or change.quantity > maximum:
            raise NotEligible(f"Quantities are between 1 and {maximum}.")
        if not 0 <= change.discount_bps <= 10_000:
            raise NotEligible("A discount is between 0 and 100 percent.")
        if change.unit_price_cents is not None and change.unit_price_cents < 0:
            raise NotEligible("Prices cannot be negative.")
        _apply(line, change)
    version.shipping_cents = max(edit.shipping_cents, 0)
    version.valid_until = edit.valid_until
    version.terms = edit.terms.strip()
    version.note = edit.note.strip()
    recalculate(version)
    quote.updated_at = clock.now()
    db.session.commit()
    return version


def _apply(line: QuoteLine, change: LineEdit) -> None:
    typed = change.unit_price_cents
    variant = db.session.get(Variant, line.variant_id) if line.variant_id is not None else None
    if variant is not None:
        if change.quantity != line.quantity:
            untouched = line.unit_price_cents == line.list_price_cents and typed in (None, line.unit_price_cents)
            line.list_price_cents = variant.unit_price_for(change.quantity)
            typed = None if untouched else typed
    elif typed is not None and (not change.discount_bps or line.list_price_cents == 0):
        line.list_price_cents = typed
    line.quantity = change.quantity
    line.discount_bps = change.discount_bps
    line.unit_price_cents = priced_unit(line.list_price_cents, typed, change.discount_bps)
    line.line_total_cents = line.unit_price_cents * line.quantity


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
    maximum = current_app.config["MAX_LINE_QUANTITY"]
    if quantity < 1 or quantity > maximum:
        raise NotEligible(f"Quantities are between 1 and {maximum}.", field="quantity")
    if len(version.lines) >= MAX_LINES:
        raise NotEligible(f"A quote can have at most {MAX_LINES} lines.")
    position = max((line.position for line in version.lines), default=0) + 1
    if sku.strip():
        problem = sku_problem(quote.contact, sku)
        if problem:
            raise NotEligible(problem.replace(" Describe it under the items not in the catalogue.", ""), field="sku")
        variant = carts.find_variant(sku)
        price = variant.unit_price_for(quantity)
        unit = price if unit_price_cents is None else unit_price_cents
        line = QuoteLine(
            position=position,
            variant_id=variant.id,
            sku=variant.sku,
            product_name=variant.product.name,
            description=variant.label,
            quantity=quantity,
            list_price_cents=price,
            unit_price_cents=unit,
            line_total_cents=unit * quantity,
        )
    else:
        description = (description or "").strip()
        if not description:
            raise NotEligible("Give a SKU, or describe the item.", field="sku")
        if unit_price_cents is None or unit_price_cents < 0:
            raise NotEligible("Give the price of the custom item.", field="unit_price")
        line = QuoteLine(
            position=position,
            sku="",
            product_name=description[:160],
            quantity=quantity,
            list_price_cents=unit_price_cents,
            unit_price_cents=unit_price_cents,
            line_total_cents=unit_price_cents * quantity,
        )
    version.lines.append(line)
    recalculate(version)
    quote.updated_at = clock.now()
    db.session.commit()
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
    result = db.session.execute(
        update(QuoteVersion)
        .where(QuoteVersion.id == version.id, QuoteVersion.sent_at.is_(None))
        .values(sent_at=now, sent_by_id=staff.id, expires_at=expires_at(version.valid_until))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition("This version was sent a moment ago by someone else.")
    _move(quote, QuoteStatus.SENT, staff, "sent", f"v{version.number}, valid until {version.valid_until.isoformat()}.")
    db.session.expire(version)
    email_quote_sent(quote, version)
    db.session.commit()
    return version


# --- conversation ------------------------------------------------------------------------


def _may_speak(actor: User, quote: Quote) -> None:
    if actor.is_staff:
        return
    if actor.practice_id != quote.practice_id:
        raise NotFound("There is no such quote.")


def add_comment(actor: User, quote: Quote, body: str) -> QuoteComment:
    _may_speak(actor, quote)
    body = (body or "").strip()
    if not body:
        raise NotEligible("Write your comment first.", field="body")
    comment = QuoteComment(quote_id=quote.id, author_id=actor.id, body=body, created_at=clock.now())
    db.session.add(comment)
    _event(quote, actor, "commented", quote.status.value, quote.status.value, body[:200])
    email_comment(quote, actor, body)
    db.session.commit()
    return comment


def request_changes(clinician: User, quote: Quote, message: str) -> Quote:
    _may_speak(clinician, quote)
    message = (message or "").strip()
    if not message:
        raise NotEligible("Say what should change.", field="body")
    _refuse_if_expired(quote)
    _move(quote, QuoteStatus.CHANGES_REQUESTED, clinician, "changes_requested", message)
    db.session.add(QuoteComment(quote_id=quote.id, author_id=clinician.id, body=message, created_at=clock.now()))
    email_changes_requested(quote, clinician, message)
    db.session.commit()
    return quote


def decline(clinician: User, quote: Quote, reason: str) -> Quote:
    _may_speak(clinician, quote)
    reason = (reason or "").strip()
    if not reason:
        raise NotEligible("Tell the quotes desk why, so they can do better next time.", field="reason")
    _move(quote, QuoteStatus.DECLINED, clinician, "declined", reason, decline_reason=reason)
    email_quote_declined(quote, reason)
    db.session.commit()
    return quote


def _refuse_if_expired(quote: Quote) -> None:
    if quote.is_expired(clock.now()):
        raise QuoteExpired(f"Quote {quote.number} expired; ask the quotes desk for a new version.")


def acceptable_version(clinician: User, quote: Quote, version_number: int) -> QuoteVersion:
    """The version the clinician may accept, or the reason they may not (typed errors)."""
    _may_speak(clinician, quote)
    if not clinician.is_verified(clock.today()):
        raise NotEligible("Your account is not verified to order.")
    if quote.status == QuoteStatus.ACCEPTED:
        raise InvalidTransition(f"Quote {quote.number} is already accepted.")
    _refuse_if_expired(quote)
    if quote.status != QuoteStatus.SENT:
        raise InvalidTransition(f"Quote {quote.number} is {quote.status.label.lower()} and cannot be accepted.")
    latest = quote.latest_sent
    if latest is None:
        raise InvalidTransition(f"Quote {quote.number} has not been sent yet.")
    if latest.number != version_number:
        if any(v.is_sent and v.number == version_number for v in quote.versions):
            raise InvalidTransition(
                f"A newer version ({latest.label}) of quote {quote.number} was issued; read it and accept that one "
                "instead."
            )
        raise InvalidTransition(
            f"Quote {quote.number} has no version v{version_number}; its current one is {latest.label}."
        )
    return latest


def mark_accepted(clinician: User, quote: Quote, version: QuoteVersion, order_id: int) -> None:
    """Record the acceptance in the caller's transaction (the order is placed in it too)."""
    _move(
        quote,
        QuoteStatus.ACCEPTED,
        clinician,
        "accepted",
        f"v{version.number} accepted.",
        accepted_version_id=version.id,
        order_id=order_id,
    )
    email_quote_accepted(quote, version)


# --- expiry and reminders ----------------------------------------------------------------


def expire_quotes(now: datetime | None = None) -> tuple[int, int]:
    """Mark sent quotes past their validity as expired and remind clinicians two days before;
    returns (expired, reminded). Safe to run as often as you like."""
    now = now or clock.now()
    expired = reminded = 0
    sent = db.session.scalars(select(Quote).where(Quote.status == QuoteStatus.SENT)).all()
    for quote in sent:
        version = quote.latest_sent
        if version is None:
            continue
        try:
            if version.expires_at <= now:
                _move(quote, QuoteStatus.EXPIRED, None, "expired", f"v{version.number} expired.")
                db.session.commit()
                expired += 1
            elif version.expires_at - now <= timedelta(
                days=current_app.config["QUOTE_REMINDER_DAYS"]
            ) and _claim_reminder(quote, version):
                _event(quote, None, "reminded", quote.status.value, quote.status.value, f"v{version.number}")
                email_quote_expiring(quote, version)
                db.session.commit()
                reminded += 1
        except InvalidTransition:
            db.session.rollback()
    return expired, reminded


def _claim_reminder(quote: Quote, version: QuoteVersion) -> bool:
    result = db.session.execute(
        update(Quote)
        .where(Quote.id == quote.id, (Quote.reminded_version_id.is_(None)) | (Quote.reminded_version_id != version.id))
        .values(reminded_version_id=version.id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
