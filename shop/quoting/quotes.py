"""A quote as the record both sides share: finding it, changing its status, numbering a new
one; the clinician asking for it; and the conversation, in which both sides comment and the
clinician asks for changes or declines. The desk's builder is shop.quoting.builder, accepting
is shop.quoting.acceptance, running out is shop.quoting.expiry. Every step checks the status
table, writes an event, emails the other side through the outbox, and is taken at most once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop import clock
from shop.accounts.models import User
from shop.catalogue.compliance import variant_refusal
from shop.catalogue.models import Variant
from shop.catalogue.options import option_named, sellable_variants
from shop.core import events
from shop.core.db import unit_of_work
from shop.core.limits import ITEM_NAME_LENGTH, MAX_QUOTE_LINES, QUANTITY_RANGE, quantity_in_range
from shop.errors import NotEligible
from shop.extensions import db
from shop.practices.models import Practice, of_own_practice
from shop.quoting.mail import (
    email_changes_requested,
    email_comment,
    email_quote_declined,
    email_quote_requested,
)
from shop.quoting.models import (
    Quote,
    QuoteAction,
    QuoteComment,
    QuoteRequestLine,
    QuoteStatus,
    QuoteVersion,
)

NUMBER_OFFSET = 100_000


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
    return of_own_practice(user, quote_by_number(number), "quote")


def practice_quotes(user: User):
    return select(Quote).where(Quote.practice_id == user.practice_id).order_by(Quote.created_at.desc(), Quote.id.desc())


# --- status changes ----------------------------------------------------------------------


def record_event(
    quote: Quote, actor: User | None, action: str, from_status: str | None, to_status: str, note: str = ""
) -> None:
    events.record(quote, actor, action, from_status, to_status, note)


def change_status(quote: Quote, target: QuoteStatus, actor: User | None, action: str, note: str = "", **values) -> None:
    """Change the status through the transition table; the caller commits."""
    events.advance(quote, target, actor, action, note, updated_at=clock.now(), **values)


# --- asking for a quote ------------------------------------------------------------------


def new_quote(practice: Practice, contact: User, started_by: User, status: QuoteStatus, **values) -> Quote:
    now = clock.now()
    licence = contact.application
    quote = Quote(
        number=f"tmp-{uuid.uuid4().hex[:16]}",
        practice_id=practice.id,
        contact_id=contact.id,
        profession=licence.profession.value if licence else "",
        licence_number=licence.licence_number if licence else "",
        licence_region=licence.licence_region if licence else "",
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
    if len(items) > MAX_QUOTE_LINES:
        raise NotEligible(f"A quote request can have at most {MAX_QUOTE_LINES} lines.", field="items")
    if target_date is not None and target_date < clock.today():
        raise NotEligible("The target date is in the past.", field="target_date")
    with unit_of_work():
        lines = [_request_line(clinician, item) for item in items]
        quote = new_quote(
            clinician.practice,
            clinician,
            clinician,
            QuoteStatus.REQUESTED,
            target_date=target_date,
            request_message=(message or "").strip(),
        )
        quote.request_lines = lines
        record_event(quote, clinician, "requested", None, QuoteStatus.REQUESTED.value, quote.request_message)
        email_quote_requested(quote)
    return quote


NOT_IN_CATALOGUE = " Describe it under the items not in the catalogue."


def product_asked_for(clinician: User, typed: str) -> Variant:
    """The catalogue option `typed` names for `clinician` (shop.catalogue.options.option_named),
    pointing at the items not in the catalogue when nothing matches."""
    return option_named(clinician, typed, otherwise=NOT_IN_CATALOGUE)


def sku_choices(clinician: User) -> list[tuple[str, str]]:
    """(SKU, name) of every option `clinician` may ask for, for the SKU pickers: not the ones
    the catalogue would refuse them."""
    return [
        (v.sku, f"{v.product.name}, {v.label}") for v in sellable_variants() if variant_refusal(v, clinician) is None
    ]


def sku_problem(clinician: User, typed: str) -> str | None:
    """Why `typed` names no option `clinician` can ask for (see product_asked_for); None when it
    does."""
    try:
        product_asked_for(clinician, typed)
    except NotEligible as refused:
        return refused.message
    return None


def _request_line(clinician: User, item: RequestedItem) -> QuoteRequestLine:
    if not quantity_in_range(item.quantity):
        raise NotEligible(f"Quantities are {QUANTITY_RANGE}.", field="items")
    if item.sku.strip():
        try:
            variant = product_asked_for(clinician, item.sku)
        except NotEligible as refused:
            raise NotEligible(refused.message, field="items") from None
        return QuoteRequestLine(
            variant_id=variant.id,
            sku=variant.sku,
            description=f"{variant.product.name}, {variant.label}",
            quantity=item.quantity,
        )
    description = item.description.strip()
    if len(description) > ITEM_NAME_LENGTH:
        raise NotEligible(f"Describe each item in at most {ITEM_NAME_LENGTH} characters.", field="items")
    return QuoteRequestLine(sku="", description=description, quantity=item.quantity)


# --- conversation ------------------------------------------------------------------------


def may_speak(actor: User, quote: Quote) -> None:
    """Staff, and members of the quote's practice, take part in it; anyone else gets NotFound."""
    if not actor.is_staff:
        of_own_practice(actor, quote, "quote")


def _said(actor: User, quote: Quote, text: str, *, missing: str, field: str) -> str:
    """What the actor wrote about the quote, once they may speak about it and wrote something."""
    may_speak(actor, quote)
    text = (text or "").strip()
    if not text:
        raise NotEligible(missing, field=field)
    return text


def add_comment(actor: User, quote: Quote, body: str) -> QuoteComment:
    body = _said(actor, quote, body, missing="Write your comment first.", field="body")
    with unit_of_work():
        comment = QuoteComment(quote_id=quote.id, author_id=actor.id, body=body, created_at=clock.now())
        db.session.add(comment)
        record_event(quote, actor, "commented", quote.status.value, quote.status.value, body[:200])
        email_comment(quote, actor, body)
    return comment


def request_changes(clinician: User, quote: Quote, message: str) -> Quote:
    message = _said(clinician, quote, message, missing="Say what should change.", field="body")
    quote.require(QuoteAction.REQUEST_CHANGES, clock.now())
    with unit_of_work():
        change_status(quote, QuoteStatus.CHANGES_REQUESTED, clinician, "changes_requested", message)
        db.session.add(QuoteComment(quote_id=quote.id, author_id=clinician.id, body=message, created_at=clock.now()))
        email_changes_requested(quote, clinician, message)
    return quote


def decline(clinician: User, quote: Quote, reason: str) -> Quote:
    reason = _said(
        clinician, quote, reason, missing="Tell the quotes desk why, so they can do better next time.", field="reason"
    )
    quote.require(QuoteAction.DECLINE, clock.now())
    with unit_of_work():
        change_status(quote, QuoteStatus.DECLINED, clinician, "declined", reason, decline_reason=reason)
        email_quote_declined(quote, clinician, reason)
    return quote


# --- expiry and reminders ----------------------------------------------------------------
