"""The emails of the quote flow, through the outbox. Every subject and link carries the quote
number; the sent quote travels as a PDF."""

from __future__ import annotations

from flask import current_app

from shop.accounts.models import User
from shop.core.outbox import Correspondence
from shop.quoting.document import pdf_file_name, quote_pdf
from shop.quoting.models import Quote, QuoteVersion
from shop.urls import external_url


def _mail(quote: Quote, desk: str = "QUOTES_DESK_EMAIL") -> Correspondence:
    return Correspondence(
        desk=current_app.config[desk],
        clinician=quote.contact.email,
        desk_subject=f"{quote.number}: {{}}",
        clinician_subject=f"{{}} ({quote.number})",
        context={
            "quote": quote,
            "quote_link": external_url("quotes.detail", number=quote.number),
            "staff_link": external_url("staff.quote", number=quote.number),
        },
    )


def _to_desk(quote: Quote, kind: str, subject: str, template: str, *, sender: User, **context) -> None:
    """To the quotes desk, with replies going to the clinician who acted (`sender`)."""
    _mail(quote).to_desk(kind, subject, template, reply_to=sender.email, **context)


def _to_clinician(quote: Quote, kind: str, subject: str, template: str, **context) -> None:
    _mail(quote).to_clinician(kind, subject, template, **context)


def email_quote_requested(quote: Quote) -> None:
    _to_desk(
        quote,
        "quote.requested.desk",
        f"quote request from {quote.practice.name}",
        "quote_requested_desk",
        sender=quote.contact,
    )
    _to_clinician(quote, "quote.requested", "We received your quote request", "quote_requested")


def email_quote_sent(quote: Quote, version: QuoteVersion) -> None:
    pdf = quote_pdf(quote, version)
    _to_clinician(
        quote,
        "quote.sent",
        f"Your quote{'' if version.number == 1 else ' (revised, v' + str(version.number) + ')'}",
        "quote_sent",
        attachments=((pdf_file_name(quote, version), "application/pdf", pdf),),
        version=version,
    )


def email_comment(quote: Quote, author: User, body: str) -> None:
    if author.is_staff:
        _to_clinician(
            quote, "quote.comment", "A message from the quotes desk", "quote_comment", author=author, body=body
        )
    else:
        _to_desk(
            quote,
            "quote.comment.desk",
            f"message from {author.full_name}",
            "quote_comment",
            sender=author,
            author=author,
            body=body,
        )


def email_changes_requested(quote: Quote, author: User, message: str) -> None:
    subject = f"changes requested by {author.full_name}"
    _to_desk(quote, "quote.changes_requested", subject, "quote_comment", sender=author, author=author, body=message)


def email_quote_declined(quote: Quote, clinician: User, reason: str) -> None:
    subject = f"declined by {quote.practice.name}"
    _to_desk(quote, "quote.declined", subject, "quote_declined", sender=clinician, clinician=clinician, reason=reason)


def email_quote_accepted(quote: Quote, version: QuoteVersion, clinician: User) -> None:
    """The quotes desk and the orders desk both hear of an acceptance, and who accepted."""
    for desk, kind in (("QUOTES_DESK_EMAIL", "quote.accepted.quotes"), ("ORDERS_DESK_EMAIL", "quote.accepted.orders")):
        _mail(quote, desk).to_desk(
            kind,
            f"v{version.number} accepted by {quote.practice.name}",
            "quote_accepted",
            reply_to=clinician.email,
            version=version,
            clinician=clinician,
        )


def email_quote_expiring(quote: Quote, version: QuoteVersion) -> None:
    _to_clinician(quote, "quote.expiring", "Your quote expires soon", "quote_expiring", version=version)
